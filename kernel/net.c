// The network: a virtio-net driver (virtio over MMIO, the modern
// interface) exported through downloaded packet filters (dpf.c).
//
// Secure binding for the network: an environment downloads a packet
// filter that says which frames are its own, with a ring of pages it owns
// to receive them in. The kernel checks the filter once (dpf.c) and then,
// for each frame that arrives, runs the merged filters and copies the
// frame into the ring of the one that accepts it, without understanding
// what the frame is. What the kernel guarantees:
//  - A frame goes to at most one filter, and no environment's filter can
//    take frames another's accepts (dpf.c refuses it). A frame no filter
//    accepts is counted (sysinfo.net_unmatched) and goes to the default
//    filter's ring (a filter of no terms: one at a time, machine-wide),
//    or is dropped if there is none; so is a malformed one, shorter
//    than an Ethernet header or longer than NET_FRAME_MAX
//    (sysinfo.net_malformed). (QEMU drops a frame longer than a page
//    before the kernel sees it: the receive buffers are a page each.)
//  - The ring: net_filter checks that the caller owns each ring page (a
//    user page), and the kernel checks it again before each copy, so a
//    page its owner freed or lost is never written: the frame is dropped
//    and counted (sysinfo.net_overflow), as is one for a ring page still
//    full (abi.h, struct net_slot). The ring is kept in order: the next
//    frame tries the same page again (so a ring whose page its owner gave
//    up receives nothing more until the filter is installed again).
//    Nothing of a ring is pinned.
//  - net_wait gives up the processor until the filter's ring has
//    received more frames than the caller has seen (no spinning); with
//    NET_WAIT_ALL, until all the caller's filters together have (an
//    environment with several filters sleeps on all of them at once).
//    With a deadline (an rdtime value) it gives up then and returns
//    -E_TIMEOUT: the timer interrupt, which comes at least every slice,
//    checks the deadlines (net_check_deadlines) while anyone has one.
//  - Sending: net_send copies the frame from a page the caller owns into
//    the kernel at once (so the page may be freed or changed at any time
//    after) and returns a request number; the device sends it later;
//    net_status polls the request, or waits for it.
//  - Pools: NET_FILTERS_PER_ENV filters and NET_SENDS_PER_ENV requests
//    not yet collected per environment (-E_QUOTA past that).
//  - Lifecycles: an environment's filters die with it (env_destroy calls
//    net_release); its sends in flight finish as the kernel's (their
//    buffers were always the kernel's) and are then freed.
//  - Handlers (ash.c): a filter's owner may attach a handler to it
//    (net_handler); the kernel runs it on each frame the filter accepts,
//    before the ring, and puts the frame in the ring (waking the owner)
//    only if it says ASH_DELIVER or was stopped. Its sends count against
//    its owner's share, and are freed when done (nobody collects them).
//  - Nothing is sent anywhere but by net_send or a handler's SEND: the
//    kernel itself never transmits.

#include "defs.h"
#include "env.h"
#include "smp.h"
#include "memlayout.h"
#include "riscv.h"
#include "virtio.h"

#define NET_HDR 12         // the virtio-net header before each frame (virtio 1.x, 5.1.6)
#define FRAME_AT 16        // where a frame starts in a buffer (its header just before):
                           // word-aligned, so that copying it goes a word at a time
#define RXQ     16         // receive buffers, one page each
#define TXQ     NET_SENDS  // transmit descriptors: descriptor i carries send i

struct filter {
  uint32 owner;  // 0: free
  uint8 npages;
  uint8 waiting;                // its owner waits in net_wait for it
  uint64 received;              // frames put in its ring; the next goes to ring[received % npages]
  uint64 ring[NET_RING_PAGES];  // page numbers
};

enum send_state { SEND_FREE, SEND_PENDING, SEND_DONE };

struct send {
  enum send_state state;
  uint32 owner;                        // 0: its owner is gone (it is freed when the device is done)
  int waiting;                         // its owner waits in net_status for it
  int by_handler;                      // a handler sent it: freed when done, never collected
  uint8 buf[FRAME_AT + NET_FRAME_MAX] __attribute__((aligned(8)));  // the header (zeros: no
                                                                     // offloads), then the frame
};

