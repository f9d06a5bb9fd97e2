/*
 * Conformance case: processes. fork and vfork, the child's view (fork returns 0, getppid is
 * the parent), exit statuses and deaths by signal through wait4/waitpid and waitid, WNOHANG,
 * ECHILD, SIGCHLD with its siginfo, a pipe between parent and child carrying more than its
 * capacity, SIGPIPE for a writer whose reader is gone, kill of a child and of a process group,
 * execve of the program itself with new arguments and environment, and execve's errors.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld_count;
static volatile int chld_code, chld_status, chld_pid;

static void on_chld(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  chld_count++;
  chld_code = si->si_code;
  chld_status = si->si_status;
  chld_pid = si->si_pid;
}

static void describe(const char *name, int status) {
  if (WIFEXITED(status))
    printf("%s: exited %d\n", name, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: signaled %d\n", name, WTERMSIG(status));
  else
    printf("%s: other 0x%x\n", name, status);
}

int main(int argc, char **argv, char **envp) {
  (void)envp;
  if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
    /* The image after execve: report what it was given, through the exit status. */
    const char *v = getenv("MOAT_CASE");
    _exit(argc == 3 && strcmp(argv[2], "two") == 0 && v != NULL && strcmp(v, "yes") == 0 ? 42 : 1);
  }
  check_begin();
  fflush(stdout);

  /* Exit status through waitpid; the child's own view. */
  pid_t parent = getpid();
  int fds[2];
  pipe(fds);
  pid_t c = fork();
  if (c == 0) {
    char ok = (getppid() == parent && getpid() != parent) ? 'y' : 'n';
    write(fds[1], &ok, 1);
    _exit(7);
  }
  check_true("fork_returns_child_pid", c > 0, "fork failed");
  char ok = '?';
  read(fds[0], &ok, 1);
  check_true("child_sees_parent", ok == 'y', "getppid in the child is not the parent");
  int st = 0;
  check_true("waitpid_returns_child", waitpid(c, &st, 0) == c, "waitpid did not return the child");
  describe("exit_status", st);
  CHECK_RET("waitpid_again_echild", waitpid(c, &st, 0));
  CHECK_RET("wait_no_children", wait(&st));
  close(fds[0]);
  close(fds[1]);

  /* WNOHANG while the child runs; then a kill. */
  c = fork();
  if (c == 0) {
    for (;;) pause();
  }
  CHECK_RET("wnohang_running", waitpid(c, &st, WNOHANG));
  CHECK_RET("kill_child", kill(c, SIGTERM));
  check_true("wait_killed", waitpid(c, &st, 0) == c, "waitpid did not return the child");
  describe("killed_status", st);

  /* Death by a fault. */
  c = fork();
  if (c == 0) {
    signal(SIGSEGV, SIG_DFL);
    *(volatile int *)8 = 1;
    _exit(0);
  }
  waitpid(c, &st, 0);
  check_true("segv_signaled", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "not killed by SIGSEGV");

  /* SIGCHLD with its siginfo, and waitid. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGCHLD, &sa, NULL);
  c = fork();
  if (c == 0) _exit(3);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  CHECK_RET("waitid_exited", waitid(P_PID, c, &si, WEXITED));
  printf("waitid_info: signo=%d code=%d status=%d pid_matches=%d\n", si.si_signo, si.si_code,
         si.si_status, si.si_pid == c);
  for (int i = 0; i < 1000 && chld_count == 0; i++) usleep(1000);
  printf("sigchld: count=%d code=%d status=%d pid_matches=%d\n", (int)chld_count, chld_code,
         chld_status, chld_pid == c);
  CHECK_RET("waitid_bad_options", waitid(P_ALL, 0, &si, 0));
  CHECK_RET("wait4_bad_options", wait4(-1, &st, 0x100, NULL));
  signal(SIGCHLD, SIG_DFL);

  /* A pipe carrying more than its capacity from a child to its parent. */
  pipe(fds);
  c = fork();
  if (c == 0) {
    close(fds[0]);
    static char buf[200000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 7);
    size_t done = 0;
    while (done < sizeof buf) {
      ssize_t n = write(fds[1], buf + done, sizeof buf - done);
      if (n <= 0) _exit(9);
      done += (size_t)n;
    }
    _exit(0);
  }
  close(fds[1]);
  unsigned long sum = 0, total = 0;
  char rb[4096];
  for (;;) {
    ssize_t n = read(fds[0], rb, sizeof rb);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; i++) sum = sum * 31 + (unsigned char)rb[i];
    total += (unsigned long)n;
  }
  close(fds[0]);
  waitpid(c, &st, 0);
  printf("pipe_transfer: total=%lu sum=%lu\n", total, sum);
  describe("pipe_writer_status", st);

  /* SIGPIPE: the reader is gone (closed before the fork, so no reader exists anywhere when
     the child writes: the order of the two processes cannot change the outcome). */
  pipe(fds);
  close(fds[0]);
  c = fork();
  if (c == 0) {
    signal(SIGPIPE, SIG_DFL);
    write(fds[1], "x", 1);
    _exit(0);
  }
  close(fds[1]);
  waitpid(c, &st, 0);
  describe("sigpipe_status", st);

  /* A process group: two children in a group of their own, killed together. */
  pid_t a = fork();
  if (a == 0) {
    setpgid(0, 0);
    for (;;) pause();
  }
  setpgid(a, a);
  pid_t b = fork();
  if (b == 0) {
    for (;;) pause();
  }
  CHECK_RET("setpgid_second", setpgid(b, a));
  check_true("getpgid_child", getpgid(b) == a, "getpgid(b) != a");
  CHECK_RET("kill_group", kill(-a, SIGKILL));
  int sa_st = 0, sb_st = 0;
  waitpid(a, &sa_st, 0);
  waitpid(b, &sb_st, 0);
  describe("group_a", sa_st);
  describe("group_b", sb_st);
  CHECK_RET("kill_missing_group", kill(-a, 0));

  /* vfork + _exit. */
  c = vfork();
  if (c == 0) _exit(11);
  waitpid(c, &st, 0);
  describe("vfork_status", st);

  /* execve of this program with new arguments and environment. */
  c = fork();
  if (c == 0) {
    char *nargv[] = {argv[0], "exec-child", "two", NULL};
    char *nenv[] = {"MOAT_CASE=yes", NULL};
    execve(argv[0], nargv, nenv);
    _exit(99);
  }
  waitpid(c, &st, 0);
  describe("execve_status", st);

  /* execve's errors leave the caller as it was. */
  char *none[] = {"x", NULL};
  CHECK_RET("execve_missing", execve("/nonexistent/program", none, none));
  CHECK_RET("execve_directory", execve("/", none, none));
  CHECK_RET("execve_bad_path", syscall(SYS_execve, (char *)8, none, none));
  CHECK_RET("execve_bad_argv", syscall(SYS_execve, argv[0], (char **)8, none));
  return check_end();
}
