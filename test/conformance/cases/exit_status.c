/*
 * Conformance case: the exit status propagates: the program prints a line then calls
 * exit_group(7) directly, with stdout flushed first. The harness expects status 7.
 * expect-exit: 7
 */
#include "../include/check.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  check_begin();
  printf("before_exit: ok\n");
  fflush(stdout);
  syscall(SYS_exit_group, 7);
  printf("after_exit: FAIL exit_group returned\n");
  return 1;
}
