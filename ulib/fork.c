// ExOS processes: fork with copy-on-write, exit status, wait and kill.
// The kernel knows nothing of any of this; it sees environments, pages,
// grants and page-table writes.
//
// A process id is its environment id. fork() creates a child environment
// and builds its address space through pte_write into the child's tables:
//   - the pages of ExOS's state (exos_state_start to exos_state_end: what
//     EXOS_STATE marks, see ulib/exos.h) are copied at once into pages the
//     child owns: the child's start-up code writes them before it can
//     handle a copy-on-write fault, and the upcall entry and the fault
//     handler write them where a fault cannot be taken or would trip over
//     itself (but thread.c's records, all zero until the first thread is
//     made, are fresh zero pages until then);
//   - every other writable page (the rest of data and bss, heap, stack)
//     becomes read-only with the PTE_COW bit, in the parent and in the
//     child, which gets a read grant;
//   - read-only pages (text) are shared by a grant;
//   - pages mapped with PTE_SHARE are shared writable (shared memory);
//   - ExOS's own pages (the window, scratch, status and exception-stack
//     pages) are not shared: the child gets a fresh exception stack.
// copy_page copies through a scratch page of its own, EXOS_COWSCRATCH: a
// copy-on-write fault may come while EXOS_SCRATCH is in use.
// A page this process maps but does not own (its parent's) is copied first,
// so the child's copy-on-write pages are its parent's own: a grant passed
// on lasts only as long as the grant it came from.
//
// A store to a PTE_COW page faults; cow_fault() makes it writable again if
// this process owns the page and nobody else maps it (the kernel exports
// mapping counts), and otherwise copies it. An original left behind by a
// copy is still owned here: it is freed once no one maps it (reap_orphans).
//
// Exit status: the parent shares one page with each child (EXOS_STATUS in
// the child, EXOS_CHILDREN + slot in the parent); exit() writes it. wait()
// gives the processor to the child (directed yield) until its environment
// is gone, or, when the child cannot run (it waits itself), sleeps in the
// kernel until a child ends (env_wait): waiting never spins.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define NORPHANS 256

struct exit_record {
  volatile unsigned long exited;  // 1 once the child has called exit
  volatile long status;
};

struct child {
  unsigned int pid;  // 0: a free slot
  int disowned;      // wait() for any child passes it by
  long status_ppn;
};

static EXOS_STATE struct child children[EXOS_MAXCHILD];  // a forked child clears it first thing
// Pages owned here but maybe mapped only by others. The fault handler adds
// to them, so they are ExOS's state: a copy-on-write fault in the middle of
// add_orphan would add to them under its feet.
static EXOS_STATE long orphans[NORPHANS];
static EXOS_STATE int norphans;
static exos_handler next_store_handler;
EXOS_STATE volatile unsigned long
    exos_cow_copies;  // pages copied by copy_page (volatile: a fault handler changes it)
extern char exos_state_start[], exos_state_end[], exos_threads_start[], exos_threads_end[];
extern struct thread *volatile exos_thread_cur;  // xentry.S: NULL until the first thread

static struct exit_record *status_of(int slot)
{
  return (struct exit_record *)(EXOS_CHILDREN + slot * PGSIZE);
}

// Free the orphaned originals no one maps any more.
static void reap_orphans(void)
{
  // LAB fork: free every orphan that no one maps any more
  unsigned int me = sys_getenvid();
  for (int i = 0; i < norphans;) {
    const struct page_info *pi = vm_page_info(orphans[i]);
    if (pi->owner != me) {  // taken back by the kernel meanwhile
      orphans[i] = orphans[--norphans];
    } else if (pi->mapcount == 0) {
      sys_page_free(orphans[i]);
      orphans[i] = orphans[--norphans];
    } else {
      i++;
    }
  }
  // END LAB fork
}

