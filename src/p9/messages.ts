// The 9P2000.L message set as data: each message's type number and its fields in wire order,
// after the common header size[4] type[1] tag[2]. Sources: Linux
// Documentation/filesystems/9p.rst, include/net/9p/9p.h, and diod's protocol.md. The message
// types (Msg, MsgOf<'Tread'>) are derived from this table, so the codec and the types cannot
// disagree. Pure data: it must never do I/O.

import type { Qid } from './client_api.js';

/** Field kinds: integers, s (len[2] + UTF-8), qid[13], wnames (nwname[2] + ≤16 s), wqids
 * (nwqid[2] + ≤16 qid), data (count[4] + bytes). */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'str' | 'qid' | 'wnames' | 'wqids' | 'data';

export interface KindValue {
  u8: number;
  u16: number;
  u32: number;
  u64: bigint;
  str: string;
  qid: Qid;
  wnames: string[];
  wqids: Qid[];
  data: Uint8Array;
}

/** MAXWELEM: the most names in one Twalk (and qids in one Rwalk). */
export const MAXWELEM = 16;
/** The tag of Tversion. */
export const NOTAG = 0xffff;
/** "No fid" (Tattach's afid when there is no authentication). */
export const NOFID = 0xffffffff;
/** Bytes of the header: size[4] type[1] tag[2]. */
export const HEADER_SIZE = 7;
/** Header plus Rread's count[4]: the most data an Rread can carry is msize - IOHDRSZ. */
export const RREAD_OVERHEAD = HEADER_SIZE + 4;
/** Header plus Twrite's fid[4] offset[8] count[4]. */
export const TWRITE_OVERHEAD = HEADER_SIZE + 16;
/** P9_IOHDRSZ: what Linux and diod reserve of msize for I/O headers. Servers such as diod
 * refuse a Tread/Treaddir count over msize - 24, so clients ask no more. */
export const P9_IOHDRSZ = 24;

const F = <const T extends readonly (readonly [string, FieldKind])[]>(id: number, fields: T) => ({
  id,
  fields,
});

