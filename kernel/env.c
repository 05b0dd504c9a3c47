// Environments: creation, control, destruction, the bootstrap loader for the
// first one, choosing which one runs, and checked access to user memory.
//
// An environment is created by a parent, which controls it: writes its page
// tables, grants it pages, sets its registers and entry points, starts it
// (once) and destroys it. Nobody else does (an environment also controls
// itself). What happens to everything that refers to an environment when
// it dies is the "Lifecycles" rule of abi.h, kept by env_destroy: nothing
// waits on it or wakes it afterwards, nothing it created escapes control,
// and no page of it is reused while a device may write it. A parent may
// have ENV_CHILDREN_MAX children at once (its share of the table).

#include "defs.h"
#include "elf.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

struct env envs[NENV];
struct env_info *env_table;  // exported at UENVS
struct env *hart_env[MAXHARTS];  // by hart: the env it runs (NULL: none); for GDB, the live view
#define WAIT_ANY 0xFFFFFFFFU  // waits_for: any child
static uint32 next_generation = 1;
static int asids_work;  // does satp keep a 9-bit (or wider) ASID?

// Point each environment at its exported entry and find out whether the
// hardware has enough ASID bits to give each slot its own.
void env_init(void)
{
  for (int i = 0; i < NENV; i++)
    envs[i].pub = &env_table[i];
  uint64 satp = csr_read(satp);
  csr_write(satp, satp | (0xFFFFUL << SATP_ASID_SHIFT));
  asids_work = ((csr_read(satp) >> SATP_ASID_SHIFT) & 0x1FF) == 0x1FF;
  csr_write(satp, satp);
}

// Create an environment with parent parent_id (0 for none): a fresh id, an
// empty address space (a root table holding only the kernel's half), a u-area,
// not runnable. With space (not NULL), a sibling of space's instead, whose
// parent it is: no tables of its own, it runs on space's (abi.h, "Siblings").
// Returns NULL if the table is full or memory is exhausted.
struct env *env_alloc(uint32 parent_id, const char *name, struct env *space)
{
  struct env *e = NULL;
  for (int i = 0; i < NENV && e == NULL; i++)
    if (envs[i].pub->status == ENV_FREE)
      e = &envs[i];
  if (e == NULL)
    return NULL;

  uint32 slot = e - envs;
  struct env_info *pub = e->pub;
  memset(e, 0, sizeof(*e));
  memset(pub, 0, sizeof(*pub));
  e->pub = pub;
  pub->id = (next_generation++ << 8) | slot;
  if ((pub->id >> 8) == 0)  // the generation wrapped: skip id 0 for slot 0
    pub->id = (next_generation++ << 8) | slot;
  pub->parent_id = parent_id;
  pub->status = ENV_NOT_RUNNABLE;
  struct env *parent = env_of(parent_id);
  if (parent != NULL)
    parent->nchildren++;
  strlcpy(pub->name, name, sizeof(pub->name));
  e->asid = asids_work ? slot + 1 : 0;
  e->tlb_stale = harts_up_mask;  // other harts may hold the slot's last translations

  uint64 root = space ? space->root : page_alloc(pub->id, PG_PT2);
  uint64 uarea = root ? page_alloc(space ? space->pub->id : pub->id, PG_UAREA) : 0;
  if (uarea == 0) {
    if (root && !space)
      page_free(root);
    memset(pub, 0, sizeof(*pub));
    if (parent != NULL)
      parent->nchildren--;
    return NULL;
  }
  if (space) {
    e->space_owner = space->pub->id;
    space->nsiblings++;
    e->asid = space->asid;
    e->satp = space->satp;
  } else {
    uint64 *kr = KADDR(kernel_root()), *r = KADDR(root);
    for (int i = NPTENTRIES / 2; i < NPTENTRIES; i++)
      r[i] = kr[i];
    pt_root_init(root);
    e->satp = asids_work ? MAKE_SATP(root, e->asid) : 0;
  }
  e->root = root;
  e->tf.kernel_sp = kstack_top();  // (each return to user mode sets these again)
  e->tf.hartid = r_tp();
  pub->root_ppn = root >> PGSHIFT;
  pub->uarea_ppn = uarea >> PGSHIFT;
  e->uarea = KADDR(uarea);
  e->uarea->envid = pub->id;
  e->uarea->parent_id = parent_id;
  return e;
}

