/*
 * Conformance case: memory across fork. A MAP_SHARED|MAP_ANONYMOUS page is one page for
 * parent and child (writes on either side are seen by the other); a shared futex word in
 * it lets a child wait and its parent wake it (a private wake from the parent finds no
 * waiter); a MAP_PRIVATE page is copied on write (writes after fork, on either side, stay
 * on that side); a 64 MiB touched heap arrives whole in the child and the child's writes
 * to it do not come back; MADV_DONTFORK leaves the range out of the child (touching it is
 * SIGSEGV) and MADV_DOFORK undoes it; MADV_WIPEONFORK gives the child zeros while the
 * parent keeps its bytes, and is refused for shared mappings. Children report through
 * their exit status (0 = property held), the parent prints.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096L
#define HEAP_BYTES (64L << 20)

static void describe(const char *name, int status) {
  if (WIFEXITED(status))
    printf("%s: exited %d\n", name, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: signaled SIG%s\n", name, sigabbrev_np(WTERMSIG(status)));
  else
    printf("%s: other 0x%x\n", name, status);
}

/* Waits for child c and prints how it ended. */
static void reap(const char *name, pid_t c) {
  int st = 0;
  if (c < 0) {
    printf("%s: fork failed %s\n", name, check_errno_name(errno));
    return;
  }
  if (waitpid(c, &st, 0) != c) {
    printf("%s: waitpid failed %s\n", name, check_errno_name(errno));
    return;
  }
  describe(name, st);
}

static pid_t fork_flushed(void) {
  fflush(stdout);
  return fork();
}

