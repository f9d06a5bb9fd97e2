// Runs real machine code in a real stub under PTRACE_SYSEMU: every system call of the code must
// come back as a trap, none may reach the host.
import { test } from 'node:test';
import { readFileSync, readdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Assembler } from '../asm/x86_64.js';
import {
  memfdCreate,
  mapShared,
  viewOf,
  PROT_READ,
  PROT_EXEC,
  PROT_WRITE,
} from '../../host/memory.js';
import { PtracePlatform } from './ptrace_platform.js';
import { Reg, type Trap } from '../platform.js';

test('ptrace platform traps every system call of application code', () => {
  const memfd = memfdCreate('moat-test', 1 << 20);
  assert.ok(typeof memfd !== 'number');
  const base = mapShared(memfd, 1 << 20, 0);
  assert.ok(base > 0n);
  const mem = new Uint8Array(viewOf(base, 1 << 20));
  const p = new Assembler();
  // getppid 3 times, then a write of 4 bytes from the data page, then exit(7).
  p.movImm('rbx', 3)
    .label('l')
    .movImm('rax', 110)
    .syscall()
    .addImm('rbx', -1)
    .test('rbx', 'rbx')
    .jcc('ne', 'l')
    .movImm('rax', 1)
    .movImm('rdi', 1)
    .movImm('rsi', 0x401000)
    .movImm('rdx', 4)
    .syscall()
    .movImm('rdi', 7)
    .movImm('rax', 60)
    .syscall()
    .ud2();
  mem.set(p.assemble(), 0);
  mem.set([0x61, 0x62, 0x63, 0x0a], 0x1000);

  const plat = PtracePlatform.create(memfd);
  assert.ok(typeof plat !== 'string', typeof plat === 'string' ? plat : '');
  const as = plat.newAddressSpace();
  assert.ok(typeof as !== 'number');
  assert.equal(as.map(0x400000n, 0x1000, 0, PROT_READ | PROT_EXEC), 0);
  assert.equal(as.map(0x401000n, 0x1000, 0x1000, PROT_READ | PROT_WRITE), 0);
  // The stub is confined: seccomp filter on, no_new_privs, and nothing mapped but the stub
  // pages, the vsyscall page and what the Sentry mapped.
  const status = readFileSync(`/proc/${as.hostPid}/status`, 'utf8');
  assert.match(status, /^Seccomp:\s+2$/m);
  assert.match(status, /^NoNewPrivs:\s+1$/m);
  const maps = readFileSync(`/proc/${as.hostPid}/maps`, 'utf8').trim().split('\n');
  assert.equal(maps.length, 4, maps.join('\n'));
  assert.equal(readdirSync(`/proc/${as.hostPid}/fd`).length, 1);
  const regs = as.initialRegisters();
  regs[Reg.rip] = 0x400000n;
  regs[Reg.rsp] = 0n;
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    const trap: Trap = as.switchTo(regs);
    assert.equal(trap.kind, 'syscall');
    const nr = Number(regs[Reg.orig_rax]);
    seen.push(nr);
    if (nr === 60) break;
    regs[Reg.rax] = 1000n;
  }
  assert.deepEqual(seen, [110, 110, 110, 1, 60]);
  assert.equal(regs[Reg.rdi], 7n);
  // A fault comes back as a signal trap: run the ud2.
  const fault: Trap = as.switchTo(regs);
  assert.equal(fault.kind, 'signal');
  if (fault.kind === 'signal') assert.equal(fault.signo, 4);
  as.release();
  plat.release();
  memfd.close();
});
