// TCP, above ip.c: enough for real use, kept simple.
//
// A listener owns its local port through a filter (TCP to that port, the
// port last so that the kernel merges all ports' filters); the
// connections it accepts come through the same filter, and a client's
// connection owns a free port of its own. Each segment that comes is
// checked (IP header, TCP header, checksum) and given to the connection
// with its addresses and ports; a segment for none gets a reset (RST).
//  - Sending: write copies into the connection's send buffer (waiting
//    while it is full); segments of at most TCP_MSS bytes leave while
//    they fit in the window the peer advertised. Unacknowledged bytes
//    stay in the buffer: when the retransmission timer runs out (TCP_RTO,
//    doubled at each expiry up to TCP_RTO_MAX) everything from the oldest
//    unacknowledged byte is sent again (go-back-N). Every third bare
//    duplicate acknowledgement in a row (the peer got segments past a lost
//    one) sends the oldest unacknowledged segment again at once (fast
//    retransmit), without waiting for the timer. After TCP_GIVE_UP
//    expiries in a row the connection fails (E_TIMEOUT). A zero window is
//    probed with one byte at each expiry.
//  - Receiving: in order only. A segment that starts past the next byte
//    expected is dropped (counted) and answered with an acknowledgement
//    of what has come, so the peer sends again; the receive buffer's free
//    space is the window advertised.
//  - Closing: close sends FIN after the data and waits (at most
//    TCP_LINGER) until the peer has acknowledged it and sent its own.
//    read returns 0 once the peer's FIN has come and the data before it
//    is read.
// Everything runs inside the calls: a call that must wait sleeps in
// eth_poll until a segment comes or the earliest retransmission timer of
// any connection runs out.

#include "ulib.h"

#define TCP_BUF        (16 * 1024)  // bytes of each send and receive buffer
#define TCP_MSS        1460
#define TCP_RTO        (NET_SECOND / 5)
#define TCP_RTO_MAX    (2 * NET_SECOND)
#define TCP_DUPACKS    3  // duplicate acknowledgements that trigger a fast retransmit
#define TCP_GIVE_UP    10
#define TCP_LINGER     (5 * NET_SECOND)
#define TCP_BACKLOG    4  // connections a listener holds not yet accepted
#define TCP_FIRST_PORT 49152
#define FIN            1
#define SYN            2
#define RST            4
#define PSH            8
#define ACK            16

enum {
  CLOSED,
  LISTEN,
  SYN_SENT,
  SYN_RCVD,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  CLOSE_WAIT,
  CLOSING,
  LAST_ACK
};

struct tcp_sock {
  int state, err;  // err: why it failed (E_CONNRESET, ...), once CLOSED
  unsigned int lport, rip, rport;
  long listen;              // the eth_listen handle its segments come through; -1: none
  int refs;                 // a listener: itself and its connections still open
  int accepted;             // a listener's connection: accept has returned it
  struct tcp_sock *parent;  // the listener it came through, or NULL
  struct tcp_sock *next;    // the list of all
  unsigned int snd_una, snd_nxt, snd_wnd, iss;  // sequence numbers (modulo 2^32)
  unsigned int rcv_nxt;
  int fin_queued, fin_sent;               // close has asked for a FIN; it is among the bytes sent
  unsigned long deadline, rto, expiries;  // the retransmission timer (0: stopped)
  unsigned int dupacks;                   // duplicate acknowledgements in a row
  unsigned long slen;                     // sbuf[0..slen) are sent from snd_una on
  unsigned long rhead, rlen;              // rbuf[rhead..] (circularly) are not yet read
  unsigned char sbuf[TCP_BUF], rbuf[TCP_BUF];
};

unsigned int tcp_drop_every;
static struct tcp_sock *all;
static unsigned long segs_in, segs_out;

// Is sequence number a before b (modulo 2^32)?
static int before(unsigned int a, unsigned int b)
{
  return (int)(a - b) < 0;
}

