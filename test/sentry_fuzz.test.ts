// Hostile system call arguments, as an attacker would send them: a static program calls the
// Sentry's implemented system calls with bad and edge-case pointers, huge sizes, odd flags and
// random fds for a fixed budget. The Sentry must answer every one (an errno is fine) and never
// crash: the program ends normally and prints its count.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSyscallTable } from '../src/sentry/syscalls/table.js';
import { makeBusyboxBundle, tempDir } from '../testlib/bundle.js';
import { MOAT_BIN, REPO_ROOT } from '../testlib/runners.js';

/**
 * Calls left out, each because it would end or wedge the program rather than test the Sentry:
 * leaving (exit, exit_group), waiting for ever (pause, rt_sigsuspend, sleeps, futex, poll,
 * select and epoll_wait with random timeouts, rt_sigtimedwait, read of a blocking stdin, a
 * receive on a socket nobody writes to or a send to one nobody reads),
 * confining itself (seccomp: strict mode or a filter would end it at its next call), rewriting the program's own state
 * (rt_sigreturn, arch_prctl, sigaltstack+signals, munmap/mprotect/mmap/brk of its own memory),
 * installing handlers at random addresses (rt_sigaction), or closing the fd it reports on
 * (close, close_range, dup2, dup3), or multiplying the program (fork, vfork, clone: every
 * child would fuzz on and fork again). Signals (kill, tkill, tgkill) are left out as well.
 */
const EXCLUDED = new Set([
  'exit',
  'exit_group',
  'pause',
  'rt_sigsuspend',
  'nanosleep',
  'clock_nanosleep',
  'futex',
  'poll',
  'ppoll',
  'select',
  'pselect6',
  'epoll_wait',
  'epoll_pwait',
  'epoll_pwait2',
  'rt_sigtimedwait',
  'seccomp',
  'recvfrom',
  'recvmsg',
  'sendto',
  'sendmsg',
  'rt_sigreturn',
  'arch_prctl',
  'munmap',
  'mprotect',
  'mmap',
  'brk',
  'madvise',
  'close',
  'close_range',
  'dup2',
  'dup3',
  'kill',
  'tkill',
  'tgkill',
  'rt_sigaction',
  'read',
  'readv',
  'pread64',
  'preadv',
  'execve',
  'fork',
  'vfork',
  'clone',
  'setrlimit',
  'prlimit64',
]);

let dir = '';
let prog = '';

before(() => {
  dir = tempDir('fuzz');
  prog = path.join(dir, 'syscall_fuzz');
  execFileSync('gcc', [
    '-O1',
    '-static',
    '-o',
    prog,
    path.join(REPO_ROOT, 'test/fixtures/syscall_fuzz.c'),
  ]);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the Sentry survives hostile arguments to every system call it implements', () => {
  const nrs = [...buildSyscallTable()]
    .filter(([, e]) => !EXCLUDED.has(e.name))
    .map(([nr]) => String(nr));
  assert.ok(nrs.length > 50);
  for (const seed of ['1', '2', '3']) {
    const bundle = makeBusyboxBundle(path.join(dir, `b${seed}`), {
      args: ['/syscall_fuzz', seed, '3000', ...nrs],
      files: [[prog, 'syscall_fuzz']],
      readonlyRoot: false,
      mounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] }],
    });
    const root = path.join(dir, `state${seed}`);
    const r = spawnSync(
      process.execPath,
      [MOAT_BIN, '--root', root, 'run', '--bundle', bundle, `fuzz${seed}`],
      {
        encoding: 'utf8',
        input: '',
        timeout: 120_000,
        killSignal: 'SIGKILL',
      },
    );
    // Whatever happened, nothing of this run may stay: its sandbox, its cgroups.
    spawnSync(process.execPath, [MOAT_BIN, '--root', root, 'delete', '--force', `fuzz${seed}`], {
      stdio: 'ignore',
      timeout: 30_000,
    });
    assert.doesNotMatch(
      r.stderr,
      /internal error/,
      `seed ${seed}: the Sentry crashed:\n${r.stderr}`,
    );
    // The fuzzed writes may put bytes on stdout too: the count comes last.
    assert.ok(
      r.stdout.endsWith('done 3000\n'),
      `seed ${seed}: status ${r.status}, stderr:\n${r.stderr}`,
    );
    assert.equal(r.status, 0);
    fs.rmSync(root, { recursive: true, force: true });
  }
});
