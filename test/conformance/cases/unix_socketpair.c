/*
 * Connected Unix domain sockets from socketpair(2): stream bytes, seqpacket records and
 * datagrams (boundaries, truncation, MSG_PEEK, MSG_DONTWAIT, MSG_TRUNC), shutdown in each
 * direction, end of file and EPIPE/ECONNREFUSED once the peer is gone, poll readiness in each
 * state, FIONREAD, descriptors passed with SCM_RIGHTS (MSG_CTRUNC, MSG_CMSG_CLOEXEC, bad
 * descriptors), socket options, getsockname/getpeername, fstat, a blocked reader woken by
 * another process, and the arguments Linux refuses.
 * variants: static dynamic
 */
#include "../include/check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

static int pair(int type, int sv[2]) { return socketpair(AF_UNIX, type, 0, sv); }

static void print_poll(const char *name, int fd) {
  struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
  int r = poll(&p, 1, 0);
  printf("%s: ret=%d in=%d out=%d hup=%d rdhup=%d err=%d\n", name, r, !!(p.revents & POLLIN),
         !!(p.revents & POLLOUT), !!(p.revents & POLLHUP), !!(p.revents & POLLRDHUP),
         !!(p.revents & POLLERR));
}

static void stream(void) {
  int sv[2];
  CHECK_RET("stream_pair", pair(SOCK_STREAM, sv));
  print_poll("stream_poll_idle", sv[0]);
  CHECK_RET("stream_write", write(sv[0], "hello", 5));
  CHECK_RET("stream_send", send(sv[0], " world", 6, 0));
  int n = 0;
  ioctl(sv[1], FIONREAD, &n);
  printf("stream_fionread: %d\n", n);
  print_poll("stream_poll_data", sv[1]);
  char b[64] = {0};
  CHECK_RET("stream_peek", recv(sv[1], b, 3, MSG_PEEK));
  CHECK_RET("stream_read_across_writes", read(sv[1], b, sizeof b));
  printf("stream_bytes: %s\n", b);
  CHECK_RET("stream_dontwait_empty", recv(sv[1], b, sizeof b, MSG_DONTWAIT));
  CHECK_RET("stream_zero_send", send(sv[0], "", 0, 0));
  CHECK_RET("stream_shut_wr", shutdown(sv[0], SHUT_WR));
  print_poll("stream_poll_peer_shut_wr", sv[1]);
  CHECK_RET("stream_read_eof", read(sv[1], b, sizeof b));
  CHECK_RET("stream_write_after_shut_wr", write(sv[0], "x", 1));
  CHECK_RET("stream_peer_still_writes", write(sv[1], "back", 4));
  CHECK_RET("stream_read_back", read(sv[0], b, sizeof b));
  CHECK_RET("stream_shut_bad_how", shutdown(sv[0], 7));
  close(sv[1]);
  print_poll("stream_poll_peer_closed", sv[0]);
  CHECK_RET("stream_read_after_close", read(sv[0], b, sizeof b));
  CHECK_RET("stream_send_after_close", send(sv[0], "x", 1, MSG_NOSIGNAL));
  close(sv[0]);

  CHECK_RET("stream_pair2", pair(SOCK_STREAM, sv));
  CHECK_RET("stream_shut_rd", shutdown(sv[0], SHUT_RD));
  CHECK_RET("stream_write_to_shut_rd", write(sv[1], "x", 1));
  CHECK_RET("stream_read_own_shut_rd", read(sv[0], b, sizeof b));
  print_poll("stream_poll_own_shut_rd", sv[0]);
  CHECK_RET("stream_shut_rdwr", shutdown(sv[0], SHUT_RDWR));
  print_poll("stream_poll_shut_both", sv[0]);
  close(sv[0]);
  close(sv[1]);
}