static long futex(volatile uint32_t *w, int op, uint32_t val, const struct timespec *ts) {
  return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static int all_bytes(const volatile unsigned char *p, long len, unsigned char v) {
  for (long i = 0; i < len; i++)
    if (p[i] != v) return 0;
  return 1;
}

static unsigned char heap_byte(long i) { return (unsigned char)((i * 13) ^ (i >> 12)); }

int main(void) {
  check_begin();
  int fds[2];

  /* Shared anonymous: the child's writes reach the parent. */
  errno = 0;
  volatile unsigned char *sh = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check_true("mmap_shared_anon", sh != MAP_FAILED, check_errno_name(errno));
  if (sh == MAP_FAILED) return check_end();
  check_true("shared_anon_zeroed", all_bytes(sh, 4 * PAGE, 0), "not zero filled");
  sh[0] = 1;
  pid_t c = fork_flushed();
  if (c == 0) {
    int seen = sh[0] == 1;
    for (long i = 0; i < PAGE; i++) sh[PAGE + i] = (unsigned char)(i * 3);
    sh[3 * PAGE + 17] = 0x5a;
    _exit(seen ? 0 : 1);
  }
  reap("shared_anon_child_sees_prefork", c);
  int ok = 1;
  for (long i = 0; i < PAGE; i++)
    if (sh[PAGE + i] != (unsigned char)(i * 3)) ok = 0;
  check_true("shared_anon_child_write_seen", ok, "the parent does not see the child's bytes");
  check_true("shared_anon_child_write_last_page", sh[3 * PAGE + 17] == 0x5a,
             "the parent does not see the child's byte in the last page");

  /* Shared anonymous: the parent's writes after fork reach the child. */
  if (pipe(fds) != 0) return 1;
  c = fork_flushed();
  if (c == 0) {
    char b;
    close(fds[1]);
    if (read(fds[0], &b, 1) != 1) _exit(2);
    _exit(sh[2 * PAGE] == 0x77 && sh[2 * PAGE + PAGE - 1] == 0x78 ? 0 : 1);
  }
  close(fds[0]);
  sh[2 * PAGE] = 0x77;
  sh[2 * PAGE + PAGE - 1] = 0x78;
  if (write(fds[1], "g", 1) != 1) return 1;
  close(fds[1]);
  reap("shared_anon_parent_write_seen_by_child", c);

  /* A shared futex in the shared page: the child waits, the parent wakes it. A private
   * wake from the parent is keyed by its own address space and finds no waiter. */
  volatile uint32_t *word = (volatile uint32_t *)(sh + 3 * PAGE);
  volatile uint32_t *ready = word + 1;
  volatile uint32_t *child_wait_ret = word + 2;
  volatile uint32_t *child_wait_errno = word + 3;
  *word = 0;
  *ready = 0;
  *child_wait_ret = 99;
  c = fork_flushed();
  if (c == 0) {
    struct timespec limit = {20, 0};
    *ready = 1;
    errno = 0;
    long r = futex(word, FUTEX_WAIT, 0, &limit);
    *child_wait_errno = (uint32_t)errno;
    *child_wait_ret = (uint32_t)r;
    _exit(0);
  }
  for (int i = 0; i < 20000 && *ready == 0; i++) usleep(1000);
  usleep(20000); /* most likely in FUTEX_WAIT by now; the checks hold either way */
  CHECK_RET("futex_private_wake_of_other_process", futex(word, FUTEX_WAKE_PRIVATE, 1, NULL));
  long woke = 0;
  for (int i = 0; i < 20000 && woke == 0; i++) {
    woke = futex(word, FUTEX_WAKE, 1, NULL);
    if (woke == 0) usleep(1000);
  }
  check_ret("futex_shared_wake", woke, errno);
  reap("futex_waiter_end", c);
  check_ret("futex_shared_wait_in_child", (long)(int32_t)*child_wait_ret, (int)*child_wait_errno);
  CHECK_RET("futex_shared_wake_nobody_left", futex(word, FUTEX_WAKE, 1, NULL));

  /* Parent waits, child wakes: the other direction. */
  *word = 0;
  c = fork_flushed();
  if (c == 0) {
    long n = 0;
    for (int i = 0; i < 20000 && n == 0; i++) {
      n = futex(word, FUTEX_WAKE, 1, NULL);
      if (n == 0) usleep(1000);
    }
    _exit(n == 1 ? 0 : 1);
  }
  struct timespec limit = {20, 0};
  CHECK_RET("futex_parent_waits_child_wakes", futex(word, FUTEX_WAIT, 0, &limit));
  reap("futex_waker_end", c);
  CHECK_RET("munmap_shared_anon", munmap((void *)sh, 4 * PAGE));

  /* Private anonymous: copy on write in both directions. */
  volatile unsigned char *pv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check_true("mmap_private_anon", pv != MAP_FAILED, check_errno_name(errno));
  if (pv == MAP_FAILED) return check_end();
  memset((void *)pv, 'A', 2 * PAGE);
  if (pipe(fds) != 0) return 1;
  c = fork_flushed();
  if (c == 0) {
    char b;
    close(fds[1]);
    if (!all_bytes(pv, 2 * PAGE, 'A')) _exit(1);
    pv[0] = 'B';
    if (pv[0] != 'B') _exit(2);
    if (read(fds[0], &b, 1) != 1) _exit(3);
    /* The parent has written 'C' into the second page by now. */
    _exit(pv[PAGE] == 'A' && pv[0] == 'B' ? 0 : 4);
  }
  close(fds[0]);
  pv[PAGE] = 'C';
  if (write(fds[1], "g", 1) != 1) return 1;
  close(fds[1]);
  reap("private_anon_child_sees_prefork_not_parent_later", c);
  check_true("private_anon_child_write_invisible", pv[0] == 'A', "the child's write reached the parent");
  check_true("private_anon_parent_keeps_own_write", pv[PAGE] == 'C', "the parent lost its write");
  CHECK_RET("munmap_private_anon", munmap((void *)pv, 2 * PAGE));

  /* A 64 MiB touched heap (the brk area itself, grown with sbrk; nothing allocates until
   * it is given back): all of it in the child; the child's writes stay there. */
  errno = 0;
  volatile unsigned char *heap = sbrk(HEAP_BYTES);
  check_true("sbrk_64m", heap != (void *)-1, check_errno_name(errno));
  if (heap == (void *)-1) return check_end();
  for (long i = 0; i < HEAP_BYTES; i++) heap[i] = heap_byte(i);
  void *brk_end = sbrk(0);
  c = fork_flushed();
  if (c == 0) {
    if (sbrk(0) != brk_end) _exit(3);
    for (long i = 0; i < HEAP_BYTES; i++)
      if (heap[i] != heap_byte(i)) _exit(1);
    for (long i = 0; i < HEAP_BYTES; i += PAGE) heap[i] = (unsigned char)~heap_byte(i);
    for (long i = 0; i < HEAP_BYTES; i += PAGE)
      if (heap[i] != (unsigned char)~heap_byte(i)) _exit(2);
    _exit(0);
  }
  reap("heap_64m_in_child", c);
  ok = 1;
  for (long i = 0; i < HEAP_BYTES; i++)
    if (heap[i] != heap_byte(i)) ok = 0;
  check_true("heap_64m_parent_unchanged", ok, "the child's writes reached the parent's heap");
  check_true("sbrk_64m_give_back", sbrk(-HEAP_BYTES) == brk_end, "sbrk(-64 MiB) failed");

  /* MADV_DONTFORK: the range is not in the child at all. */
  volatile unsigned char *df = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check_true("mmap_dontfork_region", df != MAP_FAILED, check_errno_name(errno));
  if (df == MAP_FAILED) return check_end();
  df[0] = 9;
  CHECK_RET("madvise_dontfork", madvise((void *)df, 2 * PAGE, MADV_DONTFORK));
  c = fork_flushed();
  if (c == 0) {
    signal(SIGSEGV, SIG_DFL);
    (void)df[PAGE];
    _exit(0);
  }
  reap("dontfork_child_touch", c);
  c = fork_flushed();
  if (c == 0) {
    /* The range is free in the child: mincore says ENOMEM and a new mapping may take it. */
    unsigned char v[2];
    long r = syscall(SYS_mincore, df, 2 * PAGE, v);
    _exit(r == -1 && errno == ENOMEM ? 0 : 1);
  }
  reap("dontfork_child_range_unmapped", c);
  check_true("dontfork_parent_keeps", df[0] == 9, "the parent lost its byte");
  CHECK_RET("madvise_dofork", madvise((void *)df, 2 * PAGE, MADV_DOFORK));
  c = fork_flushed();
  if (c == 0) _exit(df[0] == 9 ? 0 : 1);
  reap("dofork_child_sees", c);
  CHECK_RET("munmap_dontfork_region", munmap((void *)df, 2 * PAGE));

  /* MADV_WIPEONFORK: zeros in the child, the parent keeps its bytes. */
  volatile unsigned char *wf = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check_true("mmap_wipeonfork_region", wf != MAP_FAILED, check_errno_name(errno));
  if (wf == MAP_FAILED) return check_end();
  memset((void *)wf, 0x42, 3 * PAGE);
  CHECK_RET("madvise_wipeonfork", madvise((void *)wf, 2 * PAGE, MADV_WIPEONFORK));
  c = fork_flushed();
  if (c == 0) {
    if (!all_bytes(wf, 2 * PAGE, 0)) _exit(1);
    if (!all_bytes(wf + 2 * PAGE, PAGE, 0x42)) _exit(2); /* outside the advised range */
    wf[0] = 5;                                            /* still mapped and writable */
    _exit(wf[0] == 5 ? 0 : 3);
  }
  reap("wipeonfork_child_reads_zero", c);
  check_true("wipeonfork_parent_keeps", all_bytes(wf, 3 * PAGE, 0x42), "the parent's bytes changed");
  CHECK_RET("madvise_keeponfork", madvise((void *)wf, 2 * PAGE, MADV_KEEPONFORK));
  c = fork_flushed();
  if (c == 0) _exit(all_bytes(wf, 3 * PAGE, 0x42) ? 0 : 1);
  reap("keeponfork_child_sees", c);
  CHECK_RET("munmap_wipeonfork_region", munmap((void *)wf, 3 * PAGE));
  void *shw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK_RET("madvise_wipeonfork_shared", madvise(shw, PAGE, MADV_WIPEONFORK));
  munmap(shw, PAGE);
  return check_end();
}