// Map the page at pa at va in e's address space with permissions perm,
// creating page-table pages as needed, all through pte_write's checks.
// Only the bootstrap loader uses this: the kernel builds no other address
// space. Panics on failure, since the system cannot start without init.
static void bootstrap_map(struct env *e, uint64 va, uint64 pa, uint64 perm)
{
  uint64 table = e->root;
  for (int level = 2; level > 0; level--) {
    uint64 pte = ((uint64 *)KADDR(table))[PX(level, va)];
    if (!(pte & PTE_V)) {
      uint64 t = page_alloc(e->pub->id, level == 2 ? PG_PT1 : PG_PT0);
      if (t == 0 || pte_write(NULL, table >> PGSHIFT, PX(level, va), PA2PTE(t) | PTE_V) < 0)
        panic("bootstrap: cannot build %s's page tables", e->pub->name);
      pte = PA2PTE(t) | PTE_V;
    }
    table = PTE_PA(pte);
  }
  long err = pte_write(NULL, table >> PGSHIFT, PX(0, va),
                       PA2PTE(pa) | perm | PTE_U | PTE_V | PTE_A | PTE_D);
  if (err < 0)
    panic("bootstrap: mapping %p in %s failed (%ld)", (void *)va, e->pub->name, err);
}

// The user page mapped at va in e (0 if none): the page-table walk the
// kernel needs to check user pointers.
static uint64 *user_pte(struct env *e, uint64 va)
{
  if (va >= UTOP)
    return NULL;
  uint64 *table = KADDR(e->root);
  for (int level = 2; level > 0; level--) {
    uint64 pte = table[PX(level, va)];
    if (!(pte & PTE_V) || PTE_IS_LEAF(pte))
      return NULL;
    table = KADDR(PTE_PA(pte));
  }
  return &table[PX(0, va)];
}

#define BOOTSTRAP_MAXARGS 40

// Is the boot-argument word w (n bytes) one the kernel itself reads?
static int kernel_arg(const char *w, size_t n)
{
  static const char *keys[] = {"init=", "ktest=", "diskcrash="};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
    if (n >= strlen(keys[i]) && strncmp(w, keys[i], strlen(keys[i])) == 0)
      return 1;
  return 0;
}

// Give the first environment its arguments, laid out on the top page of its
// stack the way ExOS's spawn lays them out (ulib/spawn.c): argv[0] is its
// name, then come the space-separated words of the boot arguments except
// the kernel's own (init=, ktest=, diskcrash=; at most BOOTSTRAP_MAXARGS
// in all; the rest are dropped, with a message). Sets
// a0 = argc, a1 = argv and sp just below argv (16-byte aligned).
static void bootstrap_args(struct env *e, const char *name, const char *bootargs)
{
  const char *word[BOOTSTRAP_MAXARGS];
  size_t len[BOOTSTRAP_MAXARGS];
  int argc = 0;
  word[argc] = name;
  len[argc++] = strlen(name);
  for (const char *p = bootargs; *p != '\0';) {
    while (*p == ' ')
      p++;
    const char *w = p;
    while (*p != '\0' && *p != ' ')
      p++;
    if (p == w || kernel_arg(w, p - w))
      continue;
    if (argc == BOOTSTRAP_MAXARGS) {
      printf("rvexo: %s gets at most %d boot arguments; the rest are dropped\n", name,
             BOOTSTRAP_MAXARGS - 1);
      break;
    }
    word[argc] = w;
    len[argc++] = p - w;
  }
  // Name and boot arguments are short (bootinfo.bootargs is 1 KiB, argv
  // BOOTSTRAP_MAXARGS + 1 words), so everything fits in the page.
  uint64 base = INIT_STACKTOP - PGSIZE, top = PGSIZE, argv[BOOTSTRAP_MAXARGS + 1];
  char *page = KADDR(PTE_PA(*user_pte(e, base)));
  for (int i = argc - 1; i >= 0; i--) {
    top -= len[i] + 1;
    memmove(page + top, word[i], len[i]);
    page[top + len[i]] = '\0';
    argv[i] = base + top;
  }
  argv[argc] = 0;
  top = (top - (argc + 1) * sizeof(uint64)) & ~15UL;
  memmove(page + top, argv, (argc + 1) * sizeof(uint64));
  e->tf.sp = base + top;
  e->tf.a0 = argc;
  e->tf.a1 = base + top;
}

