// Boots a sandbox from a BootSpec (src/sandbox/boot_spec.ts), in order:
//  1. the log, the control worker (listening before confinement), the memory file, the
//     ptrace platform (its stub master is forked while the host is still visible);
//  2. confinement: pivot_root into an empty read-only tmpfs, drop every capability;
//  3. the container's view: the Gofer's root over 9P, /dev, stdio as fds 0-2;
//  4. the init process: PATH lookup, ELF load, registers;
//  5. "ready" to the launcher; wait for start; run; exit with the init process's status.
// Only this module chooses the concrete platform and file systems.
//
// It must never run application code before confinement is complete, and never leave the
// launcher without an answer on the ready fd.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { randomFillSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { Errno, errnoName } from '../abi/linux/errno.js';
import { CAP_FULL_SET, capMask } from '../abi/linux/capability.js';
import { execCapabilities, withCaps } from './kernel/credentials.js';
import { syscallName } from '../abi/linux/syscall_names.js';
import { AT_FDCWD, O_RDONLY, POLLIN, S_IFDIR, S_IFMT, S_IFREG } from '../abi/linux/file.js';
import {
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_TSYNC,
  dropAllCapabilities,
  installSeccompFilter,
  setNoNewPrivs,
  setNotDumpable,
} from '../host/confine.js';
import { HostFd } from '../host/fd.js';
import { hostEventfd, hostPoll, hostRead } from '../host/io.js';
import { P9Client } from '../p9/client.js';
import { FILE_MOUNT_NAME } from '../p9/client_api.js';
import { PtracePlatform } from '../platform/ptrace/ptrace_platform.js';
import { SystrapPlatform } from '../platform/systrap/systrap_platform.js';
import {
  type BootSpec,
  COMMIT_LINE,
  type CommitWord,
  TIE_LINE,
  isBindMount,
} from '../sandbox/boot_spec.js';
import {
  CTL,
  laneSlots,
  newControlState,
  publishPids,
  takePendingSignals,
} from './control/control_state.js';
import { newDevFilesystem } from './fsimpl/dev/dev.js';
import { GoferFilesystem, GoferInode } from './fsimpl/gofer/gofer_fs.js';
import { installStdio } from './fsimpl/host/host_file.js';
import { Kernel } from './kernel/kernel.js';
import { Task, type ExitState, type Rlimit } from './kernel/task.js';
import { runTask } from './kernel/task_run.js';
import { oomKill } from './kernel/oom.js';
import { SeccompProfileError, compileSeccomp } from './kernel/app_seccomp.js';
import { SECCOMP_MODE_FILTER } from './kernel/task_seccomp.js';
import { startRegisters } from './kernel/exec.js';
import { loadProgram, type ExecFile } from './loader/load.js';
import { Vdso } from './kernel/vdso.js';
import { makeLogger } from './logger.js';
import { MemoryFile } from './mm/memory_file.js';
import { MemoryManager } from './mm/memory_manager.js';
import { sentryFilter } from './seccomp_filter.js';
import { SI_USER, signalProcess } from './kernel/signals.js';
import { buildSyscallTable } from './syscalls/table.js';
import type { Credentials } from './syscalls/types.js';
import { FdTable } from './vfs/fd_table.js';
import { FsContext } from './vfs/fs_context.js';
import { type Mount, mountAt, mountRoot, newRootMount } from './vfs/mount.js';
import { openExecutable, openPath } from './vfs/open.js';
import type { FileDescription } from './vfs/file_description.js';
import { ProcFilesystem } from './fsimpl/proc/proc.js';
import { TmpfsFilesystem, tmpfsOptions } from './fsimpl/tmpfs/tmpfs.js';
import { KernelProcSource } from './kernel/proc_source.js';
import type { Logger } from './kernel/kernel.js';
import { resolveAt } from './vfs/resolve.js';

const AT_HWCAP = 16n;
const AT_HWCAP2 = 26n;
/** AT_HWCAP2: the host lets user code use rdfsbase/wrfsbase. */
const HWCAP2_FSGSBASE = 2n;
const RLIMIT_NAMES: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export class BootError extends Error {}

