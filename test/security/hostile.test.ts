// Hostile calls from inside a container (test/fixtures/hostile.c), each with the outcome it
// must have under moat: escapes through /proc, "..", symlinks and chroot find only the
// container's files; privileged and kernel-reaching calls fail (ENOSYS where the Sentry does
// not implement them, EPERM where a capability is missing — never success); hostile pointers
// and numbers get EFAULT, ENOSYS, ENOMEM; no host fd leaks in; read-only mounts refuse writes;
// calls that end the caller (a forged signal frame, a jump into the platform's stub page or a
// kernel address, int 0x80, garbage ELF) end only the caller, and the Sentry serves on.
// Each line of the program's output is checked, and every case must be reported. The whole
// program runs on both platforms; it is given the address of the stub's own syscall site, so
// that it can attack the systrap platform's one host-reaching instruction.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeBusyboxBundle, tempDir } from '../../testlib/bundle.js';
import { REPO, cleanupRoot, moat, waitNoProcesses } from '../../testlib/cli_moat.js';
import { assembleStub } from '../../src/platform/ptrace/stub_code.js';

/** Case → the outcomes allowed under moat. */
const EXPECTED: ReadonlyArray<[string, RegExp]> = [
  ['proc1root_shadow', /^-1 ENOENT$/],
  ['proc_self_root_link', /^1$/],
  ['dotdot_escape', /^\d+$/], // the container's own /etc/hostname
  ['symlink_to_root', /^0$/],
  ['through_root_link', /^-1 ENOENT$/], // no /work: "/" is the container's
  ['open_by_handle_at', /^-1 (ENOSYS|EPERM)$/],
  ['name_to_handle_at', /^-1 (ENOSYS|EPERM|EOPNOTSUPP)$/],
  ['exe_link', /^12$/], // "/bin/hostile"
  ['mount_tmpfs', /^-1 (ENOSYS|EPERM)$/],
  ['umount_root', /^-1 (ENOSYS|EPERM)$/],
  ['unshare_user', /^-1 (ENOSYS|EPERM)$/],
  ['unshare_mount', /^-1 (ENOSYS|EPERM)$/],
  ['setns', /^-1 (ENOSYS|EPERM|EINVAL|EBADF)$/],
  ['ptrace_attach_init', /^-1 (ENOSYS|EPERM)$/],
  ['process_vm_readv', /^-1 (ENOSYS|EPERM)$/],
  ['init_module', /^-1 (ENOSYS|EPERM)$/],
  ['kexec_load', /^-1 (ENOSYS|EPERM)$/],
  ['bpf', /^-1 (ENOSYS|EPERM)$/],
  ['perf_event_open', /^-1 (ENOSYS|EPERM)$/],
  ['keyctl', /^-1 (ENOSYS|EPERM)$/],
  ['add_key', /^-1 (ENOSYS|EPERM)$/],
  ['userfaultfd', /^-1 (ENOSYS|EPERM)$/],
  ['io_uring_setup', /^-1 (ENOSYS|EPERM)$/],
  ['syslog', /^-1 (ENOSYS|EPERM)$/],
  ['reboot', /^-1 (ENOSYS|EPERM)$/],
  ['swapon', /^-1 (ENOSYS|EPERM)$/],
  ['settimeofday', /^-1 (ENOSYS|EPERM)$/],
  ['mknod_block', /^-1 EPERM$/], // no CAP_MKNOD in the bundle
  ['iopl', /^-1 (ENOSYS|EPERM)$/],
  ['ioperm', /^-1 (ENOSYS|EPERM)$/],
  ['tiocsti', /^-1 (ENOTTY|EPERM)$/],
  ['pidfd_getfd', /^-1 (ENOSYS|EPERM|EBADF)$/],
  ['open_tree', /^-1 (ENOSYS|EPERM)$/],
  ['fsopen', /^-1 (ENOSYS|EPERM)$/],
  ['move_mount', /^-1 (ENOSYS|EPERM)$/],
  ['clone3', /^-1 (ENOSYS|EPERM)$/],
  // A socket of the Sentry's own netstack (no host socket exists): made, but nothing beyond
  // loopback is reachable from it.
  ['socket_inet', /^([0-9]+|-1 (ENOSYS|EAFNOSUPPORT|EPERM))$/],
  ['connect_out', /^-1 (ENETUNREACH|EAFNOSUPPORT|EPERM)$/],
  ['write_bad_pointer', /^-1 EFAULT$/],
  ['read_kernel_address', /^-1 EFAULT$/],
  ['stat_bad_path', /^-1 EFAULT$/],
  ['writev_bad_iovec', /^-1 EFAULT$/],
  ['futex_bad_address', /^-1 EFAULT$/],
  ['mmap_huge', /^-1 ENOMEM$/],
  ['mmap_kernel_fixed', /^-1 (ENOMEM|EINVAL)$/],
  ['syscall_1000', /^-1 ENOSYS$/],
  ['syscall_negative', /^-1 ENOSYS$/],
  ['x32_getpid', /^-1 ENOSYS$/],
  ['path_too_long', /^-1 ENAMETOOLONG$/],
  ['symlink_loop', /^-1 ELOOP$/],
  ['leaked_fds', /^[01]$/], // at most the program's own directory stream; no host fd
  ['ro_bind_write', /^-1 EROFS$/],
  ['ro_bind_chmod', /^-1 EROFS$/],
  ['ro_root_write', /^-1 EROFS$/],
  ['rename_across_mounts', /^-1 EXDEV$/],
  ['kcore_masked', /^-1 ENOENT$/],
  ['bad_sigreturn', /^signal 11$/],
  // The stub page: either not reachable (SIGSEGV) or its code runs as the application's own,
  // every syscall instruction in it trapped and emulated, and it returns.
  ['stub_page', /^(signal 11|exit 42)$/],
  ['int80', /^(signal 11|-?\d+)$/],
  ['kernel_jump', /^signal 11$/],
  // The stub's syscall site: a call from it is still trapped (the sandbox's own pid).
  ['site_getpid', /^(1|exit 0)$/],
  // A frame forged through the site that blocks the kick: the process still ends (its alarm
  // under ptrace, the Sentry's kill of a thread that ignores kicks under systrap).
  ['forge_block_kick', /^signal (9|14)$/],
  // …that blocks SIGSYS: its next call ends it, it never runs on the host.
  ['forge_block_all', /^signal (9|11|14|31)$/],
  ['exec_garbage', /^(-1 ENOEXEC|exit 7)$/],
  ['chroot', /^-1 EPERM$/], // no CAP_SYS_CHROOT in the bundle
  ['chroot_escape', /^exit 1$/],
  ['still_alive', /^1$/],
];

