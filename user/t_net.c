// t_net: the network's secure bindings (kernel/net.c, kernel/dpf.c).
//
//   t_net          packet filters and sends, used properly and attacked,
//                  with no traffic: refusals at download, no stealing a
//                  port, quotas, and an environment destroyed with its
//                  filters installed
//   t_net echo     a UDP echo server on port ECHO_PORT (7), built by hand
//                  (Ethernet, IPv4 and UDP headers written here), that
//                  answers ARP requests for its address (10.0.2.15) too,
//                  for the host-side tests in labs/network/tests.py: it
//                  sends "ready" once its filters are in, echoes every
//                  datagram, and on "quit" prints the kernel's network
//                  counters, answers "bye" and ends; a child of its takes
//                  the datagrams for port SINK_PORT until the server, told
//                  "kill", destroys it (while they still come). It waits
//                  with a deadline that never comes, so each frame wakes
//                  it with one pending (net_wait forgets it then).

#include "user/tsupport.h"

#define ECHO_PORT 7
#define SINK_PORT 9
#define RING      0x2400000000UL  // ring pages, mapped one after another
#define SLOT(i)   ((volatile struct net_slot *)(RING + (i)*PGSIZE))
#define OUT       0x2500000000UL  // the page frames are sent from
#define NRING     8
#define NUDP      6  // ring pages 0..5 are the echo port's, 6..7 ARP's

static long ring[NRING], out_ppn;
static long echo_filter;

// A filter for UDP datagrams over IPv4 (no IP options) to port `port`:
// the port last, so that filters for other ports merge with it.
static const struct dpf_term udp_terms[4] = {
    {12, 2, 0xFFFF, 0x0800},  // Ethernet type: IPv4
    {14, 1, 0xFF, 0x45},      // version 4, a 20-byte header
    {23, 1, 0xFF, 17},        // protocol: UDP
    {36, 2, 0xFFFF, 0},       // destination port (set by udp_filter)
};

// Install the filter for UDP port `port` with the first n ring pages.
static long udp_filter(unsigned int port, int n)
{
  struct dpf_term t[4];
  memmove(t, udp_terms, sizeof(t));
  t[3].value = port;
  return sys_net_filter(t, 4, (const unsigned long *)ring, n);
}

// The 16-bit big-endian number at p.
static unsigned int get16(const volatile unsigned char *p)
{
  return p[0] << 8 | p[1];
}

static void put16(volatile unsigned char *p, unsigned int v)
{
  p[0] = v >> 8;
  p[1] = v;
}

// The Internet checksum of n bytes at p (n even).
static unsigned int checksum(const volatile unsigned char *p, int n)
{
  unsigned long sum = 0;
  for (int i = 0; i < n; i += 2)
    sum += get16(p + i);
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return ~sum & 0xFFFF;
}

// Send the len-byte frame in the out page and wait until it is sent.
static long send_out(unsigned long len)
{
  long req = sys_net_send(out_ppn, 0, len);
  return req < 0 ? req : sys_net_status(req, 1);
}

// Write into the out page a UDP datagram from port ECHO_PORT to `port`
// carrying payload (n bytes), by hand: Ethernet (to everyone), IPv4
// (10.0.2.15 to 10.0.2.2, checksummed), UDP (no checksum). Returns the
// frame's length.
static unsigned long build_udp(unsigned int port, const void *payload, unsigned long n)
{
  static const unsigned char eth[14] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x52,
                                        0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00};
  static const unsigned char ip[20] = {0x45, 0, 0,  0, 0, 0,  0x40, 0, 64, 17,
                                       0,    0, 10, 0, 2, 15, 10,   0, 2,  2};
  unsigned char *f = (unsigned char *)OUT;
  memmove(f, eth, 14);
  memmove(f + 14, ip, 20);
  put16(f + 16, 28 + n);
  put16(f + 24, checksum(f + 14, 20));
  put16(f + 34, ECHO_PORT);
  put16(f + 36, port);
  put16(f + 38, 8 + n);
  put16(f + 40, 0);
  memmove(f + 42, payload, n);
  return 42 + n;
}

