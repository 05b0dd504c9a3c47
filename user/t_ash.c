// t_ash: application-specific safe handlers (kernel/ash.c), ORs of
// filters and the default filter (kernel/dpf.c, kernel/net.c).
//
//   t_ash          with no traffic: hostile handlers refused at download
//                  (each rule of abi.h), ORs and the default filter
//                  refused where they would take another's frames, and a
//                  child destroyed with filters, an OR, the default filter
//                  and handlers installed (all gone, no page lost)
//   t_ash serve    the machine for labs/network/tests.py's ASH tests: the
//                  filters below, then "ready" from port 7; on "quit" (to
//                  port 8) it prints what each ring and handler saw and
//                  the kernel's counters, removes everything, answers
//                  "bye" and ends. It drains every ring as frames come.
//
// The server's filters (UDP over IPv4 to a port, unless said):
//   port 7    ash_udp_echo: answers in the kernel, the owner never sees it
//   port 8    control (a ring): "quit"; "lose": the server frees the echo
//             handler's page (unmapping it first), so the handler stops
//             at its next frame
//   ports 9 or 10   one filter, an OR of both (a ring)
//   port 11   a handler that reads past the end of a short frame
//   port 12   a handler that writes past its page
//   port 13   a handler that sends more than ASH_SENDS_PER_RUN frames
//   port 14   a handler that counts frames in its page and consumes them
//   default   every frame no other filter accepts (a ring)

#include "user/tsupport.h"

#define RING   0x2400000000UL  // ring pages, mapped one after another
#define PAGE   0x2500000000UL  // handler pages, likewise
#define NRING  17
#define NPAGES 5

static long ring[NRING], page[NPAGES];
static int freed;  // pages the server freed on "lose"

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
    {"echo", 0, 1, 0, 0},     {"control", 1, 1, 0, 0},  {"sink", 2, 4, 0, 0},
    {"badread", 6, 2, 0, 0},  {"badwrite", 8, 2, 0, 0}, {"badsend", 10, 2, 0, 0},
    {"counter", 12, 1, 0, 0}, {"default", 13, 4, 0, 0},
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
    ash_shl(2, 0, 12),  // r2 = the frame's length * 4096: past the one page
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