// A new closed socket, or NULL (out of memory).
struct tcp_sock *tcp_open(void)
{
  struct tcp_sock *t = malloc(sizeof(*t));
  if (t == NULL)
    return NULL;
  memset(t, 0, sizeof(*t));
  t->listen = -1;
  t->next = all;
  all = t;
  return t;
}

// Send one segment from lport to rip:rport. Returns what ip_send did.
static long send_raw(unsigned int lport, unsigned int rip, unsigned int rport, unsigned int seq,
                     unsigned int ack, int flags, unsigned int window, const void *data,
                     unsigned long n)
{
  unsigned char h[24];
  unsigned long hlen = flags & SYN ? 24 : 20;
  net_put16(h, lport);
  net_put16(h + 2, rport);
  net_put32(h + 4, seq);
  net_put32(h + 8, ack);
  h[12] = hlen / 4 << 4;
  h[13] = flags;
  net_put16(h + 14, window);
  net_put32(h + 16, 0);
  net_put32(h + 20, 0x02040000 | TCP_MSS);  // (a SYN's) option: our largest segment
  unsigned long sum = net_sum(ip_pseudo_sum(NET_IP, rip, IP_TCP, hlen + n), h, hlen);
  net_put16(h + 16, net_fold(net_sum(sum, data, n)));
  if (tcp_drop_every != 0 && ++segs_out % tcp_drop_every == 0) {
    net_stats.tcp_dropped_on_purpose++;
    return 0;
  }
  struct net_piece p[2] = {{h, hlen}, {data, n}};
  return ip_send(rip, IP_TCP, p, 2);
}

// Send t a segment with these flags and data at sequence number seq,
// acknowledging what has come and advertising the free receive space.
static long send_seg(struct tcp_sock *t, unsigned int seq, int flags, const void *data,
                     unsigned long n)
{
  unsigned long window = TCP_BUF - t->rlen;
  return send_raw(t->lport, t->rip, t->rport, seq, t->rcv_nxt, flags, window, data, n);
}

// Start t's retransmission timer if it is stopped.
static void timer_start(struct tcp_sock *t)
{
  if (t->deadline == 0)
    t->deadline = sys_uptime() + t->rto;
}

// Send what t may: its SYN (again), new data while it fits in the peer's
// window (with probe, at least one byte), then its FIN once all data has
// gone.
static void output(struct tcp_sock *t, int probe)
{
  if (t->state == SYN_SENT || t->state == SYN_RCVD) {
    send_seg(t, t->iss, t->state == SYN_SENT ? SYN : SYN | ACK, NULL, 0);
    timer_start(t);
    return;
  }
  if (t->state == CLOSED || t->state == LISTEN)
    return;
  unsigned long window = t->snd_wnd > 0 || !probe ? t->snd_wnd : 1;
  for (;;) {
    unsigned long off = t->snd_nxt - t->snd_una;
    unsigned long n = t->slen - (off < t->slen ? off : t->slen);
    n = n < TCP_MSS ? n : TCP_MSS;
    if (off + n > window)
      n = window > off ? window - off : 0;
    if (n == 0)
      break;
    send_seg(t, t->snd_nxt, ACK | PSH, t->sbuf + off, n);
    t->snd_nxt += n;
    timer_start(t);
  }
  if (t->snd_nxt - t->snd_una < t->slen)
    timer_start(t);  // data waits for the window: probe it when the timer runs out
  if (t->fin_queued && !t->fin_sent && t->snd_nxt == t->snd_una + t->slen) {
    send_seg(t, t->snd_nxt, FIN | ACK, NULL, 0);
    t->snd_nxt++;
    t->fin_sent = 1;
    timer_start(t);
  }
}

// t has failed or ended: no more timers; err says why (0: a clean end).
static void finish(struct tcp_sock *t, long err)
{
  t->state = CLOSED;
  t->err = err;
  t->deadline = 0;
}

