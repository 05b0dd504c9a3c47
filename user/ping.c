// ping: send ICMP echo requests to a host and print each reply.
//
//   ping HOST [-c COUNT]   (default 4 requests, one a second)
//
// Each reply's line gives its round trip in ticks of the machine's clock
// (rdtime: sysinfo.timebase_hz a second) and in microseconds; a summary
// follows. The replies are this ping's own: its filter takes ICMP echo
// replies carrying its identifier (its environment's number), so several
// pings can run at once.

#include "ulib/ulib.h"

#define DATA 56  // bytes of data after the ICMP header

static unsigned int ident, host;
static int got_seq = -1;  // the sequence number of the reply just taken
static unsigned long got_time;

// eth_input for our echo replies: note the sequence number and when.
static void reply_in(void *arg, const unsigned char *f, unsigned long len)
{
  struct ip_packet p;
  if (ip_check(f, len, &p) < 0 || p.proto != IP_ICMP || p.len < 8 || p.src != host ||
      net_fold(net_sum(0, p.data, p.len)) != 0)
    return;
  got_seq = net_get16(p.data + 6);
  got_time = sys_uptime();
}

// Send echo request number seq.
static long request(int seq)
{
  unsigned char m[8 + DATA];
  m[0] = 8;
  m[1] = 0;
  net_put16(m + 2, 0);
  net_put16(m + 4, ident);
  net_put16(m + 6, seq);
  for (int i = 0; i < DATA; i++)
    m[8 + i] = i;
  net_put16(m + 2, net_fold(net_sum(0, m, sizeof(m))));
  return ip_send(host, IP_ICMP, &(struct net_piece){m, sizeof(m)}, 1);
}

int main(int argc, char **argv)
{
  int count = 4;
  if (argc == 4 && strcmp(argv[2], "-c") == 0)
    count = atoi(argv[3]);
  if ((argc != 2 && argc != 4) || count <= 0 || net_parse_ip(argv[1], &host) < 0) {
    fprintf(2, "usage: ping HOST [-c COUNT]\n");
    return 2;
  }
  ident = sys_getenvid() & 0xFFFF;
  struct dpf_term t[5] = {{12, 2, 0xFFFF, ETH_IP},
                          {14, 1, 0xFF, 0x45},
                          {23, 1, 0xFF, IP_ICMP},
                          {34, 1, 0xFF, 0},
                          {38, 2, 0xFFFF, ident}};
  long err = eth_listen(t, 5, 4, reply_in, NULL);
  if (err < 0) {
    printf("ping: %s\n", exos_strerror(err));
    return 1;
  }
  unsigned long hz = NET_SECOND, least = -1UL, most = 0, total = 0;
  int received = 0;
  printf("PING %s: %d data bytes\n", argv[1], DATA);
  for (int seq = 0; seq < count; seq++) {
    unsigned long sent = sys_uptime(), until = sent + hz;
    if ((err = request(seq)) < 0) {
      printf("ping: %s\n", exos_strerror(err));
      continue;
    }
    got_seq = -1;
    while (got_seq != seq && eth_poll(until) == 0)
      ;
    if (got_seq == seq) {
      unsigned long rtt = got_time - sent;
      printf("%d bytes from %s: icmp_seq=%d time=%lu ticks (%lu us)\n", 8 + DATA, argv[1], seq, rtt,
             rtt * 1000000 / hz);
      received++;
      total += rtt;
      least = rtt < least ? rtt : least;
      most = rtt > most ? rtt : most;
      while (eth_poll(until) == 0)  // wait out the second
        ;
    } else {
      printf("no reply to icmp_seq=%d\n", seq);
    }
  }
  printf("--- %s: %d sent, %d received", argv[1], count, received);
  if (received > 0)
    printf(", round trip min/avg/max %lu/%lu/%lu ticks", least, total / received, most);
  printf("\n");
  return received > 0 ? 0 : 1;
}