static volatile uint8 *regs;  // the device's registers; NULL: no network
static int net_irq;
static struct virtq rxq, txq;
static uint64 rx_page[RXQ];  // physical addresses of the receive buffers
static struct filter filters[NET_FILTERS];
static struct send sends[NET_SENDS];
static uint8 nfilters[NENV], nsends[NENV];  // each environment's share in use
static uint64 received_by[NENV];            // frames all of an environment's filters have received
static uint8 waits_all[NENV];               // it waits in net_wait(NET_WAIT_ALL, ...)
static uint8 used_net[NENV];                // it has installed a filter or sent (net_release)
static int default_filter = -1;             // the filter of no terms, taking the unmatched
static uint64 deadline_of[NENV];  // rdtime at which its net_wait gives up; 0: none
static uint32 wait_filter[NENV];  // the filter its last net_wait with a deadline waits on
int net_deadlines;                // nonzero entries of deadline_of (sched_timer checks them only then)

// Find a modern virtio network device, set up its queues and give it the
// receive buffers. Without one the kernel runs on, and the network calls
// answer -E_NONET.
void net_init(void)
{
  regs = virtio_find(DEVICE_ID_NET, &net_irq);
  if (regs == NULL) {
    printf("rvexo: no network device\n");
    return;
  }
  virtio_negotiate(regs, "virtio-net");
  virtio_queue_init(regs, 0, RXQ, &rxq, "virtio-net");
  virtio_queue_init(regs, 1, TXQ, &txq, "virtio-net");
  virtio_ready(regs);
  for (int i = 0; i < RXQ; i++) {
    if ((rx_page[i] = page_alloc(0, PG_KERNEL)) == 0)
      panic("virtio-net: out of memory");
    rxq.desc[i] = (struct vq_desc){rx_page[i] + FRAME_AT - NET_HDR, PGSIZE - (FRAME_AT - NET_HDR),
                                   DESC_WRITE, 0};
    virtio_post(regs, 0, &rxq, i);
  }
  plic_enable(bootinfo.boot_hart, net_irq);
  printf("rvexo: network device (virtio-net)\n");
}

// The IRQ the network device interrupts on (0 if there is none).
int net_irq_number(void)
{
  return regs != NULL ? net_irq : 0;
}

// Give a frame (n bytes) that filter f accepted to its handler, if it has
// one; unless the handler consumed it, put it into the next page of the
// filter's ring, if its owner still owns that page and has emptied it,
// and wake the owner if it waits for it.
static void deliver(struct filter *f, const uint8 *frame, uint64 n)
{
  if (ash_run(f - filters, frame, n) == ASH_CONSUME) {
    sysinfo->net_consumed++;
    return;
  }
  uint64 ppn = f->ring[f->received % f->npages];
  struct page_info *pi = ppn2page(ppn);
  struct net_slot *slot = KADDR(ppn << PGSHIFT);
  if (pi->owner != f->owner || pi->type != PG_USER || slot->full) {
    sysinfo->net_overflow++;
    return;
  }
  slot->len = n;
  memmove(slot->frame, frame, n);
  __sync_synchronize();
  slot->full = 1;
  sysinfo->net_delivered++;
  f->received++;
  uint32 x = ENVX(f->owner);
  received_by[x]++;
  if (f->waiting || waits_all[x]) {
    struct env *e = env_of(f->owner);
    e->tf.a0 = f->waiting ? f->received : received_by[x];
    env_wake(e);
    f->waiting = waits_all[x] = 0;
  }
}

