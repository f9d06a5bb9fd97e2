/*
 * Conformance case: system calls on descriptors that are not open: EBADF everywhere, and
 * an absolute path ignores the dirfd of openat.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  char buf[256];
  struct stat st;
  CHECK_RET("read_fd_999", syscall(SYS_read, 999, buf, 1));
  CHECK_RET("write_fd_999", syscall(SYS_write, 999, "x", 1));
  CHECK_RET("pread_fd_999", syscall(SYS_pread64, 999, buf, 1, 0L));
  CHECK_RET("close_fd_999", syscall(SYS_close, 999));
  CHECK_RET("close_fd_negative", syscall(SYS_close, -1));
  CHECK_RET("fstat_fd_999", syscall(SYS_fstat, 999, &st));
  CHECK_RET("lseek_fd_999", syscall(SYS_lseek, 999, 0L, SEEK_SET));
  CHECK_RET("getdents_fd_999", syscall(SYS_getdents64, 999, buf, sizeof buf));
  CHECK_RET("ioctl_fd_999", syscall(SYS_ioctl, 999, TCGETS, buf));
  CHECK_RET("read_fd_huge", syscall(SYS_read, 0x7fffffff, buf, 1));
  CHECK_RET("read_fd_negative", syscall(SYS_read, -5, buf, 1));
  CHECK_RET("openat_relative_bad_dirfd", syscall(SYS_openat, 999, "x", O_RDONLY));
  CHECK_RET("fstatat_relative_bad_dirfd", syscall(SYS_newfstatat, 999, "x", &st, 0));
  char p[4096];
  snprintf(p, sizeof p, "%s/hello.txt", argv[1]);
  errno = 0;
  long fd = syscall(SYS_openat, 999, p, O_RDONLY);
  check_ret("openat_absolute_ignores_dirfd", fd, errno);
  if (fd >= 0) syscall(SYS_close, fd);
  errno = 0;
  void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 999, 0);
  check_ret("mmap_fd_999", m == MAP_FAILED ? -1 : 0, errno);
  CHECK_RET("fstat_stdout_works", syscall(SYS_fstat, 1, &st));
  CHECK_RET("close_stdin", syscall(SYS_close, 0));
  CHECK_RET("read_closed_stdin", syscall(SYS_read, 0, buf, 1));
  errno = 0;
  fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_reuses_lowest_fd", fd, errno);
  return check_end();
}
