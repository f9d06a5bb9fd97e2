/*
 * Unix domain sockets made with socket(2) and connected by name: bind to a path (a socket
 * node in the file system: stat, open, unlink, EADDRINUSE), to an abstract name and by
 * autobind; getsockname/getpeername lengths and contents; listen and its backlog (a full
 * backlog is EAGAIN for a non-blocking connect; a blocking connect waits until accept makes
 * room); accept4 and its flags; connect's errors (ENOENT, ECONNREFUSED, EPROTOTYPE, EISCONN,
 * EINVAL); SO_ACCEPTCONN, SO_PEERCRED, SO_ERROR (ECONNRESET from a listener closed with a
 * connection never accepted); poll of unconnected, listening and connected sockets;
 * datagrams by address (recvfrom's source, EPERM towards a socket connected elsewhere,
 * AF_UNSPEC, the queue limit); a blocking stream send of 1 MiB against a slow reader,
 * MSG_WAITALL, and sendmmsg/recvmmsg.
 * variants: static dynamic
 */
#include "../include/sock.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static char dir[64];

static socklen_t path_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
  return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

/* An abstract name unique to this run (the host's abstract namespace is shared). */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "moat-conf-%d-%s", getpid(), name);
  return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static void creation(void) {
  int fd;
  CHECK_NONNEG("socket_stream", fd = socket(AF_UNIX, SOCK_STREAM, 0));
  close(fd);
  CHECK_NONNEG("socket_seqpacket_cloexec",
               fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  printf("socket_cloexec_flag: %d\n", !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
  printf("socket_nonblock_flag: %d\n", !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
  close(fd);
  CHECK_NONNEG("socket_raw_is_dgram", fd = socket(AF_UNIX, SOCK_RAW, 0));
  printf("socket_raw_type: %d\n", sock_opt(fd, SOL_SOCKET, SO_TYPE));
  close(fd);
  CHECK_RET("socket_type_zero", socket(AF_UNIX, 0, 0));
  CHECK_RET("socket_type_too_big", socket(AF_UNIX, 12, 0));
  CHECK_RET("socket_bad_flags", socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
  CHECK_RET("socket_bad_protocol", socket(AF_UNIX, SOCK_STREAM, 7));
  CHECK_RET("socket_bad_domain", socket(12345, SOCK_STREAM, 0));
  CHECK_RET("socket_packet_type", socket(AF_UNIX, SOCK_PACKET, 0));
}

static void names(void) {
  struct sockaddr_un a, got;
  socklen_t l;
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  l = sizeof got;
  CHECK_RET("name_unbound", getsockname(s, (struct sockaddr *)&got, &l));
  printf("name_unbound_len: %d family=%d\n", (int)l, got.sun_family);
  socklen_t al = path_addr(&a, "s1");
  mode_t old = umask(022);
  CHECK_RET("bind_path", bind(s, (struct sockaddr *)&a, al));
  umask(old);
  l = sizeof got;
  CHECK_RET("name_path", getsockname(s, (struct sockaddr *)&got, &l));
  check_true("name_path_len", l == al, "length is the path's and its NUL");
  check_true("name_path_same", strcmp(got.sun_path, a.sun_path) == 0, "the bound path");
  struct stat st;
  CHECK_RET("stat_node", stat(a.sun_path, &st));
  printf("stat_node_is_sock: %d mode=%o\n", S_ISSOCK(st.st_mode), st.st_mode & 07777);
  CHECK_RET("open_node", open(a.sun_path, O_RDWR));
  CHECK_RET("bind_again", bind(s, (struct sockaddr *)&a, al));
  int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK_RET("bind_in_use", bind(s2, (struct sockaddr *)&a, al));
  struct sockaddr_un missing;
  socklen_t ml = path_addr(&missing, "nodir/s");
  CHECK_RET("bind_no_dir", bind(s2, (struct sockaddr *)&missing, ml));
  CHECK_RET("bind_short_len", bind(s2, (struct sockaddr *)&a, 1));
  CHECK_RET("bind_long_len", bind(s2, (struct sockaddr *)&a, sizeof a + 1));
  CHECK_RET("bind_bad_ptr", bind(s2, BAD_PTR, al));
  a.sun_family = AF_INET;
  CHECK_RET("bind_bad_family", bind(s2, (struct sockaddr *)&a, al));
  a.sun_family = AF_UNIX;
  /* A path that is not NUL-terminated within the length still binds (the kernel adds it). */
  struct sockaddr_un np;
  path_addr(&np, "s2");
  CHECK_RET("bind_no_nul", bind(s2, (struct sockaddr *)&np,
                                offsetof(struct sockaddr_un, sun_path) + strlen(np.sun_path)));
  l = sizeof got;
  getsockname(s2, (struct sockaddr *)&got, &l);
  check_true("name_no_nul",
             l == offsetof(struct sockaddr_un, sun_path) + strlen(np.sun_path) + 1,
             "the NUL is counted");
  close(s2);
  /* Abstract names: exact length, no node. */
  int s3 = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un ab;
  socklen_t abl = abstract_addr(&ab, "abs");
  CHECK_RET("bind_abstract", bind(s3, (struct sockaddr *)&ab, abl));
  l = sizeof got;
  getsockname(s3, (struct sockaddr *)&got, &l);
  check_true("name_abstract", l == abl && memcmp(&got, &ab, abl) == 0, "same bytes, same length");
  int s4 = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK_RET("bind_abstract_in_use", bind(s4, (struct sockaddr *)&ab, abl));
  int s5 = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK_RET("bind_abstract_other_type", bind(s5, (struct sockaddr *)&ab, abl));
  close(s5);
  /* Autobind: an abstract name of five hex digits. */
  struct sockaddr_un fam = {.sun_family = AF_UNIX};
  CHECK_RET("autobind", bind(s4, (struct sockaddr *)&fam, sizeof(sa_family_t)));
  l = sizeof got;
  getsockname(s4, (struct sockaddr *)&got, &l);
  printf("autobind_len: %d first=%d\n", (int)l, got.sun_path[0]);
  close(s3);
  close(s4);
  /* Once the socket is gone its abstract name is free again. */
  s3 = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK_RET("bind_abstract_after_close", bind(s3, (struct sockaddr *)&ab, abl));
  close(s3);
  close(s);
  /* The node stays after the socket closes; it refuses connections. */
  s = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK_RET("connect_stale_node", connect(s, (struct sockaddr *)&a, al));
  CHECK_RET("unlink_node", unlink(a.sun_path));
  CHECK_RET("connect_unlinked", connect(s, (struct sockaddr *)&a, al));
  close(s);
}

static void stream_connections(int type, const char *tag) {
  char n[96];
  struct sockaddr_un a, got;
  socklen_t l;
  snprintf(n, sizeof n, "%s_srv", tag);
  socklen_t al = path_addr(&a, n);
  int srv = socket(AF_UNIX, type, 0);
#define C(name, expr)                                                                           \
  do {                                                                                         \
    snprintf(n, sizeof n, "%s_%s", tag, name);                                                 \
    CHECK_RET(n, expr);                                                                        \
  } while (0)
#define T(name, cond, why)                                                                      \
  do {                                                                                         \
    snprintf(n, sizeof n, "%s_%s", tag, name);                                                 \
    check_true(n, cond, why);                                                                  \
  } while (0)
#define P(name, fd)                                                                             \
  do {                                                                                         \
    snprintf(n, sizeof n, "%s_%s", tag, name);                                                 \
    print_poll(n, fd);                                                                         \
  } while (0)
  P("poll_unconnected", srv);
  C("listen_unbound", listen(srv, 5));
  C("accept_unbound", accept(srv, NULL, NULL));
  C("getpeername_unconnected", getpeername(srv, (struct sockaddr *)&got, &(socklen_t){sizeof got}));
  C("send_unconnected", send(srv, "x", 1, MSG_NOSIGNAL));
  C("recv_unconnected", recv(srv, n, 1, MSG_DONTWAIT));
  C("bind", bind(srv, (struct sockaddr *)&a, al));
  C("listen", listen(srv, 1));
  printf("%s_acceptconn: %d\n", tag, sock_opt(srv, SOL_SOCKET, SO_ACCEPTCONN));
  P("poll_listening", srv);
  int nb = fcntl(srv, F_GETFL);
  fcntl(srv, F_SETFL, nb | O_NONBLOCK);
  C("accept_none", accept(srv, NULL, NULL));
  fcntl(srv, F_SETFL, nb);
  int c1 = socket(AF_UNIX, type | SOCK_NONBLOCK, 0);
  C("connect", connect(c1, (struct sockaddr *)&a, al));
  C("connect_again", connect(c1, (struct sockaddr *)&a, al));
  P("poll_listening_pending", srv);
  P("poll_connected_client", c1);
  int c2 = socket(AF_UNIX, type | SOCK_NONBLOCK, 0);
  C("connect_second", connect(c2, (struct sockaddr *)&a, al));
  int c3 = socket(AF_UNIX, type | SOCK_NONBLOCK, 0);
  C("connect_backlog_full", connect(c3, (struct sockaddr *)&a, al));
  /* Data sent before accept waits in the new connection. */
  C("send_before_accept", send(c1, "early", 5, 0));
  struct sockaddr_un peer;
  socklen_t pl = sizeof peer;
  int a1 = accept4(srv, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
  T("accept4", a1 >= 0, "a connection");
  printf("%s_accept_peer_len: %d\n", tag, (int)pl);
  printf("%s_accept_cloexec: %d\n", tag, !!(fcntl(a1, F_GETFD) & FD_CLOEXEC));
  char b[64] = {0};
  C("recv_early", recv(a1, b, sizeof b, 0));
  printf("%s_early_data: %s\n", tag, b);
  l = sizeof got;
  C("getsockname_accepted", getsockname(a1, (struct sockaddr *)&got, &l));
  T("accepted_has_listener_name", l == al && strcmp(got.sun_path, a.sun_path) == 0,
             "the listener's path");
  l = sizeof got;
  C("getpeername_client", getpeername(c1, (struct sockaddr *)&got, &l));
  T("client_peer_is_listener", l == al && strcmp(got.sun_path, a.sun_path) == 0,
             "the listener's path");
  l = sizeof got;
  C("getpeername_accepted", getpeername(a1, (struct sockaddr *)&got, &l));
  printf("%s_accepted_peer_len: %d\n", tag, (int)l);
  /* recvfrom on the client names the server. */
  C("send_reply", send(a1, "reply", 5, 0));
  l = sizeof got;
  memset(&got, 0, sizeof got);
  C("recvfrom_client", recvfrom(c1, b, sizeof b, 0, (struct sockaddr *)&got, &l));
  T("recvfrom_names_server", l == al && strcmp(got.sun_path, a.sun_path) == 0,
             "the server's path");
  struct ucred uc;
  socklen_t ul = sizeof uc;
  C("peercred_client", getsockopt(c1, SOL_SOCKET, SO_PEERCRED, &uc, &ul));
  T("peercred_client_pid", uc.pid == getpid() && uc.uid == geteuid(), "the listener");
  ul = sizeof uc;
  getsockopt(a1, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
  T("peercred_accepted_pid", uc.pid == getpid(), "the connecter");
  ul = sizeof uc;
  getsockopt(srv, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
  T("peercred_listener_pid", uc.pid == getpid(), "the listener itself");
  int u = socket(AF_UNIX, type, 0);
  ul = sizeof uc;
  getsockopt(u, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
  printf("%s_peercred_unconnected: pid=%d uid=%d\n", tag, uc.pid, (int)uc.uid);
  close(u);
  /* Now there is room again. */
  C("connect_after_accept", connect(c3, (struct sockaddr *)&a, al));
  /* Type mismatch, not listening, listening socket connecting. */
  int other = socket(AF_UNIX, type == SOCK_STREAM ? SOCK_SEQPACKET : SOCK_STREAM, 0);
  C("connect_wrong_type", connect(other, (struct sockaddr *)&a, al));
  close(other);
  fcntl(srv, F_SETFL, nb | O_NONBLOCK);
  C("connect_from_listener", connect(srv, (struct sockaddr *)&a, al));
  fcntl(srv, F_SETFL, nb);
  C("connect_bad_family_len", connect(c2, (struct sockaddr *)&a, 2));
  /* Closing the listener resets connections never accepted. */
  close(srv);
  P("poll_reset_client", c2);
  printf("%s_so_error_reset: %d\n", tag, sock_opt(c2, SOL_SOCKET, SO_ERROR));
  printf("%s_so_error_again: %d\n", tag, sock_opt(c2, SOL_SOCKET, SO_ERROR));
  C("recv_after_reset", recv(c2, b, sizeof b, 0));
  C("send_after_reset", send(c2, "x", 1, MSG_NOSIGNAL));
  int c4 = socket(AF_UNIX, type, 0);
  C("connect_closed_listener", connect(c4, (struct sockaddr *)&a, al));
  close(c4);
  /* The reset is reported once by recv, then end of file. */
  C("recv_c3_reset", recv(c3, b, sizeof b, MSG_DONTWAIT));
  C("recv_c3_eof", recv(c3, b, sizeof b, MSG_DONTWAIT));
  /* Closing with unread data resets the peer; without, the peer reads end of file. */
  C("send_unread", send(c1, "unread", 6, 0));
  close(a1);
  C("recv_c1_after_close", recv(c1, b, sizeof b, MSG_DONTWAIT));
  printf("%s_c1_so_error: %d\n", tag, sock_opt(c1, SOL_SOCKET, SO_ERROR));
  close(c1);
  close(c2);
  close(c3);
  unlink(a.sun_path);
#undef C
#undef P
#undef T
}

static void abstract_stream(void) {
  struct sockaddr_un a;
  socklen_t al = abstract_addr(&a, "stream");
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK_RET("abs_bind", bind(srv, (struct sockaddr *)&a, al));
  CHECK_RET("abs_listen", listen(srv, 4));
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  /* A name one byte shorter is another name. */
  CHECK_RET("abs_connect_prefix", connect(c, (struct sockaddr *)&a, al - 1));
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK_RET("abs_connect_other_type", connect(d, (struct sockaddr *)&a, al));
  close(d);
  CHECK_RET("abs_connect", connect(c, (struct sockaddr *)&a, al));
  int s = accept(srv, NULL, NULL);
  check_true("abs_accept", s >= 0, "accept");
  CHECK_RET("abs_write", write(c, "ping", 4));
  char b[8] = {0};
  CHECK_RET("abs_read", read(s, b, sizeof b));
  close(s);
  close(c);
  close(srv);
}

/* A blocking accept woken by a child's connect, and a blocking connect woken by accept. */
static void across_processes(void) {
  struct sockaddr_un a;
  socklen_t al = path_addr(&a, "xproc");
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(srv, (struct sockaddr *)&a, al);
  listen(srv, 0);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    usleep(100000);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, al) != 0) _exit(2);
    /* The backlog (0: one connection) is full now: this one waits for the parent's accept. */
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c2, (struct sockaddr *)&a, al) != 0) _exit(3);
    if (connect(c3, (struct sockaddr *)&a, al) != 0) _exit(4);
    write(c3, "third", 5);
    _exit(0);
  }
  int s1 = accept(srv, NULL, NULL);
  check_true("xproc_blocking_accept", s1 >= 0, "woken by the child's connect");
  usleep(100000);
  int s2 = accept(srv, NULL, NULL);
  int s3 = accept(srv, NULL, NULL);
  check_true("xproc_accept_more", s2 >= 0 && s3 >= 0, "the waiting connects went on");
  int st = -1;
  waitpid(p, &st, 0);
  printf("xproc_child_exit: %d\n", WEXITSTATUS(st));
  char b[8] = {0};
  CHECK_RET("xproc_read_third", read(s3, b, sizeof b));
  close(s1);
  close(s2);
  close(s3);
  close(srv);
  unlink(a.sun_path);
}

static void datagrams(void) {
  struct sockaddr_un ra, sa, got;
  socklen_t ral = path_addr(&ra, "dg_recv");
  socklen_t sal = abstract_addr(&sa, "dg_send");
  int r = socket(AF_UNIX, SOCK_DGRAM, 0);
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK_RET("dg_bind_recv", bind(r, (struct sockaddr *)&ra, ral));
  print_poll("dg_poll_unconnected", s);
  CHECK_RET("dg_send_unconnected", send(s, "x", 1, 0));
  CHECK_RET("dg_getpeername_unconnected",
            getpeername(s, (struct sockaddr *)&got, &(socklen_t){sizeof got}));
  CHECK_RET("dg_sendto_unbound_sender", sendto(s, "anon", 4, 0, (struct sockaddr *)&ra, ral));
  char b[64] = {0};
  socklen_t l = sizeof got;
  got.sun_family = 77;
  CHECK_RET("dg_recvfrom_anon", recvfrom(r, b, sizeof b, 0, (struct sockaddr *)&got, &l));
  printf("dg_recvfrom_anon_len: %d\n", (int)l);
  CHECK_RET("dg_bind_send", bind(s, (struct sockaddr *)&sa, sal));
  CHECK_RET("dg_sendto_named", sendto(s, "named", 5, 0, (struct sockaddr *)&ra, ral));
  l = sizeof got;
  CHECK_RET("dg_recvfrom_named", recvfrom(r, b, sizeof b, 0, (struct sockaddr *)&got, &l));
  check_true("dg_source", l == sal && memcmp(&got, &sa, sal) == 0, "the sender's abstract name");
  /* recvmsg with msg_namelen 0 gets no name; with room, the name and its length. */
  struct iovec iov = {b, sizeof b};
  struct msghdr m = {.msg_name = &got, .msg_namelen = 0, .msg_iov = &iov, .msg_iovlen = 1};
  sendto(s, "m1", 2, 0, (struct sockaddr *)&ra, ral);
  CHECK_RET("dg_recvmsg_namelen0", recvmsg(r, &m, 0));
  check_true("dg_recvmsg_namelen0_out", m.msg_namelen == sal, "the full length all the same");
  sendto(s, "m2", 2, 0, (struct sockaddr *)&ra, ral);
  m.msg_namelen = 4;
  CHECK_RET("dg_recvmsg_short_name", recvmsg(r, &m, 0));
  check_true("dg_recvmsg_short_name_len", m.msg_namelen == sal, "the full length");
  struct sockaddr_un nowhere;
  socklen_t nl = path_addr(&nowhere, "dg_nowhere");
  CHECK_RET("dg_sendto_missing_path", sendto(s, "x", 1, 0, (struct sockaddr *)&nowhere, nl));
  socklen_t nal = abstract_addr(&nowhere, "dg_nowhere");
  CHECK_RET("dg_sendto_missing_abstract", sendto(s, "x", 1, 0, (struct sockaddr *)&nowhere, nal));
  CHECK_RET("dg_sendto_bad_len", sendto(s, "x", 1, 0, (struct sockaddr *)&ra, 1));
  /* A socket connected elsewhere takes nothing from others. */
  int t = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK_RET("dg_connect", connect(r, (struct sockaddr *)&sa, sal));
  CHECK_RET("dg_sendto_connected_elsewhere", sendto(t, "x", 1, 0, (struct sockaddr *)&ra, ral));
  CHECK_RET("dg_from_peer", sendto(s, "ok", 2, 0, (struct sockaddr *)&ra, ral));
  l = sizeof got;
  CHECK_RET("dg_getpeername", getpeername(r, (struct sockaddr *)&got, &l));
  check_true("dg_peer_name", l == sal, "the peer's name");
  CHECK_RET("dg_connect_stream_name", connect(t, (struct sockaddr *)&ra, ral) == 0 ? 0 : -1);
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  CHECK_RET("dg_disconnect", connect(r, &unspec, sizeof unspec));
  CHECK_RET("dg_sendto_after_disconnect", sendto(t, "y", 1, 0, (struct sockaddr *)&ra, ral));
  CHECK_RET("dg_send_connected", send(t, "z", 1, 0));
  int drained = 0;
  while (recv(r, b, sizeof b, MSG_DONTWAIT) >= 0) drained++;
  printf("dg_drained: %d\n", drained);
  /* The queue of a socket not connected back holds max_dgram_qlen + 1 datagrams. */
  int q = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int sent = 0;
  while (sendto(q, "q", 1, 0, (struct sockaddr *)&ra, ral) == 1 && sent < 1000) sent++;
  printf("dg_queue_limit: %d errno=%s\n", sent, check_errno_name(errno));
  print_poll("dg_poll_receiver_full", r);
  CHECK_RET("dg_connect_q", connect(q, (struct sockaddr *)&ra, ral));
  print_poll("dg_poll_sender_to_full", q);
  recv(r, b, sizeof b, 0);
  recv(r, b, sizeof b, 0);
  print_poll("dg_poll_sender_after_room", q);
  /* The peer closes: ECONNREFUSED once, then ENOTCONN. */
  close(r);
  CHECK_RET("dg_send_peer_closed", send(q, "x", 1, 0));
  CHECK_RET("dg_send_peer_closed_again", send(q, "x", 1, 0));
  close(q);
  close(s);
  close(t);
  unlink(ra.sun_path);
}

/* A blocking stream send of 1 MiB goes on until all is queued; MSG_WAITALL waits for all. */
static void big_transfers(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  size_t big = 1 << 20;
  char *buf = malloc(big);
  for (size_t i = 0; i < big; i++) buf[i] = (char)(i * 13);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    char *in = malloc(big);
    size_t got = 0;
    usleep(50000);
    while (got < big) {
      ssize_t n = read(sv[1], in + got, 4096);
      if (n <= 0) _exit(2);
      got += n;
    }
    for (size_t i = 0; i < big; i++)
      if (in[i] != (char)(i * 13)) _exit(3);
    /* Three pieces with pauses, read at once by MSG_WAITALL on the other side. */
    write(sv[1], "aaaa", 4);
    usleep(20000);
    write(sv[1], "bbbb", 4);
    usleep(20000);
    write(sv[1], "cccc", 4);
    _exit(0);
  }
  close(sv[1]);
  CHECK_RET("big_send", send(sv[0], buf, big, 0));
  char w[13] = {0};
  CHECK_RET("waitall_recv", recv(sv[0], w, 12, MSG_WAITALL));
  printf("waitall_data: %s\n", w);
  int st;
  waitpid(p, &st, 0);
  printf("big_child_exit: %d\n", WEXITSTATUS(st));
  CHECK_RET("waitall_at_eof", recv(sv[0], w, 12, MSG_WAITALL));
  free(buf);
  close(sv[0]);
}

static void mmsg(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  char a[] = "one", b[] = "three";
  struct iovec iv[2] = {{a, 3}, {b, 5}};
  struct mmsghdr mm[2];
  memset(mm, 0, sizeof mm);
  mm[0].msg_hdr.msg_iov = &iv[0];
  mm[0].msg_hdr.msg_iovlen = 1;
  mm[1].msg_hdr.msg_iov = &iv[1];
  mm[1].msg_hdr.msg_iovlen = 1;
  CHECK_RET("sendmmsg", sendmmsg(sv[0], mm, 2, 0));
  printf("sendmmsg_lens: %u %u\n", mm[0].msg_len, mm[1].msg_len);
  char r1[8] = {0}, r2[8] = {0};
  struct iovec rv[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
  struct mmsghdr rm[3];
  memset(rm, 0, sizeof rm);
  rm[0].msg_hdr.msg_iov = &rv[0];
  rm[0].msg_hdr.msg_iovlen = 1;
  rm[1].msg_hdr.msg_iov = &rv[1];
  rm[1].msg_hdr.msg_iovlen = 1;
  CHECK_RET("recvmmsg", recvmmsg(sv[1], rm, 2, MSG_DONTWAIT, NULL));
  printf("recvmmsg_data: %s %s %u %u\n", r1, r2, rm[0].msg_len, rm[1].msg_len);
  CHECK_RET("recvmmsg_empty", recvmmsg(sv[1], rm, 2, MSG_DONTWAIT, NULL));
  CHECK_RET("sendmmsg_bad_vec", sendmmsg(sv[0], BAD_PTR, 2, 0));
  close(sv[0]);
  close(sv[1]);
}

static void options(void) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  int one = 1, seven = 7;
  CHECK_RET("opt_reuseaddr_set", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &seven, sizeof seven));
  printf("opt_reuseaddr: %d\n", sock_opt(s, SOL_SOCKET, SO_REUSEADDR));
  CHECK_RET("opt_keepalive_set", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
  printf("opt_keepalive: %d\n", sock_opt(s, SOL_SOCKET, SO_KEEPALIVE));
  printf("opt_broadcast_default: %d\n", sock_opt(s, SOL_SOCKET, SO_BROADCAST));
  CHECK_RET("opt_reuseport_set", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
  CHECK_RET("opt_short_len", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, 2));
  int six = 6;
  CHECK_RET("opt_priority_set", setsockopt(s, SOL_SOCKET, SO_PRIORITY, &six, sizeof six));
  printf("opt_priority: %d\n", sock_opt(s, SOL_SOCKET, SO_PRIORITY));
  printf("opt_rcvlowat: %d sndlowat=%d\n", sock_opt(s, SOL_SOCKET, SO_RCVLOWAT), sock_opt(s, SOL_SOCKET, SO_SNDLOWAT));
  struct linger lg = {1, 5};
  CHECK_RET("opt_linger_set", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  memset(&lg, 0, sizeof lg);
  socklen_t l = sizeof lg;
  CHECK_RET("opt_linger_get", getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l));
  printf("opt_linger: %d %d len=%d\n", lg.l_onoff, lg.l_linger, (int)l);
  struct timeval tv = {0, 2000000};
  CHECK_RET("opt_rcvtimeo_bad_usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  CHECK_RET("opt_rcvtimeo_short", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
  CHECK_RET("opt_bad_level", setsockopt(s, 9999, SO_KEEPALIVE, &one, sizeof one));
  CHECK_RET("opt_unknown", setsockopt(s, SOL_SOCKET, 9999, &one, sizeof one));
  CHECK_RET("opt_set_type", setsockopt(s, SOL_SOCKET, SO_TYPE, &one, sizeof one));
  close(s);
  /* Timeouts end a blocking receive, accept or send with EAGAIN. */
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  struct timeval t50 = {0, 40000}; /* a whole number of jiffies at HZ 100, 250, 300 and 1000 */
  CHECK_RET("opt_rcvtimeo_set", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &t50, sizeof t50));
  struct timeval back;
  l = sizeof back;
  getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &l);
  printf("opt_rcvtimeo: %ld %ld\n", (long)back.tv_sec, (long)back.tv_usec);
  char b[8];
  CHECK_RET("rcvtimeo_recv", recv(sv[0], b, sizeof b, 0));
  CHECK_RET("rcvtimeo_read", read(sv[0], b, sizeof b));
  setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &t50, sizeof t50);
  int big = 1 << 16, total = 0;
  char *chunk = calloc(1, big);
  for (int i = 0; i < 100; i++) {
    ssize_t n = send(sv[0], chunk, big, 0);
    if (n < 0) break;
    total += n;
  }
  printf("sndtimeo_send: errno=%s filled=%d\n", check_errno_name(errno), total > 0);
  free(chunk);
  close(sv[0]);
  close(sv[1]);
  struct sockaddr_un a;
  socklen_t al = abstract_addr(&a, "timeo");
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(srv, (struct sockaddr *)&a, al);
  listen(srv, 1);
  setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &t50, sizeof t50);
  CHECK_RET("rcvtimeo_accept", accept(srv, NULL, NULL));
  close(srv);
}

int main(void) {
  check_begin();
  signal(SIGPIPE, SIG_IGN);
  strcpy(dir, "/tmp/moat-unix-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  creation();
  names();
  stream_connections(SOCK_STREAM, "stream");
  stream_connections(SOCK_SEQPACKET, "seqpacket");
  abstract_stream();
  across_processes();
  datagrams();
  big_transfers();
  mmsg();
  options();
  rmdir(dir);
  return check_end();
}