// Answer the UDP datagram in ring slot s with the same payload: the
// frame copied, its addresses and ports swapped, the IP header's
// checksum computed again. Returns what sending it returned.
static long echo(volatile struct net_slot *s)
{
  unsigned char *f = (unsigned char *)OUT;
  unsigned long len = s->len;
  unsigned int iplen = get16(s->frame + 16), udplen = get16(s->frame + 38);
  if (len < 42 || iplen < 28 || 14 + iplen > len || udplen != iplen - 20)
    return -E_INVAL;  // not a whole datagram: nothing to answer
  len = 14 + iplen;   // (the frame may carry padding)
  memmove(f, (const void *)s->frame, len);
  memmove(f, (const void *)(s->frame + 6), 6);  // back to the sender
  memmove(f + 6, (const void *)s->frame, 6);
  memmove(f + 26, (const void *)(s->frame + 30), 4);  // IP addresses
  memmove(f + 30, (const void *)(s->frame + 26), 4);
  memmove(f + 34, (const void *)(s->frame + 36), 2);  // ports
  memmove(f + 36, (const void *)(s->frame + 34), 2);
  f[22] = 64;  // TTL
  put16(f + 24, 0);
  put16(f + 24, checksum(f + 14, 20));
  put16(f + 40, 0);  // no UDP checksum
  return send_out(len);
}

// Answer the ARP request in ring slot s (it asks for our address: the
// filter says so) with our Ethernet address.
static long answer_arp(volatile struct net_slot *s)
{
  static const unsigned char mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  unsigned char *f = (unsigned char *)OUT;
  if (s->len < 42)
    return -E_INVAL;
  memmove(f, (const void *)s->frame, 42);
  memmove(f, (const void *)(s->frame + 6), 6);  // to the asker
  memmove(f + 6, mac, 6);
  put16(f + 20, 2);                                    // a reply
  memmove(f + 32, (const void *)(s->frame + 22), 10);  // its target: the asker
  memmove(f + 22, mac, 6);                             // its sender: us
  memmove(f + 28, (const void *)(s->frame + 38), 4);
  return send_out(42);
}

// Where the server is in one of its rings: pages first .. first + n - 1
// of the ring pages, the next frame to take in page first + next % n.
struct ring_view {
  int first, n;
  unsigned long next;
};

// The next frame ring r holds, or NULL if the kernel has put none there.
static volatile struct net_slot *next_frame(struct ring_view *r)
{
  volatile struct net_slot *s = SLOT(r->first + r->next % r->n);
  return s->full ? s : NULL;
}

// Give the frame next_frame returned back to the kernel.
static void frame_done(struct ring_view *r)
{
  SLOT(r->first + r->next % r->n)->full = 0;
  r->next++;
}

// Print the kernel's network counters.
static void counters(void)
{
  const struct sysinfo *si = SYSINFO;
  printf("t_net: counters: received %lu malformed %lu unmatched %lu overflow %lu sent %lu\n",
         si->net_received, si->net_malformed, si->net_unmatched, si->net_overflow, si->net_sent);
}

// The pages a child made by spawn_child uses (it has none of ExOS).
static long child_ring[1];

// The server's child: take the datagrams for SINK_PORT, forever.
static void sink_child(void)
{
  struct dpf_term t[4];
  memmove(t, udp_terms, sizeof(t));
  t[3].value = SINK_PORT;
  child_ring[0] = sys_page_alloc(0, 0, PG_USER);
  long f = sys_net_filter(t, 4, (const unsigned long *)child_ring, 1);
  check("child: install the filter for the sink port", f >= 0, 1);
  volatile struct net_slot *s = (volatile struct net_slot *)SCRATCH;
  struct aspace as;
  aspace_init(&as, sys_getenvid());
  if (aspace_map(&as, SCRATCH, child_ring[0], PTE_R | PTE_W) < 0)
    check("child: map its ring page", 0, 1);
  for (long seen = 0; (seen = sys_net_wait(f, seen, 0)) > 0;)
    s->full = 0;
}