let dir = '';
const outs = new Map<string, string>();
const PLATFORMS = ['ptrace', 'systrap'] as const;
/** The stub page's first candidate address (ptrace_platform.ts) plus the site's offset. */
const SYS_SITE = (0x7fe000000000n + BigInt(assembleStub().systrap.sys)).toString(16);

before(() => {
  dir = tempDir('hostile');
  const prog = path.join(dir, 'hostile');
  execFileSync('gcc', ['-O1', '-static', '-o', prog, `${REPO}/test/fixtures/hostile.c`]);
  for (const d of ['ro', 'rw']) fs.mkdirSync(path.join(dir, d));
  const bundle = makeBusyboxBundle(path.join(dir, 'bundle'), {
    args: ['/bin/hostile', SYS_SITE],
    files: [[prog, 'bin/hostile']],
    mounts: [
      { destination: '/ro', type: 'bind', source: path.join(dir, 'ro'), options: ['rbind', 'ro'] },
      { destination: '/rw', type: 'bind', source: path.join(dir, 'rw'), options: ['rbind', 'rw'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] },
    ],
  });
  for (const p of PLATFORMS) {
    const r = moat(
      path.join(dir, 'state'),
      ['--platform', p, 'run', '--bundle', bundle, `hostile-${p}`],
      {
        timeoutMs: 90_000,
      },
    );
    assert.equal(r.status, 0, `the container ran to its end on ${p}: ${r.stderr}`);
    outs.set(p, r.stdout);
  }
});

after(async () => {
  await cleanupRoot(path.join(dir, 'state'));
  await waitNoProcesses(dir, 5000);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('hostile calls from inside the container', () => {
  it('every case reports, and each outcome is one it may have, on both platforms', () => {
    for (const p of PLATFORMS) checkOutput(p, outs.get(p) ?? '');
  });

  function checkOutput(platform: string, out: string): void {
    const got = new Map<string, string>();
    for (const line of out.trim().split('\n')) {
      const sp = line.indexOf(' ');
      // A case printed by the child and again by its parent keeps both.
      const k = line.slice(0, sp);
      got.set(k, got.has(k) ? `${got.get(k) ?? ''}|${line.slice(sp + 1)}` : line.slice(sp + 1));
    }
    for (const [name, want] of EXPECTED) {
      const v = got.get(name);
      assert.ok(v !== undefined, `case ${name} did not report on ${platform}:\n${out}`);
      for (const each of v.split('|')) assert.match(each, want, `case ${name} on ${platform}`);
    }
    assert.equal(EXPECTED.length >= 60, true);
  }

  it('nothing escaped onto the host: the read-only bind is untouched', () => {
    assert.deepEqual(fs.readdirSync(path.join(dir, 'ro')), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'rw')), []);
  });
});
