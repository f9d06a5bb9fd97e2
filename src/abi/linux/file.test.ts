// Unit tests of the file ABI encoders: struct stat, statx, statfs and linux_dirent64 layouts
// (offsets checked against x86-64 glibc's headers), device numbers and DT_* mapping.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DT_DIR,
  DT_LNK,
  DT_REG,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  SIZEOF_STAT,
  SIZEOF_STATFS,
  SIZEOF_STATX,
  STATX_BASIC_STATS,
  devMajor,
  devMinor,
  direntReclen,
  dtFromMode,
  encodeDirent64,
  encodeOldDirent,
  encodeStat,
  encodeStatFs,
  encodeStatx,
  makeDev,
  type Stat,
} from './file.js';

const st: Stat = {
  dev: makeDev(8, 1),
  ino: 0x1122334455667788n,
  nlink: 3,
  mode: S_IFREG | 0o644,
  uid: 1000,
  gid: 100,
  rdev: makeDev(136, 300),
  size: 12345,
  blksize: 4096,
  blocks: 32,
  atimeSec: 1700000000,
  atimeNsec: 1,
  mtimeSec: 1700000001,
  mtimeNsec: 2,
  ctimeSec: 1700000002,
  ctimeNsec: 3,
};

describe('struct stat', () => {
  it('is 144 bytes with x86-64 offsets', () => {
    const b = encodeStat(st);
    assert.equal(b.length, SIZEOF_STAT);
    const v = new DataView(b.buffer);
    assert.equal(v.getBigUint64(0, true), BigInt(makeDev(8, 1)));
    assert.equal(v.getBigUint64(8, true), 0x1122334455667788n);
    assert.equal(v.getBigUint64(16, true), 3n);
    assert.equal(v.getUint32(24, true), S_IFREG | 0o644);
    assert.equal(v.getUint32(28, true), 1000);
    assert.equal(v.getUint32(32, true), 100);
    assert.equal(v.getUint32(36, true), 0);
    assert.equal(v.getBigUint64(40, true), BigInt(makeDev(136, 300)));
    assert.equal(v.getBigInt64(48, true), 12345n);
    assert.equal(v.getBigInt64(56, true), 4096n);
    assert.equal(v.getBigInt64(64, true), 32n);
    assert.equal(v.getBigInt64(72, true), 1700000000n);
    assert.equal(v.getBigInt64(80, true), 1n);
    assert.equal(v.getBigInt64(88, true), 1700000001n);
    assert.equal(v.getBigInt64(96, true), 2n);
    assert.equal(v.getBigInt64(104, true), 1700000002n);
    assert.equal(v.getBigInt64(112, true), 3n);
    assert.ok(b.subarray(120).every((x) => x === 0));
  });
});

describe('struct statx', () => {
  it('is 256 bytes with the basic stats at Linux offsets', () => {
    const b = encodeStatx(st, 7);
    assert.equal(b.length, SIZEOF_STATX);
    const v = new DataView(b.buffer);
    assert.equal(v.getUint32(0, true), STATX_BASIC_STATS);
    assert.equal(v.getUint32(4, true), 4096);
    assert.equal(v.getUint32(16, true), 3);
    assert.equal(v.getUint32(20, true), 1000);
    assert.equal(v.getUint32(24, true), 100);
    assert.equal(v.getUint16(28, true), S_IFREG | 0o644);
    assert.equal(v.getBigUint64(32, true), 0x1122334455667788n);
    assert.equal(v.getBigUint64(40, true), 12345n);
    assert.equal(v.getBigUint64(48, true), 32n);
    assert.equal(v.getBigInt64(64, true), 1700000000n);
    assert.equal(v.getUint32(72, true), 1);
    assert.equal(v.getBigInt64(80, true), 0n);
    assert.equal(v.getBigInt64(96, true), 1700000002n);
    assert.equal(v.getBigInt64(112, true), 1700000001n);
    assert.equal(v.getUint32(128, true), 136);
    assert.equal(v.getUint32(132, true), 300);
    assert.equal(v.getUint32(136, true), 8);
    assert.equal(v.getUint32(140, true), 1);
    assert.equal(v.getBigUint64(144, true), 7n);
  });
});

