// config.json's linux.seccomp, enforced by the Sentry, against runc's (the host kernel's
// filter, built by libseccomp) on the same bundle: each action (ERRNO with and without
// errnoRet, TRAP and its siginfo, KILL_PROCESS, KILL_THREAD, LOG, ALLOW), argument
// conditions, a default-deny profile with an allow list, and podman's own default profile as
// podman writes it into config.json. The probe (test/fixtures/seccomp_probe.c) prints one
// line per call; both runtimes must print the same and end the same. SCMP_ACT_NOTIFY is
// refused by moat with a clear message.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import {
  DOCKER_DEFAULT_CAPS,
  dockerDefaultProfile,
  dockerSpecProfile,
} from '../testlib/docker_profile.js';
import { IMAGE, findPodman, makePodmanEnv } from '../testlib/podman.js';
import {
  REPO_ROOT,
  describeResult,
  runMoatBundle,
  runRuncBundle,
  runtimeUnavailable,
} from '../testlib/runners.js';

let dir = '';
let probe = '';
let stack = '';
const noRunc = runtimeUnavailable('runc');

before(() => {
  dir = tempDir('seccomp-profile');
  probe = path.join(dir, 'probe');
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-o',
    probe,
    path.join(REPO_ROOT, 'test/fixtures/seccomp_probe.c'),
  ]);
  stack = path.join(dir, 'stack');
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-o',
    stack,
    path.join(REPO_ROOT, 'test/fixtures/seccomp_stack.c'),
  ]);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function bundleWith(seccomp: object, program = probe): string {
  n++;
  const b = makeBusyboxBundle(path.join(dir, `b${n}`), {
    args: ['/bin/probe'],
    files: [[program, 'bin/probe']],
    readonlyRoot: false,
    mounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] }],
  });
  const file = path.join(b, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { linux: Record<string, unknown> };
  cfg.linux['seccomp'] = seccomp;
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return b;
}

/**
 * Runs the bundle under runc and moat; asserts the same output (but for the lines of calls in
 * `skip`) and the same end; returns moat's output.
 */
function same(
  b: string,
  skip: readonly string[] = [],
  onRuncFailed?: (why: string) => void,
): string {
  const runc = runRuncBundle(b, { timeoutMs: 60_000 });
  const moat = runMoatBundle(b, { timeoutMs: 60_000 });
  assert.equal(runc.error, null, describeResult(runc));
  if (onRuncFailed !== undefined && runc.stdout === '' && runc.status !== 0) {
    // runc's own init, not the container, failed under the profile: nothing to compare.
    onRuncFailed(`runc could not start the container under this profile: ${runc.stderr.trim()}`);
    return moat.stdout;
  }
  const keep = (out: string): string =>
    out
      .split('\n')
      .filter((l) => !skip.includes(l.split(' ')[0] ?? ''))
      .join('\n');
  assert.equal(
    keep(moat.stdout),
    keep(runc.stdout),
    `moat vs runc:\nmoat: ${moat.stderr}\nrunc: ${runc.stderr}`,
  );
  assert.equal(moat.status, runc.status, `${describeResult(moat)} vs ${describeResult(runc)}`);
  return moat.stdout;
}

const ARCH = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
const ERRNO = 'SCMP_ACT_ERRNO';
// Calls that both runtimes implement differently (moat lacks them) are given a rule, so that
// what is compared is the profile's verdict.
const UNIMPLEMENTED = [
  { names: ['getpriority'], action: ERRNO, errnoRet: 13 },
  { names: ['keyctl'], action: ERRNO, errnoRet: 126 },
  { names: ['clock_settime'], action: ERRNO },
  { names: ['unshare'], action: ERRNO, errnoRet: 1 },
];

