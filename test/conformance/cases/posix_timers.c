/*
 * Conformance case: POSIX timers. timer_create with the default event (SIGALRM carrying the
 * timer id), SIGEV_SIGNAL with a value, SIGEV_NONE and SIGEV_THREAD_ID; one-shot and periodic
 * expiry delivered to a handler (si_code SI_TIMER, si_value) and read through sigwaitinfo's
 * stand-in (signalfd); overruns while the signal stays blocked; gettime, absolute times,
 * disarm, delete (a pending signal of it is never delivered), bad ids, clocks and events.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>

static volatile int got_sig, got_code, got_value;

static void on_sig(int s, siginfo_t *si, void *uc) {
  (void)uc;
  got_sig = s;
  got_code = si->si_code;
  got_value = si->si_value.sival_int;
}

static struct itimerspec spec(long vs, long vns, long is, long ins) {
  struct itimerspec s = {{is, ins}, {vs, vns}};
  return s;
}

static void nap_ms(int ms) {
  struct timespec d = {0, ms * 1000L * 1000L};
  while (nanosleep(&d, &d) != 0) {
  }
}

int main(void) {
  check_begin();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sig;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);

  /* Default event: SIGALRM with the timer id as its value. */
  timer_t t1;
  CHECK_RET("create_default", timer_create(CLOCK_MONOTONIC, NULL, &t1));
  struct itimerspec s = spec(0, 20 * 1000 * 1000, 0, 0);
  CHECK_RET("settime_one_shot", timer_settime(t1, 0, &s, NULL));
  struct itimerspec cur;
  CHECK_RET("gettime_armed", timer_gettime(t1, &cur));
  check_true("gettime_left", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000,
             "time left out of range");
  pause();
  CHECK_RET("default_signal", got_sig);
  CHECK_RET("default_code_si_timer", got_code);
  check_true("default_value_is_id", got_value == (int)(intptr_t)t1, "si_value is not the timer id");
  timer_gettime(t1, &cur);
  check_true("one_shot_disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "still armed");

  /* SIGEV_SIGNAL with a value, periodic, then disarmed. */
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  ev.sigev_value.sival_int = 4242;
  timer_t t2;
  CHECK_RET("create_sigusr1", timer_create(CLOCK_REALTIME, &ev, &t2));
  s = spec(0, 10 * 1000 * 1000, 0, 10 * 1000 * 1000);
  timer_settime(t2, 0, &s, NULL);
  got_sig = 0;
  int hits = 0;
  for (int i = 0; i < 3; i++) {
    pause();
    if (got_sig == SIGUSR1 && got_value == 4242) hits++;
  }
  check_true("periodic_three_signals", hits == 3, "not three SIGUSR1 with the value");
  struct itimerspec old;
  s = spec(0, 0, 0, 0);
  CHECK_RET("disarm", timer_settime(t2, 0, &s, &old));
  check_true("old_interval", old.it_interval.tv_nsec == 10 * 1000 * 1000, "old interval wrong");

  /* Overruns: blocked, the periodic timer expires ~6 times; one signal carries the rest. */
  sigset_t blk;
  sigemptyset(&blk);
  sigaddset(&blk, SIGUSR1);
  sigprocmask(SIG_BLOCK, &blk, NULL);
  int sfd = signalfd(-1, &blk, 0);
  s = spec(0, 10 * 1000 * 1000, 0, 10 * 1000 * 1000);
  timer_settime(t2, 0, &s, NULL);
  nap_ms(65);
  struct signalfd_siginfo si;
  CHECK_RET("overrun_one_signal", read(sfd, &si, sizeof si));
  int last = timer_getoverrun(t2);
  s = spec(0, 0, 0, 0);
  timer_settime(t2, 0, &s, NULL);
  CHECK_RET("overrun_signo", si.ssi_signo);
  CHECK_RET("overrun_code", si.ssi_code);
  check_true("overrun_count", si.ssi_overrun >= 3 && si.ssi_overrun <= 8, "overrun out of range");
  check_true("getoverrun_matches", last == (int)si.ssi_overrun, "timer_getoverrun differs");
  sigprocmask(SIG_UNBLOCK, &blk, NULL);

  /* Delete takes a pending signal with it. */
  sigprocmask(SIG_BLOCK, &blk, NULL);
  s = spec(0, 5 * 1000 * 1000, 0, 0);
  timer_settime(t2, 0, &s, NULL);
  nap_ms(20);
  sigset_t pend;
  sigpending(&pend);
  CHECK_RET("pending_before_delete", sigismember(&pend, SIGUSR1));
  CHECK_RET("delete", timer_delete(t2));
  /* Its signal is gone, or dropped when taken (kernels differ in which): never delivered. */
  got_sig = 0;
  sigprocmask(SIG_UNBLOCK, &blk, NULL);
  CHECK_RET("deleted_timer_signal_not_delivered", got_sig);

  /* SIGEV_NONE: no signal, but gettime shows it run out. */
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_NONE;
  timer_t t3;
  CHECK_RET("create_none", timer_create(CLOCK_MONOTONIC, &ev, &t3));
  got_sig = 0;
  s = spec(0, 5 * 1000 * 1000, 0, 0);
  timer_settime(t3, 0, &s, NULL);
  nap_ms(20);
  CHECK_RET("none_no_signal", got_sig);
  timer_gettime(t3, &cur);
  check_true("none_expired", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "still armed");

  /* Absolute time in the past: fires at once. */
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  got_sig = 0;
  s = spec(now.tv_sec > 0 ? now.tv_sec - 1 : 0, 1, 0, 0);
  CHECK_RET("settime_abs_past", timer_settime(t1, TIMER_ABSTIME, &s, NULL));
  nap_ms(5);
  CHECK_RET("abs_past_fired", got_sig);

  /* SIGEV_THREAD_ID to our own thread. */
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGUSR1;
  ev._sigev_un._tid = (int)syscall(SYS_gettid);
  timer_t t4;
  CHECK_RET("create_thread_id", timer_create(CLOCK_MONOTONIC, &ev, &t4));
  ev._sigev_un._tid = 0x3fffffff;
  timer_t bad;
  CHECK_RET("create_thread_id_bad_tid", timer_create(CLOCK_MONOTONIC, &ev, &bad));

  /* Refusals. */
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = 77;
  CHECK_RET("create_bad_notify", timer_create(CLOCK_MONOTONIC, &ev, &bad));
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = 0;
  CHECK_RET("create_bad_signo", timer_create(CLOCK_MONOTONIC, &ev, &bad));
  ev.sigev_signo = 65;
  CHECK_RET("create_signo_too_big", timer_create(CLOCK_MONOTONIC, &ev, &bad));
  CHECK_RET("create_bad_clock", timer_create(77, NULL, &bad));
  CHECK_RET("create_bad_event_ptr", syscall(SYS_timer_create, CLOCK_MONOTONIC, BAD_PTR, &bad));
  CHECK_RET("create_bad_id_ptr", syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, BAD_PTR));
  CHECK_RET("settime_bad_id", syscall(SYS_timer_settime, 999, 0, &s, NULL));
  s = spec(0, 1000000000L, 0, 0);
  CHECK_RET("settime_bad_nsec", timer_settime(t3, 0, &s, NULL));
  CHECK_RET("settime_bad_ptr", syscall(SYS_timer_settime, (long)(intptr_t)t3, 0, BAD_PTR, NULL));
  CHECK_RET("gettime_bad_id", syscall(SYS_timer_gettime, 999, &cur));
  CHECK_RET("gettime_bad_ptr", timer_gettime(t3, BAD_PTR));
  CHECK_RET("getoverrun_bad_id", syscall(SYS_timer_getoverrun, 999));
  CHECK_RET("delete_bad_id", syscall(SYS_timer_delete, 999));
  CHECK_RET("delete_twice", timer_delete(t3) == 0 && syscall(SYS_timer_delete, (long)(intptr_t)t3) == -1);
  return check_end();
}
