// UDP sockets, above ip.c. A socket owns its local port through a filter
// of its own (UDP to that port; the port is the filter's last term, so
// the kernel merges the filters of all ports). Datagrams that come wait
// in a small queue until recvfrom takes them; when it is full they are
// dropped (and counted). A socket that sends before it is bound gets a
// free port of its own from UDP_EPHEMERAL up.

#include "ulib.h"

#define UDP_QUEUE     8      // datagrams waiting per socket
#define UDP_RING      8      // pages of its filter's ring
#define UDP_EPHEMERAL 49152  // the first port given to unbound sockets

struct dgram {
  unsigned int ip, port;
  unsigned long len;
  unsigned char data[UDP_MAX];
};

struct udp_sock {
  unsigned int port;         // 0: not bound
  long listen;               // eth_listen's handle
  unsigned long head, tail;  // queue[head % UDP_QUEUE] is the oldest; tail: one past the newest
  struct dgram queue[UDP_QUEUE];
};

// A new unbound socket, or NULL (out of memory).
struct udp_sock *udp_open(void)
{
  struct udp_sock *u = malloc(sizeof(*u));
  if (u != NULL)
    memset(u, 0, sizeof(*u));
  return u;
}

// eth_input for a socket's filter: check the datagram (IP header, UDP
// length, checksum if it has one) and queue it.
static void udp_in(void *arg, const unsigned char *f, unsigned long len)
{
  // LAB net: check the IP packet, the UDP length and checksum, then queue it
  struct udp_sock *u = arg;
  struct ip_packet p;
  if (ip_check(f, len, &p) < 0)
    return;
  unsigned long n = p.len >= 8 ? net_get16(p.data + 4) : 0;
  if (p.proto != IP_UDP || n < 8 || n > p.len ||
      (net_get16(p.data + 6) != 0 &&
       net_fold(net_sum(ip_pseudo_sum(p.src, p.dst, IP_UDP, n), p.data, n)) != 0)) {
    net_stats.udp_bad++;
    return;
  }
  if (u->tail - u->head == UDP_QUEUE) {
    net_stats.udp_full++;
    return;
  }
  struct dgram *d = &u->queue[u->tail++ % UDP_QUEUE];
  d->ip = p.src;
  d->port = net_get16(p.data);
  d->len = n - 8;
  memmove(d->data, p.data + 8, n - 8);
  // END LAB net
}

// Bind u to local port `port` (1..65535). Returns 0 or an error: E_INVAL
// (bound already, or port 0), E_CLAIMED (another socket, here or in
// another program, has it), the kernel's.
long udp_bind(struct udp_sock *u, unsigned int port)
{
  // LAB net: download a filter for UDP to this port (the port last), keep its handle
  // HANDOUT: return -E_NOSYS;
  if (u->port != 0 || port == 0 || port > 0xFFFF)
    return -E_INVAL;
  struct dpf_term t[4] = {
      {12, 2, 0xFFFF, ETH_IP}, {14, 1, 0xFF, 0x45}, {23, 1, 0xFF, IP_UDP}, {36, 2, 0xFFFF, port}};
  long h = eth_listen(t, 4, UDP_RING, udp_in, u);
  if (h < 0)
    return h;
  u->listen = h;
  u->port = port;
  return 0;
  // END LAB net
}

// Send n bytes from buf (at most UDP_MAX) to ip:port, binding u to a
// free port first if it has none. Returns n or an error.
long udp_sendto(struct udp_sock *u, const void *buf, unsigned long n, unsigned int ip,
                unsigned int port)
{
  static unsigned int next = UDP_EPHEMERAL;
  if (n > UDP_MAX)
    return -E_INVAL;
  for (int tries = 0; u->port == 0 && tries < 64; tries++) {
    long err = udp_bind(u, next);
    next = next == 0xFFFF ? UDP_EPHEMERAL : next + 1;
    if (err < 0 && err != -E_CLAIMED)
      return err;
  }
  if (u->port == 0)
    return -E_CLAIMED;
  // LAB net: the UDP header (checksum over pseudo-header, header, data), then ip_send
  // HANDOUT: return -E_NOSYS;
  unsigned char h[8];
  net_put16(h, u->port);
  net_put16(h + 2, port);
  net_put16(h + 4, 8 + n);
  net_put16(h + 6, 0);
  unsigned int sum =
      net_fold(net_sum(net_sum(ip_pseudo_sum(NET_IP, ip, IP_UDP, 8 + n), h, 8), buf, n));
  net_put16(h + 6, sum == 0 ? 0xFFFF : sum);
  struct net_piece p[2] = {{h, 8}, {buf, n}};
  long err = ip_send(ip, IP_UDP, p, 2);
  return err < 0 ? err : (long)n;
  // END LAB net
}

// Take the next datagram that came to u, waiting for one: up to n bytes
// of it into buf (the rest is lost), its sender into *ip and *port (if
// not NULL). Returns the bytes taken, or an error (E_NOTCONN: u is not
// bound).
long udp_recvfrom(struct udp_sock *u, void *buf, unsigned long n, unsigned int *ip,
                  unsigned int *port)
{
  // LAB net: wait for a datagram (eth_poll), take the oldest, at most n bytes
  // HANDOUT: return -E_NOSYS;
  if (u->port == 0)
    return -E_NOTCONN;
  while (u->head == u->tail) {
    long err = eth_poll(0);
    if (err < 0)
      return err;
  }
  struct dgram *d = &u->queue[u->head++ % UDP_QUEUE];
  if (ip != NULL)
    *ip = d->ip;
  if (port != NULL)
    *port = d->port;
  n = n < d->len ? n : d->len;
  memmove(buf, d->data, n);
  return n;
  // END LAB net
}

// Close u: its port is free again.
void udp_close(struct udp_sock *u)
{
  if (u->port != 0)
    eth_unlisten(u->listen);
  free(u);
}
