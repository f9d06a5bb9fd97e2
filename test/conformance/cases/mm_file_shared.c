/*
 * Conformance case: shared file mappings. The same checks run on a file in a fresh
 * directory under /tmp (where write_files.c writes) and on a memfd: bytes written
 * through a MAP_SHARED mapping are read back by pread after msync(MS_SYNC) and after
 * munmap, pwrite shows through the mapping, two mappings and a forked child's mapping see
 * one another's writes, a MAP_PRIVATE mapping follows the file until it writes a page and
 * never writes the file, a file grown with ftruncate is mapped and written past its old
 * size, touching a page past EOF is SIGBUS. Then: mapping and mprotect rights against
 * the fd's open mode (EACCES), a 4 GiB read-only shared mapping of a sparse file, msync
 * errors, memfd seals against writable mappings (EBUSY, then EPERM), and POSIX shared
 * memory through shm_open when /dev/shm exists (the same lines are printed when it does
 * not, so runtimes without /dev/shm match).
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096L

static char name_buf[128];
static const char *N(const char *prefix, const char *what) {
  snprintf(name_buf, sizeof name_buf, "%s_%s", prefix, what);
  return name_buf;
}

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

/* mmap as a check_ret-style value: 0 on success, -1 with errno on failure. */
static void *map_line(const char *name, size_t len, int prot, int flags, int fd, off_t off) {
  errno = 0;
  void *p = mmap(NULL, len, prot, flags, fd, off);
  check_ret(name, p == MAP_FAILED ? -1 : 0, errno);
  return p;
}

static int pread_is(int fd, long off, const char *want) {
  char buf[64];
  size_t n = strlen(want);
  memset(buf, 0, sizeof buf);
  return pread(fd, buf, n, off) == (ssize_t)n && memcmp(buf, want, n) == 0;
}

