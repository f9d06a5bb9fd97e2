// The sandbox's out-of-memory killer: when the application's memory in the memory file (as the
// host counts it: the file's allocated blocks, which freed ranges give back) passes
// linux.resources.memory.limit, the control worker raises a flag and the main thread ends the
// process holding the most memory with SIGKILL, as Linux's OOM killer ends the one with the
// largest footprint. The host cgroup (src/sandbox/cgroups.ts) is the backstop behind it.
//
// It must never pick a process that is already dying (one victim at a time, until its memory
// is given back), and never kill anything when the sandbox is within its limit.

import type { Kernel } from './kernel.js';
import { processAlive } from './process_tree.js';
import { SI_KERNEL, signalProcess } from './signals.js';
import type { Task } from './task.js';

const SIGKILL = 9;

/** Bytes of memory-file backing an address space's mappings hold (the victim's score). */
function footprint(t: Task): bigint {
  return BigInt(t.mm.privateBytes());
}

/** The last victim, until it has exited. */
const victims = new WeakMap<Kernel, Task>();

/** Picks and kills the process with the largest footprint; returns it (undefined: none). */
export function oomKill(k: Kernel): Task | undefined {
  const last = victims.get(k);
  if (last !== undefined && processAlive(last)) return undefined;
  // The worker's flag may predate the last victim's memory coming back (its stub is torn
  // down before its pages are freed): only a sandbox over its limit now loses a process.
  if (k.memoryFile.usedBytes <= k.memoryLimit) return undefined;
  let best: Task | undefined;
  let bestScore = -1n;
  for (const t of k.tasks.values()) {
    if (t !== t.leader || !processAlive(t)) continue;
    const s = footprint(t);
    if (s > bestScore) {
      best = t;
      bestScore = s;
    }
  }
  if (best === undefined) return undefined;
  victims.set(k, best);
  k.log.warn(
    `out of memory (limit ${k.memoryLimit} bytes): killed process ${best.tid} (${best.comm}), ${bestScore / 1024n} KiB mapped`,
  );
  signalProcess(best, { signo: SIGKILL, code: SI_KERNEL, pid: 0, uid: 0 }, true);
  return best;
}
