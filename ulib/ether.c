// The network's bottom: Ethernet frames in and out through the kernel's
// packet filters, and ARP (ulib.h's network section tells the design).
//
// In: eth_listen installs a filter with a ring of pages mapped here (the
// kernel writes each frame the filter accepts into the next page) and a
// function to give those frames to. eth_poll sleeps until a frame comes
// to any of them (or a deadline passes), then hands every frame waiting
// in every ring to its function, oldest first in each ring, and gives the
// page back to the kernel. Out: eth_send writes the frame into one page
// and has the kernel copy it (net_send); up to NET_SENDS_PER_ENV sends
// are left in flight and collected later.
//
// A program's first filter removes any its environment holds already:
// exec freed the old program's rings, not its filters.
//
// ARP: a cache of neighbours' Ethernet addresses, each kept for
// ARP_LIFETIME. arp_resolve asks for a missing one itself (a filter for
// the replies from that address, only while it asks); arp_answer is
// netd's (it owns the requests for our address).

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define RING(l, i)     (EXOS_NET + ((l)*NET_RING_PAGES + (i)) * PGSIZE)
#define OUT            RING(NET_FILTERS_PER_ENV, 0)  // the page frames are sent from
#define KERNEL_FILTERS 64  // the kernel's filter numbers (abi.h: 64 in all)
#define ARP_ENTRIES    16
#define ARP_LIFETIME   (60 * NET_SECOND)
#define ARP_TRIES      4  // requests before giving up, ARP_WAIT apart
#define ARP_WAIT       (NET_SECOND / 4)

const unsigned char net_mac[6] = NET_MAC;
struct net_stats net_stats;

struct listener {
  long filter;  // the kernel's number; -1: a free slot
  int npages;
  unsigned long next;  // frames taken from the ring so far
  eth_input fn;
  void *arg;
};
static struct listener ls[NET_FILTERS_PER_ENV];
static int nls;             // slots ever used (ls[nls..] are free)
static unsigned long seen;  // frames the kernel had given all our filters at the last wait
static long out_ppn;        // 0: not yet allocated
static long flight[NET_SENDS_PER_ENV];  // sends not yet collected
static int nflight;

struct arp_entry {
  unsigned int ip;  // 0: free
  unsigned char mac[6];
  unsigned long expires;  // rdtime
};
static struct arp_entry arp[ARP_ENTRIES];

// Fork's skip hook: a child gets none of our rings (the filters are ours).
static int in_net_area(unsigned long va)
{
  return va >= EXOS_NET && va <= OUT;
}

// Install a filter of n terms with a ring of npages pages; fn(arg, frame,
// len) gets each frame it accepts, from eth_poll. Returns a handle for
// eth_unlisten, or an error: the kernel's (E_CLAIMED when another's
// filter takes some of the same frames, E_QUOTA, E_NONET, ...) or E_NOMEM.
long eth_listen(const struct dpf_term *t, int n, int npages, eth_input fn, void *arg)
{
  static int started;
  if (!started) {  // this program's first filter
    exos_on_fork_skip(in_net_area);
    for (unsigned long f = 0; f < KERNEL_FILTERS; f++)
      sys_net_unfilter(f);  // one a program before exec in this environment left
    started = 1;
  }
  int l = 0;
  while (l < NET_FILTERS_PER_ENV && l < nls && ls[l].filter >= 0)
    l++;
  if (l == NET_FILTERS_PER_ENV)
    return -E_QUOTA;
  unsigned long ring[NET_RING_PAGES];
  long err = 0;
  int i;
  for (i = 0; i < npages && err >= 0; i++)
    err = ring[i] = vm_alloc(RING(l, i), PTE_R | PTE_W);
  if (err >= 0)
    err = sys_net_filter(t, n, ring, npages);
  if (err < 0) {
    while (--i >= 0)
      if (vm_unmap(RING(l, i)) == 0)
        sys_page_free(ring[i]);
    return err;
  }
  ls[l] = (struct listener){err, npages, 0, fn, arg};
  if (l == nls)
    nls++;
  return l;
}

// Remove the filter of handle h (eth_listen's) and free its ring.
void eth_unlisten(long h)
{
  struct listener *l = &ls[h];
  sys_net_unfilter(l->filter);
  for (int i = 0; i < l->npages; i++) {
    unsigned long pte = vm_pte(RING(h, i));
    if (vm_unmap(RING(h, i)) == 0)
      sys_page_free(PTE_PPN(pte));
  }
  l->filter = -1;
}

// Hand every frame waiting in any ring to its function. Returns how many.
static int dispatch(void)
{
  int n = 0;
  for (int h = 0; h < nls; h++) {
    struct listener *l = &ls[h];
    while (l->filter >= 0) {
      volatile struct net_slot *s = (void *)RING(h, l->next % l->npages);
      if (!s->full)
        break;
      l->next++;  // first: a function that waits (ARP) must not see this frame again
      l->fn(l->arg, (const unsigned char *)s->frame, s->len);
      s->full = 0;
      n++;
    }
  }
  return n;
}

// Take the frames that have come, or sleep until one does. With deadline
// nonzero (an rdtime value), give up when it passes. Returns 0 once
// frames were handed over (their functions have run), or -E_TIMEOUT
// (with no filter, a plain timed sleep).
long eth_poll(unsigned long deadline)
{
  if (dispatch() > 0)
    return 0;
  long n = sys_net_wait(NET_WAIT_ALL, seen, deadline);
  if (n < 0)
    return n;
  seen = n;
  dispatch();
  return 0;
}

