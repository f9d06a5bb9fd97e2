/*
 * The extended FPU state (AVX's ymm registers) across a signal handler, as the kernel keeps
 * it: the frame holds the whole XSAVE image (uc_flags has UC_FP_XSTATE, the software bytes
 * carry FP_XSTATE_MAGIC1 and the sizes, FP_XSTATE_MAGIC2 follows the image), a handler that
 * clobbers every ymm register does not change what the interrupted code sees after
 * rt_sigreturn, a value the handler writes into the frame's image is what the interrupted code
 * gets back, a frame whose XSAVE header has reserved bits set is refused (SIGSEGV), and a fork
 * child starts with its parent's ymm registers. On a CPU without AVX
 * every check is reported as passed (the output must not depend on the CPU).
 * variants: static dynamic
 */
#include "../include/check.h"

#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>

#ifndef UC_FP_XSTATE
#define UC_FP_XSTATE 0x1
#endif
#define MAGIC1 0x46505853u
#define MAGIC2 0x46505845u

static uint8_t before[16][32], after[16][32];
static int have_avx;
static unsigned ymm_hi_offset; /* where the upper halves live in the XSAVE image */
static int frame_flags_ok, frame_magic_ok, frame_sizes_ok, frame_magic2_ok;
static int write_into_frame;
static int corrupt_header;

#define STORE_ALL(buf)                                                                          \
  __asm__ volatile("vmovdqu %%ymm0, 0(%0)\n vmovdqu %%ymm1, 32(%0)\n vmovdqu %%ymm2, 64(%0)\n"  \
                   "vmovdqu %%ymm3, 96(%0)\n vmovdqu %%ymm4, 128(%0)\n vmovdqu %%ymm5, 160(%0)\n" \
                   "vmovdqu %%ymm6, 192(%0)\n vmovdqu %%ymm7, 224(%0)\n vmovdqu %%ymm8, 256(%0)\n" \
                   "vmovdqu %%ymm9, 288(%0)\n vmovdqu %%ymm10, 320(%0)\n"                      \
                   "vmovdqu %%ymm11, 352(%0)\n vmovdqu %%ymm12, 384(%0)\n"                     \
                   "vmovdqu %%ymm13, 416(%0)\n vmovdqu %%ymm14, 448(%0)\n"                     \
                   "vmovdqu %%ymm15, 480(%0)\n" ::"r"(buf)                                     \
                   : "memory")

#define LOAD_ALL(buf)                                                                           \
  __asm__ volatile("vmovdqu 0(%0), %%ymm0\n vmovdqu 32(%0), %%ymm1\n vmovdqu 64(%0), %%ymm2\n"  \
                   "vmovdqu 96(%0), %%ymm3\n vmovdqu 128(%0), %%ymm4\n vmovdqu 160(%0), %%ymm5\n" \
                   "vmovdqu 192(%0), %%ymm6\n vmovdqu 224(%0), %%ymm7\n vmovdqu 256(%0), %%ymm8\n" \
                   "vmovdqu 288(%0), %%ymm9\n vmovdqu 320(%0), %%ymm10\n"                      \
                   "vmovdqu 352(%0), %%ymm11\n vmovdqu 384(%0), %%ymm12\n"                     \
                   "vmovdqu 416(%0), %%ymm13\n vmovdqu 448(%0), %%ymm14\n"                     \
                   "vmovdqu 480(%0), %%ymm15\n" ::"r"(buf)                                     \
                   : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",  \
                     "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15")

static void on_signal(int sig, siginfo_t *si, void *ucv) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
  frame_flags_ok = (uc->uc_flags & UC_FP_XSTATE) != 0;
  uint32_t magic1, extended, xsize;
  memcpy(&magic1, fp + 464, 4);
  memcpy(&extended, fp + 468, 4);
  memcpy(&xsize, fp + 480, 4);
  frame_magic_ok = magic1 == MAGIC1;
  frame_sizes_ok = extended == xsize + 4 && xsize >= 576 + 256;
  uint32_t magic2 = 0;
  if (frame_magic_ok && frame_sizes_ok) memcpy(&magic2, fp + xsize, 4);
  frame_magic2_ok = magic2 == MAGIC2;
  if (write_into_frame && frame_magic_ok) {
    /* The upper half of ymm1 becomes 0x5a bytes when the interrupted code resumes. */
    memset(fp + ymm_hi_offset + 16, 0x5a, 16);
  }
  if (corrupt_header && frame_magic_ok) {
    /* Reserved bits of the XSAVE header: rt_sigreturn must refuse the frame (SIGSEGV). */
    memset(fp + 512 + 16, 0xff, 8);
  }
  /* Clobber every ymm register, as any AVX code in a handler (memcpy, strlen) may. */
  static uint8_t junk[16][32];
  memset(junk, 0xee, sizeof junk);
  LOAD_ALL(junk);
}

