/*
 * Conformance case: RLIMIT_STACK sizes the stack of a program at exec. The case re-execs
 * itself with a 32 MiB limit and recurses through 20 MiB of stack (which an 8 MiB stack
 * could not hold), then with a 1 MiB limit recurses through 4 MiB and must die of SIGSEGV.
 * Nothing variable is printed.
 * variants: static
 */
#include "../include/check.h"
#include <signal.h>
#include <sys/resource.h>

static int depth_kb(int kb) {
  volatile char pad[1024];
  pad[0] = (char)kb;
  if (kb <= 1) return pad[0];
  return depth_kb(kb - 1) + pad[0] - pad[0] + (kb & 1);
}

static int run_child(const char *self, long limit, const char *kb) {
  pid_t c = fork();
  if (c == 0) {
    struct rlimit r = {limit, limit};
    if (setrlimit(RLIMIT_STACK, &r) != 0) _exit(90);
    execl(self, self, "--recurse", kb, (char *)NULL);
    _exit(91);
  }
  int st = 0;
  waitpid(c, &st, 0);
  return st;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--recurse") == 0) {
    int r = depth_kb(atoi(argv[2]));
    return r >= 0 ? 0 : 1;
  }
  check_begin();
  int st = run_child("/proc/self/exe", 32L << 20, "20480");
  check_true("deep_stack_under_32m_limit", WIFEXITED(st) && WEXITSTATUS(st) == 0,
             "recursion through 20 MiB failed under a 32 MiB RLIMIT_STACK");
  st = run_child("/proc/self/exe", 1L << 20, "4096");
  check_true("overflow_under_1m_limit", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
             "recursion through 4 MiB did not die of SIGSEGV under a 1 MiB RLIMIT_STACK");
  return check_end();
}