static void records(int type, const char *tag) {
  int sv[2];
  char name[64], b[64];
#define T(x) (snprintf(name, sizeof name, "%s_%s", tag, x), name)
  CHECK_RET(T("pair"), pair(type, sv));
  CHECK_RET(T("send_a"), send(sv[0], "first record", 12, 0));
  CHECK_RET(T("send_b"), send(sv[0], "second", 6, 0));
  int n = 0;
  ioctl(sv[1], FIONREAD, &n);
  printf("%s: %d\n", T("fionread_one_record"), n);
  CHECK_RET(T("recv_truncated"), recv(sv[1], b, 5, 0));
  CHECK_RET(T("recv_next_record"), recv(sv[1], b, sizeof b, 0));
  CHECK_RET(T("send_c"), send(sv[0], "0123456789", 10, 0));
  CHECK_RET(T("recv_trunc_flag"), recv(sv[1], b, 4, MSG_TRUNC));
  CHECK_RET(T("send_d"), send(sv[0], "abcdef", 6, 0));
  struct iovec iov = {b, 3};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  CHECK_RET(T("recvmsg_truncated"), recvmsg(sv[1], &m, 0));
  printf("%s: %d\n", T("recvmsg_msg_trunc"), !!(m.msg_flags & MSG_TRUNC));
  CHECK_RET(T("send_empty_record"), send(sv[0], "", 0, 0));
  CHECK_RET(T("recv_empty_record"), recv(sv[1], b, sizeof b, MSG_DONTWAIT));
  CHECK_RET(T("dontwait_empty"), recv(sv[1], b, sizeof b, MSG_DONTWAIT));
  close(sv[1]);
  CHECK_RET(T("send_after_close"), send(sv[0], "x", 1, MSG_NOSIGNAL));
  CHECK_RET(T("recv_after_close"), recv(sv[0], b, sizeof b, MSG_DONTWAIT));
  print_poll(T("poll_after_close"), sv[0]);
  close(sv[0]);
  CHECK_RET(T("pair2"), pair(type, sv));
  CHECK_RET(T("shut_rd"), shutdown(sv[0], SHUT_RD));
  CHECK_RET(T("send_to_shut_rd"), send(sv[1], "x", 1, MSG_NOSIGNAL));
  close(sv[0]);
  close(sv[1]);
#undef T
}

static int send_fds(int sock, const int *fds, int n, size_t space) {
  char data = 'F';
  struct iovec iov = {&data, 1};
  char ctl[CMSG_SPACE(sizeof(int) * 300)];
  memset(ctl, 0, sizeof ctl);
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = space;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  return sendmsg(sock, &m, 0);
}

static int recv_fd(int sock, size_t space, int flags, int *got, int *msg_flags) {
  char data;
  struct iovec iov = {&data, 1};
  char ctl[CMSG_SPACE(sizeof(int) * 4)];
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = space;
  int r = recvmsg(sock, &m, flags);
  *got = -1;
  *msg_flags = m.msg_flags;
  if (r > 0 && m.msg_controllen >= CMSG_LEN(sizeof(int))) {
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (c != NULL && c->cmsg_type == SCM_RIGHTS) memcpy(got, CMSG_DATA(c), sizeof(int));
  }
  return r;
}

static void rights(void) {
  int sv[2], p[2];
  pair(SOCK_STREAM, sv);
  pipe(p);
  write(p[1], "through a passed fd", 19);
  CHECK_RET("rights_send", send_fds(sv[0], &p[0], 1, CMSG_SPACE(sizeof(int))));
  int got, mf;
  CHECK_RET("rights_recv", recv_fd(sv[1], CMSG_SPACE(sizeof(int) * 4), MSG_CMSG_CLOEXEC, &got, &mf));
  check_true("rights_new_fd", got >= 0 && got != p[0], "no descriptor received");
  char b[32] = {0};
  CHECK_RET("rights_read_through_it", read(got, b, sizeof b));
  printf("rights_data: %s\n", b);
  printf("rights_cloexec: %d\n", (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
  close(got);
  /* No room for the descriptor: MSG_CTRUNC, and the descriptor is closed. */
  send_fds(sv[0], &p[1], 1, CMSG_SPACE(sizeof(int)));
  CHECK_RET("rights_recv_no_room", recv_fd(sv[1], 0, 0, &got, &mf));
  printf("rights_ctrunc: %d got=%d\n", !!(mf & MSG_CTRUNC), got);
  int bad = 999;
  CHECK_RET("rights_bad_fd", send_fds(sv[0], &bad, 1, CMSG_SPACE(sizeof(int))));
  int many[300];
  for (int i = 0; i < 300; i++) many[i] = p[0];
  CHECK_RET("rights_too_many", send_fds(sv[0], many, 254, CMSG_SPACE(sizeof(int) * 254)));
  /* A plain read drops descriptors that came with the bytes. */
  send_fds(sv[0], &p[0], 1, CMSG_SPACE(sizeof(int)));
  CHECK_RET("rights_plain_read", read(sv[1], b, sizeof b));
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  close(sv[1]);
}

static void read_creds(int s, const char *name, size_t space) {
  char d[8];
  struct iovec iov = {d, sizeof d};
  char ctl[256];
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = space;
  int r = recvmsg(s, &m, 0);
  printf("%s: ret=%d controllen=%zu ctrunc=%d", name, r, (size_t)m.msg_controllen,
         !!(m.msg_flags & MSG_CTRUNC));
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
    printf(" [len=%zu type=%d", (size_t)c->cmsg_len, c->cmsg_type);
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(c), sizeof u);
      printf(" pid_is_sender=%d uid=%u gid=%u", u.pid == getpid(), u.uid, u.gid);
    }
    printf("]");
  }
  printf("\n");
}