// Create the first environment from an ELF executable in the kernel image.
// It has no parent to build its address space, so the kernel loads it: each
// PT_LOAD segment at its address, INIT_STACKPAGES of stack below INIT_STACKTOP,
// and its u-area (read-only) at UAREA. This is the only address space the kernel
// ever builds; every later one is built by a library OS. Its arguments are
// its name and the boot arguments (bootstrap_args).
struct env *env_create_bootstrap(const char *name, const uint8 *binary, size_t size,
                                 const char *bootargs)
{
  const struct elfhdr *eh = (const struct elfhdr *)binary;
  if (size < sizeof(*eh) || eh->magic != ELF_MAGIC || eh->class != ELFCLASS64 ||
      eh->machine != EM_RISCV || eh->phoff + (uint64)eh->phnum * sizeof(struct proghdr) > size)
    panic("bootstrap: %s is not a RISC-V ELF-64 executable", name);

  struct env *e = env_alloc(0, name, NULL);
  if (e == NULL)
    panic("bootstrap: cannot allocate environment for %s", name);

  const struct proghdr *ph = (const struct proghdr *)(binary + eh->phoff);
  for (int i = 0; i < eh->phnum; i++, ph++) {
    if (ph->type != PT_LOAD)
      continue;
    if (ph->filesz > ph->memsz || ph->off + ph->filesz > size || ph->vaddr >= UTOP ||
        ph->memsz > UTOP - ph->vaddr)
      panic("bootstrap: %s has a bad segment", name);
    uint64 perm = (ph->flags & PF_R ? PTE_R : 0) | (ph->flags & PF_W ? PTE_W | PTE_R : 0) |
                  (ph->flags & PF_X ? PTE_X : 0);
    for (uint64 va = PGROUNDDOWN(ph->vaddr); va < ph->vaddr + ph->memsz; va += PGSIZE) {
      uint64 *pte = user_pte(e, va), pa;
      if (pte && (*pte & PTE_V)) {
        pa = PTE_PA(*pte);  // two segments share this page
      } else {
        pa = page_alloc(e->pub->id, PG_USER);
        if (pa == 0)
          panic("bootstrap: out of memory loading %s", name);
        bootstrap_map(e, va, pa, perm);
      }
      // Copy the part of the file that falls in this page.
      uint64 lo = va > ph->vaddr ? va : ph->vaddr;
      uint64 hi = va + PGSIZE < ph->vaddr + ph->filesz ? va + PGSIZE : ph->vaddr + ph->filesz;
      if (lo < hi)
        memmove((char *)KADDR(pa) + (lo - va), binary + ph->off + (lo - ph->vaddr), hi - lo);
    }
  }
  for (uint64 va = INIT_STACKTOP - INIT_STACKPAGES * PGSIZE; va < INIT_STACKTOP; va += PGSIZE) {
    uint64 stack = page_alloc(e->pub->id, PG_USER);
    if (stack == 0)
      panic("bootstrap: out of memory for %s's stack", name);
    bootstrap_map(e, va, stack, PTE_R | PTE_W);
  }
  bootstrap_map(e, UAREA, PADDR(e->uarea), PTE_R);
  e->tf.pc = eh->entry;
  bootstrap_args(e, name, bootargs);
  env_wake(e);
  e->started = 1;
  return e;
}

// The rule for what an environment leaves behind when it dies (abi.h,
// "Lifecycles"): control of its children passes to its own parent; with no
// parent, started children control themselves and never-started ones,
// which nobody could start any more, are destroyed too. A user page it
// owns that its descendants hold grants on outlives it, owned by nobody,
// until the last grant on it goes; grants others hold on its pages are
// withdrawn.

// Hand e's children to heir (0: none), as the rule above says.
static void pass_on_children(struct env *e, uint32 heir)
{
  struct env *h = env_of(heir);
  for (int i = 0; i < NENV; i++) {
    if (env_table[i].status == ENV_FREE || env_table[i].parent_id != e->pub->id)
      continue;
    env_table[i].parent_id = heir;
    envs[i].uarea->parent_id = heir;
    if (h != NULL)
      h->nchildren++;
  }
}

// A never-started environment nobody controls (it can never run), or NULL.
static struct env *unstartable(void)
{
  for (int i = 0; i < NENV; i++)
    if (env_table[i].status != ENV_FREE && env_table[i].parent_id == 0 && !envs[i].started)
      return &envs[i];
  return NULL;
}

