/*
 * Conformance case: parked calls wake for what they wait on. Fifty threads park in
 * FUTEX_WAIT; a requeue moves them to a second word and a wake there releases them all; a
 * timed wait times out; a signal interrupts a wait (EINTR with a handler); wait4 in a second
 * thread is woken by a child's exit; nanosleep is interrupted by a signal from a child.
 * Nothing variable is printed.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#define N 50
static int word_a, word_b, released, started, finished;

static long futex(int *w, int op, int val, const struct timespec *ts, int *w2, int val3) {
  return syscall(SYS_futex, w, op, val, ts, w2, val3);
}

static void *waiter(void *arg) {
  (void)arg;
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&released, __ATOMIC_SEQ_CST) == 0) futex(&word_a, FUTEX_WAIT, 0, NULL, NULL, 0);
  __atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void on_usr1(int s) { (void)s; }

static pid_t child_pid;
static int wait_ok;
static void *reaper(void *arg) {
  (void)arg;
  int st = 0;
  wait_ok = waitpid(child_pid, &st, 0) == child_pid && WIFEXITED(st) && WEXITSTATUS(st) == 3;
  return NULL;
}

int main(void) {
  check_begin();
  pthread_t t[N];
  for (int i = 0; i < N; i++) pthread_create(&t[i], NULL, waiter, NULL);
  while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < N) sched_yield();
  struct timespec settle = {0, 50 * 1000 * 1000};
  nanosleep(&settle, NULL);
  /* Requeue every waiter from word_a to word_b (waking none), then release them from b. */
  long moved = futex(&word_a, FUTEX_CMP_REQUEUE, 0, (const struct timespec *)(uintptr_t)N, &word_b, 0);
  check_true("requeue_moved_some", moved >= 0, check_errno_name(errno));
  __atomic_store_n(&released, 1, __ATOMIC_SEQ_CST);
  futex(&word_b, FUTEX_WAKE, N, NULL, NULL, 0);
  futex(&word_a, FUTEX_WAKE, N, NULL, NULL, 0);
  for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
  check_true("all_waiters_released", __atomic_load_n(&finished, __ATOMIC_SEQ_CST) == N,
             "a waiter did not come back");

  int w = 0;
  struct timespec ts = {0, 30 * 1000 * 1000};
  CHECK_RET("timed_wait_times_out", futex(&w, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pid_t parent = getpid();
  pid_t k = fork();
  if (k == 0) {
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);
    kill(parent, SIGUSR1);
    nanosleep(&d, NULL);
    kill(parent, SIGUSR1);
    _exit(0);
  }
  CHECK_RET("futex_wait_interrupted", futex(&w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  struct timespec longsleep = {30, 0};
  CHECK_RET("nanosleep_interrupted", nanosleep(&longsleep, NULL));
  waitpid(k, NULL, 0);

  /* wait4 in another thread, woken by the child's exit. */
  child_pid = fork();
  if (child_pid == 0) {
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);
    _exit(3);
  }
  pthread_t r;
  pthread_create(&r, NULL, reaper, NULL);
  pthread_join(r, NULL);
  check_true("wait_in_thread_woken", wait_ok, "the thread's waitpid did not see the exit");
  return check_end();
}
