/*
 * Conformance case: write(2) and read(2) on the standard descriptors the runtime hands over
 * (stdin and stdout are pipes or Unix socket pairs from the harness, which writes
 * "conformance-stdin\n" to the stdin of the cases marked as below).
 * Pipes the program makes itself are covered by pipe.c.
 * stdin: conformance-stdin
 * variants: static dynamic
 */
#include "../include/check.h"
#include <sys/stat.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void) {
  check_begin();
  fflush(stdout);
  /* The raw write's own bytes form the line "write_stdout_payload" that both sides print. */
  static const char payload[] = "write_stdout_payload\n";
  long n = syscall(SYS_write, 1, payload, sizeof payload - 1);
  check_ret("write_stdout", n, errno);
  CHECK_RET("write_stdout_zero_len", syscall(SYS_write, 1, payload, 0));
  CHECK_RET("write_stdout_null_zero_len", syscall(SYS_write, 1, NULL, 0));

  char buf[64];
  memset(buf, 0, sizeof buf);
  errno = 0;
  long r = syscall(SYS_read, 0, buf, sizeof buf);
  check_ret("read_stdin", r, errno);
  check_true("read_stdin_content", r == 18 && memcmp(buf, "conformance-stdin\n", 18) == 0,
             "stdin did not hold conformance-stdin");
  CHECK_RET("read_stdin_eof", syscall(SYS_read, 0, buf, sizeof buf));
  CHECK_RET("read_stdin_zero_len", syscall(SYS_read, 0, buf, 0));

  /* The harness's stdio are pipes or, from Node's child_process, Unix socket pairs: the
   * type is printed, the same natively and under moat, which hands the host fds over. */
  struct stat st;
  memset(&st, 0, sizeof st);
  CHECK_RET("fstat_stdin", syscall(SYS_fstat, 0, &st));
  printf("stdin_type: %s\n", S_ISFIFO(st.st_mode) ? "fifo" : S_ISSOCK(st.st_mode) ? "sock" : "other");
  memset(&st, 0, sizeof st);
  CHECK_RET("fstat_stdout", syscall(SYS_fstat, 1, &st));
  printf("stdout_type: %s\n", S_ISFIFO(st.st_mode) ? "fifo" : S_ISSOCK(st.st_mode) ? "sock" : "other");
  CHECK_RET("write_stdout_bad_buffer", syscall(SYS_write, 1, BAD_PTR, 10));

  /* writev gathers in order. */
  struct iovec { void *base; size_t len; } iov[3] = {
      {(void *)"writev_", 7}, {(void *)"gathered", 8}, {(void *)"\n", 1}};
  fflush(stdout);
  CHECK_RET("writev_stdout", syscall(SYS_writev, 1, iov, 3));
  return check_end();
}