describe('struct statfs', () => {
  it('is 120 bytes with x86-64 offsets', () => {
    const b = encodeStatFs({
      type: 0x01021994,
      bsize: 4096,
      blocks: 10n,
      bfree: 5n,
      bavail: 4n,
      files: 100n,
      ffree: 50n,
      fsid: 0x0000000200000001n,
      namelen: 255,
      frsize: 4096,
      flags: 1,
    });
    assert.equal(b.length, SIZEOF_STATFS);
    const v = new DataView(b.buffer);
    assert.equal(v.getBigInt64(0, true), 0x01021994n);
    assert.equal(v.getBigInt64(8, true), 4096n);
    assert.equal(v.getBigUint64(16, true), 10n);
    assert.equal(v.getBigUint64(32, true), 4n);
    assert.equal(v.getBigUint64(48, true), 50n);
    assert.equal(v.getInt32(56, true), 1);
    assert.equal(v.getInt32(60, true), 2);
    assert.equal(v.getBigInt64(64, true), 255n);
    assert.equal(v.getBigInt64(72, true), 4096n);
    assert.equal(v.getBigInt64(80, true), 1n);
  });
});

describe('linux_dirent64', () => {
  it('aligns reclen to 8 and NUL-terminates the name', () => {
    assert.equal(direntReclen(1), 24);
    assert.equal(direntReclen(4), 24);
    assert.equal(direntReclen(5), 32);
    const buf = new Uint8Array(64).fill(0xff);
    const n = encodeDirent64(buf, 0, 42n, 3, DT_REG, Buffer.from('hello'));
    assert.equal(n, 32);
    const v = new DataView(buf.buffer);
    assert.equal(v.getBigUint64(0, true), 42n);
    assert.equal(v.getBigInt64(8, true), 3n);
    assert.equal(v.getUint16(16, true), 32);
    assert.equal(v.getUint8(18), DT_REG);
    assert.equal(Buffer.from(buf.subarray(19, 24)).toString(), 'hello');
    assert.ok(buf.subarray(24, 32).every((x) => x === 0));
    assert.equal(buf[32], 0xff);
    assert.equal(encodeDirent64(buf, 40, 1n, 1, DT_REG, Buffer.from('hello')), 0);
  });
});

describe('old linux_dirent', () => {
  it('puts d_type in the last byte of an 8-aligned record', () => {
    const buf = new Uint8Array(64).fill(0xff);
    const n = encodeOldDirent(buf, 0, 7n, 2, DT_DIR, Buffer.from('abc'));
    assert.equal(n, 24);
    const v = new DataView(buf.buffer);
    assert.equal(v.getBigUint64(0, true), 7n);
    assert.equal(v.getBigUint64(8, true), 2n);
    assert.equal(v.getUint16(16, true), 24);
    assert.equal(Buffer.from(buf.subarray(18, 21)).toString(), 'abc');
    assert.equal(buf[21], 0);
    assert.equal(buf[23], DT_DIR);
    assert.equal(encodeOldDirent(buf, 48, 7n, 2, DT_DIR, Buffer.from('abc')), 0);
  });
});

describe('mode and device helpers', () => {
  it('maps S_IF* to DT_* and encodes device numbers like Linux', () => {
    assert.equal(dtFromMode(S_IFDIR | 0o755), DT_DIR);
    assert.equal(dtFromMode(S_IFLNK | 0o777), DT_LNK);
    assert.equal(dtFromMode(S_IFREG), DT_REG);
    assert.equal(makeDev(1, 3), 0x103);
    assert.equal(makeDev(136, 300), 0x10882c);
    assert.equal(devMajor(makeDev(136, 300)), 136);
    assert.equal(devMinor(makeDev(136, 300)), 300);
  });
});