// The echo server: see the top of the file.
__attribute__((noreturn)) static void serve(void)
{
  static const struct dpf_term arp_terms[3] = {
      {12, 2, 0xFFFF, 0x0806},          // Ethernet type: ARP
      {20, 2, 0xFFFF, 1},               // a request
      {38, 4, 0xFFFFFFFF, 0x0A00020F},  // for 10.0.2.15
  };
  echo_filter = udp_filter(ECHO_PORT, NUDP);
  check("install the filter for the echo port", echo_filter >= 0, 1);
  check("install the filter for ARP requests",
        sys_net_filter(arp_terms, 3, (const unsigned long *)&ring[NUDP], NRING - NUDP) >= 0, 1);
  long sink = spawn_child("sink", sink_child);
  check("make the sink child", sink > 0 && sys_env_start(sink) == 0, 1);
  while (ENVINFO(sink)->status == ENV_RUNNABLE)
    sys_yield(sink);  // until it waits for its first frame
  stop_if_failed("t_net");
  check("send ready", send_out(build_udp(ECHO_PORT, "ready", 5)), 0);
  struct ring_view udp = {0, NUDP, 0}, arp = {NUDP, NRING - NUDP, 0};
  long seen = 0, echoed = 0, bad = 0;
  volatile struct net_slot *s;
  for (int done = 0; !done;) {
    long n = sys_net_wait(NET_WAIT_ALL, seen, sys_uptime() + 1000 * SYSINFO->timebase_hz);
    if (n <= seen) {
      check("net_wait", n, seen + 1);
      break;
    }
    seen = n;
    for (; (s = next_frame(&arp)) != NULL; frame_done(&arp))
      answer_arp(s);
    for (; !done && (s = next_frame(&udp)) != NULL; frame_done(&udp)) {
      if (s->len >= 46 && get16(s->frame + 38) == 12 &&
          memcmp((const void *)(s->frame + 42), "quit", 4) == 0)
        done = 1;
      else if (s->len >= 46 && get16(s->frame + 38) == 12 &&
               memcmp((const void *)(s->frame + 42), "kill", 4) == 0 &&
               ENVINFO(sink)->id == (unsigned int)sink)
        printf("t_net: destroyed the sink child, frames for it coming: %ld\n",
               sys_env_destroy(sink));
      else if (echo(s) == 0)
        echoed++;
      else
        bad++;
    }
  }
  if (ENVINFO(sink)->id == (unsigned int)sink)
    sys_env_destroy(sink);  // never told to
  printf("t_net: echoed %ld datagrams, %ld not whole\n", echoed, bad);
  counters();
  kcheck("serving");
  check("send bye", send_out(build_udp(ECHO_PORT, "bye", 3)), 0);
  finish("t_net");
}

// A child that installs the filter for port 9000 and waits for frames
// that never come, until its parent destroys it.
static void waiting_child(void)
{
  struct dpf_term t[4];
  memmove(t, udp_terms, sizeof(t));
  t[3].value = 9000;
  child_ring[0] = sys_page_alloc(0, 0, PG_USER);
  long f = sys_net_filter(t, 4, (const unsigned long *)child_ring, 1);
  check("child: install a filter for port 9000", f >= 0, 1);
  check("child: install the parent's port 7000 refused",
        (t[3].value = 7000, sys_net_filter(t, 4, (const unsigned long *)child_ring, 1)),
        -E_CLAIMED);
  struct dpf_term more[5];
  memmove(more, udp_terms, sizeof(udp_terms));
  more[3].value = 7000;
  more[4] = (struct dpf_term){26, 4, 0xFFFFFFFF, 0x0A000202};  // from 10.0.2.2
  check("child: port 7000 from one host refused (part of the parent's)",
        sys_net_filter(more, 5, (const unsigned long *)child_ring, 1), -E_CLAIMED);
  check("child: every IPv4 frame refused (the parent's among them)",
        sys_net_filter(udp_terms, 1, (const unsigned long *)child_ring, 1), -E_CLAIMED);
  struct dpf_term arp = {12, 2, 0xFFFF, 0x0806};
  check("child: ARP frames (none of the parent's)",
        sys_net_filter(&arp, 1, (const unsigned long *)child_ring, 1) >= 0, 1);
  check("child: a ring page of its parent's refused",
        (t[3].value = 9001, sys_net_filter(t, 4, (const unsigned long *)ring, 1)), -E_NOACCESS);
  check("child: remove its parent's filter refused", sys_net_unfilter(echo_filter), -E_PERM);
  check("child: wait on its parent's filter refused", sys_net_wait(echo_filter, 0, 0), -E_PERM);
  check("child: send from its parent's page refused", sys_net_send(out_ppn, 0, 60), -E_NOACCESS);
  sys_net_wait(f, 0, -1UL);  // a deadline that never comes
  check("child: net_wait returned with no frame", 0, 1);
}

// A child that gives up the processor as soon as it has it, forever: each
// yield begins a new slice, and so moves the timer's next interrupt on.
static void yield_forever(void)
{
  for (;;)
    sys_yield(0);
}

