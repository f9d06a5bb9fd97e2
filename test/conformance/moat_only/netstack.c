/*
 * Moat-only check (not differential): the sandbox has its own network stack. With a TCP
 * listener, a connection, a UDP socket and a bound abstract Unix socket open, /proc/net/tcp,
 * udp and unix list exactly these (the host's sockets never appear), /proc/net/dev has only
 * lo, and an address beyond loopback is unreachable (no network is attached in `moat do`).
 */
#include "../include/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

static int count_lines(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL)
    if (needle == NULL || strstr(line, needle) != NULL) n++;
  fclose(f);
  return n;
}

int main(void) {
  check_begin();
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(4242)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_RET("bind_4242", bind(l, (struct sockaddr *)&a, sizeof a));
  listen(l, 3);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_RET("connect", connect(c, (struct sockaddr *)&a, sizeof a));
  int s = accept(l, NULL, NULL);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua = a;
  ua.sin_port = htons(5353);
  bind(u, (struct sockaddr *)&ua, sizeof ua);
  int x = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un xa = {.sun_family = AF_UNIX};
  memcpy(xa.sun_path, "\0moat-netstack-check", 20);
  bind(x, (struct sockaddr *)&xa, sizeof(sa_family_t) + 20);
  /* 4242 = 0x1092; the listener (0A) and both ends of the connection (01). */
  printf("tcp_lines: %d\n", count_lines("/proc/net/tcp", NULL));
  printf("tcp_listen: %d\n", count_lines("/proc/net/tcp", "0100007F:1092 00000000:0000 0A"));
  printf("tcp_established: %d\n", count_lines("/proc/net/tcp", " 01 "));
  printf("udp_5353: %d\n", count_lines("/proc/net/udp", "0100007F:14E9"));
  printf("udp_lines: %d\n", count_lines("/proc/net/udp", NULL));
  printf("unix_abstract: %d\n", count_lines("/proc/net/unix", "@moat-netstack-check"));
  printf("dev_lo: %d\n", count_lines("/proc/net/dev", "lo:"));
  printf("dev_lines: %d\n", count_lines("/proc/net/dev", NULL));
  int far = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in fa = {.sin_family = AF_INET, .sin_port = htons(53)};
  fa.sin_addr.s_addr = inet_addr("192.0.2.1");
  CHECK_RET("connect_beyond_loopback", connect(far, (struct sockaddr *)&fa, sizeof fa));
  CHECK_RET("socket_inet6", socket(AF_INET6, SOCK_STREAM, 0));
  close(far);
  close(s);
  close(c);
  close(l);
  close(u);
  close(x);
  return check_end();
}
