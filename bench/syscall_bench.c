/*
 * Micro-benchmark of system call costs, run inside a container by bench/run.ts under runc,
 * runsc and moat. For each operation it runs batches of doubling size until at least
 * min_ms milliseconds have passed, then prints one line "op ns_per_op".
 *   getppid     the raw system call (glibc caches nothing for it)
 *   stat        newfstatat of a small file of the root file system
 *   open_close  openat + close of the same file
 *   open_read_close  openat + read of up to 4 KiB + close of the same file
 *   read64k     pread64 of 64 KiB, cycling over a 1 MiB data file shipped in the bundle
 *   fork_wait   fork, the child _exits at once, the parent waits for it
 *   fork_exec_wait  fork, the child execs /bin/true (busybox), the parent waits for it
 *   getppid_parked1000  getppid again, with 1000 other threads parked in FUTEX_WAIT
 *   clock_gettime  CLOCK_MONOTONIC through libc (the vDSO where the runtime offers one)
 *   pipe_pingpong  one byte to a child process over a pipe and back over another
 *   tcp_pingpong   one byte to a child process over a loopback TCP connection and back
 *   tcp_stream64k  64 KiB written to a loopback TCP connection a child drains
 * It must never write to the file system (the root may be read-only) and prints nothing
 * but result lines on stdout; errors go to stderr with a non-zero exit.
 * Usage: syscall_bench <data file, 1 MiB> <small file> [min_ms]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536L
#define DATA_SIZE (1L << 20)

static long min_ns = 300L * 1000000L;
static const char *small_path;
static int data_fd = -1;
static long read_offset;
static char *read_buf;

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void op_getppid(void) { syscall(SYS_getppid); }

static void op_stat(void) {
  struct stat st;
  if (stat(small_path, &st) != 0) die("stat");
}

static void op_open_close(void) {
  int fd = open(small_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open");
  close(fd);
}

static void op_open_read_close(void) {
  char buf[4096];
  int fd = open(small_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open");
  if (read(fd, buf, sizeof buf) < 0) die("read");
  close(fd);
}

static void op_read64k(void) {
  if (pread(data_fd, read_buf, CHUNK, read_offset) != CHUNK) die("pread");
  read_offset = (read_offset + CHUNK) % DATA_SIZE;
}

static void op_fork_wait(void) {
  pid_t c = fork();
  if (c < 0) die("fork");
  if (c == 0) _exit(0);
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("waitpid");
}

static void op_fork_exec_wait(void) {
  pid_t c = fork();
  if (c < 0) die("fork");
  if (c == 0) {
    char *argv[] = {"true", NULL};
    char *envp[] = {NULL};
    execve("/bin/true", argv, envp);
    _exit(127);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("exec /bin/true");
}

/* 1000 threads parked in FUTEX_WAIT on one word, for getppid_parked1000: the cost of a
 * system call must not grow with the number of parked threads. */
#define PARKED 1000
static int park_word;
static int parked_count;
static void *parked(void *arg) {
  (void)arg;
  __atomic_add_fetch(&parked_count, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&park_word, __ATOMIC_SEQ_CST) == 0)
    syscall(SYS_futex, &park_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}
static pthread_t parked_threads[PARKED];
static void park_threads(void) {
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 * 1024);
  for (int i = 0; i < PARKED; i++)
    if (pthread_create(&parked_threads[i], &a, parked, NULL) != 0) die("pthread_create");
  /* Every thread has started; give the last ones time to reach FUTEX_WAIT. */
  while (__atomic_load_n(&parked_count, __ATOMIC_SEQ_CST) < PARKED) sched_yield();
  usleep(100000);
}
static void unpark_threads(void) {
  __atomic_store_n(&park_word, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, &park_word, FUTEX_WAKE_PRIVATE, PARKED, NULL, NULL, 0);
  for (int i = 0; i < PARKED; i++) pthread_join(parked_threads[i], NULL);
}

static void op_clock_gettime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
}

