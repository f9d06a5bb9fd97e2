/*
 * POSIX timers on CPU-time clocks: the process's and the thread's clocks (and the ids
 * clock_getcpuclockid and pthread_getcpuclockid give), signals when the CPU time used reaches
 * the timer (not the wall time: a sleeping process's timer does not fire), periodic expiries,
 * timer_gettime on a CPU timer, and the clock ids Linux refuses.
 * variants: static dynamic
 */
#include "../include/check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

static volatile sig_atomic_t fired;

static void on_sig(int sig) {
  (void)sig;
  fired++;
}

static long ns_of(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Burns CPU until `count` signals came or the wall clock says 5 s went by. */
static void burn_until(int count) {
  long start = ns_of(CLOCK_MONOTONIC);
  volatile unsigned long x = 1;
  while (fired < count && ns_of(CLOCK_MONOTONIC) - start < 5000000000L) {
    for (int i = 0; i < 100000; i++) x = x * 3 + 1;
  }
}

static timer_t make(clockid_t c, int signo, int thread_id) {
  struct sigevent sev = {0};
  sev.sigev_notify = thread_id ? SIGEV_THREAD_ID : SIGEV_SIGNAL;
  sev.sigev_signo = signo;
  if (thread_id) sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  timer_t id = 0;
  if (timer_create(c, &sev, &id) != 0) printf("timer_create failed: %s\n", check_errno_name(errno));
  return id;
}

static void arm(timer_t id, long value_ns, long interval_ns) {
  struct itimerspec its = {{interval_ns / 1000000000L, interval_ns % 1000000000L},
                           {value_ns / 1000000000L, value_ns % 1000000000L}};
  timer_settime(id, 0, &its, NULL);
}

int main(void) {
  check_begin();
  signal(SIGUSR1, on_sig);
  signal(SIGUSR2, on_sig);

  /* The process's clock: fires once 50 ms of CPU time are used. */
  timer_t p = make(CLOCK_PROCESS_CPUTIME_ID, SIGUSR1, 0);
  long cpu0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  arm(p, 50000000L, 0);
  struct itimerspec left;
  CHECK_RET("gettime_armed", timer_gettime(p, &left));
  long l = left.it_value.tv_sec * 1000000000L + left.it_value.tv_nsec;
  check_true("remaining_within_value", l > 0 && l <= 50000000L, "remaining out of range");
  burn_until(1);
  long used = ns_of(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  check_true("process_timer_fired", fired == 1, "no signal");
  check_true("fired_after_the_cpu_time", used >= 45000000L, "fired before 50 ms of CPU");
  CHECK_RET("gettime_expired", timer_gettime(p, &left));
  printf("expired_value_zero: %d\n", left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 0);

  /* Sleeping uses no CPU time: the timer does not fire. */
  fired = 0;
  arm(p, 50000000L, 0);
  struct timespec nap = {0, 200000000L};
  nanosleep(&nap, NULL);
  check_true("sleep_does_not_fire", fired == 0, "fired while sleeping");
  arm(p, 0, 0);

  /* Periodic, on the thread's own clock, to this thread. */
  fired = 0;
  timer_t th = make(CLOCK_THREAD_CPUTIME_ID, SIGUSR2, 1);
  arm(th, 20000000L, 20000000L);
  burn_until(3);
  check_true("thread_timer_periodic", fired >= 3, "fewer than three expiries");
  CHECK_RET("delete_thread_timer", timer_delete(th));

  /* The ids clock_getcpuclockid and pthread_getcpuclockid give. */
  clockid_t pc, tc;
  CHECK_RET("getcpuclockid_self", clock_getcpuclockid(0, &pc));
  CHECK_RET("pthread_getcpuclockid", pthread_getcpuclockid(pthread_self(), &tc));
  fired = 0;
  timer_t q = make(tc, SIGUSR1, 0);
  arm(q, 30000000L, 0);
  burn_until(1);
  check_true("encoded_thread_clock_fires", fired == 1, "no signal");
  CHECK_RET("delete_encoded", timer_delete(q));
  timer_t bad;
  struct sigevent sev = {0};
  sev.sigev_notify = SIGEV_NONE;
  clockid_t nobody = (clockid_t)(((unsigned)~999999 << 3) | 2);
  CHECK_RET("create_no_such_process", timer_create(nobody, &sev, &bad));
  CHECK_RET("create_bad_which", timer_create((clockid_t)(((unsigned)~0 << 3) | 3), &sev, &bad));
  CHECK_RET("delete_process_timer", timer_delete(p));
  return check_end();
}
