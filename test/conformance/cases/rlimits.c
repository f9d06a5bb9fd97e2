/*
 * Conformance case: resource limits that the kernel enforces: RLIMIT_AS on mmap and brk,
 * RLIMIT_DATA on the heap and on private writable mappings, RLIMIT_NPROC on fork for a
 * non-root user (a uid no other process here uses), and setrlimit's own rules (soft above
 * hard, raising a hard limit as that user), RLIMIT_FSIZE on writes (short, then EFBIG, and
 * SIGXFSZ whose default action ends the process). Each in a child of its own.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024L * 1024L)

static long map(long len, int prot) {
  void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  munmap(p, len);
  return 0;
}

static void address_space(void) {
  struct rlimit r = {256 * MIB, 256 * MIB};
  CHECK_RET("set_as", setrlimit(RLIMIT_AS, &r));
  CHECK_RET("mmap_past_as", map(512 * MIB, PROT_READ));
  CHECK_RET("mmap_within_as", map(16 * MIB, PROT_READ));
  errno = 0;
  void *cur = sbrk(0);
  void *r2 = sbrk(512 * MIB);
  check_ret("sbrk_past_as", r2 == (void *)-1 ? -1 : 0, errno);
  check_true("break_unchanged", sbrk(0) == cur, "the break moved");
}

static void data(void) {
  struct rlimit r = {64 * MIB, 64 * MIB};
  CHECK_RET("set_data", setrlimit(RLIMIT_DATA, &r));
  errno = 0;
  void *r2 = sbrk(128 * MIB);
  check_ret("sbrk_past_data", r2 == (void *)-1 ? -1 : 0, errno);
  errno = 0;
  r2 = sbrk(1 * MIB);
  check_ret("sbrk_within_data", r2 == (void *)-1 ? -1 : 0, errno);
  CHECK_RET("mmap_writable_past_data", map(128 * MIB, PROT_READ | PROT_WRITE));
  CHECK_RET("mmap_readonly_past_data", map(128 * MIB, PROT_READ));
  CHECK_RET("mmap_writable_within_data", map(8 * MIB, PROT_READ | PROT_WRITE));
}

static void nproc(void) {
  CHECK_RET("setresuid", syscall(SYS_setresuid, 54321, 54321, 54321));
  struct rlimit r = {1, 1};
  CHECK_RET("set_nproc", setrlimit(RLIMIT_NPROC, &r));
  fflush(stdout);
  errno = 0;
  pid_t p = fork();
  if (p == 0) _exit(0);
  check_ret("fork_past_nproc", p < 0 ? -1 : 0, errno);
  if (p > 0) waitpid(p, NULL, 0);
  r.rlim_max = 2;
  CHECK_RET("raise_hard_unprivileged", setrlimit(RLIMIT_NPROC, &r));
  r.rlim_cur = 5;
  r.rlim_max = 1;
  CHECK_RET("soft_above_hard", setrlimit(RLIMIT_NPROC, &r));
}

static void file_size(void) {
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit r = {10000, 10000};
  CHECK_RET("set_fsize", setrlimit(RLIMIT_FSIZE, &r));
  char path[64], buf[8192] = {0};
  snprintf(path, sizeof path, "/tmp/moat-fsize-%d", (int)getpid());
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
  check_true("open_tmp", fd >= 0, "open /tmp failed");
  CHECK_RET("write_within", write(fd, buf, 8192));
  CHECK_RET("write_crossing", write(fd, buf, 8192));
  CHECK_RET("write_past", write(fd, buf, 1));
  CHECK_RET("pwrite_past", pwrite(fd, buf, 1, 20000));
  CHECK_RET("pwrite_before", pwrite(fd, buf, 10, 0));
  close(fd);
  unlink(path);
}

static void file_size_signal(void) {
  struct rlimit r = {100, 100};
  setrlimit(RLIMIT_FSIZE, &r);
  char path[64], buf[200] = {0};
  snprintf(path, sizeof path, "/tmp/moat-fsize-sig-%d", (int)getpid());
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  unlink(path);
  write(fd, buf, 100);
  write(fd, buf, 1); /* SIGXFSZ: the default action ends the process */
  printf("fsize_signal: not killed\n");
}

int main(void) {
  check_begin();
  check_in_child(address_space);
  check_in_child(data);
  check_in_child(nproc);
  check_in_child(file_size);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    file_size_signal();
    _exit(0);
  }
  int st = 0;
  waitpid(p, &st, 0);
  printf("fsize_signal_end: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  return check_end();
}
