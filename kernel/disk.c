// The disk: a virtio-blk driver (virtio over MMIO, the modern interface of
// virtio 1.x) that exports block ranges as resources.
//
// Secure binding for the disk: an environment holding a binding to a range
// of blocks may read and write those blocks, each to or from a page it owns
// or one owned by an environment it controls (a loader fills its child's
// pages straight from the disk); nothing else is checked at I/O time. At
// boot the first environment holds the whole disk; an environment holding a
// range can bind any part of it to itself, a child (its file-system
// server, say), or an environment waiting in a synchronous call to it (the
// call is the request: a file server binds a client its file's blocks),
// and can take back a range bound to itself or to a child, or one it bound.
// Each binding remembers the one it was made from: a range taken back
// (disk_unbind) is taken back from everyone it reached, every binding made
// from it in turn. When a holder is destroyed, the bindings made from its
// own pass up to the ones its own were made from, as its children pass to
// its parent: its parent can still take them back.
//
// Blocks are DISK_BLOCK (4096) bytes, eight 512-byte sectors. Requests are
// asynchronous: disk_io starts one and returns its number; disk_status polls
// it; disk_wait gives up the processor until it completes (the completion
// interrupt makes the waiter runnable again). A page with a request not yet
// collected is pinned: it cannot be freed, and destroying its owner, or the
// environment that issued the request, waits for the device. Each
// environment may have DISK_REQUESTS_PER_ENV requests not yet collected.
//
// For crash tests only: the boot argument diskcrash=N stops the machine
// (once the device has finished the writes before) when a program asks for
// disk write number N + 1, as if the power failed there.

#include "defs.h"
#include "env.h"
#include "smp.h"
#include "memlayout.h"
#include "riscv.h"
#include "virtio.h"

#define QSIZE 128  // descriptors; three per request

// The request header virtio-blk reads before the data.
struct blk_header {
  uint32 type;  // BLK_IN: read from the disk; BLK_OUT: write to it
  uint32 reserved;
  uint64 sector;
};
#define BLK_IN  0
#define BLK_OUT 1

enum req_state { REQ_FREE, REQ_PENDING, REQ_DONE };

struct request {
  enum req_state state;
  uint32 owner;           // environment that issued it
  uint64 page;            // physical address of its data page (pinned while pending)
  int waiting;            // its owner waits in disk_wait for it
  volatile uint8 status;  // written by the device: 0 OK
  struct blk_header header;
};

struct binding {
  uint64 start, count;  // count 0: unused
  uint32 from;          // the binding it was made from (binding_ref); 0: the boot binding
};

static volatile uint8 *regs;  // the device's registers (direct map); NULL: no disk
static struct virtq vq;
static struct request requests[DISK_REQUESTS];
static int uncollected;  // requests not yet collected (not REQ_FREE), all environments'
static struct binding bindings[NENV][DISK_BINDINGS];
static uint64 nblocks;
static int disk_irq;
static uint64 writes_left = ~0UL;  // before diskcrash= stops the machine

static void collect_used(void);

// Find a modern virtio block device and set up its request queue. Without
// one the kernel runs on, and the disk calls answer -E_NODISK.
void disk_init(void)
{
  regs = virtio_find(DEVICE_ID_BLOCK, &disk_irq);
  if (regs == NULL) {
    printf("rvexo: no disk\n");
    return;
  }
  virtio_negotiate(regs, "virtio-blk");
  virtio_queue_init(regs, 0, QSIZE, &vq, "virtio-blk");
  virtio_ready(regs);

  uint64 sectors = *(volatile uint64 *)(regs + VIRTIO_CONFIG);
  nblocks = sectors / (DISK_BLOCK / 512);
  sysinfo->disk_blocks = nblocks;
  plic_enable(bootinfo.boot_hart, disk_irq);
  printf("rvexo: disk of %lu blocks (%lu KiB)\n", nblocks, nblocks * DISK_BLOCK / 1024);
  char arg[24];
  if (bootarg("diskcrash=", arg, sizeof(arg)) != NULL) {
    writes_left = 0;
    for (const char *p = arg; *p >= '0' && *p <= '9'; p++)
      writes_left = writes_left * 10 + *p - '0';
    printf("rvexo: diskcrash: the machine stops after %lu disk writes\n", writes_left);
  }
}