static void release(struct tcp_sock *t);

// Run the retransmission timers that have run out: send again from the
// oldest unacknowledged byte, or give up.
static void timers(void)
{
  unsigned long now = sys_uptime();
  for (struct tcp_sock *t = all; t != NULL; t = t->next) {
    if (t->deadline == 0 || now < t->deadline)
      continue;
    t->deadline = 0;
    if (++t->expiries > TCP_GIVE_UP) {
      finish(t, -E_TIMEOUT);
      continue;
    }
    net_stats.tcp_retransmits++;
    t->rto = t->rto * 2 < TCP_RTO_MAX ? t->rto * 2 : TCP_RTO_MAX;
    if (t->state != SYN_SENT && t->state != SYN_RCVD) {  // (output sends a SYN again as it is)
      if (t->fin_sent && t->snd_nxt != t->snd_una)
        t->fin_sent = 0;  // it goes again after the data
      t->snd_nxt = t->snd_una;
    }
    output(t, 1);
  }
}

// Wait for something to happen to any connection: a segment, or the
// earliest retransmission timer. Returns 0, or -E_TIMEOUT once `until`
// (if nonzero) has passed.
static long step(unsigned long until)
{
  unsigned long deadline = until;
  for (struct tcp_sock *t = all; t != NULL; t = t->next)
    if (t->deadline != 0 && (deadline == 0 || t->deadline < deadline))
      deadline = t->deadline;
  long err = eth_poll(deadline);
  timers();
  return err == -E_TIMEOUT && until != 0 && (unsigned long)sys_uptime() >= until ? -E_TIMEOUT : 0;
}

// A new connection for listener l from the SYN (sequence seq) of
// rip:rport, if l has room: it answers SYN-ACK.
static void passive_open(struct tcp_sock *l, unsigned int rip, unsigned int rport, unsigned int seq)
{
  int waiting = 0;
  for (struct tcp_sock *t = all, *next; t != NULL; t = next) {
    next = t->next;
    if (t->parent == l && !t->accepted && t->state == CLOSED)
      release(t);  // reset or timed out before accept took it
    else
      waiting += t->parent == l && !t->accepted;
  }
  struct tcp_sock *t = waiting < TCP_BACKLOG ? tcp_open() : NULL;
  if (t == NULL)
    return;  // the peer will send its SYN again
  t->state = SYN_RCVD;
  t->lport = l->lport;
  t->rip = rip;
  t->rport = rport;
  t->listen = l->listen;
  t->parent = l;
  l->refs++;
  t->rcv_nxt = seq + 1;
  t->iss = t->snd_una = sys_uptime() * 64;
  t->snd_nxt = t->iss + 1;
  t->rto = TCP_RTO;
  output(t, 0);
}

// Answer a segment (header h, n bytes of data) that belongs to no
// connection with a reset.
static void reset_reply(const struct ip_packet *p, const unsigned char *h, unsigned long n)
{
  if (h[13] & RST)
    return;
  net_stats.tcp_resets++;
  unsigned int seq = net_get32(h + 4) + n + !!(h[13] & SYN) + !!(h[13] & FIN);
  if (h[13] & ACK)
    send_raw(net_get16(h + 2), p->src, net_get16(h), net_get32(h + 8), 0, RST, 0, NULL, 0);
  else
    send_raw(net_get16(h + 2), p->src, net_get16(h), 0, seq, RST | ACK, 0, NULL, 0);
}

