/*
 * Conformance case: the vDSO. The process is given one (AT_SYSINFO_EHDR, [vdso] and [vvar] in
 * its maps); its dynamic symbols name clock_gettime, gettimeofday, time and getcpu; called
 * directly, each agrees with the system call it stands for, its clocks never run backwards,
 * interleaved with the system calls either, and a clock it does not answer itself (a CPU-time
 * clock, a bad id) comes back from the system call. The test suite also runs this case under
 * `moat do --debug` and checks that the 100,000 calls per function made here were not trapped.
 * Nothing variable is printed.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define CALLS 100000

typedef long (*cg_fn)(long, struct timespec *);
typedef long (*gtod_fn)(struct timeval *, struct timezone *);
typedef long (*time_fn)(long *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

/* Finds a dynamic symbol of the vDSO at `base` by name, through its program headers. */
static void *vdso_sym(uintptr_t base, const char *name) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
  uintptr_t bias = 0;
  const Elf64_Dyn *dyn = NULL;
  int have_load = 0;
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD && !have_load) {
      bias = base + ph[i].p_offset - ph[i].p_vaddr;
      have_load = 1;
    } else if (ph[i].p_type == PT_DYNAMIC) {
      dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
  }
  if (dyn == NULL || !have_load) return NULL;
  const Elf64_Sym *sym = NULL;
  const char *str = NULL;
  const Elf32_Word *hash = NULL;
  const Elf32_Word *gnu = NULL;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_SYMTAB) sym = (const Elf64_Sym *)(bias + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_STRTAB) str = (const char *)(bias + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_HASH) hash = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_GNU_HASH) gnu = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
  }
  if (sym == NULL || str == NULL || (hash == NULL && gnu == NULL)) return NULL;
  /* The symbol count: DT_HASH's nchain, or (Linux's own vDSO) a walk of DT_GNU_HASH. */
  unsigned n = 0;
  if (hash != NULL) {
    n = hash[1];
  } else {
    uint32_t nb = gnu[0], symoff = gnu[1], bloom = gnu[2];
    const uint32_t *buckets = (const uint32_t *)((const uint64_t *)(gnu + 4) + bloom);
    const uint32_t *chain = buckets + nb;
    uint32_t last = 0;
    for (uint32_t b = 0; b < nb; b++)
      if (buckets[b] > last) last = buckets[b];
    if (last >= symoff) {
      while ((chain[last - symoff] & 1) == 0) last++;
      n = last + 1;
    }
  }
  for (unsigned i = 1; i < n; i++) {
    if (sym[i].st_shndx == SHN_UNDEF || ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC) continue;
    if (strcmp(str + sym[i].st_name, name) == 0) return (void *)(bias + sym[i].st_value);
  }
  return NULL;
}

static long long ns_of(const struct timespec *t) { return (long long)t->tv_sec * 1000000000LL + t->tv_nsec; }

static int maps_have(const char *what) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 0;
  char line[512];
  int found = 0;
  while (fgets(line, sizeof line, f) != NULL)
    if (strstr(line, what) != NULL) found = 1;
  fclose(f);
  return found;
}