// A frame arrived in a receive buffer (len bytes from FRAME_AT - NET_HDR,
// the header included): give it to the filter that accepts it, or count it and give it to the
// default filter (or drop it).
static void receive(const uint8 *buf, uint64 len)
{
  sysinfo->net_rx_instret = rdinstret();
  sysinfo->net_received++;
  if (len < NET_HDR + NET_FRAME_MIN || len > NET_HDR + NET_FRAME_MAX) {
    sysinfo->net_malformed++;
    return;
  }
  int f = dpf_match(buf + FRAME_AT, len - NET_HDR);
  sysinfo->net_match_instret = rdinstret();
  if (f < 0) {
    sysinfo->net_unmatched++;
    sysinfo->net_defaulted += default_filter >= 0;
    f = default_filter;
  }
  if (f >= 0)
    deliver(&filters[f], buf + FRAME_AT, len - NET_HDR);
}

// Free send s: its owner collected it, or it finished after its owner died.
static void send_free(struct send *s)
{
  if (s->owner != 0)
    nsends[ENVX(s->owner)]--;
  s->state = SEND_FREE;
}

// Take the transmit queue's finished sends: mark them done, and wake
// their waiting owners (freeing them) or free the orphans.
static void collect_sent(void)
{
  __sync_synchronize();
  while (txq.seen != txq.used->idx) {
    uint32 id = txq.used->ring[txq.seen % TXQ].id;
    txq.seen++;
    if (id >= NET_SENDS || sends[id].state != SEND_PENDING)
      panic("virtio-net: device finished an unknown send %u", id);
    struct send *s = &sends[id];
    s->state = SEND_DONE;
    sysinfo->net_sent++;
    struct env *e = env_of(s->owner);
    if (s->owner == 0 || s->by_handler) {
      send_free(s);
    } else if (s->waiting) {
      e->tf.a0 = 0;
      env_wake(e);
      send_free(s);
    }
  }
}

// The network's interrupt: take the frames that arrived (and give their
// buffers back to the device) and the sends that finished.
void net_intr(void)
{
  virtio_write(regs, VIRTIO_INTERRUPT_ACK, virtio_read(regs, VIRTIO_INTERRUPT_STATUS) & 3);
  __sync_synchronize();
  while (rxq.seen != rxq.used->idx) {
    struct vq_used_elem u = rxq.used->ring[rxq.seen % RXQ];
    rxq.seen++;
    if (u.id >= RXQ)
      panic("virtio-net: device used an unknown receive buffer %u", u.id);
    receive(KADDR(rx_page[u.id]), u.len);
    virtio_post(regs, 0, &rxq, u.id);
  }
  collect_sent();
}

// The caller's filter number f, or NULL.
static struct filter *own_filter(struct env *caller, uint64 f)
{
  return f < NET_FILTERS && filters[f].owner == caller->pub->id ? &filters[f] : NULL;
}

// Are the n page numbers at p pages of RAM the caller owns, as user
// pages? Returns 0 or the refusal.
static long own_pages(struct env *caller, const uint64 *p, uint64 n)
{
  for (uint64 i = 0; i < n; i++) {
    if (!ppn_valid(p[i]))
      return -E_BADPPN;
    if (ppn2page(p[i])->owner != caller->pub->id || ppn2page(p[i])->type != PG_USER)
      return -E_NOACCESS;
  }
  return 0;
}

// net_filter: check the filter of n terms at user address terms_va (n =
// 0: the default filter) and the npages ring pages named at ring_va (page
// numbers the caller owns), and install it. Returns the filter's number.
long net_filter(struct env *caller, uint64 terms_va, uint64 n, uint64 ring_va, uint64 npages)
{
  struct dpf_term t[DPF_CALL_TERMS];
  uint64 ring[NET_RING_PAGES];
  if (regs == NULL)
    return -E_NONET;
  if (n > DPF_CALL_TERMS)
    return -E_BADFILTER;
  if (npages == 0 || npages > NET_RING_PAGES)
    return -E_INVAL;
  if (copy_from_user(caller, t, terms_va, n * sizeof(t[0])) < 0 ||
      copy_from_user(caller, ring, ring_va, npages * sizeof(ring[0])) < 0)
    return -E_FAULT;
  long err = own_pages(caller, ring, npages);
  if (err < 0)
    return err;
  if (nfilters[ENVX(caller->pub->id)] >= NET_FILTERS_PER_ENV)
    return -E_QUOTA;
  int f = 0;
  while (f < NET_FILTERS && filters[f].owner != 0)
    f++;
  if (f == NET_FILTERS)
    return -E_AGAIN;
  if (n == 0 && default_filter >= 0)
    return -E_CLAIMED;
  if (n > 0 && (err = dpf_insert(f, caller->pub->id, t, n)) < 0)
    return err;
  if (n == 0)
    default_filter = f;
  filters[f] = (struct filter){caller->pub->id, npages, 0, 0, {0}};
  used_net[ENVX(caller->pub->id)] = 1;
  memmove(filters[f].ring, ring, npages * sizeof(ring[0]));
  nfilters[ENVX(caller->pub->id)]++;
  return f;
}

