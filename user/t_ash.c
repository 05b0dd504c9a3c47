// t_ash: application-specific safe handlers (kernel/ash.c), ORs of
// filters and the default filter (kernel/dpf.c, kernel/net.c).
//
//   t_ash          with no traffic: hostile handlers refused at download
//                  (each rule of abi.h), ORs and the default filter
//                  refused where they would take another's frames, and a
//                  child destroyed with filters, an OR, the default filter
//                  and handlers installed (all gone, no page lost)
//   t_ash serve    the machine for labs/net/tests.py's ASH tests: the
//                  filters below, then "ready" from port 7; on "quit" (to
//                  port 8) it prints what each ring and handler saw and
//                  the kernel's counters, removes everything, answers
//                  "bye" and ends. It drains every ring as frames come.
//
// The server's filters (UDP over IPv4 to a port, unless said):
//   port 7    ash_udp_echo: answers in the kernel, the owner never sees it
//   port 8    control (a ring): "quit"
//   ports 9 or 10   one filter, an OR of both (a ring)
//   port 11   a handler that reads past the end of a short frame
//   port 12   a handler that writes past its page
//   port 13   a handler that sends more than ASH_SENDS_PER_RUN frames
//   port 14   a handler that counts frames in its page and consumes them
//   default   every frame no other filter accepts (a ring)

#include "user/tsupport.h"

#define RING   0x2400000000UL  // ring pages, mapped one after another
#define PAGE   0x2500000000UL  // handler pages, likewise
#define NRING  10
#define NPAGES 5

static long ring[NRING], page[NPAGES];

// Ring pages of each filter: first .. first + n - 1, the next frame in
// first + next % n.
struct ring_view {
  const char *name;
  int first, n;
  long filter;
  unsigned long next;
};

enum { ECHO, CONTROL, SINK, BADREAD, BADWRITE, BADSEND, COUNTER, DEFAULT, NFILTERS };

static struct ring_view views[NFILTERS] = {
    {"echo", 0, 1, 0, 0},     {"control", 1, 1, 0, 0},   {"sink", 2, 2, 0, 0},
    {"badread", 4, 1, 0, 0},  {"badwrite", 5, 1, 0, 0},  {"badsend", 6, 1, 0, 0},
    {"counter", 7, 1, 0, 0},  {"default", 8, 2, 0, 0},
};

#define SLOT(i) ((volatile struct net_slot *)(RING + (i)*PGSIZE))

// UDP over IPv4 (20-byte header) to port `port`, or (or_port nonzero)
// to either port, into t; returns the number of terms.
static unsigned long udp_terms(struct dpf_term *t, unsigned int port, unsigned int or_port)
{
  static const struct dpf_term udp[4] = {
      {12, 2, 0xFFFF, 0x0800},  // Ethernet type: IPv4
      {14, 1, 0xFF, 0x45},      // version 4, a 20-byte header
      {23, 1, 0xFF, 17},        // protocol: UDP
      {36, 2, 0xFFFF, 0},       // destination port
  };
  memmove(t, udp, sizeof(udp));
  t[3].value = port;
  if (or_port == 0)
    return 4;
  t[4] = DPF_OR;
  memmove(t + 5, udp, sizeof(udp));
  t[8].value = or_port;
  return 9;
}

// Install a filter for port (or or_port) with ring pages ring[first..first+n-1].
static long udp_filter(unsigned int port, unsigned int or_port, int first, int n)
{
  struct dpf_term t[9];
  return sys_net_filter(t, udp_terms(t, port, or_port), (const unsigned long *)&ring[first], n);
}

