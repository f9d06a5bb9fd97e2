/*
 * Conformance case: a bad user pointer makes a system call fail with EFAULT (and never
 * crashes the process or the kernel underneath): buffers for write, read, pread, fstat,
 * getdents64, readlink, getrandom, uname, and path names for openat, newfstatat, readlink.
 * Uses the data directory argv[1].
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  char p[4096];
  snprintf(p, sizeof p, "%s/hello.txt", argv[1]);
  fflush(stdout);
  CHECK_RET("write_stdout_bad_buffer", syscall(SYS_write, 1, BAD_PTR, 10));
  CHECK_RET("write_stdout_kernel_address",
            syscall(SYS_write, 1, (void *)0xffffffff81000000UL, 10));
  CHECK_RET("write_stdout_non_canonical", syscall(SYS_write, 1, (void *)0x0000900000000000UL, 10));

  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_file", fd, errno);
  CHECK_RET("read_bad_buffer", syscall(SYS_read, fd, BAD_PTR, 10));
  CHECK_RET("offset_unchanged_after_efault", syscall(SYS_lseek, fd, 0L, SEEK_CUR));
  CHECK_RET("pread_bad_buffer", syscall(SYS_pread64, fd, BAD_PTR, 10, 0L));
  CHECK_RET("fstat_bad_buffer", syscall(SYS_fstat, fd, BAD_PTR));
  CHECK_RET("openat_bad_path", syscall(SYS_openat, AT_FDCWD, BAD_PTR, O_RDONLY));
  CHECK_RET("stat_bad_path", syscall(SYS_newfstatat, AT_FDCWD, BAD_PTR, BAD_PTR, 0));
  char st[256];
  CHECK_RET("stat_bad_path_good_buffer", syscall(SYS_newfstatat, AT_FDCWD, BAD_PTR, st, 0));
  CHECK_RET("stat_good_path_bad_buffer", syscall(SYS_newfstatat, AT_FDCWD, p, BAD_PTR, 0));
  CHECK_RET("readlink_bad_path", syscall(SYS_readlink, BAD_PTR, st, sizeof st));
  CHECK_RET("getrandom_bad_buffer", syscall(SYS_getrandom, BAD_PTR, 8, 0));
  CHECK_RET("uname_bad_buffer", syscall(SYS_uname, BAD_PTR));

  errno = 0;
  long dfd = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY | O_DIRECTORY);
  check_ret("open_dir", dfd, errno);
  CHECK_RET("getdents_bad_buffer", syscall(SYS_getdents64, dfd, BAD_PTR, 4096));

  /* A path that runs off the end of the mapped memory into an unmapped page. */
  static char edge_page[8192] __attribute__((aligned(4096)));
  char *edge = edge_page + 4096 - 3;
  memcpy(edge, "abc", 3);
  /* Not a guaranteed-unmapped neighbour in a static binary: only check it does not crash. */
  errno = 0;
  long r = syscall(SYS_newfstatat, AT_FDCWD, edge, st, 0);
  check_true("stat_edge_path_survives", r == -1, "stat of a non-existent name succeeded");
  /* A kernel address is EFAULT before any I/O, even where nothing would be copied. */
  errno = 0;
  long nul = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
  check_ret("open_dev_null", nul >= 0 ? 0 : nul, errno);
  CHECK_RET("read_kernel_address_at_eof", syscall(SYS_read, nul, (void *)0xffffffff81000000UL, 10));
  CHECK_RET("write_kernel_address", syscall(SYS_write, nul, (void *)0xffffffff81000000UL, 10));
  CHECK_RET("pread_past_user_top", syscall(SYS_pread64, nul, (void *)0x7ffffffff000UL, 4096, 0));
  return check_end();
}
