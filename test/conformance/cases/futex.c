/*
 * Conformance case: futex(2) without a second thread: WAIT on a value that differs is
 * EAGAIN, WAIT with a timeout and no waker is ETIMEDOUT, WAKE with no waiters wakes 0,
 * private and shared forms, and the argument checks (unknown op, bad address, unaligned).
 */
#include "../include/check.h"
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t word __attribute__((aligned(4))) = 5;

int main(void) {
  check_begin();
  struct timespec ms = {0, 1000000};
  CHECK_RET("wait_value_differs", syscall(SYS_futex, &word, FUTEX_WAIT, 6, NULL, NULL, 0));
  CHECK_RET("wait_private_value_differs",
            syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0));
  CHECK_RET("wait_timeout", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, &ms, NULL, 0));
  CHECK_RET("wake_no_waiters", syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  CHECK_RET("wake_shared_no_waiters", syscall(SYS_futex, &word, FUTEX_WAKE, 10, NULL, NULL, 0));
  /* 0x1000: aligned, and below vm.mmap_min_addr so never mapped. */
  CHECK_RET("wait_bad_address", syscall(SYS_futex, (void *)0x1000, FUTEX_WAIT, 0, NULL, NULL, 0));
  CHECK_RET("wait_unaligned",
            syscall(SYS_futex, (char *)&word + 1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  struct timespec bad = {0, 2000000000L};
  CHECK_RET("wait_bad_timeout", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0));
  CHECK_RET("unknown_op", syscall(SYS_futex, &word, 99, 0, NULL, NULL, 0));
  check_true("word_unchanged", word == 5, "the futex word changed");
  return check_end();
}