describe('the spec’s seccomp profile, moat vs runc', { skip: noRunc ?? false }, () => {
  it('ERRNO with and without errnoRet, argument conditions, LOG and ALLOW', () => {
    const out = same(
      bundleWith({
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ARCH,
        syscalls: [
          { names: ['uname'], action: ERRNO, errnoRet: 95 },
          { names: ['keyctl'], action: ERRNO },
          {
            names: ['keyctl'],
            action: ERRNO,
            errnoRet: 22,
            args: [{ index: 0, value: 9, op: 'SCMP_CMP_EQ' }],
          },
          { names: ['mkdir'], action: 'SCMP_ACT_LOG' },
          {
            names: ['personality'],
            action: ERRNO,
            errnoRet: 22,
            args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }],
          },
          {
            names: ['umask'],
            action: ERRNO,
            errnoRet: 9,
            // (arg & value) == valueTwo; valueTwo 0, as Docker's clone rule: Debian's runc
            // 1.1.5 was seen to compare against 0 whatever valueTwo says.
            args: [{ index: 0, value: 0o700, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
          },
          { names: ['arm_fadvise64_64', 'no_such_call'], action: ERRNO },
          ...UNIMPLEMENTED,
        ],
      }),
    );
    assert.match(out, /^uname -1 EOPNOTSUPP$/m);
    assert.match(
      out,
      /^keyctl -1 EPERM$/m,
      'the rule without conditions; the EQ 9 one does not hold',
    );
    assert.match(out, /^personality_linux32 -1 EINVAL$/m);
    assert.match(out, /^umask -1 EBADF$/m);
    assert.match(out, /^mkdir 0 -$/m);
    assert.match(out, /^end$/m);
  });

  it('TRAP: SIGSYS with its siginfo, the call not made', () => {
    const out = same(
      bundleWith({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_TRAP' }, ...UNIMPLEMENTED],
      }),
    );
    assert.match(out, /^SIGSYS sig=31 code=1 syscall=110 errno=0 arch_ok=1$/m);
  });

  it('KILL_PROCESS and KILL_THREAD end the process with SIGSYS', () => {
    for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL']) {
      const out = same(
        bundleWith({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['getppid'], action }, ...UNIMPLEMENTED],
        }),
      );
      assert.equal(out, 'uname 0 -\n', action);
    }
  });

  it('a default-deny profile with an allow list, and defaultErrnoRet', (t) => {
    const out = same(
      bundleWith({
        defaultAction: ERRNO,
        defaultErrnoRet: 38,
        syscalls: [
          {
            names: [
              'execve',
              'brk',
              'arch_prctl',
              'set_tid_address',
              'set_robust_list',
              'rseq',
              'prlimit64',
              'mprotect',
              'readlink',
              'readlinkat',
              'getrandom',
              'newfstatat',
              'fstat',
              'write',
              'exit_group',
              'rt_sigaction',
              'rt_sigprocmask',
              'mmap',
              'munmap',
              'futex',
              'getppid',
              'sched_yield',
              'close',
              'fcntl',
              'capget',
              'capset',
              'prctl',
              'setgroups',
              'setresuid',
              'setresgid',
              'setuid',
              'setgid',
              'chdir',
              'getcwd',
              'openat',
              'getdents64',
              'uname',
              // What runc itself calls once the filter is in place.
              'fstatfs',
              'statfs',
              'close_range',
              'read',
              'getpid',
              'getuid',
              'getgid',
              'geteuid',
              'getegid',
              'exit',
              'nanosleep',
              'clock_gettime',
              'sigaltstack',
              'tgkill',
              'gettid',
              'pipe2',
              'dup3',
              'umask',
              // What runc's Go runtime may call, now and then, between the filter and exec.
              'rt_sigreturn',
              'madvise',
              'sched_getaffinity',
              'mincore',
              'clone',
              'epoll_pwait',
              'epoll_ctl',
              'epoll_create1',
              'eventfd2',
              'tkill',
              'setitimer',
              'getrlimit',
              'sched_yield',
              'fstatfs',
            ],
            action: 'SCMP_ACT_ALLOW',
          },
        ],
      }),
      [],
      (why) => t.diagnostic(why),
    );
    // moat's own verdicts, whatever runc did.
    assert.match(out, /^keyctl -1 ENOSYS$/m);
    assert.match(out, /^mkdir -1 ENOSYS$/m);
    assert.match(out, /^sched_yield 0 -$/m);
  });

  it('podman’s default profile, as podman writes it, behaves as under runc', (t) => {
    const podman = findPodman();
    if (podman === undefined) return t.skip('podman is not installed');
    fs.mkdirSync(path.join(dir, 'podman'));
    const env = makePodmanEnv(podman, path.join(dir, 'podman'));
    const c = env.run(['create', IMAGE, 'true']);
    assert.equal(c.status, 0, c.stderr);
    const id = c.stdout.trim();
    // podman writes the bundle when the runtime creates the container.
    const init = env.run(['init', id]);
    assert.equal(init.status, 0, init.stderr);
    const found = execFileSync(
      'find',
      [path.join(dir, 'podman'), '-name', 'config.json', '-path', `*${id}*`],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n')[0];
    assert.ok(found !== undefined && found !== '', 'podman wrote a config.json');
    const profile = (JSON.parse(fs.readFileSync(found, 'utf8')) as { linux: { seccomp: object } })
      .linux.seccomp;
    env.run(['rm', '--force', id]);
    // The profile allows unshare, keyctl and getpriority, which moat does not implement
    // (ENOSYS where runc's kernel runs them): those lines are not compared.
    const out = same(bundleWith(profile), ['unshare_user', 'keyctl', 'getpriority']);
    assert.match(out, /^clock_settime -1 EPERM$/m);
    assert.match(out, /^personality_query 0 -$/m);
  });
});

