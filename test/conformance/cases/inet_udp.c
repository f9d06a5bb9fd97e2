/*
 * UDP over the loopback interface: socket types and protocols, bind (ephemeral ports, an
 * address of no interface, EADDRINUSE and SO_REUSEADDR), datagrams by address with the
 * source in recvfrom/recvmsg, connect (getpeername, only the peer is heard, AF_UNSPEC), an
 * ICMP port unreachable reported once as ECONNREFUSED to a connected socket, sizes (the
 * largest datagram, EMSGSIZE, truncation and MSG_TRUNC, FIONREAD), poll, shutdown, options,
 * SO_RCVTIMEO, and a blocking receive woken by another process. Never prints a port number.
 * variants: static dynamic
 */
#include "../include/sock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static struct sockaddr_in loop(unsigned short port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static struct sockaddr_in name_of(int fd) {
  struct sockaddr_in a;
  memset(&a, 0xff, sizeof a);
  socklen_t l = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &l);
  return a;
}

int main(void) {
  check_begin();
  int fd;
  CHECK_NONNEG("socket_udp", fd = socket(AF_INET, SOCK_DGRAM, 0));
  close(fd);
  CHECK_NONNEG("socket_udp_proto", fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP));
  printf("opt_type: %d domain=%d protocol=%d\n", sock_opt(fd, SOL_SOCKET, SO_TYPE), sock_opt(fd, SOL_SOCKET, SO_DOMAIN),
         sock_opt(fd, SOL_SOCKET, SO_PROTOCOL));
  close(fd);
  CHECK_RET("socket_udp_tcp_proto", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
  CHECK_RET("socket_bad_flags", socket(AF_INET, SOCK_DGRAM | 0x100, 0));

  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in n = name_of(r);
  printf("unbound_name: family=%d port=%d addr=%x\n", n.sin_family, ntohs(n.sin_port),
         n.sin_addr.s_addr);
  print_poll("poll_unbound", r);
  struct sockaddr_in a = loop(0);
  CHECK_RET("bind_short", bind(r, (struct sockaddr *)&a, 8));
  struct sockaddr_in6_like {
    unsigned short f;
    char rest[14];
  } six = {AF_INET6, {0}};
  CHECK_RET("bind_family", bind(r, (struct sockaddr *)&six, sizeof six));
  struct sockaddr_in nowhere = loop(0);
  nowhere.sin_addr.s_addr = inet_addr("192.0.2.77");
  CHECK_RET("bind_not_local", bind(r, (struct sockaddr *)&nowhere, sizeof nowhere));
  CHECK_RET("bind_bad_ptr", bind(r, BAD_PTR, sizeof a));
  CHECK_RET("bind_ephemeral", bind(r, (struct sockaddr *)&a, sizeof a));
  struct sockaddr_in ra = name_of(r);
  check_true("bind_got_port", ra.sin_port != 0 && ra.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
             "a port on 127.0.0.1");
  CHECK_RET("bind_again", bind(r, (struct sockaddr *)&a, sizeof a));
  int clash = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK_RET("bind_in_use", bind(clash, (struct sockaddr *)&ra, sizeof ra));
  struct sockaddr_in any = ra;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  CHECK_RET("bind_in_use_any", bind(clash, (struct sockaddr *)&any, sizeof any));
  close(clash);

  int s = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK_RET("send_unconnected", send(s, "x", 1, 0));
  struct sockaddr_in zero = loop(0);
  CHECK_RET("sendto_bad_buf", sendto(s, BAD_PTR, 5, 0, (struct sockaddr *)&ra, sizeof ra));
  CHECK_RET("sendto_bad_addr", sendto(s, "x", 1, 0, BAD_PTR, sizeof ra));
  CHECK_RET("sendto_port0", sendto(s, "x", 1, 0, (struct sockaddr *)&zero, sizeof zero));
  CHECK_RET("sendto", sendto(s, "hello", 5, 0, (struct sockaddr *)&ra, sizeof ra));
  struct sockaddr_in sa = name_of(s);
  check_true("sendto_autobound", sa.sin_port != 0, "an ephemeral port");
  print_poll("poll_data", r);
  int q = -1;
  ioctl(r, FIONREAD, &q);
  printf("fionread: %d\n", q);
  char b[70000];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  CHECK_RET("recvfrom", recvfrom(r, b, sizeof b, 0, (struct sockaddr *)&from, &fl));
  check_true("recvfrom_source", fl == sizeof from && from.sin_port == sa.sin_port &&
                                    from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
             "the sender's port on 127.0.0.1");
  CHECK_RET("recv_empty", recv(r, b, sizeof b, MSG_DONTWAIT));
  sendto(s, "truncate", 8, 0, (struct sockaddr *)&ra, sizeof ra);
  CHECK_RET("recv_trunc_flag", recv(r, b, 3, MSG_TRUNC | MSG_PEEK));
  struct iovec iov = {b, 3};
  struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
  CHECK_RET("recvmsg_short", recvmsg(r, &m, 0));
  printf("recvmsg_flags: trunc=%d namelen=%d\n", !!(m.msg_flags & MSG_TRUNC), (int)m.msg_namelen);
  memset(b, 'z', sizeof b);
  CHECK_RET("sendto_largest", sendto(s, b, 65507, 0, (struct sockaddr *)&ra, sizeof ra));
  CHECK_RET("recv_largest", recv(r, b, sizeof b, 0));
  CHECK_RET("sendto_too_big", sendto(s, b, 65508, 0, (struct sockaddr *)&ra, sizeof ra));
  CHECK_RET("sendto_zero_len", sendto(s, b, 0, 0, (struct sockaddr *)&ra, sizeof ra));
  CHECK_RET("recv_zero_len", recv(r, b, sizeof b, 0));

  /* Connected: only the peer is heard; getpeername; AF_UNSPEC. */
  CHECK_RET("connect", connect(r, (struct sockaddr *)&sa, sizeof sa));
  struct sockaddr_in p;
  socklen_t pl = sizeof p;
  CHECK_RET("getpeername", getpeername(r, (struct sockaddr *)&p, &pl));
  check_true("peer_is_sender", p.sin_port == sa.sin_port, "the connected port");
  int third = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK_RET("third_sends", sendto(third, "3rd", 3, 0, (struct sockaddr *)&ra, sizeof ra));
  CHECK_RET("send_from_peer", sendto(s, "peer", 4, 0, (struct sockaddr *)&ra, sizeof ra));
  CHECK_RET("recv_only_peer", recv(r, b, sizeof b, MSG_DONTWAIT));
  CHECK_RET("recv_nothing_else", recv(r, b, sizeof b, MSG_DONTWAIT));
  /* The third socket's datagram met nobody: a port unreachable, which it ignores. */
  CHECK_RET("third_unconnected_no_error", recv(third, b, sizeof b, MSG_DONTWAIT));
  CHECK_RET("send_connected", send(r, "back", 4, 0));
  CHECK_RET("recv_back", recv(s, b, sizeof b, 0));
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  CHECK_RET("disconnect", connect(r, &unspec, sizeof unspec));
  pl = sizeof p;
  CHECK_RET("getpeername_disconnected", getpeername(r, (struct sockaddr *)&p, &pl));
  /* The port was the kernel's choice: disconnecting gives it back (only a port the
     application chose stays bound). */
  printf("disconnect_port: %d\n", ntohs(name_of(r).sin_port));
  int fixed = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in fa = loop(0);
  bind(fixed, (struct sockaddr *)&fa, sizeof fa);
  fa = name_of(fixed);
  close(fixed);
  fixed = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK_RET("bind_chosen_port", bind(fixed, (struct sockaddr *)&fa, sizeof fa));
  connect(fixed, (struct sockaddr *)&sa, sizeof sa);
  connect(fixed, &unspec, sizeof unspec);
  check_true("disconnect_keeps_chosen_port", name_of(fixed).sin_port == fa.sin_port, "kept");
  close(fixed);

  /* A connected socket whose peer's port is closed hears ECONNREFUSED once. */
  int gone = socket(AF_INET, SOCK_DGRAM, 0);
  bind(gone, (struct sockaddr *)&a, sizeof a);
  struct sockaddr_in ga = name_of(gone);
  close(gone);
  int c = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK_RET("connect_closed_port", connect(c, (struct sockaddr *)&ga, sizeof ga));
  CHECK_RET("send_to_closed_port", send(c, "x", 1, 0));
  print_poll("poll_refused", c);
  printf("so_error: %d\n", sock_opt(c, SOL_SOCKET, SO_ERROR));
  CHECK_RET("send_again", send(c, "x", 1, 0));
  CHECK_RET("recv_refused", recv(c, b, sizeof b, MSG_DONTWAIT));
  CHECK_RET("recv_after_refused", recv(c, b, sizeof b, MSG_DONTWAIT));
  struct sockaddr_in any0 = loop(0);
  any0.sin_addr.s_addr = htonl(INADDR_ANY);
  any0.sin_port = ra.sin_port;
  CHECK_RET("connect_any_means_local", connect(c, (struct sockaddr *)&any0, sizeof any0));
  pl = sizeof p;
  getpeername(c, (struct sockaddr *)&p, &pl);
  check_true("peer_any_is_loopback", p.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "127.0.0.1");
  check_true("connected_name_is_loopback", name_of(c).sin_addr.s_addr == htonl(INADDR_LOOPBACK),
             "the route's source");
  close(c);

  /* SO_REUSEADDR on both lets two sockets share a port. */
  int x1 = socket(AF_INET, SOCK_DGRAM, 0), x2 = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
  setsockopt(x1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(x2, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  CHECK_RET("reuse_bind1", bind(x1, (struct sockaddr *)&a, sizeof a));
  struct sockaddr_in xa = name_of(x1);
  CHECK_RET("reuse_bind2", bind(x2, (struct sockaddr *)&xa, sizeof xa));
  close(x1);
  close(x2);

  CHECK_RET("shutdown_unconnected", shutdown(s, SHUT_RD));
  print_poll("poll_shut_rd", s);
  CHECK_RET("recv_after_shut_rd", recv(s, b, sizeof b, 0));
  CHECK_RET("listen_udp", listen(r, 1));
  CHECK_RET("accept_udp", accept(r, NULL, NULL));
  CHECK_RET("opt_ip_level_unknown", setsockopt(r, IPPROTO_IP, 9999, &on, sizeof on));

  /* SO_RCVTIMEO, and a blocking receive woken by a child's datagram. */
  close(r);
  r = socket(AF_INET, SOCK_DGRAM, 0);
  bind(r, (struct sockaddr *)&a, sizeof a);
  ra = name_of(r);
  struct timeval tv = {0, 40000};
  setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK_RET("rcvtimeo", recv(r, b, sizeof b, 0));
  tv.tv_usec = 0;
  setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    usleep(50000);
    int k = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(k, "from child", 10, 0, (struct sockaddr *)&ra, sizeof ra);
    _exit(0);
  }
  memset(b, 0, 16);
  CHECK_RET("blocking_recv", recv(r, b, sizeof b, 0));
  printf("blocking_recv_data: %.10s\n", b);
  waitpid(child, NULL, 0);
  close(r);
  close(s);
  close(third);
  return check_end();
}
