/*
 * Conformance case: ioctl(2) on descriptors that are not terminals: TCGETS on a regular file
 * and on the harness's stdout pipe is ENOTTY; an unknown fd is EBADF.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  char p[4096];
  snprintf(p, sizeof p, "%s/hello.txt", argv[1]);
  struct termios t;
  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_file", fd, errno);
  CHECK_RET("ioctl_tcgets_file", syscall(SYS_ioctl, fd, TCGETS, &t));
  CHECK_RET("ioctl_tcgets_stdout_pipe", syscall(SYS_ioctl, 1, TCGETS, &t));
  CHECK_RET("ioctl_tcgets_stdin_pipe", syscall(SYS_ioctl, 0, TCGETS, &t));
  CHECK_RET("ioctl_tiocgwinsz_file", syscall(SYS_ioctl, fd, TIOCGWINSZ, &t));
  CHECK_RET("ioctl_bad_fd", syscall(SYS_ioctl, 999, TCGETS, &t));
  CHECK_RET("isatty_stdout", isatty(1));
  return check_end();
}