describe(
  'the profile and the application’s own filter, moat vs runc',
  { skip: noRunc ?? false },
  () => {
    it('combine as the kernel combines filters: most severe first, the newest on a tie', () => {
      const b = bundleWith(
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ARCH,
          syscalls: [
            { names: ['getppid'], action: ERRNO, errnoRet: 1 },
            { names: ['getuid'], action: ERRNO, errnoRet: 2 },
          ],
        },
        stack,
      );
      const out = same(b);
      assert.match(out, /^mode_before 2 -$/m, 'the profile is a filter already');
      assert.match(out, /^getppid -1 EACCES$/m, 'a tie goes to the newest filter');
      assert.match(out, /^getuid -1 ENOENT$/m, 'the profile’s errno beats the newer allow');
      assert.match(out, /^getgid -1 EIO$/m);
    });
  },
);

describe('Docker’s default profile, moat vs runc', { skip: noRunc ?? false }, () => {
  it('as dockerd converts it for a container with Docker’s default capabilities', (t) => {
    const moby = dockerDefaultProfile();
    if (typeof moby === 'string') return t.skip(moby);
    const profile = dockerSpecProfile(moby, DOCKER_DEFAULT_CAPS);
    const out = same(bundleWith(profile));
    // Refused by the profile (no CAP_SYS_ADMIN, CAP_SYS_TIME; keyctl not listed): EPERM, the
    // default action, where the kernel or the Sentry would have answered otherwise.
    assert.match(out, /^unshare_user -1 EPERM$/m);
    assert.match(out, /^keyctl -1 EPERM$/m);
    assert.match(out, /^clock_settime -1 EPERM$/m);
    // personality is allowed for the listed personas only.
    assert.match(out, /^personality_linux32 0 -$/m);
    assert.match(out, /^end$/m);
  });
});

describe('a profile moat cannot enforce', () => {
  it('SCMP_ACT_NOTIFY is refused with a clear message', () => {
    const b = bundleWith({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/run/listener.sock',
      syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }],
    });
    const r = runMoatBundle(b, { timeoutMs: 60_000 });
    assert.equal(r.status, 1, describeResult(r));
    assert.match(r.stderr, /SCMP_ACT_NOTIFY needs a seccomp listener, which moat does not support/);
  });
});