// Destroy e alone (see env_destroy).
static void destroy_one(struct env *e)
{
  uint32 id = e->pub->id;
  struct env *parent = env_of(e->pub->parent_id);
  if (this_env() == e)
    curenv_clear();
  struct env *owner = e->space_owner ? parent : NULL;  // (a sibling's parent is its owner)
  disk_release(e);  // first: waits until no device writes a page of e's
  net_release(e);
  slices_release(e);
  pct_callee_gone(e);
  if (e->doomed)  // those who destroyed it wait for this (env_await_death)
    for (int i = 0; i < NENV; i++)
      if (envs[i].awaits_death == id) {
        envs[i].awaits_death = 0;
        env_wake(&envs[i]);
      }
  revoke_forget(e);
  console_forget(e);
  if (parent != NULL) {
    parent->nchildren--;
    if (parent->waits_for == id || parent->waits_for == WAIT_ANY) {
      parent->waits_for = 0;
      console_forget(parent);  // (an env_wait for input too ends)
      env_wake(parent);
    }
  }
  // First empty its own tables, so only others' mappings of its pages remain.
  for (uint64 pa = owner_first_page(id); pa != 0; pa = owner_next_page(pa)) {
    int type = ppn2page(pa >> PGSHIFT)->type;
    if (type == PG_PT0 || type == PG_PT1 || type == PG_PT2)
      pt_clear(pa);
  }
  grants_drop_env(e);
  for (uint64 pa; (pa = owner_first_page(id)) != 0;) {
    grants_keep_descendants(pa, id);
    if (ppn2page(pa >> PGSHIFT)->type == PG_USER && has_grants(pa)) {
      page_disown(pa);  // its descendants hold it: it outlives its owner
      continue;
    }
    rmap_each(pa, pte_unmap);
    grants_clear(pa);
    page_free(pa);
  }
  if (owner != NULL) {  // its u-area is its owner's page (a sibling owns none)
    rmap_each(PADDR(e->uarea), pte_unmap);
    page_free(PADDR(e->uarea));
  }
  if (asids_work)
    asm volatile("sfence.vma zero, %0" ::"r"((uint64)e->asid) : "memory");
  else
    sfence_vma_all();
  pass_on_children(e, parent != NULL ? parent->pub->id : 0);
  // A free slot keeps nothing: no wait, no call, no count survives.
  struct env_info *pub = e->pub;
  memset(e, 0, sizeof(*e));
  e->pub = pub;
  memset(pub, 0, sizeof(*pub));
  if (owner != NULL)
    owner->nsiblings--;
}

// Destroy the siblings running in owner's address space: at once those that
// run on no other hart; the others are doomed and interrupted, and die on
// their hart as soon as it enters the kernel.
static void destroy_siblings(struct env *owner)
{
  for (int i = 0; i < NENV && owner->nsiblings > 0; i++) {
    struct env *s = &envs[i];
    if (s->space_owner != owner->pub->id || s->pub->status == ENV_FREE)
      continue;
    if (env_running_elsewhere(s)) {
      s->doomed = 1;
      send_ipi(1UL << (s->running_on - 1));
    } else {
      destroy_one(s);
    }
  }
}

// Destroy environment e: wait until no device writes one of its pages,
// break every mapping of its pages (in anyone's tables), drop the grants it
// holds, free every page it owns that nobody else holds, return its time
// slices, bindings and requests, wake whoever waits on it, and pass its
// children on (the rule above). If e is running, the caller must
// schedule() next. If e runs on another hart, it is only marked doomed
// here: that hart destroys it as soon as it enters the kernel, which an
// interrupt makes it do now (smp.c); a system call that destroyed it waits
// for that (env_await_death). Its siblings go first (destroy_siblings);
// while one still runs on another hart, e is doomed too, never runs again,
// and goes with the last of them.
void env_destroy(struct env *e)
{
  if (e->nsiblings > 0)
    destroy_siblings(e);
  if (e->nsiblings > 0 || env_running_elsewhere(e)) {
    e->doomed = 1;
    e->pub->status = ENV_NOT_RUNNABLE;
    if (env_running_elsewhere(e))
      send_ipi(1UL << (e->running_on - 1));
    return;
  }
  struct env *owner = env_of(e->space_owner);
  destroy_one(e);
  for (struct env *c; (c = unstartable()) != NULL;)
    destroy_one(c);
  // The last sibling of an owner destroyed meanwhile is gone: the owner
  // goes now, unless it runs on another hart (which destroys it).
  if (owner != NULL && owner->doomed && owner->nsiblings == 0 && !env_running_elsewhere(owner))
    env_destroy(owner);
}

