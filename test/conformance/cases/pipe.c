/*
 * Conformance case: pipes the program makes itself: pipe and pipe2 (flags), data in order,
 * O_NONBLOCK reads and writes (EAGAIN), the capacity of a default pipe, end of file once
 * the write end is closed, EPIPE (with SIGPIPE ignored) once the read end is, the wrong
 * direction (EBADF), fstat type, FIONREAD.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  check_begin();
  signal(SIGPIPE, SIG_IGN);
  int p[2] = {-1, -1};
  CHECK_RET("pipe", syscall(SYS_pipe, p));
  printf("pipe_fds: %d %d\n", p[0], p[1]);
  CHECK_RET("write_pipe", syscall(SYS_write, p[1], "abcdef", 6));
  int avail = -1;
  CHECK_RET("fionread", syscall(SYS_ioctl, p[0], FIONREAD, &avail));
  printf("fionread_value: %d\n", avail);
  char buf[128];
  memset(buf, 0, sizeof buf);
  CHECK_RET("read_pipe_part", syscall(SYS_read, p[0], buf, 4));
  CHECK_RET("read_pipe_rest", syscall(SYS_read, p[0], buf + 4, sizeof buf - 4));
  check_true("pipe_data_in_order", strcmp(buf, "abcdef") == 0, "wrong bytes");
  CHECK_RET("write_read_end", syscall(SYS_write, p[0], "x", 1));
  CHECK_RET("read_write_end", syscall(SYS_read, p[1], buf, 1));
  struct stat st;
  CHECK_RET("fstat_pipe", syscall(SYS_fstat, p[0], &st));
  check_true("pipe_is_fifo", S_ISFIFO(st.st_mode), "not S_IFIFO");
  CHECK_RET("lseek_pipe", syscall(SYS_lseek, p[0], 0L, SEEK_SET));
  CHECK_RET("pread_pipe", syscall(SYS_pread64, p[0], buf, 1, 0L));

  /* Closing the write end: what is left, then end of file. */
  CHECK_RET("write_before_close", syscall(SYS_write, p[1], "zz", 2));
  CHECK_RET("close_write_end", syscall(SYS_close, p[1]));
  CHECK_RET("read_left_over", syscall(SYS_read, p[0], buf, sizeof buf));
  CHECK_RET("read_eof", syscall(SYS_read, p[0], buf, sizeof buf));
  CHECK_RET("close_read_end", syscall(SYS_close, p[0]));

  /* pipe2: flags, non-blocking, capacity, EPIPE. */
  CHECK_RET("pipe2_nonblock_cloexec", syscall(SYS_pipe2, p, O_NONBLOCK | O_CLOEXEC));
  CHECK_RET("pipe2_getfd", syscall(SYS_fcntl, p[0], F_GETFD));
  CHECK_RET("pipe2_getfl_read_end", syscall(SYS_fcntl, p[0], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
  CHECK_RET("pipe2_getfl_write_end", syscall(SYS_fcntl, p[1], F_GETFL) & (O_ACCMODE | O_NONBLOCK));
  CHECK_RET("read_empty_nonblock", syscall(SYS_read, p[0], buf, sizeof buf));
  static char chunk[4096];
  memset(chunk, 'q', sizeof chunk);
  long total = 0, n;
  while ((n = syscall(SYS_write, p[1], chunk, sizeof chunk)) > 0) total += n;
  check_ret("write_full_nonblock", n, errno);
  printf("pipe_capacity: %ld\n", total);
  CHECK_RET("write_one_byte_when_full", syscall(SYS_write, p[1], "x", 1));
  long drained = 0;
  while ((n = syscall(SYS_read, p[0], chunk, sizeof chunk)) > 0) drained += n;
  check_true("drained_all", drained == total, "read back less than was written");
  CHECK_RET("close_read_end_2", syscall(SYS_close, p[0]));
  CHECK_RET("write_no_reader", syscall(SYS_write, p[1], "x", 1));
  CHECK_RET("close_write_end_2", syscall(SYS_close, p[1]));
  CHECK_RET("pipe2_bad_flags", syscall(SYS_pipe2, p, 0x1234));
  CHECK_RET("pipe_bad_pointer", syscall(SYS_pipe, BAD_PTR));
  return check_end();
}
