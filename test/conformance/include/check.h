/*
 * Conformance check helpers, shared by every case in ../cases and ../moat_only.
 *
 * What it is for: each check prints exactly one line, "<name>: ret=<value> errno=<NAME>", or
 * "<name>: ok" / "<name>: FAIL <why>" for a property the program verifies itself. The suite
 * runs a case natively and under moat and compares the lines by name, so a line must hold
 * only what is the same on every correct Linux: never an address, a pid, a time, an inode
 * number or a host-specific size.
 * What it must never do: print anything else on stdout, or let stdio buffering reorder
 * lines with the case's own write(2)s to fd 1 (stdout is line buffered from CHECK_BEGIN).
 */
#ifndef MOAT_CONFORMANCE_CHECK_H
#define MOAT_CONFORMANCE_CHECK_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int check_failures;

static __attribute__((unused)) const char *check_errno_name(int e) {
  if (e == 0) return "0";
  const char *n = strerrorname_np(e);
  return n != NULL ? n : "E?";
}

static __attribute__((unused)) void check_begin(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/* A call's return value and errno; errno is printed only when the call failed. */
static __attribute__((unused)) void check_ret(const char *name, long ret, int err) {
  printf("%s: ret=%ld errno=%s\n", name, ret, ret < 0 ? check_errno_name(err) : "0");
}

/* For calls whose success value varies (addresses, counts from the host): success is "ok". */
static __attribute__((unused)) void check_nonneg(const char *name, long ret, int err) {
  if (ret >= 0)
    printf("%s: ret=ok errno=0\n", name);
  else
    printf("%s: ret=%ld errno=%s\n", name, ret, check_errno_name(err));
}

/* A property the case verifies itself. */
static __attribute__((unused)) void check_true(const char *name, int cond, const char *why) {
  if (cond) {
    printf("%s: ok\n", name);
  } else {
    printf("%s: FAIL %s\n", name, why);
    check_failures++;
  }
}

/* Evaluates expr with errno cleared, then reports it with check_ret / check_nonneg. */
#define CHECK_RET(name, expr)                                                                  \
  do {                                                                                         \
    errno = 0;                                                                                 \
    long check_r_ = (long)(expr);                                                              \
    check_ret((name), check_r_, errno);                                                        \
  } while (0)

#define CHECK_NONNEG(name, expr)                                                               \
  do {                                                                                         \
    errno = 0;                                                                                 \
    long check_r_ = (long)(expr);                                                              \
    check_nonneg((name), check_r_, errno);                                                     \
  } while (0)

/* A bad user pointer: the first page is never mapped on Linux (vm.mmap_min_addr). */
#define BAD_PTR ((void *)1)

/* Exit status of a case: 0 when every self-verified property held. */
/* Runs f in a child of its own (a check that changes the process's credentials or limits),
   and waits for it. */
static __attribute__((unused)) void check_in_child(void (*f)(void)) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    f();
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

static __attribute__((unused)) int check_end(void) { return check_failures == 0 ? 0 : 1; }

#endif
