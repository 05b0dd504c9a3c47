// IPv4 and ICMP echo, above ether.c. No options are sent; no fragments:
// a fragment that comes is dropped (and counted), and nothing larger
// than NET_MTU is sent. Every header that comes is checked before any
// layer above looks at it (ip_check); what fails is dropped and counted
// in net_stats.

#include "ulib.h"

static unsigned int ip_id;  // the identification of the next packet sent

// Count a packet dropped in *counter. Returns -E_INVAL.
static long drop(unsigned long *counter)
{
  (*counter)++;
  return -E_INVAL;
}

// Add the n bytes at p, as big-endian 16-bit words (an odd last byte
// padded with zero), to the running one's-complement sum `sum`.
unsigned long net_sum(unsigned long sum, const void *p, unsigned long n)
{
  // LAB net: add the bytes as big-endian 16-bit words; an odd last byte is the high half
  // HANDOUT: return sum;
  const unsigned char *b = p;
  for (unsigned long i = 0; i + 1 < n; i += 2)
    sum += net_get16(b + i);
  if (n & 1)
    sum += b[n - 1] << 8;
  return sum;
  // END LAB net
}

// The Internet checksum of a running sum: its 16-bit one's complement.
// (A packet whose checksum field is right sums to 0 here.)
unsigned int net_fold(unsigned long sum)
{
  // LAB net: fold the carries back in, then complement
  // HANDOUT: return 0;
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return ~sum & 0xFFFF;
  // END LAB net
}

// The running sum of UDP's and TCP's pseudo-header: the addresses, the
// protocol and the length n of the segment.
unsigned long ip_pseudo_sum(unsigned int src, unsigned int dst, unsigned int proto, unsigned long n)
{
  // LAB net: the four 16-bit halves of the addresses, the protocol, the length
  // HANDOUT: return 0;
  return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + n;
  // END LAB net
}

// Check the IPv4 packet in the len-byte Ethernet frame and describe it in
// *p: version 4, a header of 20 bytes or more whose checksum is right, a
// total length that fits in the frame (padding after it is ignored), not
// a fragment, for our address (or the broadcast one). Learns the sender's
// Ethernet address if it is on our subnet. Returns 0, or -E_INVAL for a
// packet dropped (counted in net_stats).
long ip_check(const unsigned char *f, unsigned long len, struct ip_packet *p)
{
  // LAB net: check each header field before using it; count what is dropped
  // HANDOUT: return drop(&net_stats.ip_bad);
  const unsigned char *h = f + ETH_HDR;
  if (len < ETH_HDR + IP_HDR || net_get16(f + 12) != ETH_IP || h[0] >> 4 != 4)
    return drop(&net_stats.ip_bad);
  unsigned long hlen = (h[0] & 15) * 4, total = net_get16(h + 2);
  if (hlen < IP_HDR || total < hlen || total > len - ETH_HDR || net_fold(net_sum(0, h, hlen)) != 0)
    return drop(&net_stats.ip_bad);
  if (net_get16(h + 6) & 0x3FFF)  // more fragments, or an offset: a fragment
    return drop(&net_stats.ip_fragments);
  *p = (struct ip_packet){net_get32(h + 12), net_get32(h + 16), h[9], h + hlen, total - hlen};
  if (p->dst != NET_IP && p->dst != 0xFFFFFFFFU)
    return drop(&net_stats.ip_bad);
  if ((p->src & NET_NETMASK) == (NET_IP & NET_NETMASK))
    arp_learn(p->src, f + 6);
  return 0;
  // END LAB net
}

// Send an IPv4 packet of protocol proto to dst, its payload the n (at
// most 3) pieces one after another. Returns 0 or an error: E_INVAL (too
// long for one frame), E_HOSTUNREACH, the kernel's.
long ip_send(unsigned int dst, unsigned int proto, const struct net_piece *p, int n)
{
  // LAB net: resolve dst, write the 20-byte header (its checksum last), send
  // HANDOUT: return -E_NOSYS;
  unsigned char h[IP_HDR], mac[6];
  struct net_piece all[4] = {{h, IP_HDR}};
  unsigned long total = IP_HDR;
  for (int i = 0; i < n && i < 3; i++) {
    all[i + 1] = p[i];
    total += p[i].n;
  }
  if (n > 3 || total > NET_MTU)
    return -E_INVAL;
  long err = arp_resolve(dst, mac);
  if (err < 0)
    return err;
  memset(h, 0, IP_HDR);
  h[0] = 0x45;
  net_put16(h + 2, total);
  net_put16(h + 4, ip_id++);
  net_put16(h + 6, 0x4000);  // don't fragment
  h[8] = 64;                 // time to live
  h[9] = proto;
  net_put32(h + 12, NET_IP);
  net_put32(h + 16, dst);
  net_put16(h + 10, net_fold(net_sum(0, h, IP_HDR)));
  return eth_send(mac, ETH_IP, all, n + 1);
  // END LAB net
}

// Answer the ICMP echo request in frame (netd's filter took it) with an
// echo reply carrying the same identifier, sequence number and data.
// Returns 0, -E_INVAL for a request dropped (a bad IP header or ICMP
// checksum: counted), or what sending returned.
long icmp_answer(const unsigned char *f, unsigned long len)
{
  // LAB net: check the request, send back the reply (type 0, a new checksum)
  // HANDOUT: return drop(&net_stats.ip_bad);
  struct ip_packet p;
  if (ip_check(f, len, &p) < 0)
    return -E_INVAL;
  if (p.proto != IP_ICMP || p.len < 8 || p.data[0] != 8 || net_fold(net_sum(0, p.data, p.len)) != 0)
    return drop(&net_stats.ip_bad);
  unsigned char h[8];
  memmove(h, p.data, 8);
  h[0] = 0;  // an echo reply
  net_put16(h + 2, 0);
  net_put16(h + 2, net_fold(net_sum(net_sum(0, h, 8), p.data + 8, p.len - 8)));
  struct net_piece reply[2] = {{h, 8}, {p.data + 8, p.len - 8}};
  return ip_send(p.src, IP_ICMP, reply, 2);
  // END LAB net
}

// Parse the dotted address s ("10.0.2.2") into *ip. Returns 0, or -1 if
// s is no such address.
int net_parse_ip(const char *s, unsigned int *ip)
{
  unsigned int a = 0;
  for (int i = 0; i < 4; i++) {
    unsigned int part = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
      part = part * 10 + (*s - '0');
    if (digits == 0 || part > 255 || *s != (i < 3 ? '.' : '\0'))
      return -1;
    s += i < 3;
    a = a << 8 | part;
  }
  *ip = a;
  return 0;
}
