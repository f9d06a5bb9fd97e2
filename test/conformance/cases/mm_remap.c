/*
 * Conformance case: mremap(2). Growing in place when the next pages are free, ENOMEM
 * when they are not and moving is not allowed, growing with MREMAP_MAYMOVE (contents
 * kept, the old range gone), shrinking, MREMAP_FIXED to an address the program chose,
 * MREMAP_DONTUNMAP (the old private range stays mapped and reads zeros), the argument
 * errors (EINVAL) and an unmapped or straddling old range (EFAULT). A shared anonymous
 * mapping moved by the parent stays shared with a forked child, a duplicate made with
 * old_len 0 shares the same pages, and growing a shared anonymous mapping past its
 * original size gives pages that are SIGBUS to touch. Addresses are never printed.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096L

static void describe(const char *name, int status) {
  if (WIFEXITED(status))
    printf("%s: exited %d\n", name, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: signaled SIG%s\n", name, sigabbrev_np(WTERMSIG(status)));
  else
    printf("%s: other 0x%x\n", name, status);
}

static void reap(const char *name, pid_t c) {
  int st = 0;
  if (c < 0 || waitpid(c, &st, 0) != c) {
    printf("%s: fork or wait failed %s\n", name, check_errno_name(errno));
    return;
  }
  describe(name, st);
}

static pid_t fork_flushed(void) {
  fflush(stdout);
  return fork();
}

static void fill(unsigned char *p, long len, unsigned char seed) {
  for (long i = 0; i < len; i++) p[i] = (unsigned char)(seed + i * 5);
}
static int holds(const unsigned char *p, long len, unsigned char seed) {
  for (long i = 0; i < len; i++)
    if (p[i] != (unsigned char)(seed + i * 5)) return 0;
  return 1;
}
static int zero(const volatile unsigned char *p, long len) {
  for (long i = 0; i < len; i++)
    if (p[i] != 0) return 0;
  return 1;
}
/* Whether [p, p+len) is entirely unmapped (mincore fails with ENOMEM on any hole). */
static int unmapped(void *p, long len) {
  unsigned char v[64];
  for (long off = 0; off < len; off += PAGE)
    if (syscall(SYS_mincore, (char *)p + off, PAGE, v) == 0) return 0;
  return 1;
}

static void *anon(long len, int flags) {
  return mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
}

/* mremap as a line: ret 0 and whether the address is the wanted one are checked apart. */
static void *remap_line(const char *name, void *old, long old_len, long new_len, int flags,
                        void *new_addr) {
  errno = 0;
  void *r = mremap(old, old_len, new_len, flags, new_addr);
  check_ret(name, r == MAP_FAILED ? -1 : 0, errno);
  return r;
}

