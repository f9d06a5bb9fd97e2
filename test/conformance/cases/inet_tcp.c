/*
 * TCP over the loopback interface: a socket before it connects (EPIPE, ENOTCONN), listen
 * (binding a port itself), a refused connect, blocking and non-blocking connect (EINPROGRESS,
 * POLLOUT, SO_ERROR, EISCONN), accept4 and the peer's address, bytes both ways (MSG_PEEK,
 * FIONREAD, MSG_DONTWAIT, MSG_WAITALL), 4 MiB through a reader in another process, shutdown
 * of each direction, end of stream, a reset for unread data at close and EPIPE after the
 * peer is gone, TIME-WAIT holding a port against bind unless SO_REUSEADDR, TCP_NODELAY, and a
 * blocking accept woken by another process. Never prints a port number.
 * variants: static dynamic
 */
#include "../include/sock.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static struct sockaddr_in loop(unsigned short port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static struct sockaddr_in name_of(int fd) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  socklen_t l = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &l);
  return a;
}

/* A listener on an ephemeral loopback port; its address in *a. */
static int listener(struct sockaddr_in *a, int backlog) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in b = loop(0);
  bind(l, (struct sockaddr *)&b, sizeof b);
  listen(l, backlog);
  *a = name_of(l);
  return l;
}