static void passcred(void) {
  int sv[2], one = 1, p[2];
  pair(SOCK_DGRAM, sv);
  write(sv[0], "a", 1);
  read_creds(sv[1], "creds_not_asked", 256);
  CHECK_RET("set_passcred", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
  write(sv[0], "b", 1);
  read_creds(sv[1], "creds_asked", 256);
  write(sv[0], "c", 1);
  read_creds(sv[1], "creds_cut", 20);
  write(sv[0], "d", 1);
  read_creds(sv[1], "creds_no_room", 8);
  pipe(p);
  send_fds(sv[0], &p[0], 1, CMSG_SPACE(sizeof(int)));
  read_creds(sv[1], "creds_then_rights", 256);
  struct ucred own = {getpid(), getuid(), getgid()};
  char ctl[CMSG_SPACE(sizeof own)];
  memset(ctl, 0, sizeof ctl);
  char d = 'e';
  struct iovec iov = {&d, 1};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof own);
  memcpy(CMSG_DATA(c), &own, sizeof own);
  CHECK_RET("send_own_creds", sendmsg(sv[0], &m, 0));
  read_creds(sv[1], "creds_given", 256);
  own.pid = 12345;
  memcpy(CMSG_DATA(c), &own, sizeof own);
  CHECK_RET("send_no_such_pid_privileged", sendmsg(sv[0], &m, 0));
  fflush(stdout);
  pid_t k = fork();
  if (k == 0) {
    /* Without privileges, another pid or uid is refused. */
    if (setgid(1000) != 0 || setuid(1000) != 0) _exit(9);
    CHECK_RET("send_other_pid_unprivileged", sendmsg(sv[0], &m, 0));
    own.pid = getpid();
    own.uid = 0;
    memcpy(CMSG_DATA(c), &own, sizeof own);
    CHECK_RET("send_other_uid_unprivileged", sendmsg(sv[0], &m, 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(k, NULL, 0);
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  close(sv[1]);
}

static void options(void) {
  int sv[2];
  pair(SOCK_SEQPACKET, sv);
  int v = -1;
  socklen_t l = sizeof v;
  CHECK_RET("opt_type", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
  printf("opt_type_value: %d len=%d\n", v, (int)l);
  getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &l);
  printf("opt_domain: %d\n", v);
  getsockopt(sv[0], SOL_SOCKET, SO_PROTOCOL, &v, &l);
  printf("opt_protocol: %d\n", v);
  getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &l);
  printf("opt_error: %d\n", v);
  getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &l);
  printf("opt_acceptconn: %d\n", v);
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l);
  check_true("opt_sndbuf_positive", v > 0, "no send buffer");
  v = 1000;
  CHECK_RET("opt_set_sndbuf", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l);
  printf("opt_sndbuf_min: %d\n", v);
  CHECK_RET("opt_set_short", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, 2));
  struct ucred cred;
  socklen_t cl = sizeof cred;
  CHECK_RET("opt_peercred", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &cl));
  check_true("opt_peercred_is_us",
             cred.pid == getpid() && cred.uid == geteuid() && cred.gid == getegid(),
             "peer credentials are not the creator's");
  char small[2];
  socklen_t sl = sizeof small;
  CHECK_RET("opt_short_buffer", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, small, &sl));
  printf("opt_short_len: %d\n", (int)sl);
  CHECK_RET("opt_unknown", getsockopt(sv[0], SOL_SOCKET, 9999, &v, &l));
  CHECK_RET("opt_bad_optlen_ptr", syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &v, BAD_PTR));
  struct sockaddr_un un;
  socklen_t ul = sizeof un;
  memset(&un, 0x55, sizeof un);
  CHECK_RET("getsockname", getsockname(sv[0], (struct sockaddr *)&un, &ul));
  printf("getsockname_len: %d family=%d\n", (int)ul, un.sun_family);
  ul = sizeof un;
  CHECK_RET("getpeername", getpeername(sv[1], (struct sockaddr *)&un, &ul));
  printf("getpeername_len: %d\n", (int)ul);
  struct stat st;
  fstat(sv[0], &st);
  printf("fstat_is_socket: %d\n", S_ISSOCK(st.st_mode));
  int p[2];
  pipe(p);
  CHECK_RET("send_on_pipe", send(p[1], "x", 1, 0));
  CHECK_RET("getsockopt_on_pipe", getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &l));
  CHECK_RET("shutdown_bad_fd", shutdown(999, SHUT_RD));
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  close(sv[1]);
}

