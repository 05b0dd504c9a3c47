// Sockets as descriptors: socket() makes one (UDP or TCP) and returns a
// descriptor, on which read, write and close work as on a pipe (fd.c
// calls them through the ops it is given). A socket is this process's
// alone: the filters that bring its packets are its environment's, so
// spawn and exec do not hand it over, and a forked child's copy is
// closed (its reads and writes fail with E_BADF).
//
// UDP: bind takes a port; connect sets where write sends (read still
// takes datagrams from anyone); sendto and recvfrom name the other end.
// TCP: connect, or listen on a port and accept connections (each a new
// descriptor); read gives 0 at the end of the stream.

#include "ulib.h"

static long sock_read(struct sock *s, void *buf, unsigned long n);
static long sock_write(struct sock *s, const void *buf, unsigned long n);
static void sock_close(struct sock *s);
static const struct sock_ops ops = {sock_read, sock_write, sock_close};

struct sock {
  int type;  // SOCK_DGRAM or SOCK_STREAM
  struct udp_sock *udp;
  struct tcp_sock *tcp;
  unsigned int ip, port;  // UDP: where write sends (connect); 0: nowhere yet
};

// A new socket of the given type for descriptor: the lowest free one.
// Returns it or an error (E_INVAL for an unknown type, E_NOMEM, E_MFILE).
int socket(int type)
{
  struct sock *s = malloc(sizeof(*s));
  if (s == NULL)
    return -E_NOMEM;
  memset(s, 0, sizeof(*s));
  s->type = type;
  if (type == SOCK_DGRAM)
    s->udp = udp_open();
  else if (type == SOCK_STREAM)
    s->tcp = tcp_open();
  if (s->udp == NULL && s->tcp == NULL) {
    free(s);
    return type == SOCK_DGRAM || type == SOCK_STREAM ? -E_NOMEM : -E_INVAL;
  }
  int fd = fd_socket(s, &ops);
  if (fd < 0)
    sock_close(s);
  return fd;
}

// fd's socket of the given type, or NULL.
static struct sock *typed(int fd, int type)
{
  struct sock *s = fd_sock(fd);
  return s != NULL && s->type == type ? s : NULL;
}

// Bind UDP socket fd to local port `port`. Returns 0 or an error
// (E_CLAIMED: another socket has the port, here or in another program).
int bind(int fd, unsigned int port)
{
  struct sock *s = typed(fd, SOCK_DGRAM);
  return s == NULL ? -E_NOTSOCK : udp_bind(s->udp, port);
}

// UDP: send what write writes to ip:port. TCP: open a connection to
// ip:port (waiting until it is open). Returns 0 or an error
// (E_CONNREFUSED, E_TIMEOUT, E_HOSTUNREACH, ...).
int connect(int fd, unsigned int ip, unsigned int port)
{
  struct sock *s = fd_sock(fd);
  if (s == NULL)
    return -E_NOTSOCK;
  if (s->type == SOCK_STREAM)
    return tcp_connect(s->tcp, ip, port);
  s->ip = ip;
  s->port = port;
  return 0;
}

// Let TCP socket fd take connections to local port `port`. Returns 0 or
// an error (E_CLAIMED: another program listens there).
int listen(int fd, unsigned int port)
{
  struct sock *s = typed(fd, SOCK_STREAM);
  return s == NULL ? -E_NOTSOCK : tcp_listen(s->tcp, port);
}

// Wait for the next connection to listening socket fd. Returns a new
// descriptor for it (its peer's address in *ip and *port, if not NULL),
// or an error.
int accept(int fd, unsigned int *ip, unsigned int *port)
{
  struct sock *s = typed(fd, SOCK_STREAM), *c;
  long err;
  if (s == NULL)
    return -E_NOTSOCK;
  if ((c = malloc(sizeof(*c))) == NULL)
    return -E_NOMEM;
  memset(c, 0, sizeof(*c));
  c->type = SOCK_STREAM;
  if ((c->tcp = tcp_accept(s->tcp, &err)) == NULL) {
    free(c);
    return err;
  }
  unsigned int pip, pport;
  tcp_peer(c->tcp, &pip, &pport);
  if (ip != NULL)
    *ip = pip;
  if (port != NULL)
    *port = pport;
  int nfd = fd_socket(c, &ops);
  if (nfd < 0)
    sock_close(c);
  return nfd;
}

// Send n bytes from buf as one datagram to ip:port on UDP socket fd.
// Returns n or an error.
long sendto(int fd, const void *buf, unsigned long n, unsigned int ip, unsigned int port)
{
  struct sock *s = typed(fd, SOCK_DGRAM);
  if (s == NULL)
    return -E_NOTSOCK;
  if (exos_probe(buf, n, 0) < 0)
    return -E_FAULT;
  return udp_sendto(s->udp, buf, n, ip, port);
}

// Take the next datagram to UDP socket fd (waiting for one): up to n
// bytes into buf, its sender into *ip and *port (if not NULL). Returns
// the bytes taken or an error.
long recvfrom(int fd, void *buf, unsigned long n, unsigned int *ip, unsigned int *port)
{
  struct sock *s = typed(fd, SOCK_DGRAM);
  if (s == NULL)
    return -E_NOTSOCK;
  if (exos_probe(buf, n, 1) < 0)
    return -E_FAULT;
  return udp_recvfrom(s->udp, buf, n, ip, port);
}

// read on a socket: the next datagram (UDP), or up to n bytes of the
// stream, 0 at its end (TCP). Returns the count or an error.
static long sock_read(struct sock *s, void *buf, unsigned long n)
{
  if (exos_probe(buf, n, 1) < 0)
    return -E_FAULT;
  if (s->type == SOCK_STREAM)
    return tcp_read(s->tcp, buf, n);
  return udp_recvfrom(s->udp, buf, n, NULL, NULL);
}

// write on a socket: one datagram to where connect said (UDP), or all n
// bytes onto the stream (TCP). Returns n or an error.
static long sock_write(struct sock *s, const void *buf, unsigned long n)
{
  if (exos_probe(buf, n, 0) < 0)
    return -E_FAULT;
  if (s->type == SOCK_STREAM)
    return tcp_write(s->tcp, buf, n);
  if (s->port == 0)
    return -E_NOTCONN;
  return udp_sendto(s->udp, buf, n, s->ip, s->port);
}

// Close socket s (its last descriptor went): a TCP connection is closed
// both ways first (see tcp_close).
static void sock_close(struct sock *s)
{
  if (s->udp != NULL)
    udp_close(s->udp);
  if (s->tcp != NULL)
    tcp_close(s->tcp);
  free(s);
}
