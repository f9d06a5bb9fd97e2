/*
 * Conformance case: the CPU-time interval timers. ITIMER_VIRTUAL (user time, SIGVTALRM) and
 * ITIMER_PROF (user and system time, SIGPROF) fire once the process has computed for their
 * value, periodically with an interval; getitimer counts down in CPU time (not while the
 * process sleeps); setitimer returns the old value; the timers are not inherited by fork;
 * bad arguments are refused. Counts are ranges: CPU time is measured, not exact.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile int vt, prof;
static void on_vt(int s) { (void)s; vt++; }
static void on_prof(int s) { (void)s; prof++; }

static long long wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Computes until `*flag` reaches `n` or 10 s of wall time pass. */
static void spin_until(volatile int *flag, int n) {
  long long end = wall_ms() + 10000;
  volatile unsigned long x = 0;
  while (*flag < n && wall_ms() < end)
    for (int i = 0; i < 100000; i++) x += i;
}

static struct itimerval iv(long vs, long vus, long is, long ius) {
  struct itimerval v = {{is, ius}, {vs, vus}};
  return v;
}

int main(void) {
  check_begin();
  signal(SIGVTALRM, on_vt);
  signal(SIGPROF, on_prof);
  struct itimerval cur, old;
  CHECK_RET("get_virtual_disarmed", getitimer(ITIMER_VIRTUAL, &cur));
  check_true("virtual_disarmed_zero", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0, "armed");

  struct itimerval v = iv(0, 50000, 0, 0);
  CHECK_RET("set_virtual", setitimer(ITIMER_VIRTUAL, &v, NULL));
  CHECK_RET("get_virtual_armed", getitimer(ITIMER_VIRTUAL, &cur));
  check_true("virtual_left", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 60000,
             "left out of range");
  /* Sleeping uses no CPU: the timer does not run down. */
  struct timespec nap = {0, 100 * 1000 * 1000};
  nanosleep(&nap, NULL);
  getitimer(ITIMER_VIRTUAL, &cur);
  check_true("virtual_stops_while_sleeping", vt == 0 && cur.it_value.tv_usec > 30000, "ran down while asleep");
  spin_until(&vt, 1);
  CHECK_RET("virtual_fired_once", vt);
  getitimer(ITIMER_VIRTUAL, &cur);
  check_true("virtual_one_shot_disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0, "still armed");

  v = iv(0, 20000, 0, 20000);
  CHECK_RET("set_prof_periodic", setitimer(ITIMER_PROF, &v, NULL));
  spin_until(&prof, 3);
  check_true("prof_fired_three_times", prof >= 3, "fewer than three SIGPROF");
  v = iv(0, 0, 0, 0);
  CHECK_RET("disarm_prof", setitimer(ITIMER_PROF, &v, &old));
  check_true("prof_old_interval", old.it_interval.tv_usec == 20000, "old interval wrong");

  v = iv(5, 0, 0, 0);
  setitimer(ITIMER_VIRTUAL, &v, NULL);
  pid_t c = fork();
  if (c == 0) {
    getitimer(ITIMER_VIRTUAL, &cur);
    _exit(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? 0 : 1);
  }
  int st = 0;
  waitpid(c, &st, 0);
  check_true("not_inherited_by_fork", WIFEXITED(st) && WEXITSTATUS(st) == 0, "child has the timer");
  v = iv(0, 0, 0, 0);
  setitimer(ITIMER_VIRTUAL, &v, NULL);

  v = iv(0, 1000000, 0, 0);
  CHECK_RET("bad_usec", setitimer(ITIMER_VIRTUAL, &v, NULL));
  CHECK_RET("bad_which", setitimer(7, &v, NULL));
  CHECK_RET("get_bad_which", getitimer(7, &cur));
  CHECK_RET("get_bad_pointer", getitimer(ITIMER_PROF, BAD_PTR));
  return check_end();
}
