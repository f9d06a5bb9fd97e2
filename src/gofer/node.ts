// A file the Gofer has walked to: an O_PATH|O_NOFOLLOW fd, the node of the directory it was
// walked from and its name there (to reopen it by name, since /proc/self/fd is gone after
// pivot_root), and its walk depth. Nodes are shared by fids and by child nodes and counted;
// the last release closes the fd. A node must never be reopened by anything but its parent's
// fd and its single-component name, with O_NOFOLLOW, and the result checked against the node's
// device and inode.

import type { HostFd } from '../host/fd.js';

export class Node {
  private refs = 1;
  constructor(
    readonly fd: HostFd,
    /** The directory this node was walked from; undefined for the root. */
    readonly parent: Node | undefined,
    readonly name: string,
    readonly dev: bigint,
    readonly ino: bigint,
    /** S_IFMT bits at walk time. */
    readonly fmt: number,
  ) {
    parent?.ref();
  }
  ref(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    this.fd.close();
    this.parent?.release();
  }
}
