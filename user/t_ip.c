// t_ip: the checks of lab net (ExOS's IPv4 and UDP layers, ulib/ip.c and
// ulib/udp.c), one exercise after another:
//   1. net_sum, net_fold and ip_pseudo_sum on known bytes;
//   2. ip_check on frames built here: a good one, one with an IP option,
//      one with Ethernet padding, and frames it must drop (counted);
//   3. udp_bind: arguments, a port held by another socket refused, TCP's
//      packets to the same port not claimed (a child listens there), the
//      port free after close;
//   4. with the host (labs/net/tests.py on the wire): udp_recvfrom takes
//      at most n bytes of a datagram to port 8 and says who sent it, and
//      udp_sendto answers "pong" (the host checks its headers and says
//      "got").
// It ends at the first exercise that fails: the later ones stand on it.
// `t_ip N` runs exercises 1 to N only.

#include "user/tsupport.h"

#define PORT 8          // the port the host sends to in exercise 4
#define HOST_PORT 5000  // the host's port (labs/net/tests.py)

static unsigned char f[128];  // the frame ip_check is given

// Build in f a frame from 10.0.2.2 to dst carrying a UDP datagram of
// payload bytes (8 for its header and payload-8 of data; 0 fills), its IP
// header with `options` bytes of options (NOPs) and the fragment field
// frag. Returns the frame's length (padded to 60 as Ethernet does).
static unsigned long build(unsigned int dst, int options, unsigned int frag, unsigned long payload)
{
  static const unsigned char mac[6] = NET_MAC;
  unsigned char *h = f + ETH_HDR;
  unsigned long hlen = IP_HDR + options, total = hlen + payload;
  memset(f, 0, sizeof(f));
  memmove(f, mac, 6);
  memmove(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
  net_put16(f + 12, ETH_IP);
  h[0] = 0x40 | hlen / 4;
  net_put16(h + 2, total);
  net_put16(h + 6, frag);
  h[8] = 64;
  h[9] = IP_UDP;
  net_put32(h + 12, NET_GATEWAY);
  net_put32(h + 16, dst);
  memset(h + IP_HDR, 1, options);
  net_put16(h + hlen, HOST_PORT);
  net_put16(h + hlen + 2, PORT);
  net_put16(h + hlen + 4, payload);
  // the checksum over the header as it is, computed here, not by net_sum
  unsigned long sum = 0;
  for (unsigned long i = 0; i < hlen; i += 2)
    sum += net_get16(h + i);
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  net_put16(h + 10, ~sum & 0xFFFF);
  unsigned long len = ETH_HDR + total;
  return len < 60 ? 60 : len;
}

// ip_check of f's first len bytes: 0 or its error; what it accepted in *p.
static long check_frame(unsigned long len, struct ip_packet *p)
{
  memset(p, 0, sizeof(*p));
  return ip_check(f, len, p);
}

// Exercise 1: the checksum's pieces.
static void sums(void)
{
  static const unsigned char b[5] = {0x01, 0x02, 0x03, 0x04, 0x05};
  check("net_sum of 4 bytes: two big-endian words", net_sum(0, b, 4), 0x0406);
  check("net_sum of 3 bytes: the odd last byte is a word's high half", net_sum(0, b, 3), 0x0402);
  check("net_sum goes on from the sum it is given", net_sum(0x10000, b, 5), 0x10906);
  check("net_fold of 0x0406: its complement", net_fold(0x0406), 0xFBF9);
  check("net_fold of 0x1FFFE: the carry added back", net_fold(0x1FFFE), 0);
  check("net_fold of 0x3FFFD: carried twice", net_fold(0x3FFFD), 0xFFFE);
  check("net_fold of 0xFFFF", net_fold(0xFFFF), 0);
  check("ip_pseudo_sum: address halves, protocol, length",
        ip_pseudo_sum(NET_IP, NET_GATEWAY, IP_UDP, 100), 0x0A00 + 0x020F + 0x0A00 + 0x0202 + 17 + 100);
}

// Exercise 2: ip_check.
static void checks_of_ip(void)
{
  struct ip_packet p;
  unsigned long len = build(NET_IP, 0, 0x4000, 40);
  check("a good packet is accepted", check_frame(len, &p), 0);
  check("... its source", p.src, NET_GATEWAY);
  check("... its destination", p.dst, NET_IP);
  check("... its protocol", p.proto, IP_UDP);
  check("... its payload after the 20-byte header", p.data - f, ETH_HDR + IP_HDR);
  check("... its payload's length", p.len, 40);
  len = build(NET_IP, 8, 0, 40);
  check("a packet with 8 bytes of IP options is accepted", check_frame(len, &p), 0);
  check("... its payload after the 28-byte header", p.data - f, ETH_HDR + IP_HDR + 8);
  check("... its payload's length: total length - header length", p.len, 40);
  len = build(NET_IP, 0, 0, 12);
  check("a short packet in a frame padded to 60 bytes is accepted", check_frame(len, &p), 0);
  check("... its length from the IP total length, not the frame's", p.len, 12);
  len = build(0xFFFFFFFFU, 0, 0, 40);
  check("a packet to the broadcast address is accepted", check_frame(len, &p), 0);

  unsigned long bad = net_stats.ip_bad, frags = net_stats.ip_fragments;
  len = build(0x0A000263U, 0, 0, 40);
  check("a packet for 10.0.2.99 is dropped", check_frame(len, &p), -E_INVAL);
  len = build(NET_IP, 0, 0, 40);
  f[ETH_HDR + 10] ^= 0x40;
  check("a bad header checksum is dropped", check_frame(len, &p), -E_INVAL);
  len = build(NET_IP, 0, 0, 40);
  check("a frame cut in the IP header is dropped", check_frame(ETH_HDR + 19, &p), -E_INVAL);
  check("a total length past the frame is dropped", check_frame(ETH_HDR + 59, &p), -E_INVAL);
  len = build(NET_IP, 0, 0, 40);
  f[12] = 0x86, f[13] = 0xDD;
  check("a frame that is not IPv4 (type 0x86DD) is dropped", check_frame(len, &p), -E_INVAL);
  len = build(NET_IP, 0, 0, 40);
  f[ETH_HDR] = 0x65;
  check("version 6 is dropped", check_frame(len, &p), -E_INVAL);
  len = build(NET_IP, 0, 0, 40);
  f[ETH_HDR] = 0x44;
  check("a header length below 20 bytes is dropped", check_frame(len, &p), -E_INVAL);
  check("... each counted in ip_bad", net_stats.ip_bad - bad, 7);
  len = build(NET_IP, 0, 0x2000, 40);
  check("a first fragment (more fragments) is dropped", check_frame(len, &p), -E_INVAL);
  len = build(NET_IP, 0, 0x0001, 40);
  check("a later fragment (an offset) is dropped", check_frame(len, &p), -E_INVAL);
  check("... each counted in ip_fragments", net_stats.ip_fragments - frags, 2);
}

// Exercise 3: udp_bind's filter, as the kernel sees it.
static void binds(void)
{
  struct udp_sock *u = udp_open(), *v = udp_open();
  check("udp_bind to port 0 is refused", udp_bind(u, 0), -E_INVAL);
  check("udp_bind to port 5555", udp_bind(u, 5555), 0);
  check("... a second bind of the socket is refused", udp_bind(u, 5555), -E_INVAL);
  check("... another socket's bind to 5555 is refused by the kernel", udp_bind(v, 5555),
        -E_CLAIMED);
  check("... another socket binds 5556", udp_bind(v, 5556), 0);
  // The kernel refuses a filter that overlaps another environment's (an
  // environment's own may overlap): the TCP listener is a child's.
  int pid = fork(), status = -1;
  if (pid == 0)
    exit(tcp_listen(tcp_open(), 5555) == 0 ? 0 : 1);
  waitpid(pid, &status);
  check("... a child's TCP listener on 5555: UDP's filter does not claim TCP", status, 0);
  udp_close(u);
  u = udp_open();
  check("after udp_close, 5555 can be bound again", udp_bind(u, 5555), 0);
  udp_close(u);
  udp_close(v);
  check("udp_recvfrom on a socket not bound", udp_recvfrom(udp_open(), f, 1, NULL, NULL),
        -E_NOTCONN);
}

// Exercise 4: a datagram from the host, taken 4 bytes of it, and a reply.
static void traffic(void)
{
  struct udp_sock *u = udp_open();
  unsigned char buf[16];
  unsigned int ip = 0, port = 0;
  check("udp_bind to port 8", udp_bind(u, PORT), 0);
  printf("t_ip: waiting on port %d\n", PORT);
  memset(buf, 0xEE, sizeof(buf));
  long n = udp_recvfrom(u, buf, 4, &ip, &port);
  check("udp_recvfrom of 4 bytes of a 10-byte datagram takes 4", n, 4);
  check("... the first 4", memcmp(buf, "0123", 4), 0);
  check("... and not one more", buf[4], 0xEE);
  check("... from 10.0.2.2", ip, NET_GATEWAY);
  check("... port 5000", port, HOST_PORT);
  check("udp_sendto of \"pong\" back", udp_sendto(u, "pong", 4, ip, port), 4);
  // The host says "got" once the pong has come: ending before would
  // power the machine off with the frame still in the device's queue.
  while ((n = udp_recvfrom(u, buf, sizeof(buf), NULL, NULL)) >= 0)
    if (n == 3 && memcmp(buf, "got", 3) == 0)
      break;
  udp_close(u);
}

// t_ip [N]: exercises 1 to N (default 4, all of them; lab net's tests
// grade them one by one, each with those before it).
int main(int argc, char **argv)
{
  int last = argc > 1 ? atoi(argv[1]) : 4;
  void (*exercises[])(void) = {sums, checks_of_ip, binds, traffic};
  for (int i = 0; i < last && i < 4; i++) {
    exercises[i]();
    stop_if_failed("t_ip");
  }
  finish("t_ip");
}
