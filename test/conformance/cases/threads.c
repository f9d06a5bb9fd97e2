/*
 * Conformance case: threads. pthread_create/join with return values, a mutex and a condition
 * variable under contention, thread ids (gettid differs, getpid is shared), a signal sent with
 * tgkill to one thread runs its handler there, raw futex WAIT/WAKE between threads (wake
 * counts, EAGAIN on a changed word, ETIMEDOUT), fork from a thread, and the main thread
 * leaving with pthread_exit while another thread finishes the process.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long total;
static int go;
static atomic_int arrived;

static void *counter(void *arg) {
  long id = (long)arg;
  atomic_fetch_add(&arrived, 1);
  pthread_mutex_lock(&mu);
  while (!go) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < 2000; i++) {
    pthread_mutex_lock(&mu);
    total += id;
    pthread_mutex_unlock(&mu);
    if (i % 100 == 0) sched_yield();
  }
  return (void *)(id * 100);
}

static long sys_futex(atomic_int *uaddr, int op, int val, const struct timespec *ts) {
  return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static atomic_int word;
static atomic_int woke;
static void *futex_waiter(void *arg) {
  (void)arg;
  long r = sys_futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL);
  if (r == 0) atomic_fetch_add(&woke, 1);
  return NULL;
}

static volatile pid_t handler_tid;
static void on_usr1(int sig) {
  (void)sig;
  handler_tid = (pid_t)syscall(SYS_gettid);
}
static atomic_int usr1_ready;
static volatile pid_t sleeper_tid;
static void *sleeper(void *arg) {
  (void)arg;
  sleeper_tid = (pid_t)syscall(SYS_gettid);
  atomic_store(&usr1_ready, 1);
  while (handler_tid == 0) usleep(1000);
  return NULL;
}

static void *forker(void *arg) {
  (void)arg;
  pid_t c = fork();
  if (c == 0) _exit(syscall(SYS_getpid) == getpid() ? 21 : 1);
  int st = 0;
  waitpid(c, &st, 0);
  return (void *)(long)(WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void *last_one(void *arg) {
  (void)arg;
  usleep(50000);
  printf("last_thread_ran: ok\n");
  fflush(stdout);
  return NULL;
}

int main(void) {
  check_begin();
  pthread_t th[4];
  for (long i = 0; i < 4; i++) pthread_create(&th[i], NULL, counter, (void *)(i + 1));
  while (atomic_load(&arrived) < 4) usleep(1000);
  pthread_mutex_lock(&mu);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  long sum = 0;
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(th[i], &r);
    sum += (long)r;
  }
  printf("mutex_total: %ld\n", total);
  printf("join_values: %ld\n", sum);

  /* Raw futexes: three waiters, wake two, then one. */
  pthread_t w[3];
  for (int i = 0; i < 3; i++) pthread_create(&w[i], NULL, futex_waiter, NULL);
  usleep(100000);
  long n1 = sys_futex(&word, FUTEX_WAKE_PRIVATE, 2, NULL);
  usleep(50000);
  long n2 = sys_futex(&word, FUTEX_WAKE_PRIVATE, 5, NULL);
  for (int i = 0; i < 3; i++) pthread_join(w[i], NULL);
  printf("futex_wake_counts: %ld %ld woke=%d\n", n1, n2, atomic_load(&woke));
  CHECK_RET("futex_wait_changed", sys_futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL));
  struct timespec ts = {0, 20000000};
  CHECK_RET("futex_wait_timeout", sys_futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts));
  CHECK_RET("futex_wake_nobody", sys_futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL));

  /* Thread identity and a thread-directed signal. */
  signal(SIGUSR1, on_usr1);
  pthread_t s;
  pthread_create(&s, NULL, sleeper, NULL);
  while (!atomic_load(&usr1_ready)) usleep(1000);
  check_true("tid_differs", sleeper_tid != syscall(SYS_gettid), "a thread has the main tid");
  CHECK_RET("tgkill_thread", syscall(SYS_tgkill, getpid(), sleeper_tid, SIGUSR1));
  pthread_join(s, NULL);
  check_true("handler_ran_in_thread", handler_tid == sleeper_tid, "the handler ran elsewhere");
  CHECK_RET("tgkill_wrong_group", syscall(SYS_tgkill, getpid() + 100000, sleeper_tid, 0));

  /* fork from a thread. */
  pthread_t f;
  void *fr;
  pthread_create(&f, NULL, forker, NULL);
  pthread_join(f, &fr);
  printf("fork_from_thread: %ld\n", (long)fr);

  /* The main thread leaves first; the process ends with the last thread (status 0). */
  pthread_t l;
  pthread_create(&l, NULL, last_one, NULL);
  fflush(stdout);
  pthread_exit(NULL);
}
