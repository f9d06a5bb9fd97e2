/*
 * Conformance case: large address-space use. A 2 GiB MAP_NORESERVE private reservation of
 * which 1 GiB is touched (one byte per page, then read back); a 3 GiB PROT_NONE
 * reservation with a 16 MiB window made read-write and used (outside it is SIGSEGV);
 * 4000 sbrk(128 KiB) steps, each writable, then given back; munmap over a range with
 * holes; lengths past the address space (ENOMEM). /proc/self/maps lists [heap], [stack],
 * the window with its exact bounds and rights, and the mapped file by its path;
 * /proc/self/statm's size and resident counts are at least what the program mapped and
 * touched. Addresses and sizes are only compared, never printed.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096L
#define GIB (1L << 30)
#define MIB (1L << 20)
#define SBRK_STEP (128L * 1024)
#define SBRK_STEPS 4000L

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

static int unmapped(void *p, long len) {
  unsigned char v[1];
  for (long off = 0; off < len; off += PAGE)
    if (syscall(SYS_mincore, (char *)p + off, PAGE, v) == 0) return 0;
  return 1;
}

/* /proc/self/maps, read whole with read(2) into a static buffer (no malloc). */
static char maps[1 << 20];
static long read_maps(void) {
  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return -1;
  long n = 0, r;
  while (n < (long)sizeof maps - 1 && (r = read(fd, maps + n, sizeof maps - 1 - n)) > 0) n += r;
  close(fd);
  maps[n] = 0;
  return n;
}