// Remember an original this process owns but no longer maps.
static void add_orphan(long ppn)
{
  // LAB fork: free the page now if no one maps it, else remember it in orphans[]
  if (vm_page_info(ppn)->mapcount == 0) {
    sys_page_free(ppn);
    return;
  }
  if (norphans == NORPHANS)
    reap_orphans();
  if (norphans < NORPHANS)
    orphans[norphans++] = ppn;  // else it stays allocated until this process exits
  // END LAB fork
}

// Replace the page mapped at va by a private copy mapped with `bits`.
// Returns the new page number or an error.
static long copy_page(unsigned long va, unsigned long bits)
{
  // LAB fork: copy the page at va into a new page of ours and map it there
  // HANDOUT: return -E_NOSYS;
  long np = vm_page_alloc(PG_USER), err;
  if (np < 0)
    return np;
  if ((err = vm_map(EXOS_COWSCRATCH, np, PTE_R | PTE_W)) < 0)
    return err;
  memmove((void *)EXOS_COWSCRATCH, (void *)va, PGSIZE);
  vm_unmap(EXOS_COWSCRATCH);
  if ((err = vm_map(va, np, bits)) < 0)
    return err;
  exos_cow_copies++;
  return np;
  // END LAB fork
}

// The store-page-fault handler for copy-on-write pages.
static int cow_fault(struct xframe *f)
{
  // LAB fork: pass on a fault not on a PTE_COW page; make the page writable, copying it if needed
  // HANDOUT: return next_store_handler != NULL && next_store_handler(f);
  unsigned long va = PGROUNDDOWN(f->addr), pte = f->addr < UTOP ? vm_pte(va) : 0;
  if (!(pte & PTE_V) || !(pte & PTE_COW))
    return next_store_handler != NULL && next_store_handler(f);
  unsigned long ppn = PTE_PPN(pte), bits = (pte & (PTE_R | PTE_X)) | PTE_R | PTE_W;
  const struct page_info *pi = vm_page_info(ppn);
  int mine = pi->owner == sys_getenvid();
  if (mine && pi->mapcount == 1)
    return vm_map(va, ppn, bits) == 0;
  if (copy_page(va, bits) < 0) {
    printf("%s: out of memory copying page 0x%lx\n", exos_progname(), va);
    exit(-1);
  }
  if (mine)
    add_orphan(ppn);
  return 1;
  // END LAB fork
}

// Install the copy-on-write handler, and exit's hook that records the
// status (at start-up).
void fork_init(void)
{
  next_store_handler = exos_set_handler(EXC_STORE_PAGE_FAULT, cow_fault);
  exos_on_exit(fork_record_exit);
}

// ---------------------------------------------------------------- the child's tables

// Map page ppn at va in the child with PTE bits `bits`. Returns 0 or an error.
long child_map(struct child_space *cs, unsigned long va, unsigned long ppn, unsigned long bits)
{
  unsigned long i2 = PX(2, va), i1 = PX(1, va), pt1 = 0, pt0 = 0;
  long err;
  for (int i = 0; i < cs->n0 && pt0 == 0; i++)
    if (cs->pt0[i].i2 == i2 && cs->pt0[i].i1 == i1)
      pt0 = cs->pt0[i].ppn;
  if (pt0 == 0) {
    for (int i = 0; i < cs->n1 && pt1 == 0; i++)
      if (cs->pt1[i].i2 == i2)
        pt1 = cs->pt1[i].ppn;
    if (pt1 == 0) {
      long t = sys_page_alloc(cs->id, 0, PG_PT1);
      if (t < 0 || cs->n1 == 16)
        return t < 0 ? t : -E_NOMEM;
      if ((err = sys_pte_write(cs->root, i2, PA2PTE(t << 12) | PTE_V)) < 0)
        return err;
      cs->pt1[cs->n1].i2 = i2;
      cs->pt1[cs->n1++].ppn = pt1 = t;
    }
    long t = sys_page_alloc(cs->id, 0, PG_PT0);
    if (t < 0 || cs->n0 == 64)
      return t < 0 ? t : -E_NOMEM;
    if ((err = sys_pte_write(pt1, i1, PA2PTE(t << 12) | PTE_V)) < 0)
      return err;
    cs->pt0[cs->n0].i2 = i2;
    cs->pt0[cs->n0].i1 = i1;
    cs->pt0[cs->n0++].ppn = pt0 = t;
  }
  return sys_pte_write(pt0, PX(0, va), PA2PTE(ppn << 12) | bits | PTE_U | PTE_V | PTE_A | PTE_D);
}

