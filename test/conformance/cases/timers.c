/*
 * Conformance case: interval timers and sysinfo. alarm's return value (the seconds left),
 * SIGALRM ending a pause, setitimer/getitimer (ITIMER_REAL) one-shot and periodic, a NULL new
 * value, a timer that interrupts a loop without system calls, bad arguments (EINVAL, EFAULT),
 * and sysinfo's success and bad pointer.
 */
#include "../include/check.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;
static void on_alrm(int sig) {
  (void)sig;
  alarms++;
}

int main(void) {
  check_begin();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alrm;
  sigaction(SIGALRM, &sa, NULL);

  CHECK_RET("alarm_first", alarm(5));
  CHECK_RET("alarm_again", alarm(0));
  CHECK_RET("alarm_none", alarm(0));

  struct itimerval it = {{0, 0}, {0, 50000}};
  CHECK_RET("setitimer_oneshot", setitimer(ITIMER_REAL, &it, NULL));
  CHECK_RET("pause_until_alarm", pause());
  printf("oneshot_alarms: %d\n", (int)alarms);
  struct itimerval cur;
  CHECK_RET("getitimer_disarmed", getitimer(ITIMER_REAL, &cur));
  printf("disarmed: %ld %ld %ld %ld\n", (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec,
         (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

  alarms = 0;
  struct itimerval per = {{0, 20000}, {0, 20000}};
  setitimer(ITIMER_REAL, &per, NULL);
  while (alarms < 3) pause();
  struct itimerval old;
  CHECK_RET("setitimer_stop", setitimer(ITIMER_REAL, NULL, &old));
  printf("periodic: alarms=%d interval=%ld.%06ld value_le_interval=%d\n", (int)alarms,
         (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec,
         old.it_value.tv_sec == 0 && old.it_value.tv_usec <= 20000);
  getitimer(ITIMER_REAL, &cur);
  printf("stopped: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

  /* A loop without system calls is interrupted too. */
  alarms = 0;
  struct itimerval once = {{0, 0}, {0, 30000}};
  setitimer(ITIMER_REAL, &once, NULL);
  while (alarms == 0) {
  }
  printf("busy_loop_interrupted: ok\n");

  struct itimerval bad = {{0, 0}, {0, 1000000}};
  CHECK_RET("setitimer_bad_usec", setitimer(ITIMER_REAL, &bad, NULL));
  CHECK_RET("setitimer_bad_which", setitimer(7, &it, NULL));
  CHECK_RET("setitimer_bad_ptr", syscall(SYS_setitimer, ITIMER_REAL, (void *)8, NULL));
  CHECK_RET("getitimer_bad_ptr", syscall(SYS_getitimer, ITIMER_REAL, (void *)8));

  struct sysinfo si;
  CHECK_RET("sysinfo", sysinfo(&si));
  check_true("sysinfo_mem_unit", si.mem_unit >= 1, "mem_unit is 0");
  check_true("sysinfo_totalram", si.totalram > 0, "no memory");
  CHECK_RET("sysinfo_bad_ptr", syscall(SYS_sysinfo, (void *)8));
  return check_end();
}
