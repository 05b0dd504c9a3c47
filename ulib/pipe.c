// ExOS pipes: a one-page ring buffer in pages that every process holding
// an end maps (PTE_SHARE, so fork shares them; spawn maps them in the child).
//
// A pipe is two pages at its slot's address (PIPE_VA): the header, then
// the data. The header counts bytes read and written (monotonic, so the
// difference is what the buffer holds) and the ends open in all processes
// together. A reader with nothing to read gives the processor to the
// environment that last wrote (directed yield), a writer with a full buffer
// to the one that last read, and each tries again when it runs: no kernel
// help and no polling loop that burns whole slices while the peer could
// run. Read returns 0 (end of file) when the buffer is empty and no write
// end is open anywhere; write fails with -E_PIPE when no read end is.
//
// Besides the totals, the header keeps each holder's counts, one record
// per environment slot, packed in one word (its id and its read and write
// ends) so that one compare-and-swap changes it. The records say who holds
// what; the totals are a cheap upper bound for the common checks, never
// below the sum of the records (a total grows before a record and shrinks
// after it), so a process killed mid-update leaves them high, never low.
// A process killed before it could close its ends leaves its record; a
// reader waiting on an empty pipe (or a writer on a full one) looks for a
// live holder of the other end and takes a dead process's record out, so
// the end of the input still comes. A reader decides that the input has
// ended only if no writer was left *before* it found the buffer empty: a
// writer's last bytes are counted before it lets go of its end.
//
// Several processes may read, or write, one pipe at once (the children of
// a shell writing to one pipe): each end has a lock, so that one reader
// and one writer at a time copy and move the counts, and a write of at
// most PIPE_BUF bytes waits for room for all of it and lands whole, never
// interleaved with another writer's. A process that dies holding a lock
// loses it to the next that wants it.

// The process that makes a pipe owns its pages; they are freed when it
// closes its last end and no live process holds one, or when it ends and
// none of its descendants holds the pipe (a page its descendants share
// outlives it: kernel/abi.h, "Lifecycles").

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define PIPE_HOLDERS 256  // one record per environment slot (an id's low 8 bits)

// A holder's record: its environment id above two 16-bit counts of ends.
#define HOLDER(env)      ((unsigned long)(env) << 32)
#define HOLDER_ENV(h)    ((unsigned int)((h) >> 32))
#define ENDS(writing)    ((writing) ? 0xFFFF0000UL : 0x7FFFUL)  // its ends of one kind
#define ALL_ENDS         0xFFFF7FFFUL
#define ONE_END(writing) ((writing) ? 0x10000UL : 1UL)
#define RETIRING         0x8000UL  // it is letting go of its last end (pipe_hold)

struct pipe {
  volatile unsigned long nread, nwritten;        // bytes so far
  volatile unsigned int readers, writers;        // open ends, in every process (an upper bound)
  volatile unsigned int reader, writer;          // who last read and wrote
  volatile unsigned int rlock, wlock;            // the reader and the writer now (0: none)
  unsigned int owner;                            // the process that owns the pages
  volatile unsigned long holders[PIPE_HOLDERS];  // by slot: 0, or HOLDER(env) + ends
};
_Static_assert(sizeof(struct pipe) <= PGSIZE, "a pipe's header fits its page");

#define PIPE_BUF     PGSIZE
#define PIPE_VA(i)   (EXOS_PIPES + (i)*2 * PGSIZE)
#define PIPE_DATA(p) ((volatile char *)(p) + PGSIZE)

// Make a pipe with one read end and one write end open. Returns its
// address or NULL (no free slot, or no memory).
struct pipe *pipe_new(void)
{
  // LAB ipc: at a free slot, two pages every holder maps (PTE_SHARE); this process holds both ends
  // HANDOUT: return NULL;
  for (int i = 0; i < EXOS_NPIPES; i++) {
    if (vm_pte(PIPE_VA(i)) != 0)
      continue;
    long h = vm_alloc(PIPE_VA(i), PTE_R | PTE_W | PTE_SHARE);
    long d = h < 0 ? h : vm_alloc(PIPE_VA(i) + PGSIZE, PTE_R | PTE_W | PTE_SHARE);
    if (d < 0) {
      if (h >= 0) {
        vm_unmap(PIPE_VA(i));
        sys_page_free(h);
      }
      return NULL;
    }
    struct pipe *p = (struct pipe *)PIPE_VA(i);
    p->owner = sys_getenvid();
    pipe_hold(p, 0, p->owner, 1);
    pipe_hold(p, 1, p->owner, 1);
    return p;
  }
  return NULL;
  // END LAB ipc
}