/* The checks every kind of backing file gets; fd is open O_RDWR on an empty file. */
static void file_suite(const char *k, int fd) {
  CHECK_RET(N(k, "ftruncate_3_pages"), ftruncate(fd, 3 * PAGE));
  char *m = map_line(N(k, "mmap_shared_rw"), 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return;
  check_true(N(k, "fresh_mapping_zero"), m[0] == 0 && m[3 * PAGE - 1] == 0, "not zero");
  memcpy(m, "through-map", 11);
  CHECK_RET(N(k, "msync_sync"), msync(m, PAGE, MS_SYNC));
  check_true(N(k, "pread_after_msync"), pread_is(fd, 0, "through-map"), "pread does not see it");
  memcpy(m + PAGE + 100, "no-msync", 8);
  check_true(N(k, "pread_without_msync"), pread_is(fd, PAGE + 100, "no-msync"),
             "pread does not see it");
  CHECK_RET(N(k, "pwrite"), pwrite(fd, "by-pwrite", 9, PAGE + 10));
  check_true(N(k, "pwrite_seen_in_mapping"), memcmp(m + PAGE + 10, "by-pwrite", 9) == 0,
             "the mapping does not show it");

  char *m2 = map_line(N(k, "mmap_second"), 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
  if (m2 != MAP_FAILED) {
    memcpy(m2 + PAGE + 5, "second", 6);
    check_true(N(k, "second_mapping_write_seen"), memcmp(m + 2 * PAGE + 5, "second", 6) == 0,
               "the first mapping does not see it");
    memcpy(m + PAGE + 200, "first", 5);
    check_true(N(k, "first_mapping_write_seen"), memcmp(m2 + 200, "first", 5) == 0,
               "the second mapping does not see it");
    munmap(m2, 2 * PAGE);
  }

  pid_t c = fork_flushed();
  if (c == 0) {
    memcpy(m + 2 * PAGE + 300, "from-child", 10);
    _exit(0);
  }
  reap(N(k, "child_writes_mapping"), c);
  check_true(N(k, "child_write_seen_in_mapping"), memcmp(m + 2 * PAGE + 300, "from-child", 10) == 0,
             "the parent's mapping does not see it");
  check_true(N(k, "child_write_seen_by_pread"), pread_is(fd, 2 * PAGE + 300, "from-child"),
             "pread does not see it");

  /* MAP_PRIVATE: follows the file in pages it has not written, never writes the file. */
  char *pv = map_line(N(k, "mmap_private"), 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (pv != MAP_FAILED) {
    check_true(N(k, "private_sees_file"), memcmp(pv, "through-map", 11) == 0, "wrong bytes");
    pwrite(fd, "later", 5, 2 * PAGE + 1000);
    check_true(N(k, "private_sees_later_pwrite"), memcmp(pv + 2 * PAGE + 1000, "later", 5) == 0,
               "a page it never wrote does not follow the file");
    memcpy(pv, "PRIVATE", 7);
    check_true(N(k, "private_write_not_in_file"), pread_is(fd, 0, "through-map"),
               "the private write reached the file");
    check_true(N(k, "private_write_not_in_shared"), memcmp(m, "through-map", 11) == 0,
               "the private write reached the shared mapping");
    pwrite(fd, "THROUGH", 7, 0);
    check_true(N(k, "private_written_page_keeps_copy"), memcmp(pv, "PRIVATE", 7) == 0,
               "a page it wrote follows the file again");
    munmap(pv, 3 * PAGE);
  }

  memcpy(m + 50, "before-munmap", 13);
  CHECK_RET(N(k, "munmap_shared"), munmap(m, 3 * PAGE));
  check_true(N(k, "pread_after_munmap"), pread_is(fd, 50, "before-munmap"), "pread does not see it");

  /* Grow with ftruncate, map the new size, write past the old end. */
  CHECK_RET(N(k, "ftruncate_grow_5_pages"), ftruncate(fd, 5 * PAGE));
  m = map_line(N(k, "mmap_grown"), 5 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return;
  check_true(N(k, "grown_old_bytes"), memcmp(m + 50, "before-munmap", 13) == 0, "old bytes lost");
  check_true(N(k, "grown_part_zero"), m[3 * PAGE] == 0 && m[5 * PAGE - 1] == 0, "not zero");
  memcpy(m + 4 * PAGE + 7, "beyond-old-end", 14);
  check_true(N(k, "write_past_old_end"), pread_is(fd, 4 * PAGE + 7, "beyond-old-end"),
             "pread does not see it");

  /* Shrink under the mapping: the page past EOF is SIGBUS; grown again it is zero. */
  CHECK_RET(N(k, "ftruncate_shrink_1_page"), ftruncate(fd, PAGE));
  c = fork_flushed();
  if (c == 0) {
    signal(SIGBUS, SIG_DFL);
    (void)*(volatile char *)(m + 4 * PAGE + 7);
    _exit(0);
  }
  reap(N(k, "touch_past_eof"), c);
  c = fork_flushed();
  if (c == 0) _exit(*(volatile char *)(m + PAGE - 1) == 0 && m[50] == 'b' ? 0 : 1);
  reap(N(k, "touch_last_page_before_eof"), c);
  CHECK_RET(N(k, "ftruncate_regrow"), ftruncate(fd, 5 * PAGE));
  check_true(N(k, "regrown_reads_zero"), m[4 * PAGE + 7] == 0, "the truncated bytes came back");
  munmap(m, 5 * PAGE);
}

int main(void) {
  check_begin();
  char base[] = "/tmp/moat-conf-XXXXXX";
  errno = 0;
  char *made = mkdtemp(base);
  check_true("mkdtemp", made != NULL, check_errno_name(errno));
  if (made == NULL) return check_end();
  char p[256];
  snprintf(p, sizeof p, "%s/f", base);

  errno = 0;
  int fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0600);
  check_nonneg("open_tmp_file", fd, errno);
  if (fd >= 0) file_suite("tmp", fd);
  errno = 0;
  int mfd = memfd_create("moat-conf", MFD_CLOEXEC);
  check_nonneg("memfd_create", mfd, errno);
  if (mfd >= 0) file_suite("memfd", mfd);
  if (mfd >= 0) close(mfd);

  /* Rights: the fd's open mode limits shared writable mappings, now and later. */
  if (fd >= 0) {
    pwrite(fd, "ro-check", 8, 0);
    close(fd);
  }
  int ro = open(p, O_RDONLY);
  char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
  check_ret("rdonly_fd_mmap_shared_write", m == MAP_FAILED ? -1 : 0, errno);
  if (m != MAP_FAILED) munmap(m, PAGE);
  m = map_line("rdonly_fd_mmap_shared_read", PAGE, PROT_READ, MAP_SHARED, ro, 0);
  if (m != MAP_FAILED) {
    CHECK_RET("rdonly_fd_mprotect_write", mprotect(m, PAGE, PROT_READ | PROT_WRITE));
    CHECK_RET("rdonly_fd_mprotect_read", mprotect(m, PAGE, PROT_READ));
    munmap(m, PAGE);
  }
  m = map_line("rdonly_fd_mmap_private_write", PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
  if (m != MAP_FAILED) {
    memcpy(m, "XXXXXXXX", 8);
    check_true("rdonly_fd_private_write_not_in_file", pread_is(ro, 0, "ro-check"),
               "the file changed");
    munmap(m, PAGE);
  }
  int wo = open(p, O_WRONLY);
  errno = 0;
  m = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, wo, 0);
  check_ret("wronly_fd_mmap_shared", m == MAP_FAILED ? -1 : 0, errno);
  if (m != MAP_FAILED) munmap(m, PAGE);
  close(wo);
  close(ro);

  /* A 4 GiB read-only shared mapping of a sparse file: first and last byte are zero. */
  snprintf(p, sizeof p, "%s/sparse", base);
  fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0600);
  CHECK_RET("sparse_ftruncate_4g", ftruncate(fd, 4L << 30));
  m = map_line("sparse_mmap_4g", 4L << 30, PROT_READ, MAP_SHARED, fd, 0);
  if (m != MAP_FAILED) {
    check_true("sparse_first_last_zero", m[0] == 0 && m[(4L << 30) - 1] == 0, "not zero");
    pwrite(fd, "E", 1, (4L << 30) - 1);
    check_true("sparse_pwrite_at_end_seen", m[(4L << 30) - 1] == 'E', "the mapping does not show it");
    /* msync: flags and ranges. */
    CHECK_RET("msync_async", msync(m, PAGE, MS_ASYNC));
    CHECK_RET("msync_invalidate", msync(m, PAGE, MS_INVALIDATE));
    CHECK_RET("msync_sync_and_async", msync(m, PAGE, MS_SYNC | MS_ASYNC));
    CHECK_RET("msync_unknown_flag", msync(m, PAGE, 0x100));
    CHECK_RET("msync_unaligned", msync(m + 1, PAGE, MS_SYNC));
    CHECK_RET("msync_zero_len", msync(m, 0, MS_SYNC));
    CHECK_RET("munmap_sparse", munmap(m, 4L << 30));
    CHECK_RET("msync_unmapped", msync(m, PAGE, MS_SYNC));
  }
  close(fd);
  unlink(p);
  snprintf(p, sizeof p, "%s/f", base);
  unlink(p);
  CHECK_RET("rmdir_base", rmdir(base));

  /* memfd seals: a writable shared mapping blocks F_SEAL_WRITE. */
  errno = 0;
  int sfd = memfd_create("moat-conf-seal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  check_nonneg("memfd_sealing", sfd, errno);
  CHECK_RET("memfd_write", write(sfd, "sealed-bytes", 12));
  CHECK_RET("memfd_get_seals_none", fcntl(sfd, F_GET_SEALS));
  m = map_line("seal_memfd_mmap_shared_rw", PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
  if (m != MAP_FAILED) {
    check_true("memfd_mapping_shows_write", memcmp(m, "sealed-bytes", 12) == 0, "wrong bytes");
    CHECK_RET("seal_write_while_mapped", fcntl(sfd, F_ADD_SEALS, F_SEAL_WRITE));
    CHECK_RET("get_seals_after_ebusy", fcntl(sfd, F_GET_SEALS));
    munmap(m, PAGE);
  }
  CHECK_RET("seal_write_after_munmap", fcntl(sfd, F_ADD_SEALS, F_SEAL_WRITE));
  CHECK_RET("get_seals_write", fcntl(sfd, F_GET_SEALS));
  CHECK_RET("write_after_seal", write(sfd, "x", 1));
  CHECK_RET("pwrite_after_seal", pwrite(sfd, "x", 1, 0));
  errno = 0;
  m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
  check_ret("mmap_shared_rw_after_seal", m == MAP_FAILED ? -1 : 0, errno);
  if (m != MAP_FAILED) munmap(m, PAGE);
  m = map_line("mmap_private_rw_after_seal", PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, sfd, 0);
  if (m != MAP_FAILED) {
    m[0] = 'S';
    check_true("private_write_after_seal_not_in_file", pread_is(sfd, 0, "sealed-bytes"),
               "the file changed");
    munmap(m, PAGE);
  }
  CHECK_RET("seal_shrink_grow", fcntl(sfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
  CHECK_RET("ftruncate_shrink_sealed", ftruncate(sfd, 1));
  CHECK_RET("ftruncate_grow_sealed", ftruncate(sfd, 2 * PAGE));
  CHECK_RET("seal_seal", fcntl(sfd, F_ADD_SEALS, F_SEAL_SEAL));
  CHECK_RET("add_seal_after_seal_seal", fcntl(sfd, F_ADD_SEALS, F_SEAL_GROW));
  CHECK_RET("get_seals_all", fcntl(sfd, F_GET_SEALS));
  close(sfd);
  errno = 0;
  int nfd = memfd_create("moat-conf-nosealing", MFD_CLOEXEC);
  CHECK_RET("memfd_no_sealing_get_seals", fcntl(nfd, F_GET_SEALS));
  CHECK_RET("memfd_no_sealing_add_seals", fcntl(nfd, F_ADD_SEALS, F_SEAL_WRITE));
  close(nfd);

  /* POSIX shared memory: parent and child map one object by name. */
  struct stat st;
  if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) {
    char name[64];
    snprintf(name, sizeof name, "/moat-conf-%ld", (long)getpid());
    errno = 0;
    int shm = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    check_nonneg("shm_open_create", shm, errno);
    CHECK_RET("shm_ftruncate", ftruncate(shm, PAGE));
    m = map_line("shm_mmap", PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
    pid_t c = fork_flushed();
    if (c == 0) {
      int cfd = shm_open(name, O_RDWR, 0);
      if (cfd < 0) _exit(1);
      char *cm = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
      if (cm == MAP_FAILED) _exit(2);
      memcpy(cm + 8, "shm-child", 9);
      _exit(0);
    }
    reap("shm_child_opens_and_writes", c);
    check_true("shm_child_write_seen", m != MAP_FAILED && memcmp(m + 8, "shm-child", 9) == 0,
               "the parent does not see it");
    CHECK_RET("shm_open_excl_again", shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600));
    CHECK_RET("shm_unlink", shm_unlink(name));
    CHECK_RET("shm_open_after_unlink", shm_open(name, O_RDWR, 0));
    check_true("shm_mapping_outlives_unlink", m != MAP_FAILED && memcmp(m + 8, "shm-child", 9) == 0,
               "the bytes are gone");
    if (m != MAP_FAILED) munmap(m, PAGE);
    close(shm);
  } else {
    /* No /dev/shm: the lines a Linux with one prints. */
    printf("shm_open_create: ret=ok errno=0\n");
    printf("shm_ftruncate: ret=0 errno=0\n");
    printf("shm_mmap: ret=0 errno=0\n");
    printf("shm_child_opens_and_writes: exited 0\n");
    printf("shm_child_write_seen: ok\n");
    printf("shm_open_excl_again: ret=-1 errno=EEXIST\n");
    printf("shm_unlink: ret=0 errno=0\n");
    printf("shm_open_after_unlink: ret=-1 errno=ENOENT\n");
    printf("shm_mapping_outlives_unlink: ok\n");
  }
  return check_end();
}