// e destroyed t, which runs on another hart (env_destroy marked it doomed):
// e waits until that hart has destroyed it, then its call returns 0. Does
// not return.
void env_await_death(struct env *e, struct env *t)
{
  e->awaits_death = t->pub->id;
  e->pub->status = ENV_NOT_RUNNABLE;
  e->tf.a0 = 0;
  schedule();
}

// For kcheck: the lifecycle invariants of the environment table. A free
// slot is not runnable and keeps no state (no wait, call, count or start);
// nobody waits on a free slot; every parent named exists, and counts its
// children right; a parentless environment has started (else nobody could
// ever start it). Returns NULL or the violation, with its slot in *where.
const char *env_check(uint64 *where)
{
  uint32 children[NENV] = {0}, siblings[NENV] = {0};
  for (int i = 0; i < NENV; i++)
    if (env_table[i].status != ENV_FREE && env_of(env_table[i].parent_id) != NULL) {
      children[ENVX(env_table[i].parent_id)]++;
      siblings[ENVX(env_table[i].parent_id)] += envs[i].space_owner != 0;
    }
  for (int i = 0; i < NENV; i++) {
    struct env *e = &envs[i];
    *where = i;
    if (e->pub->status == ENV_FREE) {
      if (e->pub->id != 0 || e->waiting_on || e->waits_for || e->pct_sleeping || e->console_wait ||
          e->pct_queued || e->awaits_death || e->started || e->nchildren || e->grants_made ||
          e->nrequests || e->pages_head || e->space_owner || e->nsiblings)
        return "free environment slot keeps state";
      continue;
    }
    if (e->pub->status != ENV_RUNNABLE && e->pub->status != ENV_NOT_RUNNABLE)
      return "environment with an unknown status";
    if (e->waiting_on != 0 && env_of(e->waiting_on) == NULL)
      return "environment waits on a PCT callee that does not exist";
    if (e->pct_queued && (e->waiting_on == 0 || e->pub->status != ENV_NOT_RUNNABLE))
      return "environment's queued PCT call has no callee, or it runs";
    if (e->awaits_death != 0 && env_of(e->awaits_death) == NULL)
      return "environment waits for the destruction of one that is gone";
    if (e->waits_for != 0 && e->waits_for != WAIT_ANY && env_of(e->waits_for) == NULL)
      return "environment waits for a child that does not exist";
    if (e->pub->parent_id != 0 && env_of(e->pub->parent_id) == NULL)
      return "environment's parent does not exist (an orphan nobody controls)";
    if (e->pub->parent_id == 0 && !e->started)
      return "never-started environment without a parent";
    if (e->nchildren != children[i])
      return "environment's count of children is wrong";
    struct env *owner = env_of(e->space_owner);
    if (e->space_owner != 0 && (owner == NULL || owner->pub->id != e->pub->parent_id ||
                                owner->space_owner != 0 || owner->root != e->root))
      return "sibling's address space is not its parent's own";
    if (e->nsiblings != siblings[i])
      return "environment's count of siblings is wrong";
  }
  return NULL;
}

// env_wait: give up the processor until child id (0: any child) ends, or,
// with ENV_WAIT_INPUT in flags, the next byte is typed. Returns 0 (at once
// if the child is gone already, or, for 0, if e has no child), -E_PERM if
// id is not e's child, -E_INVAL for unknown flags.
long env_wait(struct env *e, uint32 id, uint64 flags)
{
  if (flags & ~(uint64)ENV_WAIT_INPUT)
    return -E_INVAL;
  struct env *c = env_of(id);
  if (id == 0) {
    int children = 0;
    for (int i = 0; i < NENV; i++)
      children += env_table[i].status != ENV_FREE && env_table[i].parent_id == e->pub->id;
    if (children == 0)
      return 0;
    id = WAIT_ANY;
  } else if (c == NULL) {
    return 0;
  } else if (c == e || c->pub->parent_id != e->pub->id) {
    return -E_PERM;
  }
  e->waits_for = id;
  if (flags & ENV_WAIT_INPUT)
    console_wake_on_input(e);
  e->pub->status = ENV_NOT_RUNNABLE;
  e->tf.a0 = 0;
  schedule();
}

// The current environment cur stops running on this hart: it is free to
// run elsewhere, and takes the calls queued for it meanwhile (pct.c).
static void env_leave(struct env *cur)
{
  cur->running_on = 0;
  if (cur->pct_knock)
    pct_take_queued(cur);
}