static void hostile_messages(void) {
  int sv[2];
  pair(SOCK_DGRAM, sv);
  char data = 'x';
  struct iovec iov = {&data, 1};
  struct msghdr m = {0};
  CHECK_RET("sendmsg_bad_header", sendmsg(sv[0], BAD_PTR, 0));
  m.msg_iov = BAD_PTR;
  m.msg_iovlen = 1;
  CHECK_RET("sendmsg_bad_iov_array", sendmsg(sv[0], &m, 0));
  m.msg_iov = &iov;
  m.msg_iovlen = 5000;
  CHECK_RET("sendmsg_too_many_iovs", sendmsg(sv[0], &m, 0));
  m.msg_iovlen = 1;
  m.msg_control = BAD_PTR;
  m.msg_controllen = 64;
  CHECK_RET("sendmsg_bad_control", sendmsg(sv[0], &m, 0));
  char ctl[CMSG_SPACE(sizeof(int))];
  memset(ctl, 0, sizeof ctl);
  struct cmsghdr *c = (struct cmsghdr *)ctl;
  c->cmsg_len = 4;
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  CHECK_RET("sendmsg_short_cmsg", sendmsg(sv[0], &m, 0));
  c->cmsg_len = CMSG_LEN(sizeof(int));
  c->cmsg_type = 77;
  CHECK_RET("sendmsg_unknown_cmsg", sendmsg(sv[0], &m, 0));
  c->cmsg_len = sizeof ctl + 100;
  c->cmsg_type = SCM_RIGHTS;
  CHECK_RET("sendmsg_cmsg_past_end", sendmsg(sv[0], &m, 0));
  CHECK_RET("recvmsg_bad_header", recvmsg(sv[1], BAD_PTR, MSG_DONTWAIT));
  CHECK_RET("sendto_bad_buffer", sendto(sv[0], BAD_PTR, 4, 0, NULL, 0));
  close(sv[0]);
  close(sv[1]);
}

static void refused(void) {
  int sv[2];
  CHECK_RET("pair_inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
  CHECK_RET("pair_bad_domain", socketpair(12345, SOCK_STREAM, 0, sv));
  CHECK_RET("pair_bad_type", socketpair(AF_UNIX, 99, 0, sv));
  CHECK_RET("pair_rdm", socketpair(AF_UNIX, SOCK_RDM, 0, sv));
  CHECK_RET("pair_bad_protocol", socketpair(AF_UNIX, SOCK_STREAM, 7, sv));
  CHECK_RET("pair_bad_flags", socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv));
  CHECK_RET("pair_bad_ptr", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BAD_PTR));
  CHECK_RET("pair_nonblock", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
  printf("pair_nonblock_flag: %d cloexec=%d\n", !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK),
         !!(fcntl(sv[1], F_GETFD) & FD_CLOEXEC));
  char b[4];
  CHECK_RET("nonblock_read_empty", read(sv[0], b, sizeof b));
  close(sv[0]);
  close(sv[1]);
}

static void across_processes(void) {
  int sv[2];
  pair(SOCK_STREAM, sv);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    close(sv[1]);
    usleep(50000);
    write(sv[0], "from the child", 14);
    _exit(0);
  }
  close(sv[0]);
  char b[32] = {0};
  CHECK_RET("blocked_read_woken", read(sv[1], b, sizeof b));
  printf("child_data: %s\n", b);
  waitpid(c, NULL, 0);
  CHECK_RET("eof_after_child_exit", read(sv[1], b, sizeof b));
  close(sv[1]);
}

int main(void) {
  check_begin();
  signal(SIGPIPE, SIG_IGN);
  stream();
  records(SOCK_SEQPACKET, "seqpacket");
  records(SOCK_DGRAM, "dgram");
  rights();
  options();
  passcred();
  hostile_messages();
  refused();
  across_processes();
  return check_end();
}