int main(void) {
  check_begin();
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  printf("opt_type: %d protocol=%d acceptconn=%d\n", sock_opt(s, SOL_SOCKET, SO_TYPE),
         sock_opt(s, SOL_SOCKET, SO_PROTOCOL), sock_opt(s, SOL_SOCKET, SO_ACCEPTCONN));
  CHECK_RET("socket_stream_udp_proto", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
  char b[256];
  CHECK_RET("send_unconnected", send(s, "x", 1, 0));
  CHECK_RET("recv_unconnected", recv(s, b, sizeof b, MSG_DONTWAIT));
  struct sockaddr_in p;
  socklen_t pl = sizeof p;
  CHECK_RET("getpeername_unconnected", getpeername(s, (struct sockaddr *)&p, &pl));
  print_poll("poll_unconnected", s);
  CHECK_RET("shutdown_unconnected", shutdown(s, SHUT_WR));
  CHECK_RET("accept_not_listening", accept(s, NULL, NULL));
  CHECK_RET("listen_unbound", listen(s, 4));
  check_true("listen_bound_a_port", name_of(s).sin_port != 0, "an ephemeral port");
  printf("listen_acceptconn: %d\n", sock_opt(s, SOL_SOCKET, SO_ACCEPTCONN));
  print_poll("poll_listening", s);
  CHECK_RET("send_listening", send(s, "x", 1, 0));
  close(s);

  /* A refused connect: the port was just freed. */
  struct sockaddr_in la;
  int l = listener(&la, 8);
  close(l);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_RET("connect_refused", connect(c, (struct sockaddr *)&la, sizeof la));
  CHECK_RET("connect_after_refused", connect(c, (struct sockaddr *)&la, sizeof la));
  close(c);
  c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CHECK_RET("connect_refused_nonblock", connect(c, (struct sockaddr *)&la, sizeof la));
  usleep(20000);
  printf("refused_so_error: %d\n", sock_opt(c, SOL_SOCKET, SO_ERROR));
  close(c);

  l = listener(&la, 8);
  int l2 = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_RET("bind_in_use", bind(l2, (struct sockaddr *)&la, sizeof la));
  close(l2);
  c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CHECK_RET("connect_nonblock", connect(c, (struct sockaddr *)&la, sizeof la));
  struct pollfd pf = {c, POLLOUT, 0};
  CHECK_RET("poll_connect_done", poll(&pf, 1, 5000));
  printf("connect_so_error: %d\n", sock_opt(c, SOL_SOCKET, SO_ERROR));
  CHECK_RET("connect_nonblock_again", connect(c, (struct sockaddr *)&la, sizeof la));
  CHECK_RET("connect_nonblock_third", connect(c, (struct sockaddr *)&la, sizeof la));
  struct sockaddr_in peer;
  socklen_t peerl = sizeof peer;
  int a = accept4(l, (struct sockaddr *)&peer, &peerl, SOCK_NONBLOCK);
  check_true("accept4", a >= 0, "a connection");
  check_true("accept_peer", peerl == sizeof peer && peer.sin_port == name_of(c).sin_port &&
                                peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
             "the client's address");
  printf("accept_nonblock_flag: %d\n", !!(fcntl(a, F_GETFL) & O_NONBLOCK));
  pl = sizeof p;
  CHECK_RET("getpeername", getpeername(c, (struct sockaddr *)&p, &pl));
  check_true("peer_is_listener_port", p.sin_port == la.sin_port, "the listener's port");
  check_true("accepted_name", name_of(a).sin_port == la.sin_port, "shares the listener's port");
  print_poll("poll_connected_idle", c);
  fcntl(c, F_SETFL, 0);
  CHECK_RET("send", send(c, "hello tcp", 9, 0));
  int q = -1;
  ioctl(a, FIONREAD, &q);
  printf("fionread: %d\n", q);
  print_poll("poll_readable", a);
  CHECK_RET("recv_peek", recv(a, b, 5, MSG_PEEK));
  CHECK_RET("recv", recv(a, b, sizeof b, 0));
  CHECK_RET("recv_empty", recv(a, b, sizeof b, MSG_DONTWAIT));
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  send(a, "reply", 5, 0);
  CHECK_RET("recvfrom", recvfrom(c, b, sizeof b, 0, (struct sockaddr *)&from, &fl));
  printf("recvfrom_addrlen: %d\n", (int)fl);
  int one = 1;
  CHECK_RET("nodelay_set", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
  printf("nodelay: %d\n", sock_opt(c, IPPROTO_TCP, TCP_NODELAY));
  printf("keepidle_default: %d\n", sock_opt(c, IPPROTO_TCP, TCP_KEEPIDLE));
  CHECK_RET("tcp_level_unknown", setsockopt(c, IPPROTO_TCP, 9999, &one, sizeof one));

  /* Half close: the reader sees the end, the other direction still works. */
  CHECK_RET("shutdown_wr", shutdown(c, SHUT_WR));
  usleep(10000);
  print_poll("poll_after_peer_shut_wr", a);
  CHECK_RET("recv_eof", recv(a, b, sizeof b, 0));
  CHECK_RET("send_after_shut_wr", send(c, "x", 1, 0));
  CHECK_RET("send_back", send(a, "still", 5, 0));
  CHECK_RET("recv_back", recv(c, b, sizeof b, 0));
  close(a);
  usleep(10000);
  CHECK_RET("recv_after_close", recv(c, b, sizeof b, 0));
  print_poll("poll_both_closed", c);
  close(c);

  /* Unread data at close resets the peer; writing after the peer is gone is EPIPE. */
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&la, sizeof la);
  a = accept(l, NULL, NULL);
  send(c, "unread", 6, 0);
  usleep(10000);
  close(a);
  usleep(10000);
  CHECK_RET("recv_reset", recv(c, b, sizeof b, 0));
  CHECK_RET("recv_after_reset", recv(c, b, sizeof b, 0));
  CHECK_RET("send_after_reset", send(c, "x", 1, 0));
  close(c);
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&la, sizeof la);
  a = accept(l, NULL, NULL);
  close(a);
  usleep(10000);
  CHECK_RET("send_to_closed_peer", send(c, "x", 1, 0));
  usleep(10000);
  CHECK_RET("send_after_peer_reset", send(c, "x", 1, 0));
  CHECK_RET("recv_after_peer_reset", recv(c, b, sizeof b, 0));
  close(c);

  /* 4 MiB to a reader in another process; MSG_WAITALL on the way back. */
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&la, sizeof la);
  a = accept(l, NULL, NULL);
  size_t big = 4 << 20;
  char *buf = malloc(big);
  for (size_t i = 0; i < big; i++) buf[i] = (char)(i * 31 + 7);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    close(c);
    char *in = malloc(big);
    size_t got = 0;
    while (got < big) {
      ssize_t n = read(a, in + got, 100000);
      if (n <= 0) _exit(2);
      got += n;
    }
    for (size_t i = 0; i < big; i++)
      if (in[i] != (char)(i * 31 + 7)) _exit(3);
    write(a, "aaaa", 4);
    usleep(20000);
    write(a, "bbbb", 4);
    _exit(0);
  }
  close(a);
  CHECK_RET("big_send", send(c, buf, big, 0));
  char w[9] = {0};
  CHECK_RET("waitall", recv(c, w, 8, MSG_WAITALL));
  printf("waitall_data: %s\n", w);
  int status = -1;
  waitpid(child, &status, 0);
  printf("big_child_exit: %d\n", WEXITSTATUS(status));
  free(buf);
  close(c);

  /* TIME-WAIT on the side that closed first holds its port against a plain bind. */
  struct sockaddr_in ta;
  int tl = listener(&ta, 1);
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&ta, sizeof ta);
  a = accept(tl, NULL, NULL);
  close(tl);
  close(a);
  usleep(10000);
  close(c);
  usleep(10000);
  int rb = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_RET("bind_time_wait", bind(rb, (struct sockaddr *)&ta, sizeof ta));
  setsockopt(rb, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  CHECK_RET("bind_time_wait_reuseaddr", bind(rb, (struct sockaddr *)&ta, sizeof ta));
  close(rb);

  /* A blocking accept woken by a child's connect. */
  fflush(stdout);
  child = fork();
  if (child == 0) {
    usleep(50000);
    int k = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = la;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    if (connect(k, (struct sockaddr *)&any, sizeof any) != 0) _exit(2);
    write(k, "child", 5);
    _exit(0);
  }
  a = accept(l, NULL, NULL);
  check_true("blocking_accept", a >= 0, "woken by the child");
  memset(b, 0, sizeof b);
  CHECK_RET("read_child", read(a, b, sizeof b));
  waitpid(child, &status, 0);
  printf("accept_child_exit: %d\n", WEXITSTATUS(status));
  close(a);
  close(l);
  return check_end();
}