// Give the child a page of its own at va holding a copy of this process's
// page there (or zeros, if copy is 0). Returns 0 or an error.
static long child_private_page(struct child_space *cs, unsigned long va, int copy)
{
  // LAB fork: give the child a fresh page of its own at va, a copy of ours if copy is set
  // HANDOUT: return -E_NOSYS;
  long p = sys_page_alloc(cs->id, 0, PG_USER), err;
  if (p < 0)
    return p;
  if (copy) {  // fill it through a grant to ourselves, as the child's controller
    unsigned int me = sys_getenvid();
    if ((err = sys_page_grant(p, me, GRANT_R | GRANT_W)) < 0 ||
        (err = vm_map(EXOS_SCRATCH, p, PTE_R | PTE_W)) < 0)
      return err;
    memmove((void *)EXOS_SCRATCH, (void *)va, PGSIZE);
    vm_unmap(EXOS_SCRATCH);
    sys_page_grant(p, me, 0);
  }
  return child_map(cs, va, p, PTE_R | PTE_W);
  // END LAB fork
}

// Is the page at va one of thread.c's records' while no thread was ever
// made? They are all zero then: the child gets a fresh page, not a copy.
static int unused_thread_page(unsigned long va)
{
  return exos_thread_cur == NULL && va >= (unsigned long)exos_threads_start &&
         va < (unsigned long)exos_threads_end;
}

// Share the page mapped at va (PTE pte) with the child: ExOS's state
// privately, ExOS's own pages not at all, the rest copy-on-write or
// read-only. Called for every leaf by vm_for_each_leaf.
static long share_page(unsigned long va, unsigned long pte, void *arg)
{
  // LAB fork: share one page with the child as the file's header says
  // HANDOUT: return -E_NOSYS;
  struct child_space *cs = arg;
  if (va >= EXOS_SCRATCH || exos_fork_skip(va))
    return 0;  // ExOS's own (scratch, status pages, exception stack), paged regions
  if (unused_thread_page(va))
    return child_private_page(cs, va, 0);  // all zero: a fresh page does
  if (va >= (unsigned long)exos_state_start && va < (unsigned long)exos_state_end)
    return child_private_page(cs, va, 1);
  unsigned long ppn = PTE_PPN(pte), bits = pte & (PTE_R | PTE_W | PTE_X | PTE_COW | PTE_SHARE);
  long err;
  if (bits & PTE_SHARE) {  // shared memory: the child maps the same page with the same rights
    int rights = GRANT_R | (bits & PTE_W ? GRANT_W : 0) | (bits & PTE_X ? GRANT_X : 0);
    if ((err = sys_page_grant(ppn, cs->id, rights)) < 0)  // ours, or passed on to us
      return err;
    return child_map(cs, va, ppn, bits);
  }
  if (vm_page_info(ppn)->owner != sys_getenvid()) {  // not ours to grant: own a copy first
    int was_cow = (bits & PTE_COW) != 0;
    bits = was_cow ? (bits & ~PTE_COW) | PTE_W : bits;
    long np = copy_page(va, bits);
    if (np < 0)
      return np;
    ppn = np;
  }
  if (bits & (PTE_W | PTE_COW))
    bits = (bits & ~PTE_W) | PTE_COW;
  // The child's mapping first: once ours is read-only, our next store to the
  // page (this very stack, say) must find it shared, or it would simply be
  // made writable again.
  if ((err = sys_page_grant(ppn, cs->id, (bits & PTE_X ? GRANT_X : 0) | GRANT_R)) < 0 ||
      (err = child_map(cs, va, ppn, bits)) < 0)
    return err;
  return (pte & PTE_W) ? vm_map(va, ppn, bits) : 0;
  // END LAB fork
}