// The diskcrash= point: let the device finish what it was given, then stop
// the machine.
static void crash_now(void)
{
  for (int i = 0; i < DISK_REQUESTS; i++)
    while (requests[i].state == REQ_PENDING)
      collect_used();  // the device runs on while the kernel polls
  printf("rvexo: diskcrash: stopping the machine before the next disk write\n");
  poweroff(0);
}

// A binding's name: 1 + slot * DISK_BINDINGS + index (0 is no binding).
static uint32 binding_ref(uint32 slot, int index)
{
  return slot * DISK_BINDINGS + index + 1;
}

// The binding named ref (not 0).
static struct binding *binding_at(uint32 ref)
{
  return &bindings[(ref - 1) / DISK_BINDINGS][(ref - 1) % DISK_BINDINGS];
}

// The name (binding_ref) of e's binding covering blocks [start, start +
// count), or 0 if it holds none.
static uint32 holds(struct env *e, uint64 start, uint64 count)
{
  struct binding *b = bindings[ENVX(e->pub->id)];
  for (int i = 0; i < DISK_BINDINGS; i++)
    if (b[i].count != 0 && start >= b[i].start && count <= b[i].count &&
        start - b[i].start <= b[i].count - count)
      return binding_ref(ENVX(e->pub->id), i);
  return 0;
}

// Give environment e the range [start, start + count), made from binding
// `from` (0: the boot binding). Returns 0 or -E_QUOTA when it holds
// DISK_BINDINGS ranges already.
static long add_binding(struct env *e, uint64 start, uint64 count, uint32 from)
{
  struct binding *b = bindings[ENVX(e->pub->id)];
  for (int i = 0; i < DISK_BINDINGS; i++)
    if (b[i].count == 0) {
      b[i] = (struct binding){start, count, from};
      return 0;
    }
  return -E_QUOTA;
}

// Remove binding b and, in turn, every binding made from a removed one.
// Each pass removes the next generation (no recursion on the kernel stack).
static void unbind_all_from(struct binding *b)
{
  b->count = 0;
  for (int removed = 1; removed;) {
    removed = 0;
    for (int slot = 0; slot < NENV; slot++)
      for (int i = 0; i < DISK_BINDINGS; i++) {
        struct binding *c = &bindings[slot][i];
        if (c->count != 0 && c->from != 0 && binding_at(c->from)->count == 0) {
          c->count = 0;
          removed = 1;
        }
      }
  }
}

// Give the first environment the whole disk (at boot).
void disk_bind_boot(struct env *e)
{
  if (regs != NULL)
    add_binding(e, 0, nblocks, 0);
}

// disk_bind: caller, which holds [start, start + count), binds it to envid
// too: itself, a child, or one waiting in a synchronous call to the caller.
long disk_bind(struct env *caller, uint64 envid, uint64 start, uint64 count)
{
  struct env *t = envid <= 0xFFFFFFFFUL ? env_of(envid) : NULL;
  if (regs == NULL)
    return -E_NODISK;
  if (t == NULL)
    return -E_BADENV;
  if (!env_controls(caller, t) && t->waiting_on != caller->pub->id)
    return -E_PERM;
  if (count == 0 || start >= nblocks || count > nblocks - start)
    return -E_INVAL;
  uint32 from = holds(caller, start, count);
  if (from == 0)
    return -E_NOBINDING;
  return add_binding(t, start, count, from);
}

// disk_unbind: remove the range [start, start + count) exactly as bound
// from the caller itself or from a child, or as the caller bound it to
// anyone, and every binding made from it.
long disk_unbind(struct env *caller, uint64 envid, uint64 start, uint64 count)
{
  struct env *t = envid == 0 ? caller : envid <= 0xFFFFFFFFUL ? env_of(envid) : NULL;
  if (t == NULL)
    return -E_BADENV;
  int controls = env_controls(caller, t);
  uint32 mine = binding_ref(ENVX(caller->pub->id), 0);  // the caller's bindings' names
  struct binding *b = bindings[ENVX(t->pub->id)];
  for (int i = 0; i < DISK_BINDINGS; i++)
    if (b[i].count != 0 && b[i].start == start && b[i].count == count &&
        (controls || (b[i].from >= mine && b[i].from < mine + DISK_BINDINGS))) {
      unbind_all_from(&b[i]);
      return 0;
    }
  return controls ? -E_NOBINDING : -E_PERM;
}