int main(void) {
  check_begin();

  /* Grow in place: 8 pages reserved, the last 4 unmapped, then grown back. */
  unsigned char *p = anon(8 * PAGE, MAP_PRIVATE);
  check_true("mmap_8_pages", p != MAP_FAILED, check_errno_name(errno));
  if (p == MAP_FAILED) return check_end();
  munmap(p + 4 * PAGE, 4 * PAGE);
  fill(p, 4 * PAGE, 1);
  unsigned char *q = remap_line("grow_in_place", p, 4 * PAGE, 8 * PAGE, 0, NULL);
  check_true("grow_in_place_same_address", q == p, "moved without MREMAP_MAYMOVE");
  check_true("grow_in_place_contents", holds(p, 4 * PAGE, 1), "contents changed");
  check_true("grow_in_place_new_zero", zero(p + 4 * PAGE, 4 * PAGE), "new pages not zero");
  p[8 * PAGE - 1] = 3;

  /* Shrink: same address, the tail unmapped. */
  q = remap_line("shrink", p, 8 * PAGE, 2 * PAGE, 0, NULL);
  check_true("shrink_same_address", q == p, "moved");
  check_true("shrink_contents", holds(p, 2 * PAGE, 1), "contents changed");
  check_true("shrink_tail_unmapped", unmapped(p + 2 * PAGE, 6 * PAGE), "tail still mapped");

  /* A neighbour blocks growth: ENOMEM without MAYMOVE, a move with it. */
  unsigned char *nb = mmap(p + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check_true("map_neighbour", nb == p + 2 * PAGE, check_errno_name(errno));
  CHECK_RET("grow_blocked_no_maymove", mremap(p, 2 * PAGE, 4 * PAGE, 0) == MAP_FAILED ? -1 : 0);
  q = remap_line("grow_maymove", p, 2 * PAGE, 64 * PAGE, MREMAP_MAYMOVE, NULL);
  check_true("grow_maymove_moved", q != MAP_FAILED && q != p, "did not move");
  if (q == MAP_FAILED) return check_end();
  check_true("grow_maymove_contents", holds(q, 2 * PAGE, 1), "contents lost");
  check_true("grow_maymove_new_zero", zero(q + 2 * PAGE, 62 * PAGE), "new pages not zero");
  check_true("grow_maymove_old_unmapped", unmapped(p, 2 * PAGE), "old range still mapped");
  check_true("grow_maymove_neighbour_kept", !unmapped(nb, PAGE), "the neighbour went away");
  munmap(nb, PAGE);

  /* MREMAP_FIXED: to an address the program picked (a range it reserved). */
  unsigned char *target = anon(16 * PAGE, MAP_PRIVATE);
  memset(target, 0xee, 16 * PAGE);
  fill(q, 4 * PAGE, 9);
  unsigned char *r = remap_line("fixed_move", q, 4 * PAGE, 4 * PAGE,
                                MREMAP_MAYMOVE | MREMAP_FIXED, target + 4 * PAGE);
  check_true("fixed_move_address", r == target + 4 * PAGE, "not at the asked address");
  check_true("fixed_move_contents", holds(target + 4 * PAGE, 4 * PAGE, 9), "contents lost");
  check_true("fixed_move_old_unmapped", unmapped(q, 4 * PAGE), "old range still mapped");
  check_true("fixed_move_around_kept",
             target[4 * PAGE - 1] == 0xee && target[8 * PAGE] == 0xee, "the range around changed");
  CHECK_RET("fixed_without_maymove",
            mremap(target, PAGE, PAGE, MREMAP_FIXED, target + 12 * PAGE) == MAP_FAILED ? -1 : 0);
  CHECK_RET("fixed_overlapping",
            mremap(target, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + 2 * PAGE) ==
                    MAP_FAILED ? -1 : 0);
  CHECK_RET("fixed_unaligned_new",
            mremap(target, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + 12 * PAGE + 1) ==
                    MAP_FAILED ? -1 : 0);
  munmap(q + 4 * PAGE, 60 * PAGE);
  munmap(target, 16 * PAGE);

  /* MREMAP_DONTUNMAP: the pages move, the old private range stays and reads zero. */
  unsigned char *d = anon(4 * PAGE, MAP_PRIVATE);
  fill(d, 4 * PAGE, 77);
  unsigned char *dn = remap_line("dontunmap", d, 4 * PAGE, 4 * PAGE,
                                 MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
  if (dn != MAP_FAILED) {
    check_true("dontunmap_moved", dn != d, "same address");
    check_true("dontunmap_contents", holds(dn, 4 * PAGE, 77), "contents lost");
    check_true("dontunmap_old_mapped", !unmapped(d, 4 * PAGE), "old range unmapped");
    check_true("dontunmap_old_zero", zero(d, 4 * PAGE), "old range not zero");
    d[0] = 1;
    check_true("dontunmap_old_writable", d[0] == 1 && holds(dn, 4 * PAGE, 77),
               "old range not writable apart");
    munmap(dn, 4 * PAGE);
  }
  CHECK_RET("dontunmap_size_change",
            mremap(d, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP) == MAP_FAILED ? -1 : 0);
  CHECK_RET("dontunmap_without_maymove",
            mremap(d, 4 * PAGE, 4 * PAGE, MREMAP_DONTUNMAP) == MAP_FAILED ? -1 : 0);

  /* Argument errors. */
  CHECK_RET("unaligned_old", mremap(d + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
  CHECK_RET("new_len_zero", mremap(d, PAGE, 0, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
  CHECK_RET("unknown_flag", mremap(d, PAGE, 2 * PAGE, 0x80) == MAP_FAILED ? -1 : 0);
  CHECK_RET("old_len_zero_private", mremap(d, 0, PAGE, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
  munmap(d, 4 * PAGE);
  CHECK_RET("unmapped_old", mremap(d, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
  unsigned char *two = anon(2 * PAGE, MAP_PRIVATE);
  mprotect(two + PAGE, PAGE, PROT_READ);
  CHECK_RET("old_straddles_two_mappings",
            mremap(two, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
  unsigned char *ro = remap_line("move_read_only_part", two + PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE,
                                 NULL);
  pid_t c = fork_flushed();
  if (c == 0) {
    signal(SIGSEGV, SIG_DFL);
    ro[0] = 1;
    _exit(0);
  }
  reap("moved_read_only_stays_read_only", c);
  munmap(two, PAGE);
  if (ro != MAP_FAILED) munmap(ro, 2 * PAGE);

  /* Shared anonymous: moved by the parent, still shared with a child forked before. */
  volatile unsigned char *sh = anon(PAGE, MAP_SHARED);
  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) return 1;
  c = fork_flushed();
  if (c == 0) {
    char b;
    if (read(to_child[0], &b, 1) != 1) _exit(2);
    if (sh[10] != 0x31) _exit(1); /* written by the parent through its moved mapping */
    sh[20] = 0x32;
    if (write(to_parent[1], "c", 1) != 1) _exit(3);
    _exit(0);
  }
  unsigned char *big = anon(4 * PAGE, MAP_PRIVATE); /* makes sure the move really moves */
  munmap(big, 4 * PAGE);
  unsigned char *moved = remap_line("shared_move_fixed", (void *)sh, PAGE, PAGE,
                                    MREMAP_MAYMOVE | MREMAP_FIXED, big + PAGE);
  if (moved != MAP_FAILED) moved[10] = 0x31;
  char b;
  if (write(to_child[1], "p", 1) != 1) return 1;
  if (read(to_parent[0], &b, 1) != 1) b = 0;
  reap("shared_moved_child_sees_parent", c);
  check_true("shared_moved_parent_sees_child", moved != MAP_FAILED && moved[20] == 0x32,
             "the child's write did not reach the moved mapping");

  /* old_len 0 on a shared mapping: a second mapping of the same pages. */
  unsigned char *dup = remap_line("shared_dup_old_len_zero", moved, 0, PAGE, MREMAP_MAYMOVE, NULL);
  if (dup != MAP_FAILED && moved != MAP_FAILED) {
    check_true("shared_dup_sees", dup[10] == 0x31 && dup[20] == 0x32, "wrong bytes");
    dup[30] = 0x33;
    check_true("shared_dup_writes_through", moved[30] == 0x33, "the original does not see it");
    munmap(dup, PAGE);
  }

  /* Growing a shared anonymous mapping past its object: the new pages are SIGBUS. */
  unsigned char *grown = remap_line("shared_grow", moved, PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL);
  if (grown != MAP_FAILED) {
    check_true("shared_grow_keeps_first_page", grown[10] == 0x31, "contents lost");
    c = fork_flushed();
    if (c == 0) {
      signal(SIGBUS, SIG_DFL);
      (void)*(volatile unsigned char *)(grown + PAGE);
      _exit(0);
    }
    reap("shared_grow_touch_past_object", c);
    munmap(grown, 3 * PAGE);
  }
  return check_end();
}
