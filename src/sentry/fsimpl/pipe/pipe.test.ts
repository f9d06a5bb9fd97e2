// Unit tests of anonymous pipes: FIFO order, EOF after the last writer, EPIPE after the last
// reader, PIPE_BUF atomicity, capacity, blocking (the caller is parked) and non-blocking
// (EAGAIN) descriptions, readiness and change notification, fstat.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../../abi/linux/errno.js';
import { O_NONBLOCK, POLLHUP, POLLIN, POLLOUT, S_IFIFO, S_IFMT } from '../../../abi/linux/file.js';
import { BLOCKED } from '../../kernel/block.js';
import { PIPE_CAPACITY, newPipe } from './pipe.js';

describe('pipe', () => {
  it('moves bytes in order and ends at EOF when the writer closes', () => {
    const [r, w] = newPipe(0, 0, 0);
    assert.equal(w.write(Buffer.from('hello ')), 6);
    assert.equal(w.write(Buffer.from('world')), 5);
    const b = new Uint8Array(8);
    assert.equal(r.read(b), 8);
    assert.equal(Buffer.from(b).toString(), 'hello wo');
    assert.equal(r.bytesReadable(), 3);
    assert.equal(r.read(b), 3);
    // Empty with a writer: a blocking description parks the caller, a non-blocking one answers EAGAIN.
    assert.equal(r.read(b), BLOCKED);
    r.flags |= O_NONBLOCK;
    assert.equal(r.read(b), -Errno.EAGAIN);
    w.decRef();
    assert.equal(r.read(b), 0);
    assert.equal(r.write(Buffer.from('x')), -Errno.EBADF);
    assert.equal(w.read(b), -Errno.EBADF);
  });

  it('answers EPIPE once no reader is left, and ESPIPE for positioned I/O', () => {
    const [r, w] = newPipe(0, 0, O_NONBLOCK);
    assert.equal(w.pwrite(Buffer.from('x'), 0), -Errno.ESPIPE);
    assert.equal(r.seek(0, 0), -Errno.ESPIPE);
    r.decRef();
    assert.equal(w.write(Buffer.from('x')), -Errno.EPIPE);
  });

  it('fills to capacity; small writes are atomic', () => {
    const [r, w] = newPipe(0, 0, 0);
    assert.equal(w.write(new Uint8Array(PIPE_CAPACITY - 100)), PIPE_CAPACITY - 100);
    assert.equal(w.write(new Uint8Array(200)), BLOCKED);
    assert.equal(w.write(new Uint8Array(5000)), 100);
    assert.equal(w.write(new Uint8Array(1)), BLOCKED);
    w.flags |= O_NONBLOCK;
    assert.equal(w.write(new Uint8Array(1)), -Errno.EAGAIN);
    assert.equal(r.read(new Uint8Array(PIPE_CAPACITY)), PIPE_CAPACITY);
  });

  it('reports readiness and notifies subscribers', () => {
    const [r, w] = newPipe(0, 0, 0);
    const ri = r.impl;
    const wi = w.impl;
    assert.ok(
      ri?.readiness !== undefined && wi?.readiness !== undefined && ri.subscribe !== undefined,
    );
    assert.equal(ri.readiness() & POLLIN, 0);
    assert.equal(wi.readiness() & POLLOUT, POLLOUT);
    let n = 0;
    const un = ri.subscribe(() => n++);
    w.write(Buffer.from('x'));
    assert.equal(n, 1);
    assert.equal(ri.readiness() & POLLIN, POLLIN);
    un();
    w.decRef();
    assert.equal(n, 1);
    assert.equal(ri.readiness() & POLLHUP, POLLHUP);
  });

  it('stats as a FIFO owned by its creator', () => {
    const [r] = newPipe(1000, 100, 0);
    const st = r.stat();
    assert.ok(typeof st !== 'number');
    assert.equal(st.mode & S_IFMT, S_IFIFO);
    assert.equal(st.uid, 1000);
    assert.equal(st.gid, 100);
  });
});