function readHostHwcaps(): [bigint, bigint] {
  try {
    const b = fs.readFileSync('/proc/self/auxv');
    const v = new BigUint64Array(b.buffer, b.byteOffset, Math.floor(b.length / 8));
    let hw = 0n;
    let hw2 = 0n;
    for (let i = 0; i + 1 < v.length; i += 2) {
      if (v[i] === AT_HWCAP) hw = v[i + 1] ?? 0n;
      if (v[i] === AT_HWCAP2) hw2 = v[i + 1] ?? 0n;
    }
    return [hw, hw2];
  } catch {
    return [0n, 0n];
  }
}

/** RLIMIT_STACK's number: the init process's stack follows it, as an exec'ed one's does. */
const RLIMIT_STACK_NR = 3;

/**
 * Whether the TSC ticks at one rate on every CPU whatever their power state (constant_tsc and
 * nonstop_tsc in /proc/cpuinfo): only then may the vDSO compute time from it.
 */
function readTscInvariant(): boolean {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'latin1');
    const flags = /^flags\s*:(.*)$/m.exec(info)?.[1]?.split(/\s+/) ?? [];
    return flags.includes('constant_tsc') && flags.includes('nonstop_tsc');
  } catch {
    return false;
  }
}

/** The limits the Sentry itself was started with: the defaults config.json overrides. */
function readHostRlimits(): Map<number, Rlimit> {
  const out = new Map<number, Rlimit>();
  const names: Record<string, number> = {
    'Max cpu time': 0,
    'Max file size': 1,
    'Max data size': 2,
    'Max stack size': 3,
    'Max core file size': 4,
    'Max resident set': 5,
    'Max processes': 6,
    'Max open files': 7,
    'Max locked memory': 8,
    'Max address space': 9,
    'Max file locks': 10,
    'Max pending signals': 11,
    'Max msgqueue size': 12,
    'Max nice priority': 13,
    'Max realtime priority': 14,
    'Max realtime timeout': 15,
  };
  const parse = (v: string): bigint => (v === 'unlimited' ? 0xffffffffffffffffn : BigInt(v));
  try {
    for (const line of fs.readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
      const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
      const n = m?.[1] === undefined ? undefined : names[m[1]];
      if (m === null || n === undefined) continue;
      out.set(n, { cur: parse(m[2] ?? '0'), max: parse(m[3] ?? '0') });
    }
  } catch {
    /* no /proc: Linux's compiled-in defaults apply */
  }
  return out;
}

async function startControl(socketFd: number, shared: Int32Array): Promise<Worker> {
  const worker = new Worker(new URL('./control/control_worker.js', import.meta.url), {
    workerData: { socketFd, shared: shared.buffer },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: { kind: string; message?: string }) => {
      if (m.kind === 'listening') resolve();
      else reject(new BootError(`control socket: ${m.message ?? 'failed'}`));
    });
    worker.once('error', reject);
  });
  worker.unref();
  return worker;
}

/**
 * Why this process is not confined as its stage confines the Sentry (sentry_stage.ts), or
 * undefined: a capability in its bounding set, or the host's user namespace.
 */
function confinementProblem(): string | undefined {
  let status: string;
  let userns: string;
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
    userns = fs.readlinkSync('/proc/self/ns/user');
  } catch {
    return 'cannot read its own status';
  }
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (bnd === undefined || BigInt(`0x${bnd}`) !== 0n) {
    return `its bounding set is not empty (CapBnd ${bnd ?? '?'}): start it through its stage`;
  }
  // The host's (initial) user namespace always has this inode number.
  if (userns === 'user:[4026531837]') return 'it runs in the host user namespace';
  return undefined;
}

/**
 * Makes the missing components of a mount point, as runc makes them in the rootfs: in the
 * container's (read-only) files they exist only in the Sentry's view (synthetic entries of the
 * gofer file system); in a tmpfs they are real directories. The last component is an empty
 * file for a file bind mount. Returns 0 or -errno.
 */