// Collect the sends in flight that the kernel has finished (with wait,
// wait for the oldest first).
static void collect(int wait)
{
  int k = 0;
  for (int i = 0; i < nflight; i++)
    if (sys_net_status(flight[i], wait && i == 0) == 1)
      flight[k++] = flight[i];
  nflight = k;
}

// Send an Ethernet frame of the given type to dst, its payload the n
// pieces one after another (at most NET_MTU bytes in all). Returns 0 or
// an error (E_INVAL if too long, the kernel's, E_NOMEM).
long eth_send(const unsigned char *dst, unsigned int type, const struct net_piece *p, int n)
{
  unsigned char *f = (unsigned char *)OUT;
  if (out_ppn == 0) {
    long p = vm_alloc(OUT, PTE_R | PTE_W);
    if (p < 0)
      return -E_NOMEM;
    out_ppn = p;
  }
  unsigned long len = ETH_HDR;
  for (int i = 0; i < n; i++) {
    if (len + p[i].n > ETH_HDR + NET_MTU)
      return -E_INVAL;
    memmove(f + len, p[i].p, p[i].n);
    len += p[i].n;
  }
  memmove(f, dst, 6);
  memmove(f + 6, net_mac, 6);
  net_put16(f + 12, type);
  collect(nflight == NET_SENDS_PER_ENV);
  long req = sys_net_send(out_ppn, 0, len);
  for (int tries = 0; req == -E_AGAIN && tries < 100;
       tries++) {  // the machine's sends are all in flight
    sys_yield(0);
    req = sys_net_send(out_ppn, 0, len);
  }
  if (req < 0)
    return req;
  flight[nflight++] = req;
  return 0;
}

// Record (or refresh) ip's Ethernet address.
void arp_learn(unsigned int ip, const unsigned char *mac)
{
  struct arp_entry *e = &arp[0];
  for (int i = 0; i < ARP_ENTRIES; i++) {
    if (arp[i].ip == ip) {
      e = &arp[i];
      break;
    }
    if (arp[i].expires < e->expires)
      e = &arp[i];  // free (0) or the oldest: replaced if ip is new
  }
  e->ip = ip;
  memmove(e->mac, mac, 6);
  e->expires = sys_uptime() + ARP_LIFETIME;
}

// The cached entry for ip, if it has not expired.
static struct arp_entry *arp_lookup(unsigned int ip)
{
  for (int i = 0; i < ARP_ENTRIES; i++)
    if (arp[i].ip == ip && arp[i].expires > (unsigned long)sys_uptime())
      return &arp[i];
  return NULL;
}

// An ARP frame's body (after the Ethernet header): op, from (mac, ip),
// asking about (mac, ip).
static void arp_body(unsigned char *b, int op, const unsigned char *tmac, unsigned int tip)
{
  static const unsigned char head[6] = {0, 1, 8, 0, 6, 4};  // Ethernet, IPv4
  memmove(b, head, 6);
  net_put16(b + 6, op);
  memmove(b + 8, net_mac, 6);
  net_put32(b + 14, NET_IP);
  memmove(b + 18, tmac, 6);
  net_put32(b + 24, tip);
}

// eth_input for the replies arp_resolve waits for: learn the sender.
static void arp_reply_in(void *arg, const unsigned char *f, unsigned long len)
{
  if (len >= ETH_HDR + 28)
    arp_learn(net_get32(f + 28), f + 22);
}

// The Ethernet address to send IP for ip to into mac: the gateway's for an
// address off our subnet, everyone's for the broadcast address. Asks with
// ARP when it is not cached. Returns 0 or an error: E_HOSTUNREACH (no
// answer), the kernel's.
long arp_resolve(unsigned int ip, unsigned char mac[6])
{
  if (ip == 0xFFFFFFFFU) {
    memset(mac, 0xFF, 6);
    return 0;
  }
  if ((ip & NET_NETMASK) != (NET_IP & NET_NETMASK))
    ip = NET_GATEWAY;
  struct dpf_term t[3] = {{12, 2, 0xFFFF, ETH_ARP}, {20, 2, 0xFFFF, 2}, {28, 4, 0xFFFFFFFF, ip}};
  for (int tries = 0; arp_lookup(ip) == NULL && tries < ARP_TRIES; tries++) {
    unsigned long deadline = sys_uptime() + ARP_WAIT;
    long h = eth_listen(t, 3, 1, arp_reply_in, NULL);
    if (h == -E_CLAIMED) {  // another program asks for it just now: wait
      while (eth_poll(deadline) == 0)
        ;
      continue;
    }
    if (h < 0)
      return h;
    static const unsigned char everyone[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    unsigned char body[28];
    arp_body(body, 1, (const unsigned char[6]){0}, ip);
    long err = eth_send(everyone, ETH_ARP, &(struct net_piece){body, 28}, 1);
    while (err == 0 && arp_lookup(ip) == NULL && eth_poll(deadline) == 0)
      ;
    eth_unlisten(h);
    if (err < 0)
      return err;
  }
  struct arp_entry *e = arp_lookup(ip);
  if (e == NULL)
    return -E_HOSTUNREACH;
  memmove(mac, e->mac, 6);
  return 0;
}

// Answer the ARP request in frame (netd's filter says it asks for our
// address) with our Ethernet address. Returns 0, E_INVAL for a frame too
// short, or what sending returned.
long arp_answer(const unsigned char *f, unsigned long len)
{
  if (len < ETH_HDR + 28 || net_get16(f + 14) != 1 || net_get16(f + 16) != ETH_IP)
    return -E_INVAL;
  unsigned char body[28];
  arp_body(body, 2, f + 22, net_get32(f + 28));
  arp_learn(net_get32(f + 28), f + 22);
  return eth_send(f + 6, ETH_ARP, &(struct net_piece){body, 28}, 1);
}