// The acknowledgement ack (with the peer's window) came for t, in a
// segment that carries nothing else if bare.
static void acked(struct tcp_sock *t, unsigned int ack, unsigned int window, int bare)
{
  if (before(ack, t->snd_una) || before(t->snd_nxt, ack))
    return;  // old, or for what was never sent
  unsigned long n = ack - t->snd_una, same_window = window == t->snd_wnd;
  t->snd_wnd = window;
  if (n == 0) {
    if (bare && same_window && t->slen > 0 && t->snd_nxt != t->snd_una &&
        ++t->dupacks % TCP_DUPACKS == 0) {
      net_stats.tcp_retransmits++;  // fast retransmit: the oldest segment
      send_seg(t, t->snd_una, ACK | PSH, t->sbuf, t->slen < TCP_MSS ? t->slen : TCP_MSS);
    }
    return;
  }
  t->dupacks = 0;
  unsigned long data = n < t->slen ? n : t->slen;
  memmove(t->sbuf, t->sbuf + data, t->slen - data);
  t->slen -= data;
  t->snd_una = ack;
  t->rto = TCP_RTO;
  t->expiries = 0;
  t->deadline = 0;
  if (t->snd_nxt != t->snd_una)
    timer_start(t);
  if (t->fin_sent && ack == t->snd_nxt) {  // our FIN is acknowledged
    if (t->state == FIN_WAIT_1)
      t->state = FIN_WAIT_2;
    else if (t->state == CLOSING || t->state == LAST_ACK)
      finish(t, 0);
  }
}

// Take the n bytes of data at sequence number seq (and the FIN after
// them, if fin) that came for t: in order only. Acknowledges them.
static void take(struct tcp_sock *t, unsigned int seq, const unsigned char *data, unsigned long n,
                 int fin)
{
  if (n == 0 && !fin)
    return;
  long skip = (int)(t->rcv_nxt - seq);
  if (skip < 0) {
    net_stats.tcp_unordered++;  // a segment before it was lost: the peer sends again
  } else if ((unsigned long)skip <= n) {
    unsigned long m = n - skip, room = TCP_BUF - t->rlen;
    m = m < room ? m : room;
    for (unsigned long i = 0; i < m; i++)
      t->rbuf[(t->rhead + t->rlen + i) % TCP_BUF] = data[skip + i];
    t->rlen += m;
    t->rcv_nxt += m;
    if (fin && skip + m == n) {
      t->rcv_nxt++;
      if (t->state == ESTABLISHED)
        t->state = CLOSE_WAIT;
      else if (t->state == FIN_WAIT_1)
        t->state = CLOSING;
      else if (t->state == FIN_WAIT_2)
        finish(t, 0);  // (no TIME_WAIT: a FIN sent again is answered by a reset)
    }
  }
  send_seg(t, t->snd_nxt, ACK, NULL, 0);
}

// eth_input for TCP filters: check the segment and give it to its
// connection, its listener, or answer it with a reset.
static void tcp_in(void *arg, const unsigned char *f, unsigned long len)
{
  struct ip_packet p;
  if (ip_check(f, len, &p) < 0)
    return;
  const unsigned char *h = p.data;
  unsigned long hlen = p.len >= 20 ? (h[12] >> 4) * 4 : 0;
  if (p.proto != IP_TCP || hlen < 20 || hlen > p.len ||
      net_fold(net_sum(ip_pseudo_sum(p.src, p.dst, IP_TCP, p.len), h, p.len)) != 0) {
    net_stats.tcp_bad++;
    return;
  }
  if (tcp_drop_every != 0 && ++segs_in % tcp_drop_every == 0) {
    net_stats.tcp_dropped_on_purpose++;
    return;
  }
  unsigned int sport = net_get16(h), dport = net_get16(h + 2), seq = net_get32(h + 4);
  unsigned int ack = net_get32(h + 8), flags = h[13], window = net_get16(h + 14);
  struct tcp_sock *t = all, *l = NULL;
  for (; t != NULL; t = t->next) {
    if (t->state == LISTEN && t->lport == dport)
      l = t;
    if (t->state > LISTEN && t->lport == dport && t->rip == p.src && t->rport == sport)
      break;
  }
  if (t == NULL && l != NULL && (flags & (SYN | ACK | RST)) == SYN) {
    passive_open(l, p.src, sport, seq);
  } else if (t == NULL) {
    reset_reply(&p, h, p.len - hlen);
  } else if (flags & RST) {  // believed only if it names exactly what we expect
    if (t->state == SYN_SENT ? (flags & ACK) && ack == t->iss + 1 : seq == t->rcv_nxt)
      finish(t, t->state == SYN_SENT ? -E_CONNREFUSED : -E_CONNRESET);
  } else if (t->state == SYN_SENT) {
    if ((flags & (SYN | ACK)) != (SYN | ACK) || ack != t->iss + 1) {
      reset_reply(&p, h, p.len - hlen);
      return;
    }
    t->rcv_nxt = seq + 1;
    t->state = ESTABLISHED;
    acked(t, ack, window, 0);
    send_seg(t, t->snd_nxt, ACK, NULL, 0);
  } else if (flags & ACK) {
    if (t->state == SYN_RCVD && ack == t->iss + 1)
      t->state = ESTABLISHED;
    if (t->state == SYN_RCVD)
      return;  // not acknowledging our SYN: the handshake is not over
    acked(t, ack, window, p.len == hlen && !(flags & (SYN | FIN)));
    take(t, seq, h + hlen, p.len - hlen, flags & FIN);
    output(t, 0);
  }
}