function makeMountPoint(
  vctx: { fs: FsContext; files: FdTable; creds: Credentials },
  destination: string,
  isFile: boolean,
): number {
  const names = destination.split('/').filter((n) => n !== '' && n !== '.');
  if (names.includes('..')) return -Errno.EINVAL;
  let dir = resolveAt(vctx, AT_FDCWD, '/', 0);
  for (let i = 0; i < names.length; i++) {
    if (typeof dir === 'number') return dir;
    const name = names[i] ?? '';
    const last = i === names.length - 1;
    const here = `/${names.slice(0, i + 1).join('/')}`;
    const next = resolveAt(vctx, AT_FDCWD, here, 0);
    if (next !== -Errno.ENOENT) {
      dir = next;
      continue;
    }
    const parent = dir.dentry.inode;
    let made: number;
    if (parent instanceof GoferInode) {
      const holder = new TmpfsFilesystem({ name: 'mountpoint', mode: 0o755 });
      const node = last && isFile ? holder.root.create('file', 0o644, vctx.creds) : holder.root;
      made = typeof node === 'number' ? node : parent.addSynthetic(name, node);
    } else if (parent.mkdir !== undefined && !(last && isFile)) {
      const r = parent.mkdir(name, 0o755, vctx.creds);
      made = typeof r === 'number' ? r : 0;
    } else if (parent.create !== undefined && last && isFile) {
      const r = parent.create(name, 0o644, vctx.creds);
      made = typeof r === 'number' ? r : 0;
    } else made = -Errno.EROFS;
    if (made < 0) return made;
    dir = resolveAt(vctx, AT_FDCWD, here, 0);
  }
  return typeof dir === 'number' ? dir : 0;
}

/**
 * Mounts what config.json asks for on top of the root, in order: proc, tmpfs (/dev gets the
 * device set), bind mounts of directories and files (each served by a Gofer of its own);
 * missing mount points are made first. It logs each mount it cannot honour yet (sysfs,
 * devpts, mqueue, cgroup are not implemented).
 */
/** Records the options of a mount that the vfs acts on (nosuid). */
function noteMount(m: Mount, opts: readonly string[]): void {
  m.nosuid = opts.includes('nosuid');
}

function assembleMounts(
  vctx: { fs: FsContext; files: FdTable; creds: Credentials },
  spec: BootSpec,
  procSource: KernelProcSource,
  log: Logger,
  memTotal: number,
): void {
  for (const m of spec.mounts ?? []) {
    let at = resolveAt(vctx, AT_FDCWD, m.destination, 0);
    if (at === -Errno.ENOENT) {
      const made = makeMountPoint(vctx, m.destination, m.goferFile === true);
      if (made < 0) {
        throw new BootError(
          `mount "${m.destination}": cannot make the mount point: ${errnoName(-made)}`,
        );
      }
      at = resolveAt(vctx, AT_FDCWD, m.destination, 0);
    }
    if (typeof at === 'number') {
      throw new BootError(`mount "${m.destination}": ${errnoName(-at)} in the root file system`);
    }
    const opts = m.options ?? [];
    const ro = opts.includes('ro');
    const isBind = isBindMount(m);
    switch (isBind ? 'bind' : (m.type ?? 'bind')) {
      case 'proc':
        noteMount(mountAt(at, new ProcFilesystem(procSource), ro), opts);
        break;
      case 'tmpfs': {
        if (m.destination === '/dev') {
          noteMount(mountAt(at, newDevFilesystem(), ro), opts);
          break;
        }
        const t = tmpfsOptions(opts, memTotal);
        if (typeof t === 'string')
          throw new BootError(`mount "${m.destination}": bad option "${t}"`);
        noteMount(mountAt(at, new TmpfsFilesystem(t), ro), opts);
        break;
      }
      case 'bind': {
        // A directory bind mount, served by a Gofer of its own on m.goferFd.
        if (m.goferFd === undefined) {
          log.warn(
            `mount ${m.destination}: a bind mount of something other than a file or directory: skipped`,
          );
          break;
        }
        const client = P9Client.connect(new HostFd(m.goferFd));
        if (typeof client === 'number')
          throw new BootError(`mount "${m.destination}": gofer: attach: ${errnoName(-client)}`);
        const gfs = GoferFilesystem.create(client, { readOnly: ro });
        if (typeof gfs === 'number') {
          throw new BootError(`mount "${m.destination}": gofer: root: ${errnoName(-gfs)}`);
        }
        if (m.goferFile === true) {
          // A file mount: the Gofer's root holds the file as its one entry.
          const file = gfs.root.lookup(FILE_MOUNT_NAME);
          if (typeof file === 'number') {
            throw new BootError(`mount "${m.destination}": gofer: file: ${errnoName(-file)}`);
          }
          if ((file.type & S_IFMT) === S_IFDIR)
            throw new BootError(`mount "${m.destination}": not a file`);
          noteMount(
            mountAt(
              at,
              { name: gfs.name, dev: gfs.dev, root: file, statfs: () => gfs.statfs() },
              ro,
            ),
            opts,
          );
        } else noteMount(mountAt(at, gfs, ro), opts);
        break;
      }
      default:
        log.warn(`mount ${m.destination} (${m.type ?? 'bind'}): not supported yet: skipped`);
    }
  }
}