int main(void) {
  check_begin();
  /* Long enough for a new sandbox to have calibrated its clock before the loops below. */
  struct timespec settle = {0, 30 * 1000 * 1000};
  nanosleep(&settle, NULL);
  uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
  check_true("auxv_sysinfo_ehdr", base != 0, "no AT_SYSINFO_EHDR");
  if (base == 0) return check_end();
  check_true("maps_vdso", maps_have("[vdso]"), "no [vdso] in /proc/self/maps");
  check_true("maps_vvar", maps_have("[vvar]"), "no [vvar] in /proc/self/maps");
  check_true("elf_magic", memcmp((void *)base, ELFMAG, SELFMAG) == 0, "not an ELF image");
  cg_fn cg = (cg_fn)vdso_sym(base, "__vdso_clock_gettime");
  gtod_fn gtod = (gtod_fn)vdso_sym(base, "__vdso_gettimeofday");
  time_fn tm = (time_fn)vdso_sym(base, "__vdso_time");
  getcpu_fn gc = (getcpu_fn)vdso_sym(base, "__vdso_getcpu");
  check_true("sym_clock_gettime", cg != NULL, "missing");
  check_true("sym_gettimeofday", gtod != NULL, "missing");
  check_true("sym_time", tm != NULL, "missing");
  check_true("sym_getcpu", gc != NULL, "missing");
  check_true("sym_missing_is_missing", vdso_sym(base, "__vdso_no_such_call") == NULL, "found");
  if (cg == NULL || gtod == NULL || tm == NULL || gc == NULL) return check_end();

  const int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME};
  const char *names[] = {"realtime", "monotonic", "monotonic_raw", "boottime"};
  for (int c = 0; c < 4; c++) {
    char name[64];
    struct timespec v, s, v2;
    long r1 = cg(clocks[c], &v);
    syscall(SYS_clock_gettime, clocks[c], &s);
    long r2 = cg(clocks[c], &v2);
    snprintf(name, sizeof name, "vdso_%s_ret", names[c]);
    check_true(name, r1 == 0 && r2 == 0, "nonzero return");
    snprintf(name, sizeof name, "vdso_%s_brackets_syscall", names[c]);
    check_true(name, ns_of(&v) <= ns_of(&s) + 1000 && ns_of(&s) <= ns_of(&v2) + 1000,
               "vdso and system call disagree on the order of events");
    snprintf(name, sizeof name, "vdso_%s_nsec_in_range", names[c]);
    check_true(name, v.tv_nsec >= 0 && v.tv_nsec < 1000000000L, "tv_nsec out of range");
  }
  /* Coarse clocks may lag by a tick: only their order with a later precise reading. */
  struct timespec co, pr;
  cg(CLOCK_MONOTONIC_COARSE, &co);
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &pr);
  check_true("vdso_coarse_not_ahead", ns_of(&co) <= ns_of(&pr) + 1000, "coarse clock ahead");

  int back = 0;
  struct timespec prev, now;
  cg(CLOCK_MONOTONIC, &prev);
  for (int i = 0; i < CALLS; i++) {
    cg(CLOCK_MONOTONIC, &now);
    if (ns_of(&now) < ns_of(&prev)) back++;
    prev = now;
  }
  check_true("vdso_monotonic_never_back", back == 0, "the monotonic clock ran backwards");

  struct timeval tv;
  struct timezone tz = {77, 77};
  long tbefore = (long)syscall(SYS_time, NULL);
  long gret = 0;
  for (int i = 0; i < CALLS; i++) gret |= gtod(&tv, &tz);
  long tafter = (long)syscall(SYS_time, NULL);
  check_true("vdso_gettimeofday_ret", gret == 0, "nonzero return");
  check_true("vdso_gettimeofday_in_range", tv.tv_sec >= tbefore && tv.tv_sec <= tafter && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
             "gettimeofday outside time()'s bracket");
  check_true("vdso_gettimeofday_tz_utc", tz.tz_minuteswest == 0 && tz.tz_dsttime == 0, "timezone not UTC");
  CHECK_RET("vdso_gettimeofday_null", gtod(NULL, NULL));

  long t = 0, tl = 0;
  for (int i = 0; i < CALLS; i++) t = tm(&tl);
  long ts = (long)syscall(SYS_time, NULL);
  check_true("vdso_time_agrees", t == tl && t <= ts && ts - t <= 1, "time() disagrees with the system call");
  check_true("vdso_time_null", tm(NULL) > 0, "time(NULL) failed");

  unsigned cpu = 9999, node = 9999;
  long cret = 0;
  for (int i = 0; i < CALLS; i++) cret |= gc(&cpu, &node, NULL);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  check_true("vdso_getcpu_in_range", cret == 0 && (long)cpu < ncpu && node == 0, "cpu or node out of range");
  CHECK_RET("vdso_getcpu_null", gc(NULL, NULL, NULL));

  /* Clocks the vDSO passes on: the raw system call's answers (negative errnos). */
  struct timespec cpuclk;
  CHECK_RET("vdso_process_cputime", cg(CLOCK_PROCESS_CPUTIME_ID, &cpuclk));
  CHECK_RET("vdso_thread_cputime", cg(CLOCK_THREAD_CPUTIME_ID, &cpuclk));
  CHECK_RET("vdso_bad_clock", cg(-77, &cpuclk));
  CHECK_RET("vdso_clock_100", cg(100, &cpuclk));
  CHECK_RET("vdso_bad_pointer_via_fallback", cg(CLOCK_PROCESS_CPUTIME_ID, BAD_PTR));

  /* glibc's own entry points, which go through the vDSO. */
  struct timespec g;
  CHECK_RET("libc_clock_gettime", clock_gettime(CLOCK_MONOTONIC, &g));
  CHECK_RET("libc_clock_gettime_bad_clock", clock_gettime(-77, &g));
  return check_end();
}