// Install the filter for TCP segments to local port `port` for t.
// Returns 0 or an error (E_CLAIMED: the port is another's).
static long own_port(struct tcp_sock *t, unsigned int port)
{
  struct dpf_term f[4] = {
      {12, 2, 0xFFFF, ETH_IP}, {14, 1, 0xFF, 0x45}, {23, 1, 0xFF, IP_TCP}, {36, 2, 0xFFFF, port}};
  long h = eth_listen(f, 4, NET_RING_PAGES, tcp_in, NULL);
  if (h < 0)
    return h;
  t->listen = h;
  t->lport = port;
  return 0;
}

// Open a connection from t (closed, never used) to ip:port, from a free
// local port, and wait until it is open. Returns 0 or an error
// (E_CONNREFUSED, E_TIMEOUT, E_HOSTUNREACH, E_INVAL for a used socket).
long tcp_connect(struct tcp_sock *t, unsigned int ip, unsigned int port)
{
  static unsigned int next = TCP_FIRST_PORT;
  if (t->state != CLOSED || t->listen >= 0 || port == 0 || port > 0xFFFF)
    return -E_INVAL;
  long err = -E_CLAIMED;
  for (int tries = 0; err == -E_CLAIMED && tries < 64; tries++) {
    err = own_port(t, next);
    next = next == 0xFFFF ? TCP_FIRST_PORT : next + 1;
  }
  if (err < 0)
    return err;
  unsigned char mac[6];
  if ((err = arp_resolve(ip, mac)) < 0)
    return err;
  t->rip = ip;
  t->rport = port;
  t->iss = t->snd_una = sys_uptime() * 64;
  t->snd_nxt = t->iss + 1;
  t->rto = TCP_RTO;
  t->state = SYN_SENT;
  output(t, 0);
  while (t->state == SYN_SENT)
    step(0);
  return t->state == CLOSED ? t->err : 0;
}

// Let t take connections to local port `port`. Returns 0 or an error
// (E_CLAIMED: another program has the port; E_INVAL: t is in use).
long tcp_listen(struct tcp_sock *t, unsigned int port)
{
  if (t->state != CLOSED || t->listen >= 0 || port == 0 || port > 0xFFFF)
    return -E_INVAL;
  long err = own_port(t, port);
  if (err < 0)
    return err;
  t->state = LISTEN;
  t->refs = 1;
  return 0;
}

// Wait for the next connection to listener l to open. Returns it, or NULL
// with the error in *err (E_INVAL: l is no listener).
struct tcp_sock *tcp_accept(struct tcp_sock *l, long *err)
{
  for (;;) {
    if (l->state != LISTEN) {
      *err = -E_INVAL;
      return NULL;
    }
    for (struct tcp_sock *t = all; t != NULL; t = t->next)
      if (t->parent == l && !t->accepted && t->state >= ESTABLISHED) {
        t->accepted = 1;
        return t;
      }
    step(0);
  }
}