// With several harts: this hart leaves cur (NULL: none) and runs e.
static __attribute__((noinline)) void env_switch_smp(struct env *cur, struct env *e)
{
  if (e->doomed) {  // an owner that dies with its last sibling (env_destroy): not again
    e->pub->status = ENV_NOT_RUNNABLE;
    schedule();
  }
  if (cur != NULL)
    env_leave(cur);
  e->running_on = r_tp() + 1;
  sysinfo->running[r_tp()] = e->pub->id;
  hart_env[r_tp()] = e;
}

// Switch to environment e's address space and return to it in user mode
// (entering its revocation entry first if an upcall is due).
void env_run(struct env *e)
{
  revoke_upcall_if_due(e);
  struct env *cur = this_env();
  if (cur != e) {
    if (smp_on)
      env_switch_smp(cur, e);
    else
      hart_env[0] = e;  // (a machine of one hart: hart 0; a switch there is kept short)
    csr_write(sscratch, &e->tf);
    if (e->satp != 0) {
      csr_write(satp, e->satp);
    } else {
      csr_write(satp, MAKE_SATP(e->root, 0));
      sfence_vma_all();
    }
  }
  trap_return(e);
}

// Leave the current environment's address space (the hart is idle).
void curenv_clear(void)
{
  struct env *cur = this_env();
  if (cur != NULL) {
    csr_write(satp, MAKE_SATP(kernel_root(), 0));
    env_leave(cur);
    sysinfo->running[r_tp()] = 0;
    csr_write(sscratch, 0);
    hart_env[r_tp()] = NULL;
  }
}

// Is any environment left that may run again? Servers waiting for calls
// (pct_accept with PCT_SLEEP) do not count: with only them left, nobody
// can call them.
int env_any_alive(void)
{
  for (int i = 0; i < NENV; i++)
    if (envs[i].pub->status != ENV_FREE && !envs[i].pct_sleeping)
      return 1;
  return 0;
}

// Copy len bytes between the kernel buffer kbuf and user address va in e's
// address space, checking that every byte is mapped with U and `need`
// (PTE_R to read user memory, PTE_W to write it). Returns 0 or -E_FAULT.
// The kernel goes through the direct map, so it never sets SUM.
static int copy_user(struct env *e, void *kbuf, uint64 va, size_t len, uint64 need, int to_user)
{
  if (len > UTOP || va > UTOP - len)
    return -E_FAULT;
  while (len > 0) {
    uint64 *pte = user_pte(e, va);
    uint64 want = PTE_V | PTE_U | need;
    if (pte == NULL || (*pte & want) != want)
      return -E_FAULT;
    uint64 off = va & (PGSIZE - 1), n = PGSIZE - off;
    if (n > len)
      n = len;
    char *user = (char *)KADDR(PTE_PA(*pte)) + off;
    if (to_user)
      memmove(user, kbuf, n);
    else
      memmove(kbuf, user, n);
    kbuf = (char *)kbuf + n;
    va += n;
    len -= n;
  }
  return 0;
}

// The kernel's view (through the direct map) of the len bytes at user
// address va in e, if they lie in one page mapped with U and R; else NULL.
// For reading in place what a copy would cost too much to bring in.
const void *user_view(struct env *e, uint64 va, size_t len)
{
  if (len == 0 || len > PGSIZE - (va & (PGSIZE - 1)) || va >= UTOP)
    return NULL;
  uint64 *pte = user_pte(e, va);
  if (pte == NULL || (*pte & (PTE_V | PTE_U | PTE_R)) != (PTE_V | PTE_U | PTE_R))
    return NULL;
  return (const char *)KADDR(PTE_PA(*pte)) + (va & (PGSIZE - 1));
}

// Copy len bytes from user address va in e to dst. Returns 0 or -E_FAULT.
int copy_from_user(struct env *e, void *dst, uint64 va, size_t len)
{
  return copy_user(e, dst, va, len, PTE_R, 0);
}

// Copy len bytes from src to user address va in e. Returns 0 or -E_FAULT.
int copy_to_user(struct env *e, uint64 va, const void *src, size_t len)
{
  return copy_user(e, (void *)src, va, len, PTE_W, 1);
}

// Copy a NUL-terminated string of at most size-1 characters from user
// address va into dst. Returns 0, -E_FAULT, or -E_INVAL if it is too long.
int copy_string_from_user(struct env *e, char *dst, uint64 va, size_t size)
{
  for (size_t i = 0; i < size; i++) {
    if (copy_from_user(e, &dst[i], va + i, 1) < 0)
      return -E_FAULT;
    if (dst[i] == '\0')
      return 0;
  }
  return -E_INVAL;
}