function lookPath(
  ctx: { fs: FsContext; files: FdTable; creds: Credentials },
  arg0: string,
  env: string[],
): string {
  const candidates: string[] = [];
  if (arg0.includes('/')) candidates.push(arg0);
  else {
    const pathVar =
      env.find((e) => e.startsWith('PATH='))?.slice(5) ??
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    for (const d of pathVar.split(':')) candidates.push(`${d === '' ? '.' : d}/${arg0}`);
  }
  for (const c of candidates) {
    const p = resolveAt(ctx, AT_FDCWD, c, 0);
    if (typeof p === 'number') continue;
    const st = p.dentry.inode.stat();
    if (typeof st === 'number') continue;
    if ((st.mode & S_IFMT) === S_IFREG && (st.mode & 0o111) !== 0) return c;
  }
  if (arg0.includes('/')) throw new BootError(`exec: "${arg0}": no such file or directory`);
  throw new BootError(`exec: "${arg0}": executable file not found in $PATH`);
}

/**
 * Blocks until the launcher writes a commit line on the ready fd, and says which; undefined
 * when it closes the fd, dies or writes anything else first. A Sentry nobody recorded must
 * not outlive its launcher.
 */
function awaitCommit(fd: number): CommitWord | undefined {
  const words = [COMMIT_LINE, TIE_LINE].map((w) => `${w}\n`);
  const buf = new Uint8Array(64);
  let got = '';
  for (;;) {
    const ev = hostPoll(fd, POLLIN, -1);
    if (ev === -Errno.EINTR) continue;
    if (ev < 0) return undefined;
    const n = hostRead(fd, buf);
    if (n === -Errno.EINTR || n === -Errno.EAGAIN) continue;
    if (n <= 0) return undefined;
    got += Buffer.from(buf.subarray(0, n)).toString('latin1');
    if (got === words[0]) return COMMIT_LINE;
    if (got === words[1]) return TIE_LINE;
    if (!words.some((w) => w.startsWith(got))) return undefined;
  }
}

function exitCodeOf(e: ExitState): number {
  if (e.kind === 'exited') return e.code;
  if (e.kind === 'killed') return 128 + e.signo;
  return 0;
}

