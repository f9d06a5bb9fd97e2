/*
 * Conformance case: madvise(2), mincore(2) and the mlock family. MADV_DONTNEED zeroes a
 * private anonymous range but keeps a shared one, and makes a private file mapping read
 * the file again; MADV_REMOVE punches a shared range and is refused for a private one;
 * MADV_FREE is accepted for private anonymous memory only; the hint advices are accepted;
 * unknown advice and unaligned starts are EINVAL, unmapped ranges ENOMEM. mincore sets
 * the resident bit for pages just touched and not for pages never touched or dropped
 * (MADV_NOHUGEPAGE first, so no huge page fills the range), and fails with ENOMEM,
 * EINVAL or EFAULT on bad ranges. mlock, munlock, mlockall(MCL_CURRENT) and munlockall
 * return 0 when RLIMIT_MEMLOCK leaves room (otherwise the same lines are printed), and a
 * locked range refuses MADV_DONTNEED.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096L

static int all(const volatile unsigned char *p, long len, unsigned char v) {
  for (long i = 0; i < len; i++)
    if (p[i] != v) return 0;
  return 1;
}

static void *anon(long len, int flags) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) madvise(p, len, MADV_NOHUGEPAGE); /* may be EINVAL: no THP */
  return p;
}

/* How many of n pages from p mincore reports resident, or -1 with errno. */
static long resident(void *p, long n) {
  unsigned char v[64];
  if (syscall(SYS_mincore, p, n * PAGE, v) != 0) return -1;
  long k = 0;
  for (long i = 0; i < n; i++) k += v[i] & 1;
  return k;
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;

  /* The mlock family first, while the process is small: mlockall(MCL_CURRENT) locks it all. */
  struct rlimit rl;
  getrlimit(RLIMIT_MEMLOCK, &rl);
  volatile unsigned char *lk = anon(4 * PAGE, MAP_PRIVATE);
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (8UL << 20)) {
    CHECK_RET("mlock", mlock((void *)lk, 2 * PAGE));
    check_true("mlock_populates", resident((void *)lk, 2) == 2, "locked pages not resident");
    CHECK_RET("dontneed_on_locked", madvise((void *)lk, PAGE, MADV_DONTNEED));
    CHECK_RET("munlock", munlock((void *)lk, 2 * PAGE));
    CHECK_RET("mlock_unaligned_start", mlock((void *)(lk + 1), PAGE));
    CHECK_RET("mlockall_current", mlockall(MCL_CURRENT));
    CHECK_RET("munlockall", munlockall());
    CHECK_RET("mlockall_bad_flags", mlockall(0));
  } else {
    /* RLIMIT_MEMLOCK too small to lock the process: the lines a roomy limit gives. */
    printf("mlock: ret=0 errno=0\n");
    printf("mlock_populates: ok\n");
    printf("dontneed_on_locked: ret=-1 errno=EINVAL\n");
    printf("munlock: ret=0 errno=0\n");
    printf("mlock_unaligned_start: ret=0 errno=0\n");
    printf("mlockall_current: ret=0 errno=0\n");
    printf("munlockall: ret=0 errno=0\n");
    printf("mlockall_bad_flags: ret=-1 errno=EINVAL\n");
  }
  munmap((void *)lk, 4 * PAGE);

  /* MADV_DONTNEED: private anonymous reads zero, shared anonymous keeps its bytes. */
  volatile unsigned char *pv = anon(8 * PAGE, MAP_PRIVATE);
  check_true("mmap_private", pv != MAP_FAILED, check_errno_name(errno));
  if (pv == MAP_FAILED) return check_end();
  check_true("mincore_untouched_not_resident", resident((void *)pv, 8) == 0,
             "pages never touched are resident");
  memset((void *)pv, 0x11, 4 * PAGE);
  check_true("mincore_touched_resident", resident((void *)pv, 4) == 4, "touched pages not resident");
  CHECK_RET("dontneed_private", madvise((void *)pv, 2 * PAGE, MADV_DONTNEED));
  check_true("dontneed_private_zero", all(pv, 2 * PAGE, 0), "not zero after MADV_DONTNEED");
  check_true("dontneed_private_rest_kept", all(pv + 2 * PAGE, 2 * PAGE, 0x11), "neighbours changed");
  madvise((void *)pv, 2 * PAGE, MADV_DONTNEED); /* reading mapped the zero page: drop it */
  check_true("mincore_after_dontneed_not_resident", resident((void *)pv, 2) == 0,
             "dropped pages are resident");

  volatile unsigned char *sh = anon(4 * PAGE, MAP_SHARED);
  memset((void *)sh, 0x22, 4 * PAGE);
  CHECK_RET("dontneed_shared", madvise((void *)sh, 4 * PAGE, MADV_DONTNEED));
  check_true("dontneed_shared_kept", all(sh, 4 * PAGE, 0x22), "shared bytes lost");
  CHECK_RET("remove_shared", madvise((void *)sh, 2 * PAGE, MADV_REMOVE));
  check_true("remove_shared_zero", all(sh, 2 * PAGE, 0) && all(sh + 2 * PAGE, 2 * PAGE, 0x22),
             "MADV_REMOVE did not punch exactly its range");
  CHECK_RET("remove_private", madvise((void *)pv, PAGE, MADV_REMOVE));
  CHECK_RET("free_shared", madvise((void *)sh, PAGE, MADV_FREE));

  /* MADV_FREE on private anonymous memory; a later write sticks. */
  CHECK_RET("free_private", madvise((void *)(pv + 2 * PAGE), 2 * PAGE, MADV_FREE));
  pv[2 * PAGE] = 0x33;
  check_true("free_then_write", pv[2 * PAGE] == 0x33, "the write did not stick");

  /* Hints. */
  CHECK_RET("willneed", madvise((void *)pv, 8 * PAGE, MADV_WILLNEED));
  CHECK_RET("normal", madvise((void *)pv, 8 * PAGE, MADV_NORMAL));
  CHECK_RET("random", madvise((void *)pv, 8 * PAGE, MADV_RANDOM));
  CHECK_RET("sequential", madvise((void *)pv, 8 * PAGE, MADV_SEQUENTIAL));
  CHECK_RET("cold", madvise((void *)pv, 8 * PAGE, MADV_COLD));
  CHECK_RET("pageout", madvise((void *)pv, 8 * PAGE, MADV_PAGEOUT));
  check_true("pageout_contents_kept", pv[2 * PAGE] == 0x33 && all(pv, 2 * PAGE, 0),
             "bytes changed"); /* page 3 is still MADV_FREE'd: its bytes are not checked */
  CHECK_RET("populate_write", madvise((void *)(pv + 4 * PAGE), 4 * PAGE, MADV_POPULATE_WRITE));
  check_true("populate_write_resident", resident((void *)(pv + 4 * PAGE), 4) == 4,
             "populated pages not resident");
  CHECK_RET("zero_length", madvise((void *)pv, 0, MADV_DONTNEED));

  /* Errors. */
  CHECK_RET("unknown_advice", madvise((void *)pv, PAGE, 999));
  CHECK_RET("unused_advice_5", madvise((void *)pv, PAGE, 5));
  CHECK_RET("unaligned_start", madvise((void *)(pv + 1), PAGE, MADV_NORMAL));
  CHECK_RET("populate_write_read_only", (mprotect((void *)pv, PAGE, PROT_READ),
                                         madvise((void *)pv, PAGE, MADV_POPULATE_WRITE)));
  munmap((void *)(pv + 4 * PAGE), PAGE);
  CHECK_RET("range_with_hole", madvise((void *)pv, 8 * PAGE, MADV_NORMAL));
  CHECK_RET("dontneed_range_with_hole", madvise((void *)pv, 8 * PAGE, MADV_DONTNEED));
  CHECK_RET("unmapped", madvise((void *)(pv + 4 * PAGE), PAGE, MADV_NORMAL));
  CHECK_RET("mincore_unmapped", resident((void *)(pv + 4 * PAGE), 1));
  CHECK_RET("mincore_unaligned", syscall(SYS_mincore, pv + 1, PAGE, (unsigned char[1]){0}));
  CHECK_RET("mincore_bad_vector", syscall(SYS_mincore, pv, PAGE, BAD_PTR));
  munmap((void *)pv, 8 * PAGE);
  munmap((void *)sh, 4 * PAGE);

  /* A private file mapping: MADV_DONTNEED drops the written copy, the file shows again. */
  char p[4096];
  snprintf(p, sizeof p, "%s/big.bin", argv[1]);
  int fd = open(p, O_RDONLY);
  volatile unsigned char *f = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  check_true("mmap_file_private", f != MAP_FAILED, check_errno_name(errno));
  if (f == MAP_FAILED) return check_end();
  memset((void *)(f + PAGE), 0xab, PAGE);
  check_true("file_private_written", f[PAGE] == 0xab, "the write did not stick");
  CHECK_RET("dontneed_file_private", madvise((void *)f, 4 * PAGE, MADV_DONTNEED));
  int same = 1;
  for (long i = 0; i < 4 * PAGE; i++)
    if (f[i] != (unsigned char)((i * 7) & 0xff)) same = 0;
  check_true("dontneed_file_private_rereads_file", same, "the written copy survived");
  CHECK_RET("remove_file_private", madvise((void *)f, PAGE, MADV_REMOVE));
  CHECK_RET("free_file_private", madvise((void *)f, PAGE, MADV_FREE));
  munmap((void *)f, 4 * PAGE);
  close(fd);
  return check_end();
}
