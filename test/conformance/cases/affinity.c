/*
 * CPU affinity as a program sees it, in terms that hold on any machine: the mask holds at
 * least one CPU and agrees with sysconf and /proc/cpuinfo's count, a thread restricted to the
 * first CPU of its mask runs there (getcpu, through the vDSO and the system call, while it
 * computes), an empty or out-of-range mask is EINVAL, bad pointers are EFAULT, an unknown pid
 * is ESRCH, a child inherits its parent's mask, and two threads each pinned to a different
 * CPU (when there are two) each report their own.
 * variants: static dynamic
 */
#include "../include/check.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

static int first_cpu(const cpu_set_t *s) {
  for (int i = 0; i < CPU_SETSIZE; i++)
    if (CPU_ISSET(i, s)) return i;
  return -1;
}

static int cpuinfo_count(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  int n = 0;
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "processor", 9) == 0) n++;
  if (f != NULL) fclose(f);
  return n;
}

static int all_on(int cpu) {
  /* Computes a little, asking where it is each time: always on `cpu`. */
  for (int i = 0; i < 2000; i++) {
    volatile unsigned long x = 0;
    for (int j = 0; j < 2000; j++) x += (unsigned long)j * j;
    unsigned c = 99, raw = 99;
    if (getcpu(&c, NULL) != 0 || c != (unsigned)cpu) return 0;
    if (syscall(SYS_getcpu, &raw, NULL, NULL) != 0 || raw != (unsigned)cpu) return 0;
  }
  return 1;
}

struct pinned {
  int cpu;
  int ok;
};

static void *pinned_thread(void *arg) {
  struct pinned *p = arg;
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(p->cpu, &s);
  p->ok = sched_setaffinity(0, sizeof s, &s) == 0 && all_on(p->cpu);
  return NULL;
}

int main(void) {
  check_begin();
  cpu_set_t all;
  CPU_ZERO(&all);
  CHECK_NONNEG("getaffinity", sched_getaffinity(0, sizeof all, &all));
  int n = CPU_COUNT(&all);
  check_true("at_least_one_cpu", n >= 1, "empty mask");
  check_true("sysconf_agrees", sysconf(_SC_NPROCESSORS_ONLN) >= n, "fewer online CPUs than allowed");
  check_true("cpuinfo_agrees", cpuinfo_count() >= n, "fewer processors in /proc/cpuinfo");
  CHECK_RET("getaffinity_small_len", syscall(SYS_sched_getaffinity, 0, 4, &all));
  CHECK_RET("getaffinity_bad_ptr", syscall(SYS_sched_getaffinity, 0, sizeof all, BAD_PTR));
  CHECK_RET("getaffinity_no_such_pid", syscall(SYS_sched_getaffinity, 999999, sizeof all, &all));
  cpu_set_t none;
  CPU_ZERO(&none);
  CHECK_RET("setaffinity_empty", sched_setaffinity(0, sizeof none, &none));
  cpu_set_t far;
  CPU_ZERO(&far);
  CPU_SET(CPU_SETSIZE - 1, &far);
  CHECK_RET("setaffinity_out_of_range", sched_setaffinity(0, sizeof far, &far));
  CHECK_RET("setaffinity_bad_ptr", syscall(SYS_sched_setaffinity, 0, sizeof all, BAD_PTR));
  CHECK_RET("setaffinity_no_such_pid", sched_setaffinity(999999, sizeof all, &all));

  int c0 = first_cpu(&all);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(c0, &one);
  CHECK_RET("pin_first", sched_setaffinity(0, sizeof one, &one));
  cpu_set_t now;
  CPU_ZERO(&now);
  sched_getaffinity(0, sizeof now, &now);
  check_true("mask_is_first_only", CPU_COUNT(&now) == 1 && CPU_ISSET(c0, &now), "mask not kept");
  check_true("runs_on_first", all_on(c0), "getcpu says another CPU");
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    cpu_set_t s;
    CPU_ZERO(&s);
    sched_getaffinity(0, sizeof s, &s);
    _exit(CPU_COUNT(&s) == 1 && CPU_ISSET(c0, &s) ? 0 : 1);
  }
  int st = 0;
  waitpid(p, &st, 0);
  check_true("child_inherits", WIFEXITED(st) && WEXITSTATUS(st) == 0, "child's mask differs");
  CHECK_RET("unpin", sched_setaffinity(0, sizeof all, &all));

  /* Two threads, each on its own CPU (the first two of the mask, or the one twice). */
  struct pinned a = {c0, 0}, b = {c0, 0};
  for (int i = c0 + 1; i < CPU_SETSIZE; i++)
    if (CPU_ISSET(i, &all)) {
      b.cpu = i;
      break;
    }
  pthread_t ta, tb;
  pthread_create(&ta, NULL, pinned_thread, &a);
  pthread_create(&tb, NULL, pinned_thread, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  check_true("thread_a_on_its_cpu", a.ok, "thread a ran elsewhere");
  check_true("thread_b_on_its_cpu", b.ok, "thread b ran elsewhere");
  return check_end();
}