/** Boots and runs the sandbox; returns the process exit status. */
export async function boot(spec: BootSpec): Promise<number> {
  const ready = spec.readyFd;
  let readyOpen = true;
  const say = (o: object): void => {
    if (!readyOpen) return;
    try {
      fs.writeSync(ready, `${JSON.stringify(o)}\n`);
    } catch {
      /* the launcher went away */
    }
  };
  const closeReady = (): void => {
    if (!readyOpen) return;
    readyOpen = false;
    try {
      fs.closeSync(ready);
    } catch {
      /* already gone */
    }
  };
  let logFd: number | undefined = spec.logFd;
  if (logFd === undefined && spec.logPath !== undefined) {
    try {
      logFd = fs.openSync(spec.logPath, 'a');
    } catch {
      logFd = undefined;
    }
  }
  const log = makeLogger(logFd, spec.logFormat ?? 'text', spec.debug ?? false, spec.id);
  let plat: PtracePlatform | SystrapPlatform | undefined;
  const t0 = performance.now();
  const step = (what: string): void =>
    log.debug(
      `boot: ${what} at ${(performance.now() - t0).toFixed(1)} ms (process up ${performance.now().toFixed(0)} ms)`,
    );
  try {
    // 1. Control plane, memory, platform.
    const ctl = newControlState();
    if (spec.controlFd === undefined) throw new BootError('boot spec: no control socket fd');
    const worker = await startControl(spec.controlFd, ctl);
    step('control socket listening');
    let mf: MemoryFile;
    try {
      mf = MemoryFile.shared();
    } catch (e) {
      throw new BootError(e instanceof Error ? e.message : String(e));
    }
    const [hwcap, hwcap2] = readHostHwcaps();
    const p =
      spec.platform === 'systrap'
        ? SystrapPlatform.create(mf.fd, { fsgsbase: (hwcap2 & HWCAP2_FSGSBASE) !== 0n })
        : PtracePlatform.create(mf.fd);
    if (typeof p === 'string') throw new BootError(p);
    plat = p;
    const tscInvariant = readTscInvariant();
    const hostRlimits = readHostRlimits();

    step('platform ready');
    // 2. Confinement: the stage made the root and emptied the capability sets before Node
    //    started; check it, then no_new_privs, non-dumpable and the seccomp filter.
    const unconfined = confinementProblem();
    if (unconfined !== undefined) throw new BootError(`confine: ${unconfined}`);
    const capErr = dropAllCapabilities();
    if (capErr < 0) throw new BootError(`confine: drop capabilities: ${errnoName(-capErr)}`);
    setNoNewPrivs();
    if (setNotDumpable() < 0) throw new BootError('confine: PR_SET_DUMPABLE failed');
    const debug = spec.debug === true;
    const sc = installSeccompFilter(
      sentryFilter(),
      SECCOMP_FILTER_FLAG_TSYNC | (debug ? SECCOMP_FILTER_FLAG_LOG : 0),
    );
    if (sc < 0) throw new BootError(`confine: seccomp filter: ${errnoName(-sc)}`);
    log.debug(
      'confine: seccomp allow list on every thread; a refused host call fails with EPERM and the kernel logs its number (dmesg, audit type=1326)',
    );

    step('confined');
    // 3. The container's view.
    const client = P9Client.connect(new HostFd(spec.goferFd));
    if (typeof client === 'number') throw new BootError(`gofer: attach: ${errnoName(-client)}`);
    const rootFs = GoferFilesystem.create(client, { readOnly: true });
    if (typeof rootFs === 'number') throw new BootError(`gofer: root: ${errnoName(-rootFs)}`);
    const rootMount = newRootMount(rootFs, true);
    const root = mountRoot(rootMount);
    const caps = spec.capabilities;
    const creds: Credentials = withCaps(
      {
        uid: spec.uid,
        gid: spec.gid,
        euid: spec.uid,
        egid: spec.gid,
        suid: spec.uid,
        sgid: spec.gid,
        groups: [...spec.additionalGids],
      },
      {
        // process.capabilities as runc applies them; none when the spec gives none.
        eff: capMask(caps?.effective),
        prm: capMask(caps?.permitted),
        inh: capMask(caps?.inheritable),
        bnd: caps?.bounding === undefined ? CAP_FULL_SET : capMask(caps.bounding),
        // Ambient capabilities must be permitted and inheritable too (runc's raise of
        // the others fails, and it goes on without them).
        amb: capMask(caps?.ambient) & capMask(caps?.permitted) & capMask(caps?.inheritable),
      },
    );
    // The init process is exec'ed with those sets, as runc execs it: the kernel's rules.
    execCapabilities(creds);
    const rlimits = hostRlimits;
    for (const r of spec.rlimits ?? []) {
      const n = RLIMIT_NAMES[r.type];
      if (n !== undefined) rlimits.set(n, { cur: BigInt(r.soft), max: BigInt(r.hard) });
    }
    const nofile = rlimits.get(7);
    const files = new FdTable(
      nofile ? Number(nofile.cur > 1048576n ? 1048576n : nofile.cur) : 1024,
    );
    const fsctx = new FsContext(root);
    const vctx = { fs: fsctx, files, creds };
    const kernel = new Kernel(p, mf, log, spec.hostname, hwcap, hwcap2);
    kernel.lanes = Math.max(1, Math.min(spec.lanes ?? p.cpus.length, p.cpus.length));
    const vdso = new Vdso(mf, {
      readCycles: () => p.readCycles(),
      hostNs: () => process.hrtime.bigint(),
      bootHostNs: kernel.bootMonoNs,
      realtimeOffsetNs: kernel.bootRealtimeNs,
      tscInvariant,
    });
    kernel.vdso = vdso;
    vdso.setCpus(p.cpus.slice(0, kernel.lanes));
    const wakeFd = hostEventfd();
    if (wakeFd >= 0) {
      kernel.wakeFd = wakeFd;
      worker.postMessage({ kind: 'wakefd', fd: wakeFd });
    }
    kernel.memTotalBytes = Math.min(os.totalmem(), spec.memoryLimit ?? Infinity);
    if (spec.memoryLimit !== undefined) {
      kernel.memoryLimit = spec.memoryLimit;
      worker.postMessage({ kind: 'memory', fd: mf.fd.fd, limit: spec.memoryLimit });
    }
    if (spec.pidsLimit !== undefined) kernel.pidsLimit = spec.pidsLimit;
    if (spec.seccomp !== undefined) {
      try {
        kernel.appSeccomp = compileSeccomp(spec.seccomp);
      } catch (e) {
        if (e instanceof SeccompProfileError) throw new BootError(e.message);
        throw e;
      }
    }
    const procSource = new KernelProcSource(kernel);
    assembleMounts(vctx, spec, procSource, log, kernel.memTotalBytes);
    const cwd = resolveAt(vctx, AT_FDCWD, spec.cwd, 0);
    if (typeof cwd === 'number') throw new BootError(`cwd "${spec.cwd}": ${errnoName(-cwd)}`);
    fsctx.cwd = cwd;
    const stdio = installStdio(files, [new HostFd(0), new HostFd(1), new HostFd(2)]);
    if (stdio < 0) throw new BootError(`stdio: ${errnoName(-stdio)}`);

    step('mounts assembled');
    // 4. The init process.
    kernel.interrupt = {
      cell: ctl,
      index: CTL.sleep,
      pending: () =>
        Atomics.load(ctl, CTL.pendingLo) !== 0 ||
        Atomics.load(ctl, CTL.pendingHi) !== 0 ||
        Atomics.load(ctl, CTL.oom) !== 0,
    };
    const as = p.newAddressSpace();
    if (typeof as === 'number')
      throw new BootError(`platform: new address space: ${errnoName(-as)}`);
    const mm = new MemoryManager(mf, as, p.maxUserAddress);
    const arg0 = spec.args[0];
    if (arg0 === undefined) throw new BootError('process.args is empty');
    const path = lookPath(vctx, arg0, spec.env);
    // Every description the loader opens is released once the program is in memory.
    const opened: FileDescription[] = [];
    const open = (pth: string): ExecFile | number => {
      const f = opened.length === 0 ? openExecutable(vctx, pth) : openPath(vctx, pth, O_RDONLY);
      if (typeof f !== 'number') opened.push(f);
      return f;
    };
    const random = new Uint8Array(16);
    randomFillSync(random);
    const loaded = loadProgram(mm, open, {
      path,
      argv: spec.args,
      envp: spec.env,
      uid: spec.uid,
      euid: spec.uid,
      gid: spec.gid,
      egid: spec.gid,
      hwcap,
      hwcap2,
      random,
      stackLimit: rlimits.get(RLIMIT_STACK_NR)?.cur,
      vdso: (m) => vdso.map(m),
    });
    for (const f of opened) f.decRef();
    if (typeof loaded === 'number') {
      throw new BootError(
        `exec "${path}": ${loaded === -Errno.ENOEXEC ? 'exec format error' : errnoName(-loaded)}`,
      );
    }
    const regs = as.initialRegisters();
    startRegisters(regs, as, loaded);
    const task = new Task(
      kernel,
      kernel.allocPid(),
      regs,
      mm,
      files,
      fsctx,
      creds,
      path.split('/').pop() ?? 'init',
      rlimits,
    );
    task.argv = [...spec.args];
    task.envp = [...spec.env];
    task.exePath = path;
    kernel.init = task;
    task.noNewPrivs = spec.noNewPrivileges === true;
    // The profile is the first filter, as runc installs it before the process starts.
    if (kernel.appSeccomp !== undefined) task.seccomp.mode = SECCOMP_MODE_FILTER;
    kernel.current = task;
    kernel.tasks.set(task.tid, task);

    step('init process loaded');
    // 5. Ready; wait for the launcher to record us (or go away); wait for start; run.
    say({ ok: true });
    const committed = awaitCommit(ready);
    if (committed === 'tie') {
      // The fd now belongs to the control worker, which kills init when it closes.
      readyOpen = false;
      worker.postMessage({ kind: 'lifeline', fd: ready });
    } else closeReady();
    if (committed === undefined) {
      log.debug('boot: the launcher went away before it recorded the sandbox: exiting');
      return 125;
    }
    step('committed');
    while (Atomics.load(ctl, CTL.started) === 0) {
      if (takePendingSignals(ctl).length > 0) {
        return 128 + 9;
      }
      Atomics.wait(ctl, CTL.started, 0, 1000);
    }
    const table = buildSyscallTable();
    Atomics.store(ctl, CTL.stubPid, as.hostPid);
    // Signals from the control plane (moat kill) are for the container's process, init.
    const applyPending = (): void => {
      if (Atomics.exchange(ctl, CTL.oom, 0) !== 0) oomKill(kernel);
      const init = kernel.init;
      if (init === null) return;
      for (const sig of takePendingSignals(ctl))
        signalProcess(init, { signo: sig, code: SI_USER, pid: 0, uid: 0 }, true);
    };
    applyPending();
    kernel.onTasksChanged = (): void => publishPids(ctl, kernel.livePids());
    kernel.onTasksChanged();
    const onSwitch = (t: Task, lane: number): void => {
      const slots = laneSlots(lane);
      Atomics.store(ctl, slots.pid, t.thread.hostPid);
      Atomics.add(ctl, slots.seq, 1);
    };
    const onLaneIdle = (lane: number): void => {
      Atomics.store(ctl, laneSlots(lane).pid, 0);
    };
    const onRunnable = (n: number): void => {
      Atomics.store(ctl, CTL.runnable, n);
    };
    const profile = spec.debug === true ? new Map<number, [number, bigint]>() : undefined;
    const hooks =
      profile === undefined
        ? { onKick: applyPending, onSwitch, onLaneIdle, onRunnable }
        : { onKick: applyPending, onSwitch, onLaneIdle, onRunnable, profile };
    const exit = task.exited ? task.exit : runTask(task, table, hooks);
    if (profile !== undefined) {
      for (const [nr, [n, ns]] of [...profile].sort((x, y) => (x[1][1] > y[1][1] ? -1 : 1))) {
        log.debug(
          `syscall ${syscallName(nr)}: ${n} calls, ${Number(ns / BigInt(n)) / 1000} µs each in the Sentry`,
        );
      }
    }
    Atomics.store(ctl, CTL.exited, 1);
    Atomics.store(ctl, CTL.stubPid, 0);
    as.release();
    return exitCodeOf(exit);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof BootError) say({ ok: false, error: msg });
    else say({ ok: false, error: `sentry: ${msg}` });
    closeReady();
    log.warn(msg);
    if (!(e instanceof BootError))
      process.stderr.write(
        `moat sentry: internal error: ${e instanceof Error ? (e.stack ?? msg) : msg}\n`,
      );
    return 125;
  } finally {
    plat?.release();
  }
}
