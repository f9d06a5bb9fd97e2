// What the kernel tells procfs (fsimpl/proc) about its tasks and itself: cmdline, environ,
// status, stat and maps of a task, and the system files. Everything is the sandbox's own view:
// virtual PIDs, the Sentry's release string, the sandbox's uptime; nothing is read from the
// host's /proc (which the Sentry cannot see anyway).

import type { ProcSource, ProcTask } from '../fsimpl/proc/proc.js';
import { MOAT_RELEASE, MOAT_VERSION, type Kernel } from './kernel.js';
import type { Task } from './task.js';

const enc = new TextEncoder();

function hex(n: bigint, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function protString(prot: number, flags: number): string {
  return `${prot & 1 ? 'r' : '-'}${prot & 2 ? 'w' : '-'}${prot & 4 ? 'x' : '-'}${flags & 1 ? 's' : 'p'}`;
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
          `Groups:\t${c.groups.join(' ')}`,
          'Threads:\t1',
          `SigPnd:\t${hex(t.pendingSignals, 16)}`,
          `SigBlk:\t${hex(t.sigmask, 16)}`,
          `CapInh:\t${capHex(c.capInh)}`,
          `CapPrm:\t${capHex(c.capPrm)}`,
          `CapEff:\t${capHex(c.capEff)}`,
          `CapBnd:\t${capHex(c.capBnd)}`,
          `CapAmb:\t${capHex(c.capAmb)}`,
        ];
        return enc.encode(`${lines.join('\n')}\n`);
      }
      case 'stat': {
        const startTicks = 0;
        return enc.encode(
          `${t.tid} (${t.comm}) ${t.blocked !== undefined ? 'S' : 'R'} ${t.parent?.tgid ?? 0} ${t.pgid} ${t.sid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 0 0\n`,
        );
      }
      case 'maps': {
        const out = t.mm.mappings().map((v) => {
          const label = v.name.startsWith('[') ? v.name : '';
          return `${hex(v.start, 8)}-${hex(v.end, 8)} ${protString(v.prot, v.flags)} 00000000 00:00 0${label ? ` ${label}` : ''}`;
        });
        return enc.encode(out.length ? `${out.join('\n')}\n` : '');
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
        return enc.encode(
          `MemTotal:       ${kb} kB\nMemFree:        ${kb} kB\nMemAvailable:   ${kb} kB\n`,
        );
      }
      case 'cpuinfo':
        return enc.encode('processor\t: 0\nvendor_id\t: moat\nmodel name\t: moat virtual CPU\n\n');
      case 'stat':
        return enc.encode(
          `cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\nbtime ${Number(k.bootRealtimeNs / 1_000_000_000n)}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n`,
        );
      default:
        return null;
    }
  }
}