// Remove filter f (its owner's).
static void filter_free(struct filter *f)
{
  ash_remove(f - filters);
  if (f - filters == default_filter)
    default_filter = -1;
  else
    dpf_remove(f - filters);
  nfilters[ENVX(f->owner)]--;
  f->owner = 0;
}

// net_unfilter: remove the caller's filter f.
long net_unfilter(struct env *caller, uint64 f)
{
  struct filter *fl = own_filter(caller, f);
  if (fl == NULL)
    return -E_PERM;
  filter_free(fl);
  return 0;
}

// net_wait: the number of frames filter f (NET_WAIT_ALL: all the
// caller's filters together, since it began) has put in its ring so far,
// once it is more than `seen` (the caller gives up the processor until
// then). With deadline nonzero, -E_TIMEOUT instead if none has come by
// the time rdtime reaches it (at once if it has passed).
long net_wait(struct env *caller, uint64 f, uint64 seen, uint64 deadline)
{
  uint32 x = ENVX(caller->pub->id);
  struct filter *fl = own_filter(caller, f);
  if (fl == NULL && f != NET_WAIT_ALL)
    return -E_PERM;
  uint64 received = fl != NULL ? fl->received : received_by[x];
  if (seen > received)
    return -E_INVAL;
  if (seen < received)
    return received;
  if (deadline != 0 && rdtime() >= deadline)
    return -E_TIMEOUT;
  if (fl != NULL)
    fl->waiting = 1;
  else
    waits_all[x] = 1;
  net_deadlines += (deadline != 0) - (deadline_of[x] != 0);
  deadline_of[x] = deadline;
  wait_filter[x] = f;
  used_net[x] = 1;  // so that its teardown clears the deadline
  caller->pub->status = ENV_NOT_RUNNABLE;
  schedule();
}

// Forget environment slot x's deadline.
static void deadline_clear(uint32 x)
{
  net_deadlines -= deadline_of[x] != 0;
  deadline_of[x] = 0;
}

// Called on every timer interrupt while net_deadlines is nonzero: wake
// with -E_TIMEOUT each environment whose net_wait deadline has passed, and
// forget the deadlines of those a frame woke first (deliver does not look
// at deadlines).
void net_check_deadlines(void)
{
  uint64 now = rdtime();
  for (uint32 x = 0; x < NENV; x++) {
    if (deadline_of[x] == 0)
      continue;
    uint32 f = wait_filter[x];
    struct env *e = &envs[x];
    int waits = f == NET_WAIT_ALL ? waits_all[x]
                                  : f < NET_FILTERS && filters[f].owner == e->pub->id &&
                                        filters[f].waiting;
    if (!waits || e->pub->status == ENV_RUNNABLE) {
      deadline_clear(x);
    } else if (now >= deadline_of[x]) {
      if (f == NET_WAIT_ALL)
        waits_all[x] = 0;
      else
        filters[f].waiting = 0;
      deadline_clear(x);
      e->tf.a0 = -E_TIMEOUT;
      env_wake(e);
    }
  }
}