// Handlers that break a rule at run time.
static const struct ash_insn bad_read[] = {
    ash_ldf(4, 2, 0, 100),  // a short frame has no byte 100
    ash_ret(ASH_CONSUME),
};
static const struct ash_insn bad_write[] = {
    ash_mov(2, 1, 0),
    ash_shl(2, 0, 12),      // r2 = the frame's length * 4096: past the one page
    ash_stp(4, 2, 2, 0),
    ash_ret(ASH_CONSUME),
};
static const struct ash_insn bad_send[] = {
    ash_copy(0, 0, 0, 1),  // the frame, sent back as it is, five times
    ash_send(0, 0, 1),    ash_send(0, 0, 1), ash_send(0, 0, 1),
    ash_send(0, 0, 1),    ash_send(0, 0, 1), ash_ret(ASH_CONSUME),
};
static const struct ash_insn counter[] = {
    ash_ldp(4, 2, 0, 0),  // the count at the page's start, one more
    ash_add(2, 0, 1),
    ash_stp(4, 2, 0, 0),
    ash_ret(ASH_CONSUME),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

// Attach handler code (n instructions) to filter f with handler page p.
static long attach(long f, const struct ash_insn *code, unsigned long n, int p)
{
  return sys_net_handler(f, code, n, (const unsigned long *)&page[p], 1);
}

// Send a UDP datagram from port 7 carrying word (for the host's wire: it
// reads what the machine sends), from the last handler page, and wait
// until it is sent.
static long say(const char *word)
{
  static const unsigned char head[42] = {
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00,
      0x45, 0,    0,    0,    0,    0,    0x40, 0,    64,   17,   0,    0,    10,   0,
      2,    15,   10,   0,    2,    2,    0,    7,    0,    7,    0,    0,    0,    0};
  unsigned char *f = (unsigned char *)(PAGE + (NPAGES - 1) * PGSIZE);
  unsigned long n = strlen(word);
  memmove(f, head, 42);
  memmove(f + 42, word, n);
  f[16] = (28 + n) >> 8, f[17] = 28 + n;
  f[38] = (8 + n) >> 8, f[39] = 8 + n;
  long req = sys_net_send(page[NPAGES - 1], 0, 42 + n);
  return req < 0 ? req : sys_net_status(req, 1);
}

// The kernel's network counters, read until no frame arrived meanwhile
// (a frame's counts change together, in one interrupt).
static void counters(unsigned long c[8])
{
  const volatile struct sysinfo *si = SYSINFO;
  do {
    c[0] = si->net_received;
    c[1] = si->net_malformed, c[2] = si->net_unmatched, c[3] = si->net_overflow;
    c[4] = si->net_consumed, c[5] = si->net_delivered, c[6] = si->net_defaulted;
    c[7] = si->net_sent;
  } while (c[0] != si->net_received);
}

// Take every frame the ring of filter v holds; returns how many, and
// whether one was "quit" in *quit.
static long drain(struct ring_view *v, int *quit)
{
  long n = 0;
  volatile struct net_slot *s;
  while ((s = SLOT(v->first + v->next % v->n))->full) {
    if (s->len >= 46 && memcmp((const void *)(s->frame + 42), "quit", 4) == 0)
      *quit = 1;
    s->full = 0;
    v->next++;
    n++;
  }
  return n;
}

// The server: see the top of the file.
__attribute__((noreturn)) static void serve(void)
{
  static const unsigned int ports[NFILTERS] = {7, 8, 9, 11, 12, 13, 14, 0};
  for (int i = 0; i < NFILTERS; i++) {
    struct ring_view *v = &views[i];
    v->filter = i == DEFAULT ? sys_net_filter(NULL, 0, (const unsigned long *)&ring[v->first], v->n)
                             : udp_filter(ports[i], i == SINK ? 10 : 0, v->first, v->n);
    check(v->name, v->filter >= 0, 1);
  }
  check("attach ash_udp_echo", ash_udp_echo(views[ECHO].filter, page[0]), 0);
  check("attach bad_read", attach(views[BADREAD].filter, bad_read, NELEM(bad_read), 1), 0);
  check("attach bad_write", attach(views[BADWRITE].filter, bad_write, NELEM(bad_write), 1), 0);
  check("attach bad_send", attach(views[BADSEND].filter, bad_send, NELEM(bad_send), 2), 0);
  check("attach counter", attach(views[COUNTER].filter, counter, NELEM(counter), 3), 0);
  stop_if_failed("t_ash");
  unsigned long nfree = SYSINFO->nfree;
  check("send ready", say("ready"), 0);
  long taken[NFILTERS] = {0}, seen = 0, wakeups = 0;
  for (int quit = 0; !quit;) {
    long n = sys_net_wait(NET_WAIT_ALL, seen);
    if (n <= seen) {
      check("net_wait", n, seen + 1);
      break;
    }
    seen = n;
    wakeups++;
    for (int i = 0; i < NFILTERS; i++)
      taken[i] += drain(&views[i], &quit);
  }
  kcheck("serving");
  for (int i = 0; i < NFILTERS; i++) {
    const volatile struct ash_info *a = &SYSINFO->ash[views[i].filter];
    unsigned long runs, count = *(volatile unsigned int *)(PAGE + 3 * PGSIZE);
    do
      runs = a->runs, count = *(volatile unsigned int *)(PAGE + 3 * PGSIZE);
    while (runs != a->runs);
    if (a->installed)
      printf("t_ash: handler %s: runs %lu sent %u stopped %u (%s) at %u instret %lu\n",
             views[i].name, runs, a->sent, a->stopped, ash_stop_reason(a->stopped), a->pc,
             a->instret);
    if (i == COUNTER)
      check("the counter handler counted every run", count, runs);
  }
  for (int i = 0; i < NFILTERS; i++)
    sys_net_unfilter(views[i].filter);
  unsigned long c[8];
  counters(c);
  for (int i = 0; i < NFILTERS; i++)
    taken[i] += drain(&views[i], &(int){0});
  printf("t_ash: woken %ld times; frames taken from the rings:", wakeups);
  long all = 0;
  for (int i = 0; i < NFILTERS; i++) {
    printf(" %s %ld", views[i].name, taken[i]);
    all += taken[i];
  }
  printf("\n");
  printf("t_ash: counters: received %lu malformed %lu unmatched %lu overflow %lu consumed %lu "
         "delivered %lu defaulted %lu sent %lu\n",
         c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
  check("the counters add up", c[0], c[1] + c[2] - c[6] + c[4] + c[5] + c[3]);
  check("every frame put in a ring was taken", all, c[5]);
  check("no page lost", SYSINFO->nfree, nfree);
  kcheck("removing everything");
  check("send bye", say("bye"), 0);
  finish("t_ash");
}

// Allocate n pages into ppn[] and map them at va, one after another.
static void map_pages(long *ppn, int n, unsigned long va)
{
  for (int i = 0; i < n; i++) {
    ppn[i] = sys_page_alloc(0, 0, PG_USER);
    if (aspace_map(&self, va + i * PGSIZE, ppn[i], PTE_R | PTE_W) < 0)
      check("map a page", i, n);
  }
}

int main(int argc, char **argv)
{
  aspace_init(&self, sys_getenvid());
  map_pages(ring, NRING, RING);
  map_pages(page, NPAGES, PAGE);
  stop_if_failed("t_ash");
  if (argc > 1 && strcmp(argv[1], "serve") == 0)
    serve();
  finish("t_ash");
}