// A child that sends frames and ends without collecting them.
static void abandoning_child(void)
{
  long page = sys_page_alloc(0, 0, PG_USER);
  for (int i = 0; i < 4; i++)
    sys_net_send(page, 0, 60);
}

// The next pseudo-random number (xorshift64), for random_calls.
static unsigned long rnd(void)
{
  static unsigned long x = 88172645463325252UL;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

// A random number that is often near a boundary: small, just below or
// above a limit, or anything.
static unsigned long edgy(unsigned long limit)
{
  switch (rnd() % 4) {
  case 0:
    return rnd() % 4;
  case 1:
    return limit - 1 + rnd() % 3;
  case 2:
    return rnd() % (limit + 1);
  default:
    return rnd();
  }
}

// n random network calls with random arguments (terms, ring pages that
// are its own, others' or none, sends, removals); each must return a
// result or a refusal, and the kernel's invariants must hold after.
static void random_calls(int n)
{
  struct dpf_term t[DPF_TERMS];
  unsigned long pages[NET_RING_PAGES];
  int refused = 0;
  for (int i = 0; i < n; i++) {
    long r;
    switch (rnd() % 5) {
    case 0:
    case 1:
      for (int k = 0; k < DPF_TERMS; k++)
        t[k] = (struct dpf_term){edgy(NET_FRAME_MAX), edgy(4), rnd() % 3 ? 0xFF : rnd(),
                                 rnd() % 3 ? rnd() % 4 : rnd()};
      for (int k = 0; k < NET_RING_PAGES; k++)
        pages[k] = rnd() % 2 ? (unsigned long)ring[rnd() % NRING]
                             : SYSINFO->base_ppn + edgy(SYSINFO->npages);
      r = sys_net_filter(t, edgy(DPF_TERMS), pages, edgy(NET_RING_PAGES));
      break;
    case 2:
      r = sys_net_unfilter(edgy(NET_FILTERS_PER_ENV * 8));
      break;
    case 3:
      r = sys_net_send(rnd() % 2 ? (unsigned long)out_ppn
                                 : SYSINFO->base_ppn + edgy(SYSINFO->npages),
                       edgy(PGSIZE), edgy(NET_FRAME_MAX));
      break;
    default:
      r = sys_net_status(edgy(NET_SENDS), rnd() % 2);
      break;
    }
    refused += r < 0;
  }
  printf("t_net: %d random calls, %d refused\n", n, refused);
  for (int f = 0; f < 64; f++)
    sys_net_unfilter(f);
  for (int q = 0; q < NET_SENDS; q++)
    sys_net_status(q, 1);
  kcheck("random calls");
}

// Filters and sends, properly and attacked, with no traffic.
__attribute__((noreturn)) static void attacks(void)
{
  struct dpf_term t[DPF_TERMS + 1];
  memmove(t, udp_terms, sizeof(udp_terms));
  echo_filter = udp_filter(7000, 1);
  check("install a filter for port 7000", echo_filter >= 0, 1);
  check("the same filter again refused", udp_filter(7000, 1), -E_CLAIMED);
  t[0] = udp_terms[2];  // its terms in another order: the same filter
  t[2] = udp_terms[0];
  t[3].value = 7000;
  check("the same terms in another order refused",
        sys_net_filter(t, 4, (const unsigned long *)ring, 1), -E_CLAIMED);
  long f2 = udp_filter(7001, 1);
  check("another port in the same class", f2 >= 0, 1);
  long all = sys_net_filter(udp_terms, 1, (const unsigned long *)ring, 1);
  check("every IPv4 frame, beside its own ports", all >= 0, 1);
  check("remove it", sys_net_unfilter(all), 0);
  struct dpf_term never[2] = {{12, 2, 0xFFFF, 0x0800}, {12, 1, 0xFF, 0x86}};
  check("terms that contradict each other refused",
        sys_net_filter(never, 2, (const unsigned long *)ring, 1), -E_BADFILTER);

  struct dpf_term past = {1511, 4, 0xFFFFFFFF, 0};
  check("a term reading past the largest frame refused",
        sys_net_filter(&past, 1, (const unsigned long *)ring, 1), -E_BADFILTER);
  past.offset = 1510;
  long last = sys_net_filter(&past, 1, (const unsigned long *)ring, 1);
  check("a term reading the last 4 bytes of the largest frame", last >= 0, 1);
  check("remove it", sys_net_unfilter(last), 0);
  for (int i = 0; i <= DPF_TERMS; i++)
    t[i] = (struct dpf_term){i, 1, 0xFF, 0};
  check("17 terms refused", sys_net_filter(t, DPF_TERMS + 1, (const unsigned long *)ring, 1),
        -E_BADFILTER);
  long dflt = sys_net_filter(t, 0, (const unsigned long *)ring, 1);
  check("no terms: the default filter", dflt >= 0 && sys_net_unfilter(dflt) == 0, 1);
  long most = sys_net_filter(t, DPF_TERMS, (const unsigned long *)ring, 1);
  check("16 terms", most >= 0, 1);
  check("remove them", sys_net_unfilter(most), 0);
  struct dpf_term bad[] = {
      {0, 3, 0xFF, 0},       // length 3
      {0, 1, 0, 0},          // tests nothing
      {0, 1, 0x1FF, 0},      // a mask wider than the field
      {0, 2, 0xFF00, 0x01},  // a value outside the mask
      {0xFFFF, 2, 0xFF, 0},  // far past the frame
  };
  for (unsigned long i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    check("a bad term refused", sys_net_filter(&bad[i], 1, (const unsigned long *)ring, 1),
          -E_BADFILTER);
  check("terms at a bad address refused",
        sys_net_filter((void *)0x10, 1, (const unsigned long *)ring, 1), -E_FAULT);
  check("terms in the kernel refused",
        sys_net_filter((void *)USYSINFO, 1, (const unsigned long *)ring, 1), -E_FAULT);

  t[0] = (struct dpf_term){12, 2, 0xFFFF, 0x0806};  // ARP
  unsigned long pages[NET_RING_PAGES + 1];
  check("no ring pages refused", sys_net_filter(t, 1, pages, 0), -E_INVAL);
  check("17 ring pages refused", sys_net_filter(t, 1, pages, NET_RING_PAGES + 1), -E_INVAL);
  pages[0] = 1;
  check("a ring page outside RAM refused", sys_net_filter(t, 1, pages, 1), -E_BADPPN);
  pages[0] = SYSINFO->base_ppn;
  check("a kernel page refused", sys_net_filter(t, 1, pages, 1), -E_NOACCESS);
  pages[0] = ENVINFO(sys_getenvid())->root_ppn;
  check("its own root table refused", sys_net_filter(t, 1, pages, 1), -E_NOACCESS);
  pages[0] = ENVINFO(sys_getenvid())->uarea_ppn;
  check("its own u-area refused", sys_net_filter(t, 1, pages, 1), -E_NOACCESS);
  check("ring at a bad address refused", sys_net_filter(t, 1, (void *)0x10, 1), -E_FAULT);

  long mine[NET_FILTERS_PER_ENV];
  int n = 2;  // ports 7000 and 7001
  for (int i = 0; i < NET_FILTERS_PER_ENV - 2; i++)
    mine[n++] = udp_filter(8000 + i, 1);
  check("8 filters installed", mine[NET_FILTERS_PER_ENV - 1] >= 0, 1);
  check("a ninth refused", udp_filter(8100, 1), -E_QUOTA);
  for (int i = 2; i < NET_FILTERS_PER_ENV; i++)
    sys_net_unfilter(mine[i]);
  check("remove another's filter number refused", sys_net_unfilter(60), -E_PERM);
  check("remove filter 1000 refused", sys_net_unfilter(1000), -E_PERM);
  check("wait with seen past what arrived refused", sys_net_wait(echo_filter, 5, 0), -E_INVAL);
  check("wait on all with seen past what arrived refused", sys_net_wait(NET_WAIT_ALL, 1, 0),
        -E_INVAL);
  check("wait with a deadline passed: at once", sys_net_wait(echo_filter, 0, 1), -E_TIMEOUT);
  unsigned long hz = SYSINFO->timebase_hz, start = sys_uptime();
  check("wait on all for 50 ms", sys_net_wait(NET_WAIT_ALL, 0, start + hz / 20), -E_TIMEOUT);
  check("it waited 50 ms at least", sys_uptime() - start >= hz / 20, 1);
  check("and not a second", sys_uptime() - start < hz, 1);
  start = sys_uptime();
  check("wait on one filter for 20 ms", sys_net_wait(echo_filter, 0, start + hz / 50), -E_TIMEOUT);
  check("it waited 20 ms at least", sys_uptime() - start >= hz / 50, 1);
  long yielder = spawn_child("yielder", yield_forever);
  check("start a child that yields without end", yielder > 0 && sys_env_start(yielder) == 0, 1);
  start = sys_uptime();
  check("wait 20 ms beside a child that yields without end",
        sys_net_wait(echo_filter, 0, start + hz / 50), -E_TIMEOUT);
  check("... and not a second", sys_uptime() - start < hz, 1);
  check("destroy the yielder", sys_env_destroy(yielder), 0);
  kcheck("waits with deadlines");
  kcheck("filters");

  // Sends.
  unsigned long len = build_udp(9, "hello", 5);
  check("send a frame", send_out(len), 0);
  check("send from a page outside RAM refused", sys_net_send(1, 0, len), -E_BADPPN);
  check("send from a kernel page refused", sys_net_send(SYSINFO->base_ppn, 0, len), -E_NOACCESS);
  check("send from its root table refused", sys_net_send(ENVINFO(sys_getenvid())->root_ppn, 0, len),
        -E_NOACCESS);
  check("send 13 bytes refused", sys_net_send(out_ppn, 0, 13), -E_INVAL);
  check("send 1515 bytes refused", sys_net_send(out_ppn, 0, 1515), -E_INVAL);
  check("send past the page's end refused", sys_net_send(out_ppn, 4000, 100), -E_INVAL);
  check("send at a huge offset refused", sys_net_send(out_ppn, -50UL, 100), -E_INVAL);
  long big = sys_net_send(out_ppn, PGSIZE - NET_FRAME_MAX, NET_FRAME_MAX);
  check("a full-size frame at the page's end", big >= 0 && sys_net_status(big, 1) == 0, 1);
  long req[NET_SENDS_PER_ENV];
  for (int i = 0; i < NET_SENDS_PER_ENV; i++)
    req[i] = sys_net_send(out_ppn, 0, len);
  check("8 sends in flight", req[NET_SENDS_PER_ENV - 1] >= 0, 1);
  check("a ninth refused", sys_net_send(out_ppn, 0, len), -E_QUOTA);
  int ok = 0;
  for (int i = 0; i < NET_SENDS_PER_ENV; i++)
    ok += sys_net_status(req[i], 1) == 0;
  check("all 8 sent", ok, NET_SENDS_PER_ENV);
  check("status of a collected request refused", sys_net_status(req[0], 0), -E_PERM);
  check("status of request 1000 refused", sys_net_status(1000, 0), -E_PERM);
  kcheck("sends");

  // A child leaving sends it never collected. (It makes the tables this
  // program uses to fill its children's pages, too.)
  long c = spawn_child("abandon", abandoning_child);
  run_child(c);
  kcheck("a child left sends uncollected");

  // A child destroyed with a filter installed, waiting for frames.
  unsigned long before = SYSINFO->nfree;
  c = spawn_child("waiter", waiting_child);
  check("make the child", c > 0, 1);
  sys_env_start(c);
  run_until_blocked(c);
  check("the child waits for frames", ENVINFO(c)->status, ENV_NOT_RUNNABLE);
  check("its port 9000 is taken", udp_filter(9000, 1), -E_CLAIMED);
  check("destroy it", sys_env_destroy(c), 0);
  long again = udp_filter(9000, 1);
  check("its port 9000 is free again", again >= 0, 1);
  sys_net_unfilter(again);
  check("every page of the child's is free again", SYSINFO->nfree, before);
  kcheck("destroying a child with a filter");

  check("remove the filters", sys_net_unfilter(echo_filter) == 0 && sys_net_unfilter(f2) == 0, 1);
  kcheck("removing everything");
  random_calls(20000);
  finish("t_net");
}

int main(int argc, char **argv)
{
  aspace_init(&self, sys_getenvid());
  for (int i = 0; i < NRING; i++) {
    ring[i] = sys_page_alloc(0, 0, PG_USER);
    if (aspace_map(&self, RING + i * PGSIZE, ring[i], PTE_R | PTE_W) < 0)
      check("map the ring pages", i, NRING);
  }
  out_ppn = sys_page_alloc(0, 0, PG_USER);
  if (aspace_map(&self, OUT, out_ppn, PTE_R | PTE_W) < 0)
    check("map the page to send from", 0, 1);
  stop_if_failed("t_net");
  if (argc > 1 && strcmp(argv[1], "echo") == 0)
    serve();
  attacks();
}