// Read up to n bytes that came on t into buf, waiting for one at least.
// Returns the count, 0 at the end (the peer's FIN), or t's error.
long tcp_read(struct tcp_sock *t, void *buf, unsigned long n)
{
  while (t->rlen == 0 &&
         (t->state == ESTABLISHED || t->state == FIN_WAIT_1 || t->state == FIN_WAIT_2))
    step(0);
  if (t->rlen == 0)
    return t->state == CLOSED && t->err < 0 ? t->err : 0;
  unsigned long was_full = t->rlen > TCP_BUF - TCP_MSS;
  n = n < t->rlen ? n : t->rlen;
  for (unsigned long i = 0; i < n; i++)
    ((unsigned char *)buf)[i] = t->rbuf[(t->rhead + i) % TCP_BUF];
  t->rhead = (t->rhead + n) % TCP_BUF;
  t->rlen -= n;
  if (was_full)  // the window was (nearly) closed: tell the peer it is open
    send_seg(t, t->snd_nxt, ACK, NULL, 0);
  return n;
}

// Send the n bytes at buf on t, waiting while the send buffer is full.
// Returns n or an error (E_NOTCONN: t is not open or closing; E_PIPE: it
// was closed; the connection's error).
long tcp_write(struct tcp_sock *t, const void *buf, unsigned long n)
{
  unsigned long done = 0;
  while (done < n) {
    if (t->state != ESTABLISHED && t->state != CLOSE_WAIT)
      return t->state == CLOSED && t->err < 0 ? t->err : -E_NOTCONN;
    if (t->fin_queued)
      return -E_PIPE;
    unsigned long m = n - done < TCP_BUF - t->slen ? n - done : TCP_BUF - t->slen;
    memmove(t->sbuf + t->slen, (const char *)buf + done, m);
    t->slen += m;
    done += m;
    output(t, 0);
    if (done < n)
      step(0);
  }
  return n;
}

// Where t's peer is.
void tcp_peer(const struct tcp_sock *t, unsigned int *ip, unsigned int *port)
{
  *ip = t->rip;
  *port = t->rport;
}

// Forget t: off the list and freed. Its filter goes when no connection
// uses it any more: a listener stays (off the list) until the last of
// its connections goes.
static void release(struct tcp_sock *t)
{
  struct tcp_sock **pp = &all;
  while (*pp != t)
    pp = &(*pp)->next;
  *pp = t->next;
  struct tcp_sock *owner = t->parent != NULL ? t->parent : t;
  int last = owner->refs == 0 || --owner->refs == 0;
  if (last && owner->listen >= 0)
    eth_unlisten(owner->listen);
  if (last && owner != t)
    free(owner);
  if (owner != t || last)
    free(t);
}

// Close t: a listener takes no more connections (those not yet accepted
// are reset); a connection sends what it holds, then FIN, and waits at
// most TCP_LINGER for the peer to acknowledge it and close its side.
void tcp_close(struct tcp_sock *t)
{
  if (t->state == LISTEN) {
    t->state = CLOSED;
    for (struct tcp_sock *c = all, *next; c != NULL; c = next) {
      next = c->next;
      if (c->parent == t && !c->accepted) {
        send_seg(c, c->snd_nxt, RST, NULL, 0);
        release(c);
      }
    }
  } else if (t->state == ESTABLISHED || t->state == CLOSE_WAIT) {
    t->state = t->state == ESTABLISHED ? FIN_WAIT_1 : LAST_ACK;
    t->fin_queued = 1;
    output(t, 0);
    unsigned long until = sys_uptime() + TCP_LINGER;
    while (t->state != CLOSED && step(until) == 0)
      ;
  }
  release(t);
}
