// Runs real machine code on the systrap platform: every system call of the code must come back
// as a trap — including one made by jumping to the stub's own `syscall` site — and none may
// reach the host; faults, the kick, FS base, FP state and a second thread work.
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
import { SystrapPlatform } from './systrap_platform.js';
import { Reg, type Trap } from '../platform.js';

function hwcap2(): bigint {
  const b = readFileSync('/proc/self/auxv');
  const v = new BigUint64Array(b.buffer, b.byteOffset, Math.floor(b.length / 8));
  for (let i = 0; i + 1 < v.length; i += 2) if (v[i] === 26n) return v[i + 1] ?? 0n;
  return 0n;
}

test('systrap platform traps every system call of application code', () => {
  const memfd = memfdCreate('moat-test', 1 << 20);
  assert.ok(typeof memfd !== 'number');
  const base = mapShared(memfd, 1 << 20, 0);
  assert.ok(base > 0n);
  const mem = new Uint8Array(viewOf(base, 1 << 20));
  const plat = SystrapPlatform.create(memfd, { fsgsbase: (hwcap2() & 2n) !== 0n });
  assert.ok(typeof plat !== 'string', typeof plat === 'string' ? plat : '');
  const sysSite = plat.base.stubAddress + BigInt(plat.base.stubCode.systrap.sys);
  const p = new Assembler();
  // getppid 3 times, a write of 4 bytes from the data page, a write through the stub's own
  // syscall site (must trap too), getpid, ud2, then exit(7).
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
    .leaRip('rcx', 'back')
    .push('rcx')
    .movImm('rax', 1)
    .movImm('rdi', 2)
    .movImm('rsi', 0x401000)
    .movImm('rdx', 4)
    .movImm('r11', sysSite)
    .jmpReg('r11')
    .label('back')
    .movImm('rax', 39)
    .syscall()
    .ud2()
    .label('after_ud2')
    .movImm('rdi', 7)
    .movImm('rax', 60)
    .syscall()
    .ud2();
  mem.set(p.assemble(), 0);
  mem.set([0x61, 0x62, 0x63, 0x0a], 0x1000);

  const as = plat.newAddressSpace();
  assert.ok(typeof as !== 'number', typeof as === 'number' ? `newAddressSpace: ${as}` : '');
  assert.equal(as.map(0x400000n, 0x1000, 0, PROT_READ | PROT_EXEC), 0);
  assert.equal(as.map(0x401000n, 0x1000, 0x1000, PROT_READ | PROT_WRITE), 0);
  // The application thread: two filters, no_new_privs, no descriptor at all.
  const tid = as.hostPid;
  const tgid = Number(/^Tgid:\s+(\d+)$/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))?.[1]);
  assert.notEqual(tgid, tid, 'the application thread is not the executor');
  const status = readFileSync(`/proc/${tgid}/task/${tid}/status`, 'utf8');
  assert.match(status, /^Seccomp:\s+2$/m);
  assert.match(status, /^Seccomp_filters:\s+2$/m);
  assert.match(status, /^NoNewPrivs:\s+1$/m);
  const blocked = BigInt(`0x${/^SigBlk:\s+([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
  assert.equal(blocked | (1n << 8n) | (1n << 18n), (1n << 64n) - 1n, 'a waiting thread blocks all');
  assert.deepEqual(readdirSync(`/proc/${tgid}/task/${tid}/fd`), []);
  // The executor blocks every signal but the synchronous ones, so that a new thread is born
  // with them blocked: a process-directed signal must never reach one before its filter is on.
  const exStatus = readFileSync(`/proc/${tgid}/status`, 'utf8');
  const exBlocked = BigInt(`0x${/^SigBlk:\s+([0-9a-f]+)$/m.exec(exStatus)?.[1] ?? '0'}`);
  const sync = [31, 11, 7, 4, 8, 5].reduce((m, s) => m | (1n << BigInt(s - 1)), 0n);
  assert.equal(exBlocked | (1n << 8n) | (1n << 18n), ((1n << 64n) - 1n) & ~sync);
  // …and keeps its handlers: nothing the executor did reset one to the default.
  const caught = BigInt(`0x${/^SigCgt:\s+([0-9a-f]+)$/m.exec(exStatus)?.[1] ?? '0'}`);
  assert.equal(caught & (sync | (1n << 9n)), sync | (1n << 9n));
  const regs = as.initialRegisters();
  regs[Reg.rip] = 0x400000n;
  regs[Reg.rsp] = 0x402000n;
  regs[Reg.fs_base] = 0x401000n;
  const seen: number[] = [];
  let trap: Trap = { kind: 'syscall' };
  for (let i = 0; i < 10; i++) {
    trap = as.switchTo(regs);
    if (trap.kind !== 'syscall') break;
    const nr = Number(regs[Reg.orig_rax]);
    seen.push(nr);
    if (nr === 1) assert.equal(regs[Reg.rdx], 4n);
    regs[Reg.rax] = 1000n + BigInt(i);
  }
  // Both writes came back as traps: nothing reached the host's fd 1 or 2.
  assert.deepEqual(seen, [110, 110, 110, 1, 1, 39]);
  // The fault: ud2 is SIGILL at the instruction.
  assert.equal(trap.kind, 'signal');
  if (trap.kind === 'signal') assert.equal(trap.signo, 4);
  // The FP state of a stopped thread reads and writes back.
  const fp = as.getFpState();
  assert.ok(typeof fp !== 'number');
  assert.equal(new DataView(fp.buffer).getUint32(24, true) & 0xffff, 0x1f80);
  assert.equal(as.setFpState(fp), 0);
  regs[Reg.rip] = (regs[Reg.rip] ?? 0n) + 2n;
  trap = as.switchTo(regs);
  assert.equal(trap.kind, 'syscall');
  assert.equal(regs[Reg.orig_rax], 60n);
  assert.equal(regs[Reg.rdi], 7n);
  assert.equal(regs[Reg.fs_base], 0x401000n);

  // A second thread runs the same code from the start and traps in the same way.
  const t2 = as.newThread();
  assert.ok(typeof t2 !== 'number', typeof t2 === 'number' ? `newThread: ${t2}` : '');
  const r2 = as.initialRegisters();
  r2[Reg.rip] = 0x400000n;
  r2[Reg.rsp] = 0x401800n;
  assert.equal(t2.switchTo(r2).kind, 'syscall');
  assert.equal(r2[Reg.orig_rax], 110n);
  as.endThread(t2);
  as.release();
  plat.release();
  memfd.close();
});

test('systrap platform: a kick interrupts a thread in a loop without system calls', () => {
  const memfd = memfdCreate('moat-test', 1 << 20);
  assert.ok(typeof memfd !== 'number');
  const base = mapShared(memfd, 1 << 20, 0);
  const mem = new Uint8Array(viewOf(base, 1 << 20));
  const p = new Assembler();
  p.label('spin').jmp('spin');
  mem.set(p.assemble(), 0);
  const plat = SystrapPlatform.create(memfd, { fsgsbase: false });
  assert.ok(typeof plat !== 'string', typeof plat === 'string' ? plat : '');
  const as = plat.newAddressSpace();
  assert.ok(typeof as !== 'number');
  assert.equal(as.map(0x400000n, 0x1000, 0, PROT_READ | PROT_EXEC), 0);
  const regs = as.initialRegisters();
  regs[Reg.rip] = 0x400000n;
  as.start(regs, -1);
  setTimeout(() => undefined, 0);
  as.interrupt();
  const e = plat.waitAny();
  assert.equal(e?.trap.kind, 'interrupted');
  assert.equal(regs[Reg.rip], 0x400000n);
  as.release();
  plat.release();
  memfd.close();
});

test('systrap platform: ending a running thread while another thread’s stop is queued', () => {
  const memfd = memfdCreate('moat-test', 1 << 20);
  assert.ok(typeof memfd !== 'number');
  const mem = new Uint8Array(viewOf(mapShared(memfd, 1 << 20, 0), 1 << 20));
  const p = new Assembler();
  // At 0: getppid in a loop (stops at once); at 0x100: a loop without calls.
  p.label('calls').movImm('rax', 110).syscall().jmp('calls');
  mem.set(p.assemble(), 0);
  const q = new Assembler();
  q.label('spin').jmp('spin');
  mem.set(q.assemble(), 0x100);
  const plat = SystrapPlatform.create(memfd, { fsgsbase: false });
  assert.ok(typeof plat !== 'string', typeof plat === 'string' ? plat : '');
  const as = plat.newAddressSpace();
  assert.ok(typeof as !== 'number');
  assert.equal(as.map(0x400000n, 0x1000, 0, PROT_READ | PROT_EXEC), 0);
  const t2 = as.newThread();
  assert.ok(typeof t2 !== 'number');
  const r1 = as.initialRegisters();
  r1[Reg.rip] = 0x400000n;
  const r2 = as.initialRegisters();
  r2[Reg.rip] = 0x400100n;
  as.start(r1, -1);
  t2.start(r2, -1);
  const first = plat.waitAny();
  assert.equal(first?.ctx, as);
  // The first thread stops again; its stop is collected while the second one is ended.
  as.start(r1, -1);
  as.endThread(t2);
  const again = plat.waitAny();
  assert.equal(again?.ctx, as);
  assert.equal(again?.trap.kind, 'syscall');
  as.release();
  plat.release();
  memfd.close();
});
