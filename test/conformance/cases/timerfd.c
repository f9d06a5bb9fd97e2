/*
 * Conformance case: timerfd. Create with each clock and flag (bad ones refused), arm
 * relative, absolute and periodic timers, read the expiry count (blocking, and EAGAIN when
 * non-blocking and not expired), gettime before and after expiry, disarm, settime's old
 * value, bad itimerspecs, a non-timerfd fd, and waits woken by expiry: poll, epoll and a
 * blocking read in another thread. Counts are checked as ranges where timing could vary.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

static struct itimerspec spec(long vs, long vns, long is, long ins) {
  struct itimerspec s = {{is, ins}, {vs, vns}};
  return s;
}

static long long ns(const struct timespec *t) { return (long long)t->tv_sec * 1000000000LL + t->tv_nsec; }

static int blocked_fd;
static long blocked_ticks;
static void *blocked_reader(void *arg) {
  (void)arg;
  uint64_t v = 0;
  blocked_ticks = read(blocked_fd, &v, 8) == 8 ? (long)v : -1;
  return NULL;
}

int main(void) {
  check_begin();
  CHECK_NONNEG("create_monotonic", timerfd_create(CLOCK_MONOTONIC, 0));
  CHECK_NONNEG("create_realtime", timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC));
  CHECK_NONNEG("create_boottime", timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK));
  CHECK_RET("create_bad_clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
  CHECK_RET("create_bad_clock2", timerfd_create(77, 0));
  CHECK_RET("create_bad_flags", timerfd_create(CLOCK_MONOTONIC, 0x10));

  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  uint64_t v = 0;
  CHECK_RET("read_disarmed_eagain", read(fd, &v, 8));
  CHECK_RET("read_short_buffer", read(fd, &v, 4));
  CHECK_RET("write_einval", write(fd, &v, 8));
  struct itimerspec cur;
  CHECK_RET("gettime_disarmed", timerfd_gettime(fd, &cur));
  check_true("gettime_disarmed_zero", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "armed?");

  struct itimerspec s = spec(10, 0, 0, 0);
  CHECK_RET("settime_relative", timerfd_settime(fd, 0, &s, NULL));
  CHECK_RET("gettime_armed", timerfd_gettime(fd, &cur));
  check_true("gettime_left_in_range", cur.it_value.tv_sec <= 10 && ns(&cur.it_value) > 9000000000LL,
             "time left out of range");
  CHECK_RET("read_not_expired_eagain", read(fd, &v, 8));
  struct itimerspec old;
  s = spec(0, 0, 0, 0);
  CHECK_RET("settime_disarm", timerfd_settime(fd, 0, &s, &old));
  check_true("old_value_reported", old.it_value.tv_sec <= 10 && ns(&old.it_value) > 9000000000LL, "old value");
  timerfd_gettime(fd, &cur);
  check_true("disarmed_after", ns(&cur.it_value) == 0, "still armed");

  s = spec(0, -1, 0, 0);
  CHECK_RET("settime_bad_nsec", timerfd_settime(fd, 0, &s, NULL));
  s = spec(0, 1000000000L, 0, 0);
  CHECK_RET("settime_nsec_too_big", timerfd_settime(fd, 0, &s, NULL));
  s = spec(-1, 0, 0, 0);
  CHECK_RET("settime_negative", timerfd_settime(fd, 0, &s, NULL));
  s = spec(1, 0, 0, 0);
  CHECK_RET("settime_bad_flags", timerfd_settime(fd, 0x10, &s, NULL));
  CHECK_RET("settime_bad_pointer", timerfd_settime(fd, 0, BAD_PTR, NULL));
  CHECK_RET("settime_ebadf", timerfd_settime(-1, 0, &s, NULL));
  CHECK_RET("settime_bad_pointer_before_ebadf", timerfd_settime(-1, 0, BAD_PTR, NULL));
  s = spec(0, -1, 0, 0);
  CHECK_RET("settime_einval_before_ebadf", timerfd_settime(-1, 0, &s, NULL));
  s = spec(1, 0, 0, 0);
  CHECK_RET("settime_not_timerfd", timerfd_settime(1, 0, &s, NULL));
  CHECK_RET("gettime_not_timerfd", timerfd_gettime(1, &cur));
  CHECK_RET("gettime_bad_pointer", timerfd_gettime(fd, BAD_PTR));

  /* One-shot 20 ms: expires once; the count is 1 and gettime shows it disarmed. */
  s = spec(0, 20 * 1000 * 1000, 0, 0);
  timerfd_settime(fd, 0, &s, NULL);
  struct pollfd p = {fd, POLLIN, 0};
  CHECK_RET("poll_woken_by_expiry", poll(&p, 1, 5000));
  CHECK_RET("read_one_shot", read(fd, &v, 8));
  check_true("one_shot_count", v == 1, "count is not 1");
  timerfd_gettime(fd, &cur);
  check_true("one_shot_disarmed", ns(&cur.it_value) == 0, "still armed");
  CHECK_RET("read_after_consumed", read(fd, &v, 8));

  /* Periodic 10 ms: after ~55 ms, several expirations at once. */
  s = spec(0, 10 * 1000 * 1000, 0, 10 * 1000 * 1000);
  timerfd_settime(fd, 0, &s, NULL);
  struct timespec nap = {0, 55 * 1000 * 1000};
  nanosleep(&nap, NULL);
  CHECK_RET("read_periodic", read(fd, &v, 8));
  check_true("periodic_count", v >= 4 && v <= 7, "count out of range");
  timerfd_gettime(fd, &cur);
  check_true("periodic_interval", cur.it_interval.tv_nsec == 10 * 1000 * 1000 && ns(&cur.it_value) > 0,
             "interval or next expiry wrong");

  /* Absolute, on the realtime clock, already past: expires at once. */
  int rt = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  s = spec(now.tv_sec - 1, 0, 0, 0);
  CHECK_RET("settime_abs_past", timerfd_settime(rt, TFD_TIMER_ABSTIME, &s, NULL));
  CHECK_RET("read_abs_past", read(rt, &v, 8));
  clock_gettime(CLOCK_REALTIME, &now);
  s = spec(now.tv_sec, now.tv_nsec, 0, 0);
  s.it_value.tv_nsec += 30 * 1000 * 1000;
  if (s.it_value.tv_nsec >= 1000000000L) {
    s.it_value.tv_sec++;
    s.it_value.tv_nsec -= 1000000000L;
  }
  CHECK_RET("settime_abs_cancel_on_set", timerfd_settime(rt, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s, NULL));

  /* epoll woken by the realtime timer's expiry. */
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 5};
  epoll_ctl(ep, EPOLL_CTL_ADD, rt, &ev);
  struct epoll_event out;
  CHECK_RET("epoll_woken_by_expiry", epoll_wait(ep, &out, 1, 5000));
  check_true("epoll_data", out.data.u32 == 5, "wrong data");
  CHECK_RET("read_abs", read(rt, &v, 8));

  /* A blocking read in another thread, woken by expiry. */
  blocked_fd = timerfd_create(CLOCK_MONOTONIC, 0);
  s = spec(0, 30 * 1000 * 1000, 0, 0);
  timerfd_settime(blocked_fd, 0, &s, NULL);
  pthread_t th;
  pthread_create(&th, NULL, blocked_reader, NULL);
  pthread_join(th, NULL);
  check_true("blocking_read_woken", blocked_ticks == 1, "the blocked read did not get one expiry");
  return check_end();
}
