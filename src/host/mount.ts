// Host mount-namespace calls for confining the Gofer: mount(2), umount2(2), pivot_root(2),
// chdir(2). Each returns 0 or a negative errno. It must only be called in a private mount
// namespace (the launcher starts the Gofer under `unshare --mount --propagation private`):
// these calls change what every process of the namespace sees.

import { check, libc } from './libc.js';

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MNT_DETACH = 0x2;
const SYS_pivot_root = 155;

// SAFETY: each call passes NUL-terminated strings koffi copies for the call, or NULL, and
// integers; the kernel reads nothing else of ours. syscall(2) is variadic in libc and declared
// here with the fixed arity of pivot_root, which the x86-64 SysV ABI passes identically.
const mount_ = libc.func(
  'int mount(const char *, const char *, const char *, unsigned long, const char *)',
);
const umount2_ = libc.func('int umount2(const char *, int)');
const pivot_root_ = libc.func('long syscall(long, const char *, const char *)');
const chdir_ = libc.func('int chdir(const char *)');

/** mount(2); `null` for an absent source, type or data. */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): number {
  return check(mount_(source, target, fstype, flags, data) as number);
}

export function umount2(target: string, flags: number): number {
  return check(umount2_(target, flags) as number);
}

export function pivotRoot(newRoot: string, putOld: string): number {
  return check(pivot_root_(SYS_pivot_root, newRoot, putOld) as number | bigint);
}

export function chdir(path: string): number {
  return check(chdir_(path) as number);
}