// Send the len-byte frame at frame (kernel memory) for environment
// owner: copy it now into a free send request, within owner's share, and
// give it to the device. by_handler: a handler sends it, and it is freed
// when the device is done. Returns the request number, or the refusal.
long net_send_frame(uint32 owner, const uint8 *frame, uint64 len, int by_handler)
{
  if (len < NET_FRAME_MIN || len > NET_FRAME_MAX)
    return -E_INVAL;
  if (nsends[ENVX(owner)] >= NET_SENDS_PER_ENV)
    collect_sent();  // a handler's may be done: they free themselves
  if (nsends[ENVX(owner)] >= NET_SENDS_PER_ENV)
    return -E_QUOTA;
  int n = 0;
  while (n < NET_SENDS && sends[n].state != SEND_FREE)
    n++;
  if (n == NET_SENDS)
    return -E_AGAIN;
  struct send *s = &sends[n];
  s->state = SEND_PENDING;
  s->owner = owner;
  s->waiting = 0;
  s->by_handler = by_handler;
  memset(s->buf + FRAME_AT - NET_HDR, 0, NET_HDR);
  memmove(s->buf + FRAME_AT, frame, len);
  nsends[ENVX(owner)]++;
  used_net[ENVX(owner)] = 1;
  txq.desc[n] = (struct vq_desc){PADDR(s->buf + FRAME_AT - NET_HDR), NET_HDR + len, 0, 0};
  if (sysinfo->net_tx_instret < sysinfo->net_rx_instret)  // the first send since a frame came
    sysinfo->net_tx_instret = rdinstret();
  virtio_post(regs, 1, &txq, n);
  return n;
}

// net_send: send the len-byte frame at byte offset off of page ppn, which
// the caller owns. The frame is copied now; returns the request number.
long net_send(struct env *caller, uint64 ppn, uint64 off, uint64 len)
{
  if (regs == NULL)
    return -E_NONET;
  long err = own_pages(caller, &ppn, 1);
  if (err < 0)
    return err;
  if (len < NET_FRAME_MIN || len > NET_FRAME_MAX || off > PGSIZE - len)
    return -E_INVAL;
  return net_send_frame(caller->pub->id, (uint8 *)KADDR(ppn << PGSHIFT) + off, len, 0);
}

// net_handler: attach to the caller's filter f the handler of ninsns
// instructions at user address code_va, with the npages pages named at
// pages_va (ninsns 0: remove its handler). The kernel checks it
// (ash_install) and keeps a copy.
long net_handler(struct env *caller, uint64 f, uint64 code_va, uint64 ninsns, uint64 pages_va,
                 uint64 npages)
{
  struct ash_insn code[ASH_INSNS];
  uint64 pages[ASH_PAGES];
  if (own_filter(caller, f) == NULL)
    return -E_PERM;
  if (ninsns > ASH_INSNS)
    return -E_ASHLONG;
  if (ninsns > 0 && (npages == 0 || npages > ASH_PAGES))
    return -E_INVAL;
  if (ninsns > 0 && (copy_from_user(caller, code, code_va, ninsns * sizeof(code[0])) < 0 ||
                     copy_from_user(caller, pages, pages_va, npages * sizeof(pages[0])) < 0))
    return -E_FAULT;
  long err = ninsns > 0 ? own_pages(caller, pages, npages) : 0;
  if (err < 0)
    return err;
  return ash_install(f, caller->pub->id, code, ninsns, pages, npages);
}

// net_status: 1 while the caller's request req is being sent (with wait,
// give up the processor until it is sent instead); 0 once it is, and the
// request number is free again.
long net_status(struct env *caller, uint64 req, uint64 wait)
{
  if (req >= NET_SENDS || sends[req].state == SEND_FREE || sends[req].owner != caller->pub->id ||
      sends[req].by_handler)
    return -E_PERM;
  struct send *s = &sends[req];
  collect_sent();
  if (s->state == SEND_DONE) {
    send_free(s);
    return 0;
  }
  if (!wait)
    return 1;
  s->waiting = 1;
  caller->pub->status = ENV_NOT_RUNNABLE;
  schedule();
}