/* Whether a line of maps starts with prefix. */
static int maps_line_starts(const char *prefix) {
  size_t k = strlen(prefix);
  for (const char *l = maps; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
    if (strncmp(l, prefix, k) == 0) return 1;
  return 0;
}

/* Whether a line of maps ends with suffix. */
static int maps_line_ends(const char *suffix) {
  size_t k = strlen(suffix);
  for (const char *l = maps; *l;) {
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    if (len >= k && strncmp(l + len - k, suffix, k) == 0) return 1;
    l = e ? e + 1 : l + len;
  }
  return 0;
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;

  /* The data file's real path, for its /proc/self/maps line (realpath may allocate: now,
   * before the break moves). */
  char path[PATH_MAX], real[PATH_MAX];
  snprintf(path, sizeof path, "%s/big.bin", argv[1]);
  check_true("realpath", realpath(path, real) != NULL, "realpath failed");

  /* 2 GiB reserved, 1 GiB of it touched one byte a page. */
  errno = 0;
  volatile unsigned char *r2 = mmap(NULL, 2 * GIB, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  check_true("reserve_2g_noreserve", r2 != MAP_FAILED, check_errno_name(errno));
  if (r2 != MAP_FAILED) {
    for (long off = 0; off < GIB; off += PAGE) r2[off] = (unsigned char)(off / PAGE * 31 + 1);
    int ok = 1;
    for (long off = 0; off < GIB; off += 61 * PAGE)
      if (r2[off] != (unsigned char)(off / PAGE * 31 + 1)) ok = 0;
    check_true("touch_1g_readback", ok && r2[GIB - PAGE] == (unsigned char)((GIB / PAGE - 1) * 31 + 1),
               "wrong byte in the touched gigabyte");
    check_true("untouched_half_zero", r2[GIB] == 0 && r2[2 * GIB - 1] == 0, "not zero");
    CHECK_RET("munmap_2g", munmap((void *)r2, 2 * GIB));
  }

  /* 3 GiB PROT_NONE, a 16 MiB window in the middle made read-write. */
  errno = 0;
  unsigned char *r3 = mmap(NULL, 3 * GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                           -1, 0);
  check_true("reserve_3g_prot_none", r3 != MAP_FAILED, check_errno_name(errno));
  if (r3 == MAP_FAILED) return check_end();
  unsigned char *w = r3 + GIB + 7 * MIB;
  CHECK_RET("mprotect_16m_window", mprotect(w, 16 * MIB, PROT_READ | PROT_WRITE));
  for (long i = 0; i < 16 * MIB; i += 512) w[i] = (unsigned char)(i >> 9);
  int ok = 1;
  for (long i = 0; i < 16 * MIB; i += 512)
    if (w[i] != (unsigned char)(i >> 9)) ok = 0;
  check_true("window_readback", ok, "wrong bytes in the window");
  pid_t c = fork_flushed();
  if (c == 0) {
    signal(SIGSEGV, SIG_DFL);
    (void)*(volatile unsigned char *)(w + 16 * MIB);
    _exit(0);
  }
  reap("touch_after_window", c);
  c = fork_flushed();
  if (c == 0) {
    signal(SIGSEGV, SIG_DFL);
    *(volatile unsigned char *)(w - 1) = 1;
    _exit(0);
  }
  reap("write_before_window", c);

  /* 4000 sbrk steps of 128 KiB, each written at both ends, then given back. Nothing
   * allocates (stdout's buffer exists already) until the break is back. */
  unsigned char *brk0 = sbrk(0);
  long grown = 0;
  int brk_ok = 1;
  for (long i = 0; i < SBRK_STEPS; i++) {
    unsigned char *s = sbrk(SBRK_STEP);
    if (s == (void *)-1) break;
    if (s != brk0 + i * SBRK_STEP) brk_ok = 0;
    s[0] = (unsigned char)i;
    s[SBRK_STEP - 1] = (unsigned char)(i + 1);
    grown++;
  }
  for (long i = 0; i < grown; i++)
    if (brk0[i * SBRK_STEP] != (unsigned char)i ||
        brk0[i * SBRK_STEP + SBRK_STEP - 1] != (unsigned char)(i + 1))
      brk_ok = 0;
  check_true("sbrk_4000_steps", grown == SBRK_STEPS, "an sbrk step failed");
  check_true("sbrk_contiguous_and_writable", brk_ok, "steps not contiguous or bytes lost");

  /* /proc/self/maps and statm while everything is mapped. */
  char want[128];
  check_true("maps_read", read_maps() > 0, "cannot read /proc/self/maps");
  check_true("maps_heap", strstr(maps, "[heap]") != NULL, "no [heap] line");
  check_true("maps_stack", strstr(maps, "[stack]") != NULL, "no [stack] line");
  snprintf(want, sizeof want, "%lx-%lx rw-p 00000000 00:00 0 ", (unsigned long)w,
           (unsigned long)(w + 16 * MIB));
  check_true("maps_window_line", maps_line_starts(want), "no line with the window's bounds");
  snprintf(want, sizeof want, "-%lx ---p 00000000 00:00 0 ", (unsigned long)(r3 + 3 * GIB));
  check_true("maps_reservation_tail", strstr(maps, want) != NULL,
             "no line ending at the reservation's end");
  int fd = open(path, O_RDONLY);
  void *fm = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
  check_true("mmap_file", fm != MAP_FAILED, check_errno_name(errno));
  read_maps();
  char suffix[PATH_MAX + 2];
  snprintf(suffix, sizeof suffix, " %s", real);
  check_true("maps_file_by_path", maps_line_ends(suffix), "no line naming the file");
  if (fm != MAP_FAILED) munmap(fm, 2 * PAGE);
  close(fd);
  fd = open("/proc/self/statm", O_RDONLY);
  char st[256] = {0};
  ssize_t n = read(fd, st, sizeof st - 1);
  close(fd);
  unsigned long size = 0, res = 0;
  check_true("statm_parse", n > 0 && sscanf(st, "%lu %lu", &size, &res) == 2, "unreadable");
  check_true("statm_size_bound",
             size >= (unsigned long)((3 * GIB + SBRK_STEPS * SBRK_STEP) / PAGE),
             "size below what is mapped");
  check_true("statm_resident_bound", res >= (unsigned long)(16 * MIB / PAGE + SBRK_STEPS),
             "resident below what was touched");

  check_true("sbrk_give_back", sbrk(-grown * SBRK_STEP) != (void *)-1 && sbrk(0) == brk0,
             "the break did not go back");
  CHECK_RET("munmap_3g", munmap(r3, 3 * GIB));

  /* munmap of a range with holes in it. */
  unsigned char *h = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                          -1, 0);
  munmap(h + 3 * PAGE, 2 * PAGE);
  munmap(h + 10 * PAGE, PAGE);
  mprotect(h + 12 * PAGE, 2 * PAGE, PROT_READ);
  CHECK_RET("munmap_range_with_holes", munmap(h, 16 * PAGE));
  check_true("range_with_holes_gone", unmapped(h, 16 * PAGE), "a page is still mapped");

  /* Lengths past the address space. */
  errno = 0;
  void *big = mmap(NULL, 1L << 47, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  check_ret("mmap_128t", big == MAP_FAILED ? -1 : 0, errno);
  errno = 0;
  big = mmap(NULL, (size_t)-PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  check_ret("mmap_len_wraps", big == MAP_FAILED ? -1 : 0, errno);
  errno = 0;
  big = mmap(NULL, (size_t)-1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  check_ret("mmap_len_max", big == MAP_FAILED ? -1 : 0, errno);
  CHECK_RET("munmap_len_past_end", munmap(h, 1L << 47));
  return check_end();
}