/** Every 9P2000.L message: name → type number and fields. */
export const SCHEMAS = {
  // Rlerror: ecode[4] (a Linux errno)
  Rlerror: F(7, [['ecode', 'u32']]),
  // Tstatfs: fid[4] / Rstatfs: type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8] ffree[8] fsid[8] namelen[4]
  Tstatfs: F(8, [['fid', 'u32']]),
  Rstatfs: F(9, [
    ['fstype', 'u32'],
    ['bsize', 'u32'],
    ['blocks', 'u64'],
    ['bfree', 'u64'],
    ['bavail', 'u64'],
    ['files', 'u64'],
    ['ffree', 'u64'],
    ['fsid', 'u64'],
    ['namelen', 'u32'],
  ]),
  // Tlopen: fid[4] flags[4] / Rlopen: qid[13] iounit[4]
  Tlopen: F(12, [
    ['fid', 'u32'],
    ['flags', 'u32'],
  ]),
  Rlopen: F(13, [
    ['qid', 'qid'],
    ['iounit', 'u32'],
  ]),
  // Tlcreate: fid[4] name[s] flags[4] mode[4] gid[4] / Rlcreate: qid[13] iounit[4]
  Tlcreate: F(14, [
    ['fid', 'u32'],
    ['name', 'str'],
    ['flags', 'u32'],
    ['mode', 'u32'],
    ['gid', 'u32'],
  ]),
  Rlcreate: F(15, [
    ['qid', 'qid'],
    ['iounit', 'u32'],
  ]),
  // Tsymlink: fid[4] name[s] symtgt[s] gid[4] / Rsymlink: qid[13]
  Tsymlink: F(16, [
    ['fid', 'u32'],
    ['name', 'str'],
    ['symtgt', 'str'],
    ['gid', 'u32'],
  ]),
  Rsymlink: F(17, [['qid', 'qid']]),
  // Tmknod: dfid[4] name[s] mode[4] major[4] minor[4] gid[4] / Rmknod: qid[13]
  Tmknod: F(18, [
    ['dfid', 'u32'],
    ['name', 'str'],
    ['mode', 'u32'],
    ['major', 'u32'],
    ['minor', 'u32'],
    ['gid', 'u32'],
  ]),
  Rmknod: F(19, [['qid', 'qid']]),
  // Trename: fid[4] dfid[4] name[s] / Rrename
  Trename: F(20, [
    ['fid', 'u32'],
    ['dfid', 'u32'],
    ['name', 'str'],
  ]),
  Rrename: F(21, []),
  // Treadlink: fid[4] / Rreadlink: target[s]
  Treadlink: F(22, [['fid', 'u32']]),
  Rreadlink: F(23, [['target', 'str']]),
  // Tgetattr: fid[4] request_mask[8] / Rgetattr: valid[8] qid[13] mode[4] uid[4] gid[4]
  // nlink[8] rdev[8] size[8] blksize[8] blocks[8] atime_sec[8] atime_nsec[8] mtime_sec[8]
  // mtime_nsec[8] ctime_sec[8] ctime_nsec[8] btime_sec[8] btime_nsec[8] gen[8] data_version[8]
  Tgetattr: F(24, [
    ['fid', 'u32'],
    ['requestMask', 'u64'],
  ]),
  Rgetattr: F(25, [
    ['valid', 'u64'],
    ['qid', 'qid'],
    ['mode', 'u32'],
    ['uid', 'u32'],
    ['gid', 'u32'],
    ['nlink', 'u64'],
    ['rdev', 'u64'],
    ['size', 'u64'],
    ['blksize', 'u64'],
    ['blocks', 'u64'],
    ['atimeSec', 'u64'],
    ['atimeNsec', 'u64'],
    ['mtimeSec', 'u64'],
    ['mtimeNsec', 'u64'],
    ['ctimeSec', 'u64'],
    ['ctimeNsec', 'u64'],
    ['btimeSec', 'u64'],
    ['btimeNsec', 'u64'],
    ['gen', 'u64'],
    ['dataVersion', 'u64'],
  ]),
  // Tsetattr: fid[4] valid[4] mode[4] uid[4] gid[4] size[8] atime_sec[8] atime_nsec[8]
  // mtime_sec[8] mtime_nsec[8] / Rsetattr
  Tsetattr: F(26, [
    ['fid', 'u32'],
    ['valid', 'u32'],
    ['mode', 'u32'],
    ['uid', 'u32'],
    ['gid', 'u32'],
    ['size', 'u64'],
    ['atimeSec', 'u64'],
    ['atimeNsec', 'u64'],
    ['mtimeSec', 'u64'],
    ['mtimeNsec', 'u64'],
  ]),
  Rsetattr: F(27, []),
  // Txattrwalk: fid[4] newfid[4] name[s] / Rxattrwalk: size[8]
  Txattrwalk: F(30, [
    ['fid', 'u32'],
    ['newfid', 'u32'],
    ['name', 'str'],
  ]),
  Rxattrwalk: F(31, [['size', 'u64']]),
  // Txattrcreate: fid[4] name[s] attr_size[8] flags[4] / Rxattrcreate
  Txattrcreate: F(32, [
    ['fid', 'u32'],
    ['name', 'str'],
    ['attrSize', 'u64'],
    ['flags', 'u32'],
  ]),
  Rxattrcreate: F(33, []),
  // Treaddir: fid[4] offset[8] count[4] / Rreaddir: count[4] data[count]
  // (data: qid[13] offset[8] type[1] name[s] per entry; see encodeDirents/decodeDirents)
  Treaddir: F(40, [
    ['fid', 'u32'],
    ['offset', 'u64'],
    ['count', 'u32'],
  ]),
  Rreaddir: F(41, [['data', 'data']]),
  // Tfsync: fid[4] datasync[4] (Linux's client sends datasync; diod's doc omits it) / Rfsync
  Tfsync: F(50, [
    ['fid', 'u32'],
    ['datasync', 'u32'],
  ]),
  Rfsync: F(51, []),
  // Tlock: fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s] / Rlock: status[1]
  Tlock: F(52, [
    ['fid', 'u32'],
    ['locktype', 'u8'],
    ['flags', 'u32'],
    ['start', 'u64'],
    ['length', 'u64'],
    ['procId', 'u32'],
    ['clientId', 'str'],
  ]),
  Rlock: F(53, [['status', 'u8']]),
  // Tgetlock: fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]
  // Rgetlock: type[1] start[8] length[8] proc_id[4] client_id[s]
  Tgetlock: F(54, [
    ['fid', 'u32'],
    ['locktype', 'u8'],
    ['start', 'u64'],
    ['length', 'u64'],
    ['procId', 'u32'],
    ['clientId', 'str'],
  ]),
  Rgetlock: F(55, [
    ['locktype', 'u8'],
    ['start', 'u64'],
    ['length', 'u64'],
    ['procId', 'u32'],
    ['clientId', 'str'],
  ]),
  // Tlink: dfid[4] fid[4] name[s] / Rlink
  Tlink: F(70, [
    ['dfid', 'u32'],
    ['fid', 'u32'],
    ['name', 'str'],
  ]),
  Rlink: F(71, []),
  // Tmkdir: dfid[4] name[s] mode[4] gid[4] / Rmkdir: qid[13]
  Tmkdir: F(72, [
    ['dfid', 'u32'],
    ['name', 'str'],
    ['mode', 'u32'],
    ['gid', 'u32'],
  ]),
  Rmkdir: F(73, [['qid', 'qid']]),
  // Trenameat: olddirfid[4] oldname[s] newdirfid[4] newname[s] / Rrenameat
  Trenameat: F(74, [
    ['olddirfid', 'u32'],
    ['oldname', 'str'],
    ['newdirfid', 'u32'],
    ['newname', 'str'],
  ]),
  Rrenameat: F(75, []),
  // Tunlinkat: dirfd[4] name[s] flags[4] / Runlinkat
  Tunlinkat: F(76, [
    ['dirfid', 'u32'],
    ['name', 'str'],
    ['flags', 'u32'],
  ]),
  Runlinkat: F(77, []),
  // Tversion: msize[4] version[s] / Rversion: msize[4] version[s]
  Tversion: F(100, [
    ['msize', 'u32'],
    ['version', 'str'],
  ]),
  Rversion: F(101, [
    ['msize', 'u32'],
    ['version', 'str'],
  ]),
  // Tauth: afid[4] uname[s] aname[s] n_uname[4] / Rauth: aqid[13]
  Tauth: F(102, [
    ['afid', 'u32'],
    ['uname', 'str'],
    ['aname', 'str'],
    ['nUname', 'u32'],
  ]),
  Rauth: F(103, [['aqid', 'qid']]),
  // Tattach: fid[4] afid[4] uname[s] aname[s] n_uname[4] / Rattach: qid[13]
  Tattach: F(104, [
    ['fid', 'u32'],
    ['afid', 'u32'],
    ['uname', 'str'],
    ['aname', 'str'],
    ['nUname', 'u32'],
  ]),
  Rattach: F(105, [['qid', 'qid']]),
  // Tflush: oldtag[2] / Rflush
  Tflush: F(108, [['oldtag', 'u16']]),
  Rflush: F(109, []),
  // Twalk: fid[4] newfid[4] nwname[2] nwname*(wname[s]) / Rwalk: nwqid[2] nwqid*(qid[13])
  Twalk: F(110, [
    ['fid', 'u32'],
    ['newfid', 'u32'],
    ['wnames', 'wnames'],
  ]),
  Rwalk: F(111, [['wqids', 'wqids']]),
  // Tread: fid[4] offset[8] count[4] / Rread: count[4] data[count]
  Tread: F(116, [
    ['fid', 'u32'],
    ['offset', 'u64'],
    ['count', 'u32'],
  ]),
  Rread: F(117, [['data', 'data']]),
  // Twrite: fid[4] offset[8] count[4] data[count] / Rwrite: count[4]
  Twrite: F(118, [
    ['fid', 'u32'],
    ['offset', 'u64'],
    ['data', 'data'],
  ]),
  Rwrite: F(119, [['count', 'u32']]),
  // Tclunk: fid[4] / Rclunk
  Tclunk: F(120, [['fid', 'u32']]),
  Rclunk: F(121, []),
  // Tremove: fid[4] / Rremove
  Tremove: F(122, [['fid', 'u32']]),
  Rremove: F(123, []),
} as const;

export type MsgName = keyof typeof SCHEMAS;

type FieldsOf<T extends readonly (readonly [string, FieldKind])[]> = {
  -readonly [E in T[number] as E[0]]: KindValue[E[1]];
};

/** One message of kind K, with its tag. */
export type MsgOf<K extends MsgName> = { type: K; tag: number } & FieldsOf<
  (typeof SCHEMAS)[K]['fields']
>;

/** Any 9P2000.L message. */
export type Msg = { [K in MsgName]: MsgOf<K> }[MsgName];

/** Type number → name, for decoding. */
export const NAME_BY_ID: ReadonlyMap<number, MsgName> = new Map(
  (Object.keys(SCHEMAS) as MsgName[]).map((k) => [SCHEMAS[k].id, k]),
);
