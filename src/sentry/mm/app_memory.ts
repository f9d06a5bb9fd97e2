// The Sentry's view of one application address space, as the syscall layer uses it: copy bytes
// in and out of application memory. Every access is checked against the address space's
// mappings; a bad pointer answers -EFAULT and never throws, never crashes the Sentry.
//
// The implementation (mm/address_space.ts) reads and writes the memory file directly through
// the Sentry's own mapping of it: a translation and a typed-array copy, no system call.

/** An application virtual address. */
export type Addr = bigint;

export interface AppMemory {
  /** Copies `len` bytes from application address `addr`; -EFAULT if any byte is unmapped or unreadable. */
  copyIn(addr: Addr, len: number): Uint8Array | number;
  /** Copies `data` to application address `addr`; returns data.length or -EFAULT. */
  copyOut(addr: Addr, data: Uint8Array): number;
  /** Reads a NUL-terminated string of at most `max` bytes (without the NUL); -EFAULT, or -ENAMETOOLONG past max. */
  copyInString(addr: Addr, max: number): string | number;
  /**
   * A live view of [addr, addr+len) when it lies in one mapping that allows the access
   * (`write`: the application's memory is written into, as by read(2)); null otherwise, and
   * the caller falls back to copyIn/copyOut. The view must not outlive the system call.
   */
  ioView?(addr: Addr, len: number, write: boolean): Uint8Array | null;
}
