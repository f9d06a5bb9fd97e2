/*
 * Conformance case: CPU-time accounting. A spin of ~200 ms of CPU shows in getrusage,
 * times and the CPU-time clocks (process, thread, and the encoded ids of
 * clock_getcpuclockid/pthread_getcpuclockid); a child's spin reaches wait4's rusage and
 * RUSAGE_CHILDREN; touching 32 MiB shows in ru_maxrss. Only bounds are printed.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

static long ns_of(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }
static long us_of(struct timeval t) { return t.tv_sec * 1000000L + t.tv_usec; }

static volatile uint64_t sink;

/* Spins until `ms` of this thread's CPU time have passed (no system calls inside the loop
 * but the clock reads). */
static void spin(long ms) {
  struct timespec s, n;
  clock_gettime(CLOCK_MONOTONIC, &s);
  do {
    for (int i = 0; i < 200000; i++) sink += (uint64_t)i * 2654435761u;
    clock_gettime(CLOCK_MONOTONIC, &n);
  } while (ns_of(n) - ns_of(s) < ms * 1000000L);
}

int main(void) {
  check_begin();
  struct timespec p0, p1, t0, t1, m0, m1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p0);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  clock_gettime(CLOCK_MONOTONIC, &m0);
  spin(200);
  clock_gettime(CLOCK_MONOTONIC, &m1);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  long wall = ns_of(m1) - ns_of(m0);
  long pcpu = ns_of(p1) - ns_of(p0);
  long tcpu = ns_of(t1) - ns_of(t0);
  check_true("process_clock_advances", pcpu >= 50000000L, "CLOCK_PROCESS_CPUTIME_ID barely moved");
  check_true("process_clock_bounded", pcpu <= wall + 50000000L, "more CPU than wall time");
  check_true("thread_clock_advances", tcpu >= 50000000L, "CLOCK_THREAD_CPUTIME_ID barely moved");

  clockid_t cid;
  struct timespec c;
  CHECK_RET("clock_getcpuclockid_self", clock_getcpuclockid(0, &cid));
  CHECK_RET("encoded_process_clock", clock_gettime(cid, &c));
  check_true("encoded_process_clock_value", ns_of(c) >= ns_of(p1) - 1000000L, "behind");
  CHECK_RET("pthread_getcpuclockid", pthread_getcpuclockid(pthread_self(), &cid));
  CHECK_RET("encoded_thread_clock", clock_gettime(cid, &c));
  CHECK_RET("clock_getres_process", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &c));
  CHECK_RET("bad_cpu_clock", clock_gettime((clockid_t)((~0u << 3) | 3), &c));

  struct rusage ru;
  CHECK_RET("getrusage_self", getrusage(RUSAGE_SELF, &ru));
  check_true("ru_utime", us_of(ru.ru_utime) + us_of(ru.ru_stime) >= 50000L, "no CPU time");
  CHECK_RET("getrusage_thread", getrusage(RUSAGE_THREAD, &ru));
  CHECK_RET("getrusage_bad_who", getrusage(5, &ru));
  CHECK_RET("getrusage_bad_pointer", getrusage(RUSAGE_SELF, (struct rusage *)BAD_PTR));

  struct tms tm;
  errno = 0;
  clock_t now = times(&tm);
  check_true("times_ok", now != (clock_t)-1, check_errno_name(errno));
  check_true("times_utime", tm.tms_utime + tm.tms_stime >= 5, "fewer than 5 ticks of CPU");

  /* A child spins; its time reaches wait4's rusage and RUSAGE_CHILDREN. */
  pid_t ch = fork();
  if (ch == 0) {
    spin(150);
    _exit(0);
  }
  int st = 0;
  struct rusage cr;
  errno = 0;
  check_true("wait4", wait4(ch, &st, 0, &cr) == ch, check_errno_name(errno));
  check_true("wait4_rusage", us_of(cr.ru_utime) + us_of(cr.ru_stime) >= 40000L, "child CPU missing");
  CHECK_RET("getrusage_children", getrusage(RUSAGE_CHILDREN, &ru));
  check_true("children_time", us_of(ru.ru_utime) + us_of(ru.ru_stime) >= 40000L, "missing");
  times(&tm);
  check_true("times_children", tm.tms_cutime + tm.tms_cstime >= 4, "child ticks missing");

  /* ru_maxrss counts touched memory. */
  char *m = mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (long i = 0; i < (32 << 20); i += 4096) m[i] = 1;
  getrusage(RUSAGE_SELF, &ru);
  check_true("maxrss", ru.ru_maxrss >= 32 * 1024, "ru_maxrss below the touched 32 MiB");
  return check_end();
}