// Take every frame the ring of filter v holds; returns how many. Carries
// out "lose", and says whether one was "quit" in *quit.
static long drain(struct ring_view *v, int *quit)
{
  long n = 0;
  volatile struct net_slot *s;
  while ((s = SLOT(v->first + v->next % v->n))->full) {
    if (s->len >= 46 && memcmp((const void *)(s->frame + 42), "quit", 4) == 0)
      *quit = 1;
    if (s->len >= 46 && memcmp((const void *)(s->frame + 42), "lose", 4) == 0 && !freed) {
      check("free the echo handler's page",
            aspace_unmap(&self, PAGE) == 0 && sys_page_free(page[0]) == 0, 1);
      freed = 1;
    }
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
    long n = sys_net_wait(NET_WAIT_ALL, seen, 0);
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
    const volatile unsigned char *p = (const unsigned char *)(PAGE + 3 * PGSIZE);
    unsigned long runs, count;
    do  // the count (in network byte order) and runs of the same moment
      runs = a->runs, count = (unsigned long)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
    while (runs != a->runs);
    if (a->installed)
      printf("t_ash: handler %s: runs %lu sent %u stopped %u (%s) at %u instret %lu last %lu\n",
             views[i].name, runs, a->sent, a->stopped, ash_stop_reason(a->stopped), a->pc,
             a->instret, a->last);
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
  check("no page lost", SYSINFO->nfree, nfree + freed);
  kcheck("removing everything");
  check("send bye", say("bye"), 0);
  finish("t_ash");
}

// A handler of n instructions: n - 1 of `fill`, then RET DELIVER.
static struct ash_insn *handler_of(int n, struct ash_insn fill)
{
  static struct ash_insn code[ASH_INSNS + 1];
  for (int i = 0; i < n - 1; i++)
    code[i] = fill;
  code[n - 1] = (struct ash_insn)ash_ret(ASH_DELIVER);
  return code;
}

// The filter the refusals are tried on.
static long target;

// Try the one-instruction-and-RET handler {in, RET DELIVER} on target
// with handler page 0; what net_handler returns must be want.
static void try_insn(const char *name, struct ash_insn in, long want)
{
  struct ash_insn code[2] = {in, ash_ret(ASH_DELIVER)};
  check(name, attach(target, code, 2, 0), want);
}

// Handlers refused at download, each for a rule of its own.
static void refusals(void)
{
  target = udp_filter(7000, 0, 0, 1);
  check("install a filter for port 7000", target >= 0, 1);
  struct ash_insn nop = ash_mov(2, 0, 1);
  check("128 instructions", attach(target, handler_of(ASH_INSNS, nop), ASH_INSNS, 0), 0);
  check("it shows in sysinfo", SYSINFO->ash[target].installed, 1);
  check("129 instructions refused",
        attach(target, handler_of(ASH_INSNS + 1, nop), ASH_INSNS + 1, 0), -E_ASHLONG);
  try_insn("a jump backward refused", (struct ash_insn)ash_jeq(0, 0, 0, -1), -E_ASHJUMP);
  try_insn("a jump onto the last instruction", (struct ash_insn)ash_jeq(0, 0, 0, 0), 0);
  try_insn("a jump past the end refused", (struct ash_insn)ash_jeq(0, 0, 0, 1), -E_ASHJUMP);
  try_insn("a jump far past the end refused", (struct ash_insn)ash_jne(1, 0, 0, 127), -E_ASHJUMP);
  struct ash_insn no_ret[2] = {ash_ret(ASH_CONSUME), ash_mov(2, 0, 1)};
  check("a handler that can run off its end refused", attach(target, no_ret, 2, 0), -E_ASHJUMP);
  try_insn("opcode 0 refused", (struct ash_insn){0, 0, 0, 0, 0}, -E_ASHOP);
  try_insn("opcode 27 refused", (struct ash_insn){ASH_NOPS, 1, 0, 0, 0}, -E_ASHOP);
  try_insn("opcode 255 refused", (struct ash_insn){255, 1, 0, 0, 0}, -E_ASHOP);
  try_insn("register 8 refused", (struct ash_insn)ash_mov(8, 0, 1), -E_ASHOP);
  try_insn("register 200 in op2 refused", (struct ash_insn)ash_add(2, 200, 1), -E_ASHOP);
  try_insn("a length in register 9 refused", (struct ash_insn)ash_csum(2, 0, 0, 9), -E_ASHOP);
  try_insn("writing register 0 refused", (struct ash_insn)ash_mov(0, 0, 1), -E_ASHOP);
  try_insn("an unused field set refused", (struct ash_insn){ASH_MOV, 2, 0, 3, 0}, -E_ASHOP);
  try_insn("SEND with a set refused", (struct ash_insn){ASH_SEND, 1, 0, 1, 0}, -E_ASHOP);
  struct ash_insn verdict[1] = {ash_ret(2)};
  check("verdict 2 refused", attach(target, verdict, 1, 0), -E_ASHOP);
  try_insn("the last 4 bytes of the largest frame", (struct ash_insn)ash_ldf(4, 2, 0, 1510), 0);
  try_insn("a load past any frame refused", (struct ash_insn)ash_ldf(4, 2, 0, 1511), -E_ASHBOUNDS);
  try_insn("a checksum starting at the largest frame's end",
           (struct ash_insn)ash_csumf(2, 0, 1514, 1), 0);
  try_insn("a checksum starting past any frame refused", (struct ash_insn)ash_csumf(2, 0, 1515, 1),
           -E_ASHBOUNDS);
  try_insn("a store at the page's last byte", (struct ash_insn)ash_stp(1, 1, 0, 4095), 0);
  try_insn("a store past its one page refused", (struct ash_insn)ash_stp(1, 1, 0, 4096),
           -E_ASHBOUNDS);
  try_insn("a send from past its one page refused", (struct ash_insn)ash_send(0, 5000, 1),
           -E_ASHBOUNDS);
  try_insn("an address in a register: checked when it runs",
           (struct ash_insn)ash_stp(1, 1, 1, 9999), 0);

  struct ash_insn ret[1] = {ash_ret(ASH_DELIVER)};
  unsigned long pages[ASH_PAGES + 1] = {page[0], page[1], page[2], page[3], page[4]};
  check("4 pages", sys_net_handler(target, ret, 1, pages, ASH_PAGES), 0);
  check("5 pages refused", sys_net_handler(target, ret, 1, pages, ASH_PAGES + 1), -E_INVAL);
  check("no pages refused", sys_net_handler(target, ret, 1, pages, 0), -E_INVAL);
  pages[0] = 1;
  check("a page outside RAM refused", sys_net_handler(target, ret, 1, pages, 1), -E_BADPPN);
  pages[0] = SYSINFO->base_ppn;
  check("a kernel page refused", sys_net_handler(target, ret, 1, pages, 1), -E_NOACCESS);
  pages[0] = ENVINFO(sys_getenvid())->root_ppn;
  check("its own root table refused", sys_net_handler(target, ret, 1, pages, 1), -E_NOACCESS);
  check("code at a bad address refused", sys_net_handler(target, (void *)0x10, 1, pages, 1),
        -E_FAULT);
  check("code in the kernel refused", sys_net_handler(target, (void *)USYSINFO, 1, pages, 1),
        -E_FAULT);
  check("a filter that is not its own refused", attach(60, ret, 1, 0), -E_PERM);
  check("filter 1000 refused", attach(1000, ret, 1, 0), -E_PERM);
  check("a refusal leaves the handler installed before", SYSINFO->ash[target].installed, 1);
  check("remove the handler", sys_net_handler(target, NULL, 0, NULL, 0), 0);
  check("it is gone from sysinfo", SYSINFO->ash[target].installed, 0);
  kcheck("handlers refused");
}

// The pages a child made by spawn_child uses (it has none of ExOS).
static long child_ring[2];

// A child that tries to use its parent's filter and pages, claims ports
// and the default filter its parent holds, then installs filters (an OR
// and the default among them) with handlers and waits, until its parent
// destroys it.
static void child(void)
{
  struct ash_insn ret[1] = {ash_ret(ASH_DELIVER)};
  struct dpf_term t[DPF_CALL_TERMS + 1];
  child_ring[0] = sys_page_alloc(0, 0, PG_USER);
  child_ring[1] = sys_page_alloc(0, 0, PG_USER);
  const unsigned long *cr = (const unsigned long *)child_ring;
  check("child: a handler on its parent's filter refused", attach(target, ret, 1, 0), -E_PERM);
  check("child: port 7101, half of its parent's OR, refused",
        sys_net_filter(t, udp_terms(t, 7101, 0), cr, 1), -E_CLAIMED);
  check("child: an OR of a free port and its parent's refused",
        sys_net_filter(t, udp_terms(t, 7200, 7100), cr, 1), -E_CLAIMED);
  check("child: the default filter, its parent's, refused", sys_net_filter(NULL, 0, cr, 1),
        -E_CLAIMED);
  long f[2];
  f[0] = sys_net_filter(t, udp_terms(t, 7200, 7201), cr, 1);
  check("child: an OR of two free ports", f[0] >= 0, 1);
  f[1] = udp_filter(7202, 0, 0, 1);
  check("child: a ring of its parent's refused", f[1], -E_NOACCESS);
  f[1] = sys_net_filter(t, udp_terms(t, 7202, 0), cr + 1, 1);
  check("child: a filter for port 7202", f[1] >= 0, 1);
  check("child: a handler with its parent's page refused", attach(f[1], ret, 1, 0), -E_NOACCESS);
  check("child: ash_udp_echo on the OR", ash_udp_echo(f[0], child_ring[0]), 0);
  check("child: a handler on port 7202's", sys_net_handler(f[1], ret, 1, cr + 1, 1), 0);
  sys_net_wait(NET_WAIT_ALL, 0, 0);
  check("child: net_wait returned with no frame", 0, 1);
}

// ORs and the default filter, refused where they would take another's
// frames; a child destroyed with filters and handlers installed.
static void ors_and_the_default(void)
{
  struct dpf_term t[DPF_CALL_TERMS + 1];
  long or = udp_filter(7100, 7101, 1, 1);
  check("an OR of ports 7100 and 7101", or >= 0, 1);
  long dflt = sys_net_filter(NULL, 0, (const unsigned long *)&ring[2], 1);
  check("the default filter", dflt >= 0, 1);
  check("a second default filter refused",
        sys_net_filter(NULL, 0, (const unsigned long *)&ring[3], 1), -E_CLAIMED);
  unsigned long n = 0;
  for (int k = 0; k < DPF_ALTS; k++) {
    if (k > 0)
      t[n++] = DPF_OR;
    n += udp_terms(t + n, 7300 + k, 0);
  }
  long four = sys_net_filter(t, n, (const unsigned long *)ring, 1);
  check("an OR of 4 ports", four >= 0 && sys_net_unfilter(four) == 0, 1);
  t[n] = DPF_OR;
  memmove(&t[n + 1], &t[0], 4 * sizeof(t[0]));
  t[n + 4].value = 7304;
  check("5 alternatives refused", sys_net_filter(t, n + 5, (const unsigned long *)ring, 1),
        -E_BADFILTER);
  check("an empty alternative refused", sys_net_filter(t + 4, 5, (const unsigned long *)ring, 1),
        -E_BADFILTER);
  udp_terms(t, 7400, 7401);
  t[4].mask = 1;
  check("a separator with a field set refused",
        sys_net_filter(t, 9, (const unsigned long *)ring, 1), -E_BADFILTER);
  check("33 terms refused", sys_net_filter(t, DPF_CALL_TERMS + 1, (const unsigned long *)ring, 1),
        -E_BADFILTER);
  kcheck("ORs and the default filter");

  aspace_map(&self, SCRATCH, page[4], PTE_R);  // make the tables spawn_child maps through now
  aspace_unmap(&self, SCRATCH);
  unsigned long nfree = SYSINFO->nfree;
  long c = spawn_child("ashchild", child);
  check("make the child", c > 0, 1);
  sys_env_start(c);
  run_until_blocked(c);
  check("the child waits for frames", ENVINFO(c)->status, ENV_NOT_RUNNABLE);
  int handlers = 0;
  for (int f = 0; f < NET_FILTERS; f++)
    handlers += SYSINFO->ash[f].installed;
  check("its two handlers are installed", handlers, 2);
  check("its port 7201 is taken", udp_filter(7201, 0, 4, 1), -E_CLAIMED);
  kcheck("a child with filters and handlers");
  check("destroy it", sys_env_destroy(c), 0);
  handlers = 0;
  for (int f = 0; f < NET_FILTERS; f++)
    handlers += SYSINFO->ash[f].installed;
  check("its handlers are gone", handlers, 0);
  long again = udp_filter(7201, 7202, 4, 1);
  check("its ports are free again", again >= 0 && sys_net_unfilter(again) == 0, 1);
  check("every page of the child's is free again", SYSINFO->nfree, nfree);
  kcheck("destroying a child with filters and handlers");
  check("remove the default filter", sys_net_unfilter(dflt), 0);
  long d2 = sys_net_filter(NULL, 0, (const unsigned long *)&ring[3], 1);
  check("the default filter is free again", d2 >= 0 && sys_net_unfilter(d2) == 0, 1);
  check("remove the OR and port 7000's", sys_net_unfilter(or) == 0 && sys_net_unfilter(target) == 0,
        1);
  kcheck("removing everything");
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
  refusals();
  ors_and_the_default();
  finish("t_ash");
}
