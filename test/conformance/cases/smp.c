/*
 * Threads that run at the same time (moat runs application code on several CPUs at once):
 * the process's leader computes without system calls while another thread maps, unmaps,
 * protects and faults memory, forks and waits (every one of those changes the address space
 * the leader runs in); a signal reaches a thread that computes without system calls;
 * exit_group and execve end a thread that computes; atomic counters and a futex hand-off
 * between two threads lose nothing; a thread sees another's writes.
 * variants: static dynamic
 */
#include "../include/check.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static atomic_int stop;
static atomic_long counter;
static volatile unsigned long sink;

static void spin_until_stop(void) {
  unsigned long x = 1;
  while (!atomic_load(&stop)) x = x * 6364136223846793005UL + 1442695040888963407UL;
  sink = x;
}

/* A helper thread that changes the address space while the leader computes. */
static void *mapper(void *arg) {
  int *ok = arg;
  *ok = 1;
  for (int i = 0; i < 200 && *ok; i++) {
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      *ok = 0;
      break;
    }
    for (int off = 0; off < (1 << 20); off += 4096) p[off] = (char)(i + off);
    if (mprotect(p, 1 << 20, PROT_READ) != 0 || p[4096] != (char)(i + 4096)) *ok = 0;
    if (munmap(p, 1 << 20) != 0) *ok = 0;
    if (i % 50 == 0) {
      pid_t c = fork();
      if (c == 0) _exit(sink == 12345 ? 1 : 7);
      int st = 0;
      if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7) *ok = 0;
    }
  }
  atomic_store(&stop, 1);
  return NULL;
}

static void leader_computes_while_memory_changes(void) {
  atomic_store(&stop, 0);
  int ok = 0;
  pthread_t t;
  pthread_create(&t, NULL, mapper, &ok);
  spin_until_stop();
  pthread_join(t, NULL);
  check_true("memory_changes_under_a_computing_leader", ok, "a map, fault or fork failed");
}

static atomic_int got_signal;
static void on_usr1(int sig) {
  (void)sig;
  atomic_store(&got_signal, 1);
  atomic_store(&stop, 1);
}

static void *spinner(void *arg) {
  (void)arg;
  spin_until_stop();
  return NULL;
}

static void signal_reaches_a_computing_thread(void) {
  atomic_store(&stop, 0);
  signal(SIGUSR1, on_usr1);
  pthread_t t;
  pthread_create(&t, NULL, spinner, NULL);
  usleep(20000);
  pthread_kill(t, SIGUSR1);
  pthread_join(t, NULL);
  check_true("signal_reaches_computing_thread", atomic_load(&got_signal), "no handler ran");
}

static void end_while_a_thread_computes(const char *self) {
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    atomic_store(&stop, 0);
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    usleep(20000);
    _exit(42); /* exit_group: the spinning thread goes too */
  }
  int st = 0;
  waitpid(c, &st, 0);
  printf("exit_group_with_spinner: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
  fflush(stdout);
  c = fork();
  if (c == 0) {
    atomic_store(&stop, 0);
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    usleep(20000);
    execl(self, self, "-", "exec-child", (char *)NULL);
    _exit(99);
  }
  waitpid(c, &st, 0);
  printf("exec_with_spinner: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

#define ADDS 2000000
static void *adder(void *arg) {
  (void)arg;
  for (int i = 0; i < ADDS; i++) atomic_fetch_add(&counter, 1);
  return NULL;
}

static void atomics_lose_nothing(void) {
  pthread_t a, b;
  atomic_store(&counter, 0);
  pthread_create(&a, NULL, adder, NULL);
  pthread_create(&b, NULL, adder, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("atomic_counter: %ld\n", atomic_load(&counter));
}

static atomic_int word;
#define ROUNDS 2000
static void *ponger(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    while (atomic_load(&word) != 1) syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL);
    atomic_store(&word, 0);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1);
  }
  return NULL;
}

static void futex_handoff(void) {
  pthread_t t;
  atomic_store(&word, 0);
  pthread_create(&t, NULL, ponger, NULL);
  int n = 0;
  for (int i = 0; i < ROUNDS; i++) {
    atomic_store(&word, 1);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1);
    while (atomic_load(&word) != 0) syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL);
    n++;
  }
  pthread_join(t, NULL);
  printf("futex_rounds: %d\n", n);
}

int main(int argc, char **argv) {
  check_begin();
  if (argc > 2 && strcmp(argv[2], "exec-child") == 0) return 5;
  char *self = realpath("/proc/self/exe", NULL);
  leader_computes_while_memory_changes();
  signal_reaches_a_computing_thread();
  end_while_a_thread_computes(self != NULL ? self : argv[0]);
  atomics_lose_nothing();
  futex_handoff();
  return check_end();
}
