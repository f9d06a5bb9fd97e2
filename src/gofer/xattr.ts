// The Gofer's extended attributes (9P2000.L Txattrwalk and Txattrcreate, as Linux's v9fs
// client uses them, fs/9p/xattr.c). Txattrwalk with a name reads that attribute, with ""
// the list of names (NUL after each), into a snapshot held by the new fid, which Tread then
// serves at offsets; Rxattrwalk carries its size. Txattrcreate turns the fid into a write fid
// of a declared size: Twrite fills it, Tclunk applies it with the XATTR_CREATE/REPLACE flags,
// and Rclunk carries the host's answer. A size of 0 with XATTR_REPLACE is removexattr(2)
// (Linux sends exactly that for a remove).
//
// Host calls go to an fd opened for reading through LocalFs.reopen (the walked O_PATH fd is
// refused by f*xattr): only regular files and directories are ever opened. Other nodes
// (symlinks, FIFOs, devices, sockets) have no attributes here: a get is ENODATA, a list is
// empty and a change EPERM, as Linux answers for user.* attributes. In read-only mode
// Txattrcreate is EROFS before anything else. It must never take a path or follow a symlink.

import { Errno } from '../abi/linux/errno.js';
import type { HostFd } from '../host/fd.js';
import { O_NONBLOCK, O_RDONLY, S_IFDIR, S_IFREG } from '../host/fs.js';
import {
  fgetxattr,
  flistxattr,
  fremovexattr,
  fsetxattr,
  XATTR_CREATE,
  XATTR_REPLACE,
  XATTR_SIZE_MAX,
} from '../host/xattr.js';
import type { MsgOf } from '../p9/codec.js';
import { RREAD_OVERHEAD } from '../p9/messages.js';
import type { HandlerReply } from '../p9/server.js';
import type { LocalFs } from './local_fs.js';
import type { Node } from './node.js';

/** XATTR_NAME_MAX. */
const NAME_MAX = 255;

/** A fid that Txattrwalk or Txattrcreate made. */
export type XattrFid =
  | { kind: 'read'; data: Uint8Array }
  | { kind: 'write'; name: string; flags: number; data: Uint8Array; filled: number };

function checkName(name: string): number {
  const n = Buffer.byteLength(name);
  if (n === 0 || n > NAME_MAX || name.includes('\0')) return -Errno.EINVAL;
  return 0;
}

/** Runs `op` on an fd of `node` opened for reading, or answers `other` for nodes we never open. */
function withIoFd<T>(fs: LocalFs, node: Node, other: T, op: (fd: HostFd) => T): T | number {
  if (node.fmt !== S_IFREG && node.fmt !== S_IFDIR) return other;
  const o = fs.reopen(node, O_RDONLY | O_NONBLOCK);
  if (typeof o === 'number') return o;
  try {
    return op(o.fd);
  } finally {
    o.fd.close();
  }
}

// Txattrwalk: fid[4] newfid[4] name[s]; Rxattrwalk: size[8].
export function xattrWalk(fs: LocalFs, req: MsgOf<'Txattrwalk'>): HandlerReply {
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  if (fs.fids.has(req.newfid)) return -Errno.EBADF;
  if (req.name !== '') {
    const bad = checkName(req.name);
    if (bad < 0) return bad;
  }
  const empty = new Uint8Array(0);
  const got =
    req.name === ''
      ? withIoFd(fs, f.node, empty, (fd) => flistxattr(fd))
      : withIoFd<Uint8Array | number>(fs, f.node, -Errno.ENODATA, (fd) => fgetxattr(fd, req.name));
  if (typeof got === 'number') return got;
  fs.fids.set(req.newfid, { node: f.node.ref(), xattr: { kind: 'read', data: got } });
  return { msg: { type: 'Rxattrwalk', tag: req.tag, size: BigInt(got.length) } };
}

// Txattrcreate: fid[4] name[s] attr_size[8] flags[4]; Rxattrcreate. The fid becomes the write fid.
export function xattrCreate(fs: LocalFs, req: MsgOf<'Txattrcreate'>): HandlerReply {
  const f = fs.fid(req.fid);
  if (typeof f === 'number') return f;
  if (fs.readonly) return -Errno.EROFS;
  if (f.open !== undefined || f.xattr !== undefined) return -Errno.EBADF;
  const bad = checkName(req.name);
  if (bad < 0) return bad;
  if ((req.flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) return -Errno.EINVAL;
  if (req.attrSize > BigInt(XATTR_SIZE_MAX)) return -Errno.E2BIG;
  const data = new Uint8Array(Number(req.attrSize));
  f.xattr = { kind: 'write', name: req.name, flags: req.flags, data, filled: 0 };
  return { msg: { type: 'Rxattrcreate', tag: req.tag } };
}

// Tread on a Txattrwalk fid: the snapshot's bytes from the offset.
export function xattrRead(req: MsgOf<'Tread'>, x: XattrFid, msize: number): HandlerReply {
  if (x.kind !== 'read') return -Errno.EBADF;
  if (req.offset > BigInt(x.data.length)) return -Errno.EINVAL;
  const from = Number(req.offset);
  const n = Math.min(req.count, msize - RREAD_OVERHEAD, x.data.length - from);
  return { msg: { type: 'Rread', tag: req.tag, data: x.data.slice(from, from + n) } };
}

// Twrite on a Txattrcreate fid: bytes within the declared size.
export function xattrWrite(req: MsgOf<'Twrite'>, x: XattrFid): HandlerReply {
  if (x.kind !== 'write') return -Errno.EBADF;
  const end = req.offset + BigInt(req.data.length);
  if (end > BigInt(x.data.length)) return -Errno.ENOSPC;
  const from = Number(req.offset);
  x.data.set(req.data, from);
  x.filled = Math.max(x.filled, Number(end));
  return { msg: { type: 'Rwrite', tag: req.tag, count: req.data.length } };
}

/** Tclunk of a Txattrcreate fid: sets (or removes) the attribute; 0 or -errno for Rclunk. */
export function xattrCommit(fs: LocalFs, node: Node, x: XattrFid): number {
  if (x.kind !== 'write') return 0;
  if (x.filled !== x.data.length) return -Errno.EINVAL;
  const remove = x.data.length === 0 && x.flags === XATTR_REPLACE;
  const r = withIoFd(fs, node, -Errno.EPERM, (fd) =>
    remove ? fremovexattr(fd, x.name) : fsetxattr(fd, x.name, x.data, x.flags),
  );
  return r;
}
