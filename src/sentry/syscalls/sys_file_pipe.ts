// pipe(2) and pipe2(2): make an anonymous pipe (fsimpl/pipe) and install its two ends in the
// task's fd table, then copy the two fd numbers out. Never throws; on a failed copy the fds
// are closed again, as Linux does.

import { Errno } from '../../abi/linux/errno.js';
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK } from '../../abi/linux/file.js';
import { newPipe } from '../fsimpl/pipe/pipe.js';
import { argInt } from './sys_file_common.js';
import type { SyscallArgs, SyscallContext, SyscallEntry } from './types.js';

function doPipe(ctx: SyscallContext, addr: bigint, flags: number): number {
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) !== 0) return -Errno.EINVAL;
  const [r, w] = newPipe(ctx.creds.euid, ctx.creds.egid, flags);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = ctx.files.install(r, cloexec);
  if (rfd < 0) {
    r.decRef();
    w.decRef();
    return rfd;
  }
  const wfd = ctx.files.install(w, cloexec);
  if (wfd < 0) {
    w.decRef();
    ctx.files.close(rfd);
    return wfd;
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setInt32(0, rfd, true);
  v.setInt32(4, wfd, true);
  const c = ctx.mem.copyOut(addr, out);
  if (c < 0) {
    ctx.files.close(rfd);
    ctx.files.close(wfd);
    return c;
  }
  return 0;
}

/**
 * Implements Linux syscall pipe(2).
 * Difference from Linux: see fsimpl/pipe/pipe.ts (blocking writes over PIPE_BUF may be short).
 */
function sysPipe(ctx: SyscallContext, a: SyscallArgs): number {
  return doPipe(ctx, a[0], 0);
}

/**
 * Implements Linux syscall pipe2(2).
 * Differences from Linux: O_DIRECT (packet mode) is accepted and ignored; see
 * fsimpl/pipe/pipe.ts (blocking writes over PIPE_BUF may be short).
 */
function sysPipe2(ctx: SyscallContext, a: SyscallArgs): number {
  return doPipe(ctx, a[0], argInt(a[1]));
}

const NOTE = 'a blocking write of more than PIPE_BUF bytes may return short';

export const pipeSyscalls: ReadonlyArray<[number, SyscallEntry]> = [
  [22, { name: 'pipe', handler: sysPipe, support: 'partial', note: NOTE }],
  [293, { name: 'pipe2', handler: sysPipe2, support: 'partial', note: NOTE }],
];