// ---------------------------------------------------------------- processes

// Where fork() was called (see context.S); written at every fork, so kept
// with ExOS's state rather than faulting on a copy-on-write page each time.
static EXOS_STATE long fork_context[15];

// The child's first code, on its fresh exception stack: rebuild ExOS's view
// of its page tables, take up exception handling, forget the parent's
// children, orphans and other threads, then return from fork() with 0.
static void fork_child_start(void)
{
  if (vm_init() < 0 || exos_exceptions_init() < 0) {
    printf("%s: child cannot start\n", exos_progname());
    exit(-1);
  }
  memset(children, 0, sizeof(children));
  norphans = 0;
  exos_fork_child();  // the hooks of the layers above (threads, RPC, paged regions)
  exos_resume_context(fork_context, 1);
}

// Begin a child process named name: its environment, with (if bind_disk
// is set and this process holds it) a binding to the whole disk, its
// exit-status page (ours, at EXOS_CHILDREN + slot, and its EXOS_STATUS) and
// its u-area mapped. Fills *cs and *slot; returns the child's id or an
// error (nothing is left behind on an error).
long child_begin(const char *name, struct child_space *cs, int *slot, int bind_disk)
{
  int s = 0;
  while (s < EXOS_MAXCHILD && children[s].pid != 0)
    s++;
  if (s == EXOS_MAXCHILD)
    return -E_NOENV;
  char copy[16];  // the exported table is not user memory: pass a copy
  strlcpy(copy, name, sizeof(copy));
  long id = sys_env_create(copy), err;
  if (id < 0)
    return id;
  memset(cs, 0, sizeof(*cs));
  cs->id = id;
  cs->root = ((const struct env_info *)UENVS)[id & 255].root_ppn;
  unsigned long disk = ((const struct sysinfo *)USYSINFO)->disk_blocks;
  if (disk != 0 && bind_disk)
    sys_disk_bind(id, 0, disk);  // refused unless this process holds the whole disk
  long status = vm_alloc(EXOS_CHILDREN + s * PGSIZE, PTE_R | PTE_W);
  if (status < 0)
    err = status;
  else if ((err = sys_page_grant(status, id, GRANT_R | GRANT_W)) == 0 &&
           (err = child_map(cs, EXOS_STATUS, status, PTE_R | PTE_W)) == 0)
    err = child_map(cs, UAREA, ((const struct env_info *)UENVS)[id & 255].uarea_ppn, PTE_R);
  if (err < 0) {
    sys_env_destroy(id);
    if (status > 0) {
      vm_unmap(EXOS_CHILDREN + s * PGSIZE);
      sys_page_free(status);
    }
    return err;
  }
  children[s] = (struct child){.pid = id, .status_ppn = status};
  *slot = s;
  return id;
}

// Start the child begun in slot with registers r, or, if err is an error,
// undo child_begin. Returns the child's id or the error.
long child_start(int slot, const struct user_regs *r, long err)
{
  struct child *c = &children[slot];
  if (err == 0 && (err = sys_env_set_regs(c->pid, r)) == 0 && (err = sys_env_start(c->pid)) == 0)
    return c->pid;
  sys_env_destroy(c->pid);
  vm_unmap(EXOS_CHILDREN + slot * PGSIZE);
  sys_page_free(c->status_ppn);
  c->pid = 0;
  return err;
}

