/*
 * Conformance case: brk, mmap, munmap and mprotect. Memory is written then read back, a
 * region is unmapped and mapped again, a file is mapped and compared with read(2), and
 * read(2) fills a fresh anonymous mapping the program has never touched. Addresses are
 * never printed, only whether they are what Linux promises.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096L

static int pattern_ok(unsigned char *p, long len, unsigned char seed) {
  for (long i = 0; i < len; i++)
    if (p[i] != (unsigned char)(seed + i)) return 0;
  return 1;
}
static void fill(unsigned char *p, long len, unsigned char seed) {
  for (long i = 0; i < len; i++) p[i] = (unsigned char)(seed + i);
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;

  /* brk: query, grow, use, shrink, regrow; nothing is printed (and so nothing is
   * malloc'ed by stdio) until the break is back where it started, because glibc's malloc
   * may own the memory just above it. */
  uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
  uintptr_t want = cur + 3 * PAGE + 100;
  int grew = (uintptr_t)syscall(SYS_brk, want) == want;
  int readback = 0, shrank = 0, regrew = 0, zeroed = 0, unchanged = 0;
  if (grew) {
    fill((unsigned char *)cur, 3 * PAGE + 100, 11);
    readback = pattern_ok((unsigned char *)cur, 3 * PAGE + 100, 11);
    shrank = (uintptr_t)syscall(SYS_brk, cur) == cur;
    regrew = (uintptr_t)syscall(SYS_brk, cur + PAGE) == cur + PAGE;
    if (regrew) zeroed = ((unsigned char *)cur)[PAGE - 1] == 0 && ((unsigned char *)cur)[0] == 0;
    unchanged = (uintptr_t)syscall(SYS_brk, 1) == cur + PAGE;
  }
  int restored = (uintptr_t)syscall(SYS_brk, cur) == cur;
  check_true("brk_query", cur != 0, "brk(0) returned 0");
  check_true("brk_grow", grew, "brk did not move to the asked address");
  check_true("brk_memory_readback", readback, "memory does not hold what was written");
  check_true("brk_shrink", shrank, "brk did not shrink back");
  check_true("brk_regrow", regrew, "brk did not grow again");
  check_true("brk_regrow_zeroed", zeroed, "memory given back by brk was not zero when grown again");
  check_true("brk_below_start_unchanged", unchanged, "brk(1) moved the break");
  check_true("brk_restored", restored, "brk did not go back to its start");

  /* Anonymous mmap: zero-filled, writable, readable. */
  errno = 0;
  unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                          -1, 0);
  check_true("mmap_anon", m != MAP_FAILED, check_errno_name(errno));
  if (m == MAP_FAILED) return check_end();
  check_true("mmap_anon_page_aligned", ((uintptr_t)m & (PAGE - 1)) == 0, "not page aligned");
  check_true("mmap_anon_zeroed", m[0] == 0 && m[PAGE] == 0 && m[3 * PAGE - 1] == 0,
             "not zero filled");
  fill(m, 3 * PAGE, 42);
  check_true("mmap_anon_readback", pattern_ok(m, 3 * PAGE, 42), "wrong bytes");
  CHECK_RET("mprotect_read_only", mprotect(m, PAGE, PROT_READ));
  check_true("mprotect_read_only_readable", pattern_ok(m, PAGE, 42), "wrong bytes");
  CHECK_RET("mprotect_read_write", mprotect(m, PAGE, PROT_READ | PROT_WRITE));
  m[0] = 7;
  check_true("mprotect_writable_again", m[0] == 7, "write did not stick");
  CHECK_RET("mprotect_unaligned", mprotect(m + 1, PAGE, PROT_READ));
  CHECK_RET("mprotect_bad_prot", mprotect(m, PAGE, 0x1000));

  /* Unmap the middle page, then map it again with MAP_FIXED: zero-filled, others intact. */
  CHECK_RET("munmap_middle", munmap(m + PAGE, PAGE));
  CHECK_RET("mprotect_unmapped", mprotect(m + PAGE, PAGE, PROT_READ));
  errno = 0;
  unsigned char *again = mmap(m + PAGE, PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check_true("mmap_fixed_remap", again == m + PAGE, check_errno_name(errno));
  check_true("mmap_fixed_remap_zeroed", again[0] == 0 && again[PAGE - 1] == 0,
             "the remapped page is not zero");
  check_true("neighbours_intact", pattern_ok(m + 2 * PAGE, PAGE, (unsigned char)(42 + 2 * PAGE)),
             "the page after the hole changed");
  CHECK_RET("munmap_all", munmap(m, 3 * PAGE));
  CHECK_RET("munmap_again", munmap(m, 3 * PAGE));
  CHECK_RET("munmap_unaligned", munmap(m + 1, PAGE));
  CHECK_RET("munmap_zero_len", munmap(m, 0));

  /* Errors. */
  errno = 0;
  void *bad = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check_ret("mmap_zero_len", bad == MAP_FAILED ? -1 : 0, errno);
  errno = 0;
  bad = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0);
  check_ret("mmap_bad_fd", bad == MAP_FAILED ? -1 : 0, errno);
  errno = 0;
  bad = mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0);
  check_ret("mmap_no_share_type", bad == MAP_FAILED ? -1 : 0, errno);
  errno = 0;
  bad = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1);
  check_ret("mmap_anon_unaligned_offset", bad == MAP_FAILED ? -1 : 0, errno);

  /* A file mapping shows the file's bytes; read(2) into an untouched mapping works. */
  char p[4096];
  snprintf(p, sizeof p, "%s/big.bin", argv[1]);
  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_big", fd, errno);
  errno = 0;
  unsigned char *f = mmap(NULL, 200000, PROT_READ, MAP_PRIVATE, (int)fd, 0);
  check_true("mmap_file", f != MAP_FAILED, check_errno_name(errno));
  if (f != MAP_FAILED) {
    long badbytes = 0;
    for (long i = 0; i < 200000; i++)
      if (f[i] != (unsigned char)((i * 7) & 0xff)) badbytes++;
    check_true("mmap_file_content", badbytes == 0, "mapped bytes differ from the file");
    CHECK_RET("munmap_file", munmap(f, 200000));
  }
  errno = 0;
  f = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, (int)fd, PAGE * 2);
  check_true("mmap_file_offset", f != MAP_FAILED && f[0] == (unsigned char)((2 * PAGE * 7) & 0xff),
             "wrong byte at the mapped offset");
  if (f != MAP_FAILED) munmap(f, PAGE);
  errno = 0;
  f = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
  check_ret("mmap_shared_write_on_readonly_fd", f == MAP_FAILED ? -1 : 0, errno);

  unsigned char *fresh = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check_true("mmap_fresh", fresh != MAP_FAILED, "mmap failed");
  if (fresh != MAP_FAILED) {
    CHECK_RET("pread_into_untouched_mapping", syscall(SYS_pread64, fd, fresh, 16 * PAGE, 0L));
    long badbytes = 0;
    for (long i = 0; i < 16 * PAGE; i++)
      if (fresh[i] != (unsigned char)((i * 7) & 0xff)) badbytes++;
    check_true("pread_into_untouched_mapping_content", badbytes == 0, "wrong bytes");
    /* write(2) from mapped memory: the line "from_mmap" comes out of the mapping. */
    memcpy(fresh, "from_mmap: ok\n", 14);
    fflush(stdout);
    long n = syscall(SYS_write, 1, fresh, 14);
    check_ret("write_from_mapping", n, errno);
    mprotect(fresh, PAGE, PROT_READ);
    CHECK_RET("read_into_readonly_mapping", syscall(SYS_pread64, fd, fresh, 16, 0L));
    CHECK_RET("read_into_readonly_then_writable_span",
              syscall(SYS_pread64, fd, fresh + PAGE - 8, 16, 0L));
  }
  return check_end();
}
