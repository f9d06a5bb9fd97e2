// An epoll instance: the interest list (file, fd) → events and user data, and the scan that
// finds what is ready. Level-triggered by default; EPOLLET reports a file again only after it
// notified a change; EPOLLONESHOT disables an entry once reported, until EPOLL_CTL_MOD. Files
// are held without a reference, as Linux's epoll does: an entry goes when its open file
// description is released. The instance itself is pollable (ready when anything is).
//
// Difference from Linux: EPOLLEXCLUSIVE and EPOLLWAKEUP are accepted and have no effect.

import { Errno } from '../../../abi/linux/errno.js';
import { POLLERR, POLLHUP, POLLIN, POLLRDNORM } from '../../../abi/linux/file.js';
import type { FileDescription } from '../../vfs/file_description.js';
import type { FileImpl } from '../../vfs/inode.js';

export const EPOLLET = 1 << 31;
export const EPOLLONESHOT = 1 << 30;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLEXCLUSIVE = 1 << 28;

interface Entry {
  fd: number;
  file: FileDescription;
  events: number;
  data: bigint;
  /** EPOLLET: a change was notified since the entry was last reported. */
  edge: boolean;
  /** EPOLLONESHOT: reported, waiting for EPOLL_CTL_MOD. */
  disabled: boolean;
  unsubscribe: (() => void) | undefined;
}

export interface ReadyEvent {
  events: number;
  data: bigint;
}

/** Identities of the open file descriptions epoll has seen (the key is (file, fd), as Linux's). */
const fileIds = new WeakMap<FileDescription, number>();
let nextFileId = 1;

export class EpollInstance {
  private readonly entries = new Map<string, Entry>();
  /** Waiters (epoll_wait, a poll or epoll watching this one): told when an entry may be ready. */
  private readonly listeners = new Set<() => void>();

  subscribe(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private notify(): void {
    for (const cb of [...this.listeners]) cb();
  }

  /** True when every watched file tells of its changes (none is a host file): waits can sleep. */
  notifies(): boolean {
    for (const e of this.entries.values()) {
      const impl = e.file.impl;
      if (impl !== null && impl.subscribe === undefined && impl.readiness !== undefined)
        return false;
    }
    return true;
  }

  private static key(fd: number, file: FileDescription): string {
    let id = fileIds.get(file);
    if (id === undefined) {
      id = nextFileId++;
      fileIds.set(file, id);
    }
    return `${fd}:${id}`;
  }

  add(fd: number, file: FileDescription, events: number, data: bigint): number {
    const k = EpollInstance.key(fd, file);
    if (this.entries.has(k)) return -Errno.EEXIST;
    const e: Entry = {
      fd,
      file,
      events,
      data,
      edge: true,
      disabled: false,
      unsubscribe: undefined,
    };
    this.watch(e);
    this.entries.set(k, e);
    this.notify();
    return 0;
  }

  modify(fd: number, file: FileDescription, events: number, data: bigint): number {
    const e = this.entries.get(EpollInstance.key(fd, file));
    if (e === undefined) return -Errno.ENOENT;
    e.events = events;
    e.data = data;
    e.disabled = false;
    e.edge = true;
    // A host file watches for the events asked: they may have changed.
    e.unsubscribe?.();
    this.watch(e);
    this.notify();
    return 0;
  }

  private watch(e: Entry): void {
    e.unsubscribe = e.file.impl?.subscribe?.(() => {
      e.edge = true;
      this.notify();
    }, e.events & 0xffff);
  }

  remove(fd: number, file: FileDescription): number {
    const k = EpollInstance.key(fd, file);
    const e = this.entries.get(k);
    if (e === undefined) return -Errno.ENOENT;
    e.unsubscribe?.();
    this.entries.delete(k);
    return 0;
  }

  /** Whether `other` is watched, directly or through nested instances (loops are EINVAL). */
  watches(other: EpollInstance, depth = 0): boolean {
    if (depth > 5) return true;
    for (const e of this.entries.values()) {
      const inst = epollOf(e.file);
      if (inst === other || (inst !== null && inst.watches(other, depth + 1))) return true;
    }
    return false;
  }

  /** Up to `max` ready events, consuming edges and one-shots as Linux reports them. */
  collect(max: number): ReadyEvent[] {
    const out: ReadyEvent[] = [];
    for (const [k, e] of this.entries) {
      if (out.length >= max) break;
      if (e.file.released) {
        e.unsubscribe?.();
        this.entries.delete(k);
        continue;
      }
      if (e.disabled) continue;
      const et = (e.events & EPOLLET) !== 0;
      if (et && !e.edge) continue;
      const ready = e.file.impl?.readiness?.() ?? 0;
      const rev = ready & (e.events | POLLERR | POLLHUP) & 0xffff;
      if (rev === 0) continue;
      out.push({ events: rev, data: e.data });
      if (et) e.edge = false;
      if ((e.events & EPOLLONESHOT) !== 0) e.disabled = true;
    }
    return out;
  }

  /** Ready when any entry is (for an epoll fd inside poll or another epoll). */
  readiness(): number {
    for (const e of this.entries.values()) {
      if (e.disabled || e.file.released) continue;
      const ready = e.file.impl?.readiness?.() ?? 0;
      if ((ready & (e.events | POLLERR | POLLHUP) & 0xffff) !== 0) return POLLIN | POLLRDNORM;
    }
    return 0;
  }

  release(): void {
    for (const e of this.entries.values()) e.unsubscribe?.();
    this.entries.clear();
  }
}

const instances = new WeakMap<FileImpl, EpollInstance>();

export function epollImpl(inst: EpollInstance): FileImpl {
  const impl: FileImpl = {
    seekable: false,
    read: () => -Errno.EINVAL,
    write: () => -Errno.EINVAL,
    readiness: () => inst.readiness(),
    subscribe: (cb) => inst.subscribe(cb),
    release: () => inst.release(),
  };
  instances.set(impl, inst);
  return impl;
}

/** The epoll instance behind `f`, or null if it is not an epoll file. */
export function epollOf(f: FileDescription): EpollInstance | null {
  return f.impl === null ? null : (instances.get(f.impl) ?? null);
}