static void fill(uint8_t v[16][32], int seed) {
  for (int r = 0; r < 16; r++)
    for (int b = 0; b < 32; b++) v[r][b] = (uint8_t)(seed + r * 32 + b);
}

/* Loads the registers, raises the signal with a bare system call, stores them again. */
static void round_trip(int seed) {
  fill(before, seed);
  LOAD_ALL(before);
  __asm__ volatile("syscall"
                   :
                   : "a"(SYS_tgkill), "D"(getpid()), "S"(syscall(SYS_gettid)), "d"(SIGUSR1)
                   : "rcx", "r11", "memory");
  STORE_ALL(after);
}

static void in_fork_child(void) {
  fill(before, 7);
  LOAD_ALL(before);
  long pid;
  __asm__ volatile("syscall" : "=a"(pid) : "a"(SYS_fork) : "rcx", "r11", "memory");
  if (pid == 0) {
    STORE_ALL(after);
    int same = memcmp(before, after, sizeof before) == 0;
    _exit(same ? 0 : 1);
  }
  int st = 0;
  waitpid((pid_t)pid, &st, 0);
  check_true("fork_child_keeps_ymm", WIFEXITED(st) && WEXITSTATUS(st) == 0,
             "the child's ymm registers differ from its parent's");
}

int main(void) {
  check_begin();
  unsigned a = 0, b = 0, c = 0, d = 0;
  have_avx = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2) != 0 &&
             __get_cpuid_count(0xd, 2, &a, &b, &c, &d) && b != 0;
  ymm_hi_offset = b;
  if (!have_avx) {
    const char *names[] = {"uc_flags_fp_xstate", "sw_bytes_magic1", "sw_bytes_sizes",
                           "magic2_after_image", "ymm_kept_across_handler",
                           "frame_image_restored", "fork_child_keeps_ymm"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) check_true(names[i], 1, "");
    printf("corrupt_header_end: SEGV\n");
    return check_end();
  }
  struct sigaction sa = {0};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);

  round_trip(1);
  check_true("uc_flags_fp_xstate", frame_flags_ok, "uc_flags lacks UC_FP_XSTATE");
  check_true("sw_bytes_magic1", frame_magic_ok, "no FP_XSTATE_MAGIC1 in sw_reserved");
  check_true("sw_bytes_sizes", frame_sizes_ok, "extended_size != xstate_size + 4");
  check_true("magic2_after_image", frame_magic2_ok, "no FP_XSTATE_MAGIC2 after the image");
  check_true("ymm_kept_across_handler", memcmp(before, after, sizeof before) == 0,
             "the handler's ymm values leaked into the interrupted code");

  write_into_frame = 1;
  round_trip(100);
  uint8_t want[16][32];
  memcpy(want, before, sizeof want);
  memset(&want[1][16], 0x5a, 16);
  check_true("frame_image_restored", memcmp(want, after, sizeof want) == 0,
             "the image in the frame was not what rt_sigreturn restored");
  write_into_frame = 0;

  in_fork_child();

  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    corrupt_header = 1;
    round_trip(3);
    _exit(0);
  }
  int st = 0;
  waitpid(p, &st, 0);
  printf("corrupt_header_end: %s\n",
         WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "exited");
  return check_end();
}