// Take record h, of a process that has died, out of *rec, and its ends
// out of the totals (unless someone else took it out first).
static void forget(struct pipe *p, volatile unsigned long *rec, unsigned long h)
{
  if (__atomic_compare_exchange_n(rec, &h, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    __atomic_fetch_sub(&p->readers, h & ENDS(0), __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(&p->writers, (h & ENDS(1)) >> 16, __ATOMIC_SEQ_CST);
  }
}

// A test's hook, NULL except in tests: called when this process has let
// go of its last end of a pipe, before it takes that end out of the
// totals (user/t_pipestress: the owner closes and frees just then).
void (*exos_pipe_retiring)(void);

// Process env holds n more (or, n negative, fewer) ends of the pipe, read
// or write ends: an open file of a new pipe, a child's copies (fork,
// spawn), a close. The process (or, for a child not started yet, its
// parent) alone changes its record. Taking ends back from a process whose
// record is gone does nothing: it died, and a waiter took its ends out.
// Letting go of its last end, a process leaves its record RETIRING (no
// ends, still its own) until it has taken its ends out of the totals too,
// then frees it: the owner frees the pages once no live process holds the
// pipe, and waits for a retiring one first (retirements_done), which
// still writes the header. Once its record is free it touches the pipe no
// more.
void pipe_hold(struct pipe *p, int writing, unsigned int env, int n)
{
  volatile unsigned long *rec = &p->holders[env % PIPE_HOLDERS];
  volatile unsigned int *total = writing ? &p->writers : &p->readers;
  if (n > 0)
    __atomic_fetch_add(total, n, __ATOMIC_SEQ_CST);
  unsigned long nh;
  for (;;) {
    unsigned long h = *rec;
    if (h == 0 || HOLDER_ENV(h) != env) {
      if (n < 0)
        return;
      if (h != 0) {
        forget(p, rec, h);  // a dead process's: env lives in its slot now
        continue;
      }
    }
    nh = ((h & ~RETIRING) == 0 ? HOLDER(env) : h & ~RETIRING) + (unsigned long)n * ONE_END(writing);
    if ((nh & ALL_ENDS) == 0)
      nh = HOLDER(env) | RETIRING;  // no end left: free once the totals are right
    if (__atomic_compare_exchange_n(rec, &h, nh, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      break;
  }
  if ((nh & RETIRING) && exos_pipe_retiring != NULL)
    exos_pipe_retiring();
  if (n < 0)
    __atomic_fetch_add(total, n, __ATOMIC_SEQ_CST);
  if (nh & RETIRING)  // (unless it took an end again meanwhile)
    __atomic_compare_exchange_n(rec, &nh, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

// Wait until no live process is letting go of its last end of the pipe
// (a RETIRING record: a few instructions long), giving it the processor.
static void retirements_done(struct pipe *p)
{
  const struct env_info *envs = (const struct env_info *)UENVS;
  for (int i = 0; i < PIPE_HOLDERS; i++) {
    unsigned long h;
    while (((h = p->holders[i]) & RETIRING) && envs[i].id == HOLDER_ENV(h))
      sys_yield(HOLDER_ENV(h));
  }
}

// A test's hook, NULL except in tests: called each time this process looks
// for live holders, so that a test can let another process act at exactly
// that moment (user/t_pipestress: the last writer writes and exits while
// its reader looks for writers).
void (*exos_pipe_looking)(void);

// Does a live process hold one of the ends (ENDS(writing) or ALL_ENDS)?
// The records of processes that died are taken out on the way. For
// ALL_ENDS (may the owner free the pages?) processes letting go of their
// last end are waited for first.
static int held_alive(struct pipe *p, unsigned long ends)
{
  const struct env_info *envs = (const struct env_info *)UENVS;
  if (exos_pipe_looking != NULL)
    exos_pipe_looking();
  if (ends == ALL_ENDS)
    retirements_done(p);
  // LAB ipc: look at every record: forget a dead holder's, say yes at a live one with such ends
  // HANDOUT: return 1;
  for (int i = 0; i < PIPE_HOLDERS; i++) {
    unsigned long h = p->holders[i];
    if (h == 0)
      continue;
    if (envs[i].id != HOLDER_ENV(h))
      forget(p, &p->holders[i], h);
    else if (h & ends)
      return 1;
  }
  return 0;
  // END LAB ipc
}

// Close one end. When no live process holds an end the owner frees the
// pages; every process unmaps them once it holds no end.
void pipe_close(struct pipe *p, int writing, int last_here)
{
  // LAB ipc: let go of the end; with none left here unmap, and free if the owner and none alive
  // HANDOUT: pipe_hold(p, writing, sys_getenvid(), -1);
  unsigned int me = sys_getenvid(), owner = p->owner;  // (before the pages may go)
  pipe_hold(p, writing, me, -1);
  if (!last_here)
    return;
  unsigned long va = (unsigned long)p;
  unsigned long hp = PTE_PPN(vm_pte(va)), dp = PTE_PPN(vm_pte(va + PGSIZE));
  int unused = owner == me && !held_alive(p, ALL_ENDS);
  vm_unmap(va);
  vm_unmap(va + PGSIZE);
  if (unused) {
    sys_page_free(hp);
    sys_page_free(dp);
  }
  // END LAB ipc
}

// This process's id, read from its u-area (no system call).
static unsigned int self(void)
{
  return ((const volatile struct uarea *)UAREA)->envid;
}

// Wait for a pipe end's lock for process me, giving the processor to its
// holder until it lets go; a holder that has died loses the lock. (Out of
// line: end_lock's common case takes a free lock.)
static void __attribute__((noinline)) end_wait(volatile unsigned int *lock, unsigned int me)
{
  const struct env_info *envs = (const struct env_info *)UENVS;
  for (;;) {
    unsigned int holder = 0;
    if (__atomic_compare_exchange_n(lock, &holder, me, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      return;
    if (envs[holder % PIPE_HOLDERS].id != holder)
      __atomic_compare_exchange_n(lock, &holder, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    else if (sys_yield(holder) < 0)
      sys_yield(0);
  }
}

// Take a pipe end's lock for process me (end_wait if another holds it).
static inline void end_lock(volatile unsigned int *lock, unsigned int me)
{
  unsigned int none = 0;
  if (!__atomic_compare_exchange_n(lock, &none, me, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    end_wait(lock, me);
}

// Let go of a pipe end's lock.
static void end_unlock(volatile unsigned int *lock)
{
  __atomic_store_n(lock, 0, __ATOMIC_SEQ_CST);
}

// Read up to n bytes, waiting until there is at least one or no writer is
// left. Returns the number read (0: end of file). The caller, process me,
// holds the read lock (pipe_take).
static long pipe_read(struct pipe *p, void *buf, unsigned long n, unsigned int me)
{
  // LAB ipc: wait (yielding to the writer) until there is data or no writer; copy it out
  // HANDOUT: return -E_NOSYS;
  for (int waited = 0; p->nread == p->nwritten; waited = 1) {
    // No writer first, then still nothing written: else the last writer's
    // bytes could land, and its end close, between our two looks. (The
    // records are searched only once the writer has had the processor: in
    // the common case it writes in that time.)
    int ended = p->writers == 0 || (waited && !held_alive(p, ENDS(1)));
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (p->nread != p->nwritten)
      break;
    if (ended)
      return 0;
    unsigned int writer = p->writer;
    if (writer == 0 || writer == me || sys_yield(writer) < 0)
      sys_yield(0);
  }
  unsigned long avail = p->nwritten - p->nread, done = 0;
  if (n > avail)
    n = avail;
  for (; done < n; done++)
    ((char *)buf)[done] = PIPE_DATA(p)[(p->nread + done) % PIPE_BUF];
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  p->nread += n;
  p->reader = me;
  return n;
  // END LAB ipc
}

// Read up to n bytes as the one reader at a time (see pipe_read).
// Returns the count, or -E_FAULT (the program goes on) if buf is not
// memory the program may write, checked before reading.
long pipe_take(struct pipe *p, void *buf, unsigned long n)
{
  if (exos_probe(buf, n, 1) < 0)
    return -E_FAULT;
  unsigned int me = self();
  end_lock(&p->rlock, me);
  long r = pipe_read(p, buf, n, me);
  end_unlock(&p->rlock);
  return r;
}

// Write all n bytes, waiting while the buffer is full, as the one writer
// at a time: a write of at most PIPE_BUF bytes waits for room for all of
// them. Returns n, or -E_PIPE if no read end is open (any bytes written
// before that stay).
static long write_locked(struct pipe *p, const void *buf, unsigned long n, unsigned int me)
{
  // LAB ipc: wait for room (yielding to the reader), copy in, then count the bytes
  // HANDOUT: return -E_NOSYS;
  unsigned long need = n <= PIPE_BUF ? n : 1;  // room to wait for before copying
  for (unsigned long done = 0; done < n;) {
    if (p->readers == 0)
      return -E_PIPE;
    unsigned long room = PIPE_BUF - (p->nwritten - p->nread);
    if (room < need) {
      if (!held_alive(p, ENDS(0)))
        return -E_PIPE;
      if (p->reader == 0 || p->reader == me || sys_yield(p->reader) < 0)
        sys_yield(0);
      continue;
    }
    unsigned long chunk = n - done < room ? n - done : room;
    for (unsigned long i = 0; i < chunk; i++)
      PIPE_DATA(p)[(p->nwritten + i) % PIPE_BUF] = ((const char *)buf)[done + i];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    p->nwritten += chunk;
    p->writer = me;
    done += chunk;
  }
  return n;
  // END LAB ipc
}

// Write all n bytes (see write_locked). Returns n, or an error: -E_PIPE,
// or -E_FAULT (the program goes on) if buf is not memory the program may
// read, checked before writing.
long pipe_write(struct pipe *p, const void *buf, unsigned long n)
{
  if (exos_probe(buf, n, 0) < 0)
    return -E_FAULT;
  unsigned int me = self();
  end_lock(&p->wlock, me);
  long r = write_locked(p, buf, n, me);
  end_unlock(&p->wlock);
  return r;
}

// The pipe's two pages (for spawn, which maps them in the child).
void pipe_pages(struct pipe *p, unsigned long *header, unsigned long *data)
{
  *header = PTE_PPN(vm_pte((unsigned long)p));
  *data = PTE_PPN(vm_pte((unsigned long)p + PGSIZE));
}