// disk_io: start reading (write == 0) or writing block `block` from or to
// page ppn, which the caller or an environment it controls owns. Returns
// the request number.
long disk_io(struct env *caller, uint64 block, uint64 ppn, uint64 write)
{
  if (regs == NULL)
    return -E_NODISK;
  if (write > 1)
    return -E_INVAL;
  if (block >= nblocks)
    return -E_INVAL;
  if (!holds(caller, block, 1))
    return -E_NOBINDING;
  if (!ppn_valid(ppn))
    return -E_BADPPN;
  struct page_info *pi = ppn2page(ppn);
  struct env *owner = env_of(pi->owner);
  if (pi->type != PG_USER || owner == NULL || !env_controls(caller, owner))
    return -E_NOACCESS;
  if (caller->nrequests >= DISK_REQUESTS_PER_ENV)
    return -E_QUOTA;
  int n = 0;
  while (n < DISK_REQUESTS && requests[n].state != REQ_FREE)
    n++;
  if (n == DISK_REQUESTS)
    return -E_AGAIN;
  if (write && writes_left-- == 0)
    crash_now();

  struct request *r = &requests[n];
  *r = (struct request){REQ_PENDING,    caller->pub->id,
                        ppn << PGSHIFT, 0,
                        0xFF,           {write ? BLK_OUT : BLK_IN, 0, block * (DISK_BLOCK / 512)}};
  caller->nrequests++;
  uncollected++;
  // Three descriptors per request, at 3n, 3n+1, 3n+2: header, data, status.
  struct vq_desc *d = &vq.desc[3 * n];
  d[0] = (struct vq_desc){PADDR(&r->header), sizeof(r->header), DESC_NEXT, 3 * n + 1};
  d[1] = (struct vq_desc){r->page, DISK_BLOCK, DESC_NEXT | (write ? 0 : DESC_WRITE), 3 * n + 2};
  d[2] = (struct vq_desc){PADDR(&r->status), 1, DESC_WRITE, 0};
  virtio_post(regs, 0, &vq, 3 * n);
  return n;
}

// Free request r: its owner collected it, or is being destroyed.
static void request_free(struct request *r)
{
  struct env *e = env_of(r->owner);
  if (e != NULL)
    e->nrequests--;
  uncollected--;
  r->state = REQ_FREE;
}

// The result of a completed request: 0, or -E_IO.
static long result_of(struct request *r)
{
  return r->status == 0 ? 0 : -E_IO;
}

// Take the used ring's new entries: mark their requests done and wake the
// environments waiting for them.
static void collect_used(void)
{
  __sync_synchronize();
  while (vq.seen != vq.used->idx) {
    uint32 head = vq.used->ring[vq.seen % QSIZE].id;
    vq.seen++;
    struct request *r = &requests[head / 3];
    if (head % 3 != 0 || head / 3 >= DISK_REQUESTS || r->state != REQ_PENDING)
      panic("virtio-blk: device completed an unknown request %u", head);
    r->state = REQ_DONE;
    struct env *e = env_of(r->owner);
    if (r->waiting && e != NULL) {
      e->tf.a0 = result_of(r);
      env_wake(e);
      request_free(r);
    }
  }
}

// The disk's interrupt.
void disk_intr(void)
{
  virtio_write(regs, VIRTIO_INTERRUPT_ACK, virtio_read(regs, VIRTIO_INTERRUPT_STATUS) & 3);
  collect_used();
}

// The IRQ the disk interrupts on (0 if there is no disk).
int disk_irq_number(void)
{
  return regs != NULL ? disk_irq : 0;
}

// The caller's request number req, or NULL.
static struct request *own_request(struct env *caller, uint64 req)
{
  if (req >= DISK_REQUESTS || requests[req].state == REQ_FREE ||
      requests[req].owner != caller->pub->id)
    return NULL;
  return &requests[req];
}

// disk_status: 1 while request req is pending; once it is done, its result
// (0 or -E_IO), and the request number is free again.
long disk_status(struct env *caller, uint64 req)
{
  struct request *r = own_request(caller, req);
  if (r == NULL)
    return -E_PERM;
  collect_used();
  if (r->state == REQ_PENDING)
    return 1;
  request_free(r);
  return result_of(r);
}

