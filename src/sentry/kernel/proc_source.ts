// What the kernel tells procfs (fsimpl/proc) about its tasks and itself: cmdline, environ,
// status, stat and maps of a task, and the system files. Everything is the sandbox's own view:
// virtual PIDs, the Sentry's release string, the sandbox's uptime; nothing is read from the
// host's /proc (which the Sentry cannot see anyway).

import { seccompFilterCount } from './task_seccomp.js';
import { childrenTimes, processTimes, ticks } from './cputime.js';
import type { ProcSource, ProcTask } from '../fsimpl/proc/proc.js';
import { renderNet } from '../net/proc_net.js';
import { MOAT_RELEASE, MOAT_VERSION, type Kernel } from './kernel.js';
import type { Task } from './task.js';

const enc = new TextEncoder();

function hex(n: bigint, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function protString(prot: number, flags: number): string {
  return `${prot & 1 ? 'r' : '-'}${prot & 2 ? 'w' : '-'}${prot & 4 ? 'x' : '-'}${flags & 1 ? 's' : 'p'}`;
}

/** An address space's size and resident set in pages, as statm counts them. */
function memoryPages(t: Task): {
  size: number;
  rss: number;
  shared: number;
  text: number;
  data: number;
} {
  let size = 0n;
  let text = 0n;
  let data = 0n;
  for (const v of t.mm.mappings()) {
    size += v.end - v.start;
    if ((v.prot & 4) !== 0 && v.obj !== null) text += v.end - v.start;
    if ((v.prot & 2) !== 0 && (v.flags & 1) === 0) data += v.end - v.start;
  }
  const rss = Math.floor(t.mm.residentBytes() / 4096);
  const shared = rss - Math.floor(t.mm.privateBytes() / 4096);
  return {
    size: Number(size / 4096n),
    rss,
    shared,
    text: Number(text / 4096n),
    data: Number(data / 4096n),
  };
}

/** The Vm* lines of /proc/PID/status. */
function vmLines(t: Task): string[] {
  const { size, rss, shared, data } = memoryPages(t);
  const kb = (n: number): string => `${String(n * 4).padStart(8)} kB`;
  return [
    `VmPeak:\t${kb(size)}`,
    `VmSize:\t${kb(size)}`,
    `VmHWM:\t${kb(rss)}`,
    `VmRSS:\t${kb(rss)}`,
    `RssAnon:\t${kb(rss - shared)}`,
    `RssFile:\t${kb(0)}`,
    `RssShmem:\t${kb(shared)}`,
    `VmData:\t${kb(data)}`,
  ];
}

class TaskProc implements ProcTask {
  constructor(private readonly t: Task) {}
  get pid(): number {
    return this.t.tgid;
  }
  get uid(): number {
    return this.t.creds.uid;
  }
  get gid(): number {
    return this.t.creds.gid;
  }
  get files(): Task['files'] {
    return this.t.files;
  }
  get fs(): Task['fs'] {
    return this.t.fs;
  }
  exe(): string | null {
    return this.t.exePath;
  }
  render(name: string): Uint8Array | null {
    const t = this.t;
    switch (name) {
      case 'cmdline':
        return enc.encode(t.argv.map((a) => `${a}\0`).join(''));
      case 'environ':
        return enc.encode(t.envp.map((e) => `${e}\0`).join(''));
      case 'status': {
        const c = t.creds;
        const state = t.blocked !== undefined ? 'S (sleeping)' : 'R (running)';
        const lines = [
          `Name:\t${t.comm}`,
          `State:\t${state}`,
          `Tgid:\t${t.tgid}`,
          `Pid:\t${t.tid}`,
          `PPid:\t${t.parent?.tgid ?? 0}`,
          `Uid:\t${c.uid}\t${c.euid}\t${c.suid}\t${c.fsuid}`,
          `Gid:\t${c.gid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
          // Linux ends the list with a space, even an empty one.
          `Groups:\t${c.groups.join(' ')} `,
          ...vmLines(t),
          `Threads:\t${t.threads.size}`,
          `SigPnd:\t${hex(t.pendingSignals, 16)}`,
          `SigBlk:\t${hex(t.sigmask, 16)}`,
          `CapInh:\t${capHex(c.capInh)}`,
          `CapPrm:\t${capHex(c.capPrm)}`,
          `CapEff:\t${capHex(c.capEff)}`,
          `CapBnd:\t${capHex(c.capBnd)}`,
          `CapAmb:\t${capHex(c.capAmb)}`,
          `NoNewPrivs:\t${t.noNewPrivs ? 1 : 0}`,
          `Seccomp:\t${t.seccomp.mode}`,
          `Seccomp_filters:\t${seccompFilterCount(t)}`,
        ];
        return enc.encode(`${lines.join('\n')}\n`);
      }
      case 'stat': {
        // proc(5)'s 52 fields: ids, state, CPU times in ticks, threads, start time, memory.
        const own = processTimes(t);
        const ch = childrenTimes(t);
        const { size, rss } = memoryPages(t);
        const f = [
          t.tid,
          `(${t.comm})`,
          t.blocked !== undefined ? 'S' : 'R',
          t.parent?.tgid ?? 0,
          t.pgid,
          t.sid,
          0,
          -1,
          4194560,
          0,
          0,
          0,
          0,
          ticks(own.userNs),
          ticks(own.sysNs),
          ticks(ch.userNs),
          ticks(ch.sysNs),
          20,
          0,
          t.threads.size,
          0,
          ticks(t.leader.startNs),
          size * 4096,
          rss,
          '18446744073709551615',
          ...new Array<number>(27).fill(0),
        ];
        return enc.encode(`${f.join(' ')}\n`);
      }
      case 'maps': {
        const out = t.mm.mappings().map((v) => {
          const label = v.name.startsWith('[') || v.name.startsWith('/') ? v.name : '';
          const shown = label === '[anon]' ? '' : label;
          const off = v.obj !== null && v.file !== null ? v.objOff : 0;
          const line = `${hex(v.start, 8)}-${hex(v.end, 8)} ${protString(v.prot, v.flags)} ${hex(BigInt(off), 8)} 00:00 0 `;
          // As Linux: a name starts after padding to 72 columns and one space.
          return shown ? `${line.padEnd(72)} ${shown}` : line;
        });
        return enc.encode(out.length ? `${out.join('\n')}\n` : '');
      }
      case 'statm': {
        const { size, rss, shared, text, data } = memoryPages(t);
        return enc.encode(`${size} ${rss} ${shared} ${text} 0 ${data} 0\n`);
      }
      case 'smaps_rollup': {
        const { size, rss, shared } = memoryPages(t);
        const kb = (n: number): string => `${String(n * 4).padStart(8)} kB`;
        const lines = [
          `${hex(t.mm.mappings()[0]?.start ?? 0n, 8)}-${hex(t.mm.mappings().at(-1)?.end ?? 0n, 8)} ---p 00000000 00:00 0                          [rollup]`,
          `Rss:            ${kb(rss)}`,
          `Pss:            ${kb(rss - shared)}`,
          `Shared_Clean:   ${kb(0)}`,
          `Shared_Dirty:   ${kb(shared)}`,
          `Private_Clean:  ${kb(0)}`,
          `Private_Dirty:  ${kb(rss - shared)}`,
          `Referenced:     ${kb(rss)}`,
          `Anonymous:      ${kb(rss - shared)}`,
          `Swap:           ${kb(0)}`,
          `Locked:         ${kb(0)}`,
        ];
        void size;
        return enc.encode(`${lines.join('\n')}\n`);
      }
      default:
        return null;
    }
  }
}

function capHex(m: bigint): string {
  return m.toString(16).padStart(16, '0');
}

export class KernelProcSource implements ProcSource {
  constructor(private readonly kernel: Kernel) {}

  current(): ProcTask | null {
    const t = this.kernel.current;
    return t === null ? null : new TaskProc(t);
  }

  task(pid: number): ProcTask | null {
    const t = this.kernel.tasks.get(pid);
    return t === undefined || t.exited ? null : new TaskProc(t);
  }

  pids(): number[] {
    return this.kernel.livePids();
  }

  render(name: string): Uint8Array | null {
    const k = this.kernel;
    if (name.startsWith('net/')) {
      const text = renderNet(k, name.slice(4));
      return text === null ? null : enc.encode(text);
    }
    const up = Number(k.monotonicNs()) / 1e9;
    switch (name) {
      case 'version':
        return enc.encode(`Linux version ${MOAT_RELEASE} (moat) ${MOAT_VERSION}\n`);
      case 'uptime':
        return enc.encode(`${up.toFixed(2)} 0.00\n`);
      case 'loadavg':
        return enc.encode(
          `0.00 0.00 0.00 1/${this.pids().length} ${Math.max(0, ...this.pids())}\n`,
        );
      case 'meminfo': {
        const kb = Math.floor(k.memTotalBytes / 1024);
        const used = Math.floor(k.memoryFile.usedBytes / 1024);
        const free = Math.max(0, kb - used);
        const pad = (n: number): string => `${String(n).padStart(8)} kB`;
        return enc.encode(
          [
            `MemTotal:       ${pad(kb)}`,
            `MemFree:        ${pad(free)}`,
            `MemAvailable:   ${pad(free)}`,
            `Buffers:        ${pad(0)}`,
            `Cached:         ${pad(0)}`,
            `SwapCached:     ${pad(0)}`,
            `Shmem:          ${pad(0)}`,
            `SwapTotal:      ${pad(0)}`,
            `SwapFree:       ${pad(0)}`,
            '',
          ].join('\n'),
        );
      }
      case 'cpuinfo': {
        // One entry per sandbox CPU (the run loop's lanes).
        const cpus = Array.from(
          { length: k.lanes },
          (_, i) => `processor\t: ${i}\nvendor_id\t: moat\nmodel name\t: moat virtual CPU\n\n`,
        );
        return enc.encode(cpus.join(''));
      }
      case 'stat': {
        const zero = '0 0 0 0 0 0 0 0 0 0';
        const cpus = Array.from({ length: k.lanes }, (_, i) => `cpu${i} ${zero}\n`).join('');
        return enc.encode(
          `cpu  ${zero}\n${cpus}btime ${Number(k.bootRealtimeNs / 1_000_000_000n)}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n`,
        );
      }
      default:
        return null;
    }
  }
}