// Remove the filters of the environment id, and let its sends in flight
// finish as orphans (see net_release).
static __attribute__((noinline)) void release_all(uint32 id)
{
  received_by[ENVX(id)] = 0;
  waits_all[ENVX(id)] = 0;
  deadline_clear(ENVX(id));
  used_net[ENVX(id)] = 0;
  for (int f = 0; f < NET_FILTERS; f++)
    if (filters[f].owner == id)
      filter_free(&filters[f]);
  for (int i = 0; i < NET_SENDS; i++)
    if (sends[i].state != SEND_FREE && sends[i].owner == id) {
      if (sends[i].state == SEND_DONE) {
        send_free(&sends[i]);
      } else {
        nsends[ENVX(id)]--;
        sends[i].owner = 0;
      }
    }
}

// Environment e is being destroyed: remove its filters, and let its sends
// in flight finish as orphans. (Most environments never use the network:
// for them, no search and no frame.)
void net_release(struct env *e)
{
  uint32 id = e->pub->id;
  if (used_net[ENVX(id)])
    release_all(id);
}

// For kcheck: every filter and every send not yet collected belongs to a
// live environment (an orphaned send, or a handler's, is still in
// flight), each environment's counts are right and within its share, a
// filter's waiter is not runnable, every handler sits on its owner's
// filter (ash_check), the default filter is installed, and the merged
// table (dpf_check) holds exactly the other filters installed. Returns
// NULL or the violation.
const char *net_check(uint64 *where)
{
  uint32 installed[NET_FILTERS];
  uint8 count_f[NENV] = {0}, count_s[NENV] = {0};
  int deadline_count = 0;
  for (int f = 0; f < NET_FILTERS; f++) {
    struct filter *fl = &filters[f];
    *where = f;
    installed[f] = fl->owner;
    if (fl->owner == 0)
      continue;
    struct env *e = env_of(fl->owner);
    if (e == NULL)
      return "packet filter of an environment that does not exist";
    if (fl->npages == 0 || fl->npages > NET_RING_PAGES)
      return "packet filter with a bad ring";
    if (fl->waiting && e->pub->status == ENV_RUNNABLE)
      return "environment waiting for frames is runnable";
    count_f[ENVX(fl->owner)]++;
  }
  for (int i = 0; i < NET_SENDS; i++) {
    struct send *s = &sends[i];
    *where = i;
    if (s->state == SEND_FREE)
      continue;
    if ((s->owner == 0 || s->by_handler) && s->state != SEND_PENDING)
      return "finished send of a dead environment or a handler not freed";
    if (s->owner != 0 && env_of(s->owner) == NULL)
      return "send of an environment that does not exist";
    if (s->owner != 0)
      count_s[ENVX(s->owner)]++;
  }
  for (int slot = 0; slot < NENV; slot++) {
    *where = slot;
    if (count_f[slot] != nfilters[slot] || count_s[slot] != nsends[slot])
      return "environment's count of packet filters or sends is wrong";
    if (nfilters[slot] > NET_FILTERS_PER_ENV || nsends[slot] > NET_SENDS_PER_ENV)
      return "environment holds more than its share of filters or sends";
    if (env_table[slot].status == ENV_FREE &&
        (received_by[slot] != 0 || waits_all[slot] != 0 || used_net[slot] != 0))
      return "free environment slot keeps network state";
    if (!used_net[slot] && (nfilters[slot] != 0 || nsends[slot] != 0 || received_by[slot] != 0))
      return "environment uses the network unmarked (its teardown would miss it)";
    if (waits_all[slot] && env_table[slot].status == ENV_RUNNABLE)
      return "environment waiting for frames is runnable";
    if (env_table[slot].status == ENV_FREE && deadline_of[slot] != 0)
      return "free environment slot keeps a net_wait deadline";
    deadline_count += deadline_of[slot] != 0;
  }
  const char *why = ash_check(installed, where);
  if (why != NULL)
    return why;
  if (default_filter >= 0) {
    *where = default_filter;
    if (filters[default_filter].owner == 0)
      return "the default filter is not installed";
    installed[default_filter] = 0;  // it is in no merged table
  }
  *where = deadline_count;
  if (deadline_count != net_deadlines)
    return "count of net_wait deadlines is wrong";
  return dpf_check(installed, where);
}