// disk_wait: wait for request req without holding the processor; returns
// its result (0 or -E_IO) and frees the request number.
long disk_wait(struct env *caller, uint64 req)
{
  struct request *r = own_request(caller, req);
  if (r == NULL)
    return -E_PERM;
  collect_used();
  if (r->state == REQ_DONE) {
    request_free(r);
    return result_of(r);
  }
  r->waiting = 1;
  caller->pub->status = ENV_NOT_RUNNABLE;
  schedule();
}

// Is a request in the device's hands (issued, not yet completed)?
int disk_in_flight(void)
{
  for (int i = 0; i < DISK_REQUESTS; i++)
    if (requests[i].state == REQ_PENDING)
      return 1;
  return 0;
}

// Does a request not yet collected (pending, or done but its result not
// yet taken by disk_status or disk_wait) use the page at pa? (Without any
// such request, as for most page frees, the answer needs no search.)
int disk_page_busy(uint64 pa)
{
  for (int i = 0; i < DISK_REQUESTS && uncollected > 0; i++)
    if (requests[i].state != REQ_FREE && requests[i].page == pa)
      return 1;
  return 0;
}

// For kcheck: every request not yet collected belongs to a live
// environment, a pending one's page is a user page (never free, a table or
// a u-area: the device writes it), and each environment's count of
// requests is right; every binding of a free slot is gone, and every
// binding's origin still exists. Returns NULL or the violation.
const char *disk_check(uint64 *where)
{
  uint32 count[NENV] = {0};
  int total = 0;
  for (int i = 0; i < DISK_REQUESTS; i++) {
    struct request *r = &requests[i];
    *where = i;
    if (r->state == REQ_FREE)
      continue;
    total++;
    if (env_of(r->owner) == NULL)
      return "disk request of an environment that does not exist";
    count[ENVX(r->owner)]++;
    if (r->state == REQ_PENDING &&
        (!ppn_valid(r->page >> PGSHIFT) || ppn2page(r->page >> PGSHIFT)->type != PG_USER))
      return "the disk may write a page that is not a user page (pinning broken)";
  }
  if (total != uncollected)
    return "the count of requests not yet collected is wrong";
  for (int slot = 0; slot < NENV; slot++) {
    *where = slot;
    if (env_table[slot].status != ENV_FREE && envs[slot].nrequests != count[slot])
      return "environment's count of disk requests is wrong";
    for (int i = 0; i < DISK_BINDINGS; i++) {
      struct binding *b = &bindings[slot][i];
      if (b->count != 0 && env_table[slot].status == ENV_FREE)
        return "disk binding held by a free environment slot";
      if (b->count != 0 && b->from != 0 && binding_at(b->from)->count == 0)
        return "disk binding made from one that is gone";
    }
  }
  return NULL;
}

// Environment e is being destroyed. Wait until the device has finished
// every request e issued or that uses one of e's pages (no page may be
// reused while the device may write it); free e's requests, unpin e's
// pages from others' finished ones, and drop e's bindings, passing those
// made from them up to the ones they were made from.
void disk_release(struct env *e)
{
  uint32 id = e->pub->id;
  for (int i = 0; i < DISK_REQUESTS; i++) {
    struct request *r = &requests[i];
    if (r->state == REQ_FREE ||
        (r->owner != id && (r->page == 0 || ppn2page(r->page >> PGSHIFT)->owner != id)))
      continue;
    while (r->state == REQ_PENDING)
      collect_used();  // the device runs on while the kernel polls
    if (r->owner == id && r->state != REQ_FREE)
      request_free(r);
    else if (r->owner != id)
      r->page = 0;  // finished: its page is no longer pinned
  }
  struct binding *b = bindings[ENVX(id)];
  for (int i = 0; i < DISK_BINDINGS; i++) {
    if (b[i].count == 0)
      continue;
    uint32 ref = binding_ref(ENVX(id), i);
    for (int slot = 0; slot < NENV; slot++)
      for (int k = 0; k < DISK_BINDINGS; k++)
        if (bindings[slot][k].count != 0 && bindings[slot][k].from == ref)
          bindings[slot][k].from = b[i].from;
    b[i].count = 0;
  }
}
