// The file system calls' table: every handler of the sys_file_*.ts files, by x86-64 number,
// for the dispatch table to merge. Data only; never throws.

import { attrSyscalls } from './sys_file_attr.js';
import { dirSyscalls } from './sys_file_dir.js';
import { fdSyscalls } from './sys_file_fd.js';
import { nameSyscalls } from './sys_file_names.js';
import { openSyscalls } from './sys_file_open.js';
import { pipeSyscalls } from './sys_file_pipe.js';
import { rwSyscalls } from './sys_file_rw.js';
import { statSyscalls } from './sys_file_stat.js';
import { xattrSyscalls } from './sys_file_xattr.js';
import type { SyscallEntry } from './types.js';

export const fileSyscalls: ReadonlyMap<number, SyscallEntry> = new Map([
  ...rwSyscalls,
  ...openSyscalls,
  ...fdSyscalls,
  ...statSyscalls,
  ...dirSyscalls,
  ...xattrSyscalls,
  ...nameSyscalls,
  ...attrSyscalls,
  ...pipeSyscalls,
]);
