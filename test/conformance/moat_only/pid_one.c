/*
 * Moat-only check (not differential): the application is the first process of its own pid
 * namespace, so getpid() is 1 (raw and through glibc) and gettid() equals it.
 */
#include "../include/check.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  check_begin();
  CHECK_RET("getpid", syscall(SYS_getpid));
  CHECK_RET("gettid", syscall(SYS_gettid));
  CHECK_RET("glibc_getpid", getpid());
  return 0;
}
