/*
 * Conformance case: clock_gettime (through glibc, which may use the vDSO, and as a raw
 * system call), clock_getres, gettimeofday, time, nanosleep and clock_nanosleep. Only
 * properties are printed: success, monotonic time not going backwards, the real-time
 * clock being after 2020, a sleep lasting at least what was asked (never an upper bound).
 * variants: static dynamic
 */
#include "../include/check.h"
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int le(struct timespec a, struct timespec b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

int main(void) {
  check_begin();
  struct timespec a, b, c;
  memset(&a, 0, sizeof a);
  CHECK_RET("clock_gettime_monotonic", clock_gettime(CLOCK_MONOTONIC, &a));
  CHECK_RET("clock_gettime_monotonic_raw_syscall",
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b));
  CHECK_RET("clock_gettime_monotonic_again", clock_gettime(CLOCK_MONOTONIC, &c));
  check_true("monotonic_non_decreasing", le(a, b) && le(b, c), "monotonic time went back");
  check_true("monotonic_nsec_in_range", a.tv_nsec >= 0 && a.tv_nsec < 1000000000L,
             "tv_nsec out of range");
  int back = 0;
  for (int i = 0; i < 1000; i++) {
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!le(a, b)) back = 1;
    a = b;
  }
  check_true("monotonic_non_decreasing_1000", !back, "monotonic time went back");

  CHECK_RET("clock_gettime_realtime", clock_gettime(CLOCK_REALTIME, &a));
  check_true("realtime_after_2020", a.tv_sec > 1577836800L, "real time is before 2020");
  CHECK_RET("clock_gettime_realtime_raw_syscall",
            syscall(SYS_clock_gettime, CLOCK_REALTIME, &b));
  check_true("realtime_raw_close", b.tv_sec - a.tv_sec >= 0 && b.tv_sec - a.tv_sec < 3600,
             "raw and glibc real time disagree by an hour or more");
  CHECK_RET("clock_gettime_boottime", syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &a));
  CHECK_RET("clock_gettime_process_cputime",
            syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &a));
  CHECK_RET("clock_gettime_bad_clock", syscall(SYS_clock_gettime, 1000, &a));
  CHECK_RET("clock_gettime_bad_pointer",
            syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_PTR));
  memset(&a, 0, sizeof a);
  CHECK_RET("clock_getres_monotonic", syscall(SYS_clock_getres, CLOCK_MONOTONIC, &a));
  check_true("clock_getres_monotonic_positive", a.tv_sec == 0 && a.tv_nsec > 0,
             "resolution is not in (0, 1s)");
  CHECK_RET("clock_getres_null", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
  CHECK_RET("clock_getres_bad_clock", syscall(SYS_clock_getres, 1000, &a));

  struct timeval tv;
  CHECK_RET("gettimeofday", gettimeofday(&tv, NULL));
  check_true("gettimeofday_after_2020", tv.tv_sec > 1577836800L && tv.tv_usec < 1000000,
             "gettimeofday is before 2020 or usec out of range");
  CHECK_RET("gettimeofday_raw_syscall", syscall(SYS_gettimeofday, &tv, NULL));
  /* Sleeping: at least the asked duration passes on the monotonic clock (a guarantee of
   * the call, not a measurement: no upper bound is checked). */
  struct timespec req = {0, 2000000}, before, after;
  clock_gettime(CLOCK_MONOTONIC, &before);
  CHECK_RET("nanosleep_2ms", syscall(SYS_nanosleep, &req, NULL));
  clock_gettime(CLOCK_MONOTONIC, &after);
  long slept = (after.tv_sec - before.tv_sec) * 1000000000L + (after.tv_nsec - before.tv_nsec);
  check_true("nanosleep_slept_at_least_2ms", slept >= 2000000, "woke up early");
  CHECK_RET("clock_nanosleep_relative",
            syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL));
  struct timespec abs_past = {0, 1};
  CHECK_RET("clock_nanosleep_absolute_past",
            syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs_past, NULL));
  struct timespec bad = {0, 2000000000L};
  CHECK_RET("nanosleep_bad_nsec", syscall(SYS_nanosleep, &bad, NULL));
  struct timespec neg = {-1, 0};
  CHECK_RET("nanosleep_negative", syscall(SYS_nanosleep, &neg, NULL));
  CHECK_RET("nanosleep_bad_pointer", syscall(SYS_nanosleep, BAD_PTR, NULL));
  CHECK_RET("clock_nanosleep_bad_clock", syscall(SYS_clock_nanosleep, 1000, 0, &req, NULL));
  time_t t = time(NULL);
  check_true("time_after_2020", t > 1577836800L, "time(NULL) is before 2020");
  return check_end();
}
