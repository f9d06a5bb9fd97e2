/*
 * Micro-benchmark of memory management costs, run inside a container by bench/run.ts under
 * runc, runsc and moat (next to syscall_bench.c). For each operation it runs batches of
 * doubling size until at least min_ms milliseconds have passed (at least one batch of
 * one), then prints one line "op ns_per_op".
 *   fork_heap200          fork of a process with 200 MiB of touched malloc memory; the child
 *                         _exits at once, the parent waits for it
 *   sbrk4000              4000 sbrk(128 KiB) steps (500 MiB, untouched), then brk back to
 *                         the start: ns per whole round
 *   mmap_touch_munmap_1m  mmap 1 MiB anonymous, write one byte in each page, munmap
 *   fault_1g              write one byte in each page of 1 GiB of fresh anonymous memory
 *                         (mmap, touch, munmap): ns per 4 KiB page, so MB/s of fresh
 *                         memory = 4096000 / ns (the same number, as the table prints it)
 *   shm_pingpong          one round trip between parent and a child through a word in a
 *                         MAP_SHARED anonymous page, each side sleeping in FUTEX_WAIT
 *                         (shared, not private) and woken by FUTEX_WAKE
 * It never writes to the file system and prints nothing but result lines on stdout;
 * errors go to stderr with a non-zero exit.
 * Usage: mem_bench [min_ms]
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096L
#define MIB (1L << 20)
#define HEAP_BYTES (200L * MIB)
#define SBRK_STEP (128L * 1024)
#define SBRK_STEPS 4000L
#define FAULT_BYTES (1L << 30)

static long min_ns = 300L * 1000000L;
static volatile uint32_t *pp_word; /* shm_pingpong: 1 = ping, 2 = pong, 3 = quit */
static pid_t pp_child = -1;

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void op_fork_heap200(void) {
  pid_t c = fork();
  if (c < 0) die("fork");
  if (c == 0) _exit(0);
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("waitpid");
}

static void op_sbrk4000(void) {
  char *start = sbrk(0);
  for (long i = 0; i < SBRK_STEPS; i++)
    if (sbrk(SBRK_STEP) == (void *)-1) die("sbrk");
  if (brk(start) != 0) die("brk back");
}

static void touch_fresh(long bytes) {
  volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  for (long off = 0; off < bytes; off += PAGE) p[off] = 1;
  if (munmap((void *)p, bytes) != 0) die("munmap");
}

static void op_mmap_touch_munmap_1m(void) { touch_fresh(MIB); }

static void op_fault_1g(void) { touch_fresh(FAULT_BYTES); }

static long futex(volatile uint32_t *w, int op, uint32_t val) {
  return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void op_shm_pingpong(void) {
  __atomic_store_n(pp_word, 1, __ATOMIC_SEQ_CST);
  futex(pp_word, FUTEX_WAKE, 1);
  while (__atomic_load_n(pp_word, __ATOMIC_SEQ_CST) == 1) futex(pp_word, FUTEX_WAIT, 1);
}

static void pingpong_start(void) {
  pp_word = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (pp_word == MAP_FAILED) die("mmap shared");
  *pp_word = 2;
  fflush(stdout);
  pp_child = fork();
  if (pp_child < 0) die("fork");
  if (pp_child == 0) {
    for (;;) {
      uint32_t v = __atomic_load_n(pp_word, __ATOMIC_SEQ_CST);
      if (v == 3) _exit(0);
      if (v == 1) {
        __atomic_store_n(pp_word, 2, __ATOMIC_SEQ_CST);
        futex(pp_word, FUTEX_WAKE, 1);
      } else {
        futex(pp_word, FUTEX_WAIT, v);
      }
    }
  }
}

static void pingpong_stop(void) {
  __atomic_store_n(pp_word, 3, __ATOMIC_SEQ_CST);
  futex(pp_word, FUTEX_WAKE, 1);
  int st;
  if (waitpid(pp_child, &st, 0) != pp_child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    die("ping-pong child");
  munmap((void *)pp_word, PAGE);
}

/* Runs op `warm` times untimed, then doubling batches until min_ns; prints ns per unit,
   where one op is `units` units (pages for fault_1g). */
static void measure(const char *name, void (*op)(void), int warm, double units) {
  for (int i = 0; i < warm; i++) op();
  long total_ns = 0, total_iters = 0, batch = 1;
  while (total_ns < min_ns) {
    long t0 = now_ns();
    for (long i = 0; i < batch; i++) op();
    total_ns += now_ns() - t0;
    total_iters += batch;
    if (batch < 65536) batch *= 2;
  }
  printf("%s %.1f\n", name, (double)total_ns / ((double)total_iters * units));
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc > 1) min_ns = atol(argv[1]) * 1000000L;
  if (min_ns <= 0) {
    fprintf(stderr, "usage: %s [min_ms > 0]\n", argv[0]);
    return 2;
  }

  /* The 200 MiB heap lives only while fork_heap200 runs. */
  char *heap = malloc(HEAP_BYTES);
  if (heap == NULL) die("malloc 200 MiB");
  memset(heap, 0x5a, HEAP_BYTES);
  measure("fork_heap200", op_fork_heap200, 2, 1);
  free(heap);

  measure("sbrk4000", op_sbrk4000, 2, 1);
  measure("mmap_touch_munmap_1m", op_mmap_touch_munmap_1m, 16, 1);
  measure("fault_1g", op_fault_1g, 0, (double)(FAULT_BYTES / PAGE));

  pingpong_start();
  measure("shm_pingpong", op_shm_pingpong, 100, 1);
  pingpong_stop();
  return 0;
}
