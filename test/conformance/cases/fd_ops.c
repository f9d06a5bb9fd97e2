/*
 * Conformance case: descriptor-table operations: dup, dup2, dup3, fcntl (F_DUPFD,
 * F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL), close_range, and the file offset
 * shared by duplicated descriptors. Reads hello.txt of the data directory argv[1].
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  char p[4096], buf[64];
  snprintf(p, sizeof p, "%s/hello.txt", argv[1]);
  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_hello", fd, errno);

  CHECK_RET("dup", syscall(SYS_dup, fd)); /* 4 */
  CHECK_RET("read_through_original", syscall(SYS_read, fd, buf, 7));
  CHECK_RET("offset_shared_by_dup", syscall(SYS_lseek, 4, 0L, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  CHECK_RET("read_through_dup", syscall(SYS_read, 4, buf, 4));
  check_true("read_through_dup_content", memcmp(buf, "conf", 4) == 0, "wrong bytes");
  CHECK_RET("dup2_to_10", syscall(SYS_dup2, fd, 10));
  CHECK_RET("dup2_same_fd", syscall(SYS_dup2, fd, fd));
  CHECK_RET("dup2_bad_old", syscall(SYS_dup2, 999, 11));
  CHECK_RET("dup2_bad_new", syscall(SYS_dup2, fd, -1));
  CHECK_RET("dup3_cloexec", syscall(SYS_dup3, fd, 12, O_CLOEXEC));
  CHECK_RET("dup3_same_fd", syscall(SYS_dup3, fd, fd, 0));
  CHECK_RET("dup3_bad_flags", syscall(SYS_dup3, fd, 13, 0x1234));
  CHECK_RET("getfd_dup3_cloexec", syscall(SYS_fcntl, 12, F_GETFD));
  CHECK_RET("getfd_dup2", syscall(SYS_fcntl, 10, F_GETFD));
  CHECK_RET("fcntl_dupfd_min_20", syscall(SYS_fcntl, fd, F_DUPFD, 20));
  CHECK_RET("fcntl_dupfd_min_20_again", syscall(SYS_fcntl, fd, F_DUPFD, 20));
  CHECK_RET("fcntl_dupfd_cloexec", syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0));
  CHECK_RET("getfd_dupfd_cloexec", syscall(SYS_fcntl, 5, F_GETFD));
  CHECK_RET("setfd_cloexec", syscall(SYS_fcntl, 4, F_SETFD, FD_CLOEXEC));
  CHECK_RET("getfd_after_setfd", syscall(SYS_fcntl, 4, F_GETFD));
  CHECK_RET("getfl_rdonly", syscall(SYS_fcntl, fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
  CHECK_RET("setfl_nonblock", syscall(SYS_fcntl, fd, F_SETFL, O_NONBLOCK));
  CHECK_RET("getfl_nonblock_shared_by_dup",
            syscall(SYS_fcntl, 4, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK));
  CHECK_RET("fcntl_bad_cmd", syscall(SYS_fcntl, fd, 9999));
  CHECK_RET("fcntl_bad_fd", syscall(SYS_fcntl, 999, F_GETFD));
  CHECK_RET("close_dup2_target", syscall(SYS_close, 10));
  CHECK_RET("close_range_cloexec", syscall(SYS_close_range, 20, 21, CLOSE_RANGE_CLOEXEC));
  CHECK_RET("getfd_after_close_range_cloexec", syscall(SYS_fcntl, 21, F_GETFD));
  CHECK_RET("close_range_20_up", syscall(SYS_close_range, 20, ~0U, 0));
  CHECK_RET("closed_by_close_range", syscall(SYS_fcntl, 21, F_GETFD));
  CHECK_RET("close_range_bad_order", syscall(SYS_close_range, 9, 8, 0));
  CHECK_RET("lowest_free_after_closes", syscall(SYS_dup, fd));
  return check_end();
}
