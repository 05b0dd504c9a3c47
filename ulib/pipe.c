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
// Besides the totals, the header keeps each holder's counts. A process
// killed before it could close its ends leaves them counted; a reader
// waiting on an empty pipe (or a writer on a full one) looks for a live
// holder of the other end, and takes a dead process's counts out, so the
// end of the input still comes.
//
// The process that makes a pipe owns its pages; the kernel frees them when
// that process ends (so it should outlive the pipe's use, as a shell that
// waits for its pipeline does) or when it closes the last end anywhere.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define PIPE_HOLDERS 64  // processes that can hold ends of one pipe at once

struct pipe {
  volatile unsigned long nread, nwritten;  // bytes so far
  volatile unsigned int readers, writers;  // open ends, in every process
  volatile unsigned int reader, writer;    // who last read and wrote
  unsigned int owner;                      // the process that owns the pages
  volatile unsigned int overflow;          // some ends have no record: count on them
  struct {
    volatile unsigned int env;               // 0: a free record
    volatile unsigned int readers, writers;  // its open ends
  } holders[PIPE_HOLDERS];
};
_Static_assert(sizeof(struct pipe) <= PGSIZE, "a pipe's header fits its page");

#define PIPE_BUF     PGSIZE
#define PIPE_VA(i)   (EXOS_PIPES + (i)*2 * PGSIZE)
#define PIPE_DATA(p) ((volatile char *)(p) + PGSIZE)

// Make a pipe with one read end and one write end open. Returns its
// address or NULL (no free slot, or no memory).
struct pipe *pipe_new(void)
{
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
}

// Process env holds n more (or, n negative, fewer) ends of the pipe, read
// or write ends: an open file of a new pipe, a child's copies (fork,
// spawn), a close. The process (or, for a child not started yet, its
// parent) alone changes its record.
void pipe_hold(struct pipe *p, int writing, unsigned int env, int n)
{
  int h = -1;
  for (int i = 0; i < PIPE_HOLDERS && h < 0; i++)
    if (p->holders[i].env == env)
      h = i;
  for (int i = 0; i < PIPE_HOLDERS && h < 0; i++) {
    unsigned int none = 0;
    if (__atomic_compare_exchange_n(&p->holders[i].env, &none, env, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      h = i;  // claimed a free record
  }
  if (h >= 0)
    __atomic_fetch_add(writing ? &p->holders[h].writers : &p->holders[h].readers, n,
                       __ATOMIC_SEQ_CST);
  else
    p->overflow = 1;  // counted in the totals only: held_alive must assume them alive
  __atomic_fetch_add(writing ? &p->writers : &p->readers, n, __ATOMIC_SEQ_CST);
}

// Is an end of the kind (writing or not) held by a live process? The
// records of processes that died are taken out of the totals on the way.
static int held_alive(struct pipe *p, int writing)
{
  const struct env_info *envs = (const struct env_info *)UENVS;
  int alive = 0;
  for (int i = 0; i < PIPE_HOLDERS && !alive; i++) {
    unsigned int env = p->holders[i].env;
    if (env == 0)
      continue;
    if (envs[env & 255].id == env) {
      alive = (writing ? p->holders[i].writers : p->holders[i].readers) > 0;
    } else if (__atomic_compare_exchange_n(&p->holders[i].env, &env, ~0U, 0, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST)) {
      // Dead: take its ends out (~0 keeps others off the record meanwhile).
      __atomic_fetch_sub(&p->readers, p->holders[i].readers, __ATOMIC_SEQ_CST);
      __atomic_fetch_sub(&p->writers, p->holders[i].writers, __ATOMIC_SEQ_CST);
      p->holders[i].readers = p->holders[i].writers = 0;
      __atomic_store_n(&p->holders[i].env, 0, __ATOMIC_SEQ_CST);
    }
  }
  return alive || p->overflow;
}

// Close one end. When no end is open anywhere the owner frees the pages;
// every process unmaps them once it holds no end.
void pipe_close(struct pipe *p, int writing, int last_here)
{
  pipe_hold(p, writing, sys_getenvid(), -1);
  unsigned int left = p->readers + p->writers;
  if (!last_here)
    return;
  unsigned long va = (unsigned long)p;
  unsigned long hp = PTE_PPN(vm_pte(va)), dp = PTE_PPN(vm_pte(va + PGSIZE));
  int mine = p->owner == (unsigned int)sys_getenvid();
  vm_unmap(va);
  vm_unmap(va + PGSIZE);
  if (mine && left == 0) {
    sys_page_free(hp);
    sys_page_free(dp);
  }
}

// Read up to n bytes, waiting until there is at least one or no writer is
// left. Returns the number read (0: end of file).
long pipe_read(struct pipe *p, void *buf, unsigned long n)
{
  unsigned int me = sys_getenvid();
  // LAB ipc: wait (yielding to the writer) until there is data or no writer; copy it out
  // HANDOUT: return 0;
  while (p->nread == p->nwritten) {
    if (p->writers == 0 || !held_alive(p, 1))
      return 0;
    if (p->writer == 0 || p->writer == me || sys_yield(p->writer) < 0)
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

// Write all n bytes, waiting while the buffer is full. Returns n, or
// -E_PIPE if no read end is open (any bytes written before that stay).
long pipe_write(struct pipe *p, const void *buf, unsigned long n)
{
  unsigned int me = sys_getenvid();
  for (unsigned long done = 0; done < n;) {
    if (p->readers == 0)
      return -E_PIPE;
    unsigned long room = PIPE_BUF - (p->nwritten - p->nread);
    if (room == 0) {
      if (!held_alive(p, 0))
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
}

// The pipe's two pages (for spawn, which maps them in the child).
void pipe_pages(struct pipe *p, unsigned long *header, unsigned long *data)
{
  *header = PTE_PPN(vm_pte((unsigned long)p));
  *data = PTE_PPN(vm_pte((unsigned long)p + PGSIZE));
}