// Create a child process running a copy of this one. Returns the child's
// pid in the parent, 0 in the child, or a negative error.
int fork(void)
{
  // LAB fork: make the child, build its address space and start it
  // HANDOUT: return -E_NOSYS;
  reap_orphans();
  if (exos_save_context(fork_context) != 0)
    return 0;  // the child, resumed by fork_child_start

  struct child_space cs;
  int slot;
  long id = child_begin(exos_progname(), &cs, &slot, 1), err;  // a copy: the same disk
  if (id < 0)
    return id;
  err = vm_for_each_leaf(share_page, &cs);
  for (unsigned long va = EXOS_XSTACK_LO; va < EXOS_XSTACK_TOP && err == 0; va += PGSIZE)
    err = child_private_page(&cs, va, 0);
  struct user_regs r = {0};
  r.pc = (unsigned long)fork_child_start;
  r.sp = EXOS_XSTACK_TOP;
  if (err == 0)
    exos_fork_share(id, 0);  // the child's copies of the open files (hooks.c)
  long pid = child_start(slot, &r, err);
  if (err == 0 && pid < 0)
    exos_fork_share(id, 1);
  return pid;
  // END LAB fork
}

// Record the exit status for the parent, if there is one.
void fork_record_exit(int status)
{
  if (vm_pte(EXOS_STATUS) & PTE_V) {
    struct exit_record *r = (struct exit_record *)EXOS_STATUS;
    r->status = status;
    r->exited = 1;
  }
}

// Collect child pid (-1: any) if it has ended: store its exit status in
// *status if status is not NULL (-1 if it was killed before exiting).
// Returns its pid, 0 if it (or every such child) still runs, -1 if there
// is no such child, or -E_FAULT if status is bad (the child stays to be
// collected).
static int collect(int pid, int *status)
{
  int any = 0;
  for (int slot = 0; slot < EXOS_MAXCHILD; slot++) {
    struct child *c = &children[slot];
    if (c->pid == 0 || (pid != -1 && c->pid != (unsigned int)pid) || (pid == -1 && c->disowned))
      continue;
    any = 1;
    const struct env_info *e = &((const struct env_info *)UENVS)[c->pid & 255];
    if (e->id == c->pid)
      continue;  // still running
    struct exit_record *r = status_of(slot);
    int st = r->exited ? r->status : -1;
    if (status != NULL && exos_copy(status, &st, sizeof(st)) < 0)
      return -E_FAULT;
    int done = c->pid;
    vm_unmap(EXOS_CHILDREN + slot * PGSIZE);
    sys_page_free(c->status_ppn);
    c->pid = 0;
    reap_orphans();
    return done;
  }
  return any ? 0 : -1;
}

// Wait for child pid (-1: any child) to end; store its exit status in
// *status if status is not NULL (-1 if it was killed before exiting).
// Returns its pid, -1 if there is no such child, or -E_FAULT if status is
// bad.
int waitpid(int pid, int *status)
{
  int done;
  while ((done = collect(pid, status)) == 0)
    if (pid == -1 || sys_yield(pid) < 0)     // give it our time; if it cannot run, sleep
      sys_env_wait(pid == -1 ? 0 : pid, 0);  // until it (or, for -1, any child) ends
  return done;
}

// Wait for child pid to end, as waitpid does, or for the next byte typed at
// the console, whichever comes first. Returns pid (its status in *status)
// once it has ended, 0 if it still runs (a byte came: a shell looks for a
// ^C), or -1 if there is no such child.
int waitpid_or_input(int pid, int *status)
{
  int done = collect(pid, status);
  if (done == 0) {
    sys_env_wait(pid, ENV_WAIT_INPUT);
    done = collect(pid, status);
  }
  return done;
}

// Collect any child that has ended, without waiting. Returns its pid (and
// its status in *status), 0 if none has ended, -1 if there are no children.
int wait_poll(int *status)
{
  return collect(-1, status);
}

// Wait for any child. See waitpid.
int wait(int *status)
{
  return waitpid(-1, status);
}

// Let wait() for any child pass child pid by: it runs on on its own (a
// server). waitpid(pid) still waits for it.
void disown(int pid)
{
  for (int slot = 0; slot < EXOS_MAXCHILD; slot++)
    if (children[slot].pid == (unsigned int)pid)
      children[slot].disowned = 1;
}

// End process pid (a child of this one, or this one). Returns 0 or -1.
int kill(int pid)
{
  return sys_env_destroy(pid) < 0 ? -1 : 0;
}

// This process's id.
int getpid(void)
{
  return sys_getenvid();
}