/* A child echoes each byte from ping to pong until ping closes. */
static int ping[2], pong[2];
static pid_t echo_pid;
static void start_echo(void) {
  if (pipe(ping) != 0 || pipe(pong) != 0) die("pipe");
  echo_pid = fork();
  if (echo_pid < 0) die("fork");
  if (echo_pid == 0) {
    close(ping[1]);
    close(pong[0]);
    char c;
    while (read(ping[0], &c, 1) == 1)
      if (write(pong[1], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  close(ping[0]);
  close(pong[1]);
}

static void op_pipe_pingpong(void) {
  char c = 'x';
  if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) die("pipe ping-pong");
}

static void stop_echo(void) {
  close(ping[1]);
  waitpid(echo_pid, NULL, 0);
  close(pong[0]);
}

/* A child connected over loopback TCP that echoes each byte, or drains what comes. */
static int tcp_fd = -1;
static pid_t tcp_pid;
static char *stream_buf;
static void start_tcp_peer(int drain) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr *)&a, &al) != 0)
    die("tcp listen");
  tcp_pid = fork();
  if (tcp_pid < 0) die("fork");
  if (tcp_pid == 0) {
    close(l);
    int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) _exit(1);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static char buf[65536];
    for (;;) {
      ssize_t n = read(c, buf, drain ? sizeof buf : 1);
      if (n <= 0) _exit(0);
      if (!drain && write(c, buf, 1) != 1) _exit(1);
    }
  }
  tcp_fd = accept(l, NULL, NULL);
  close(l);
  int one = 1;
  if (tcp_fd < 0) die("accept");
  setsockopt(tcp_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void stop_tcp_peer(void) {
  close(tcp_fd);
  waitpid(tcp_pid, NULL, 0);
}

static void op_tcp_pingpong(void) {
  char c = 'x';
  if (write(tcp_fd, &c, 1) != 1 || read(tcp_fd, &c, 1) != 1) die("tcp ping-pong");
}

static void op_tcp_stream64k(void) {
  for (long done = 0; done < CHUNK;) {
    ssize_t n = write(tcp_fd, stream_buf + done, CHUNK - done);
    if (n <= 0) die("tcp stream");
    done += n;
  }
}

/* A fixed piece of computation without system calls (~5 ms natively here). */
static volatile unsigned long compute_sink;
static void *compute(void *arg) {
  unsigned long x = (unsigned long)arg;
  for (long i = 0; i < 5000000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  compute_sink = x;
  return NULL;
}

static void op_compute_1thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, compute, (void *)1);
  pthread_join(t, NULL);
}

/* The same computation in each of two threads at once: as long as one where two CPUs run them. */
static void op_compute_2threads(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, compute, (void *)1);
  pthread_create(&b, NULL, compute, (void *)2);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
}

static void measure(const char *name, void (*op)(void)) {
  for (int i = 0; i < 16; i++) op(); /* warm caches, fault in buffers */
  long total_ns = 0, total_iters = 0, batch = 1;
  while (total_ns < min_ns) {
    long t0 = now_ns();
    for (long i = 0; i < batch; i++) op();
    total_ns += now_ns() - t0;
    total_iters += batch;
    if (batch < 65536) batch *= 2;
  }
  printf("%s %.1f\n", name, (double)total_ns / (double)total_iters);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <data file> <small file> [min_ms]\n", argv[0]);
    return 2;
  }
  small_path = argv[2];
  if (argc > 3) min_ns = atol(argv[3]) * 1000000L;
  data_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (data_fd < 0) die("open data file");
  struct stat st;
  if (fstat(data_fd, &st) != 0) die("fstat data file");
  if (st.st_size < DATA_SIZE) {
    fprintf(stderr, "data file is %lld bytes, need %ld\n", (long long)st.st_size, DATA_SIZE);
    return 1;
  }
  read_buf = malloc(CHUNK);
  if (read_buf == NULL) die("malloc");
  memset(read_buf, 0, CHUNK);
  measure("getppid", op_getppid);
  measure("stat", op_stat);
  measure("open_close", op_open_close);
  measure("open_read_close", op_open_read_close);
  measure("read64k", op_read64k);
  measure("fork_wait", op_fork_wait);
  measure("fork_exec_wait", op_fork_exec_wait);
  park_threads();
  measure("getppid_parked1000", op_getppid);
  unpark_threads();
  measure("clock_gettime", op_clock_gettime);
  start_echo();
  measure("pipe_pingpong", op_pipe_pingpong);
  stop_echo();
  start_tcp_peer(0);
  measure("tcp_pingpong", op_tcp_pingpong);
  stop_tcp_peer();
  stream_buf = calloc(1, CHUNK);
  start_tcp_peer(1);
  measure("tcp_stream64k", op_tcp_stream64k);
  stop_tcp_peer();
  measure("compute_1thread", op_compute_1thread);
  measure("compute_2threads", op_compute_2threads);
  return 0;
}
