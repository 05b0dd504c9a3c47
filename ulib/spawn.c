// ExOS program loading: spawn() starts a new process running a program
// file, exec() replaces the running program by one. Programs are ELF
// executables in the file system, read through the file server.
//
// spawn builds the child's address space from outside, as fork does, but
// from the file: each page of each PT_LOAD segment is a fresh zero page the
// child owns, mapped here for a moment while the server's copy of the
// file's bytes is copied in (the rest of the page, bss, stays zero). The
// child gets no disk binding: a program reaches the disk through the file
// server, as its parent does. The child gets one stack
// page holding its arguments, and starts at the entry with a0 = argc, a1 =
// argv, sp below them. ExOS in the child does the rest (exception stack,
// page-table views), as for the first program the kernel starts.
//
// Argument page (the top page of the stack, EXOS_STACKTOP - 4 KiB):
//   the descriptors handed over (struct fd_handoff) at the top; a3 points
//   to it (spawn hands over 0, 1 and 2; exec all)
//   argv[0..argc-1] strings, packed, below
//   argv[], NULL-terminated, 16-byte aligned below them; sp = &argv[0]
// The child maps the pipes its descriptors use at the same addresses.

#include "ulib.h"
#include "kernel/elf.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define MAXPHDR 8  // program headers a program may have

struct image {
  int direct;                // read straight from the disk (only the file server is)
  struct fs_file file;       // else through the server: open from open_image to close_image
  struct diskfs_file dfile;  // direct
  struct elfhdr eh;
  struct proghdr ph[MAXPHDR];
};

static long check_image(struct image *im);
static void close_image(struct image *im);

// Open the program at path and check its headers. With direct set, read it
// straight from the disk through this process's binding (the file server
// cannot load itself); else through the server, or, if no server answers
// (a handout before the ipc lab has no RPC), straight from the disk if this
// process holds it. Returns 0 (the file is then open: close_image) or an
// error (E_NOEXEC for a file that is not an rvexo program).
static long open_image(const char *path, struct image *im, int direct)
{
  im->direct = direct;
  long err = direct ? diskfs_open(path, &im->dfile) : fs_open(path, O_RDONLY, &im->file);
  if (err == -E_BADENV && !direct) {
    err = open_image(path, im, 1);
    return err == -E_NOBINDING ? -E_BADENV : err;
  }
  if (err < 0)
    return err;
  if ((err = check_image(im)) < 0)
    close_image(im);
  return err;
}

// Close the program file open_image opened.
static void close_image(struct image *im)
{
  if (!im->direct)
    fs_close(&im->file);
}

// Read up to n bytes at offset off of the program file into dst. Returns
// the count or an error.
static long image_read(struct image *im, void *dst, unsigned long off, unsigned long n)
{
  return im->direct ? diskfs_read(&im->dfile, dst, off, n) : fs_pread(&im->file, dst, off, n);
}

// Read and check the headers of the open program file. Returns 0 or
// -E_NOEXEC.
static long check_image(struct image *im)
{
  if ((im->direct ? im->dfile.di.type : im->file.type) != T_FILE)
    return -E_NOEXEC;
  struct elfhdr *eh = &im->eh;
  if (image_read(im, eh, 0, sizeof(*eh)) != sizeof(*eh) || eh->magic != ELF_MAGIC ||
      eh->class != ELFCLASS64 || eh->machine != EM_RISCV || eh->phnum > MAXPHDR ||
      eh->entry >= UTOP)
    return -E_NOEXEC;
  unsigned long n = eh->phnum * sizeof(struct proghdr);
  if (image_read(im, im->ph, eh->phoff, n) != (long)n)
    return -E_NOEXEC;
  for (int i = 0; i < eh->phnum; i++) {
    struct proghdr *ph = &im->ph[i];
    if (ph->type != PT_LOAD)
      continue;
    // Segments must lie below the stack, start on a page of their own, and
    // have file offsets congruent to their addresses (what the linker does
    // with -z max-page-size=4096), so each page is one block of the file.
    if (ph->filesz > ph->memsz || ph->vaddr >= EXOS_STACKTOP - EXOS_STACK_MAX ||
        ph->memsz > EXOS_STACKTOP - EXOS_STACK_MAX - ph->vaddr || (ph->vaddr & (PGSIZE - 1)) ||
        (ph->off & (PGSIZE - 1)) || ph->vaddr < PGSIZE)
      return -E_NOEXEC;
  }
  return 0;
}

// Run f(va, ppn) on the page ppn of this process's, mapped for a moment at
// EXOS_SCRATCH through a grant to itself (the page is the child's).
static long with_child_page(long ppn, void (*f)(char *page, void *arg), void *arg)
{
  unsigned int me = sys_getenvid();
  long err;
  if ((err = sys_page_grant(ppn, me, GRANT_R | GRANT_W)) < 0)
    return err;
  if ((err = vm_map(EXOS_SCRATCH, ppn, PTE_R | PTE_W)) == 0) {
    f((char *)EXOS_SCRATCH, arg);
    vm_unmap(EXOS_SCRATCH);
  }
  sys_page_grant(ppn, me, 0);
  return err;
}

// The PTE bits for segment ph.
static unsigned long segment_bits(const struct proghdr *ph)
{
  return (ph->flags & PF_R ? PTE_R : 0) | (ph->flags & PF_W ? PTE_R | PTE_W : 0) |
         (ph->flags & PF_X ? PTE_X : 0);
}

struct fill {
  struct image *im;
  unsigned long at, n;  // where in the file, how many bytes
  long err;
};

// Read the fill's bytes into page (mapped here for a moment).
static void read_into(char *page, void *arg)
{
  struct fill *f = arg;
  long r = image_read(f->im, page, f->at, f->n);
  f->err = r == (long)f->n ? 0 : r < 0 ? r : -E_NOEXEC;
}

// Fill ppn, a fresh zero page (this process's if ours, else its child's),
// with the page at offset off of segment ph, read from the program file;
// what is past the segment's file part (bss) stays zero. Returns 0 or an
// error.
static long fill_page(struct image *im, const struct proghdr *ph, unsigned long off, long ppn,
                      int ours)
{
  if (off >= ph->filesz)
    return 0;  // all bss: already zero
  struct fill f = {im, ph->off + off, ph->filesz - off < PGSIZE ? ph->filesz - off : PGSIZE, 0};
  long err;
  if (!ours)
    err = with_child_page(ppn, read_into, &f);
  else if ((err = vm_map(EXOS_SCRATCH, ppn, PTE_R | PTE_W)) == 0) {
    read_into((char *)EXOS_SCRATCH, &f);
    vm_unmap(EXOS_SCRATCH);
  }
  return err < 0 ? err : f.err;
}

// Load segment ph of im into the child. Returns 0 or an error.
static long load_segment(struct child_space *cs, struct image *im, const struct proghdr *ph)
{
  for (unsigned long off = 0; off < ph->memsz; off += PGSIZE) {
    long p = sys_page_alloc(cs->id, 0, PG_USER), err;  // a zero page
    if (p < 0)
      return p;
    if ((err = fill_page(im, ph, off, p, 0)) < 0 ||
        (err = child_map(cs, ph->vaddr + off, p, segment_bits(ph))) < 0)
      return err;
  }
  return 0;
}

struct args {
  char *const *argv;
  int argc;
  const struct fd_handoff *fds;  // the descriptors to hand over
  unsigned long sp, fds_va;      // in the new program
};

#define HANDOFF_SIZE ((sizeof(struct fd_handoff) + 15) & ~15UL)

// Lay the arguments out in the argument page (see the top of the file).
static void build_args(char *page, void *arg)
{
  struct args *a = arg;
  static unsigned long ptrs[MAXARGS + 1];
  unsigned long top = PGSIZE - HANDOFF_SIZE, base = EXOS_STACKTOP - PGSIZE;
  memmove(page + top, a->fds, sizeof(*a->fds));
  a->fds_va = base + top;
  for (int i = a->argc - 1; i >= 0; i--) {
    unsigned long len = strlen(a->argv[i]) + 1;
    top -= len;
    memmove(page + top, a->argv[i], len);
    ptrs[i] = base + top;
  }
  ptrs[a->argc] = 0;
  top = (top - (a->argc + 1) * sizeof(unsigned long)) & ~15UL;
  memmove(page + top, ptrs, (a->argc + 1) * sizeof(unsigned long));
  a->sp = base + top;
}

// Map a page of ours (a pipe's) in the child at the same address, shared.
static long share_with_child(unsigned long va, unsigned long ppn, void *arg)
{
  struct child_space *cs = arg;
  long err = sys_page_grant(ppn, cs->id, GRANT_R | GRANT_W);
  return err < 0 ? err : child_map(cs, va, ppn, PTE_R | PTE_W | PTE_SHARE);
}

// Count argv's entries and check they fit the argument page. argv is the
// caller's and may be bad: it is read only by guarded accesses (ucopy.S),
// so build_args later finds it good. Returns argc or an error: E_2BIG,
// E_FAULT.
static long count_args(char *const argv[])
{
  unsigned long bytes = 16 + HANDOFF_SIZE, argc = 0;
  for (char *arg; argv != NULL; argc++) {
    if (exos_copy(&arg, &argv[argc], sizeof(arg)) < 0)
      return -E_FAULT;
    if (arg == NULL)
      break;
    long len = exos_strnlen(arg, PGSIZE);
    if (len < 0)
      return len;
    bytes += len + 1 + sizeof(char *);
    if (bytes > PGSIZE - 64 || argc >= MAXARGS)
      return -E_2BIG;
  }
  return argc;
}

// The last component of path.
static const char *basename(const char *path)
{
  const char *name = path;
  for (const char *p = path; *p; p++)
    if (*p == '/' && p[1] != 0)
      name = p + 1;
  return name;
}

// Start a new process running the program in file path with arguments
// argv (a NULL-terminated array; argv[0] is by convention the name).
// Returns its pid (to wait for) or a negative error: E_NOTFOUND,
// E_NOEXEC, E_2BIG, or the kernel's.
static int spawn_with(const char *path, char *const argv[], int handoff, int with_disk);

// Start the program at path with arguments argv (NULL-terminated) as a
// child process, handing it descriptors 0, 1 and 2 and the current
// directory. Returns its pid or an error.
int spawn(const char *path, char *const argv[])
{
  return spawn_with(path, argv, 1, 0);
}

// Start the server program at path as spawn() does, but handing it
// nothing (it starts on the console), with this process's binding to the
// whole disk if with_disk is set (the file system's server), and disowned:
// wait() does not wait for it. Returns its pid or an error.
int spawn_server(const char *path, char *const argv[], int with_disk)
{
  int pid = spawn_with(path, argv, 0, with_disk);
  if (pid > 0)
    disown(pid);
  return pid;
}

// spawn() (handoff set) or spawn_server() (not).
static int spawn_with(const char *path, char *const argv[], int handoff, int with_disk)
{
  static struct image im;  // static: too big for a small stack
  long argc = count_args(argv), err;
  if (argc < 0)
    return argc;
  if (!with_disk && fs_server(0) == 0)  // (starting one spawns: before im is in use)
    return -E_BADENV;
  if ((err = open_image(path, &im, with_disk)) < 0)
    return err;
  struct child_space cs;
  int slot;
  long id = child_begin(basename(path), &cs, &slot, with_disk);
  if (id < 0) {
    close_image(&im);
    return id;
  }
  for (int i = 0; i < im.eh.phnum && err == 0; i++)
    if (im.ph[i].type == PT_LOAD)
      err = load_segment(&cs, &im, &im.ph[i]);
  static struct fd_handoff fds;
  struct args a = {.argv = argv, .argc = argc, .fds = &fds};
  memset(&fds, 0, sizeof(fds));  // without a handoff: the console
  if (err == 0 && handoff)
    err = fd_handoff(&fds, 0, share_with_child, &cs);
  long stack = err == 0 ? sys_page_alloc(id, 0, PG_USER) : 0;
  if (stack < 0)
    err = stack;
  if (err == 0 && (err = with_child_page(stack, build_args, &a)) == 0)
    err = child_map(&cs, EXOS_STACKTOP - PGSIZE, stack, PTE_R | PTE_W);
  struct user_regs r = {0};
  r.pc = im.eh.entry;
  r.sp = a.sp;
  r.a0 = argc;
  r.a1 = a.sp;
  r.a3 = a.fds_va;
  if (err == 0 && handoff)
    fd_share(&fds, id, 0);  // the child's copies of the open files
  close_image(&im);
  long pid = child_start(slot, &r, err);
  if (err == 0 && pid < 0 && handoff)
    fd_share(&fds, id, 1);
  return pid;
}

// ---------------------------------------------------------------- exec

struct exec_plan {
  struct exec_switch *sw;
  struct pte_write *batch;
  unsigned long *free;
  unsigned long max_batch, max_free;
  unsigned int me;
};

#define EXECBUF_BATCH_PAGES (EXOS_EXECBUF_PAGES - 3)  // page 0: the header; last 2: free list

// Plan the removal of one of the old program's mappings (for
// vm_for_each_leaf): an entry that clears it and, if this process owns the
// page and maps it only here, the page's freeing.
static long plan_removal(unsigned long va, unsigned long pte, void *arg)
{
  // LAB fork: plan the clearing of this mapping and, if the page is ours alone, its freeing
  // HANDOUT: return -E_NOSYS;
  struct exec_plan *p = arg;
  if (va >= EXOS_SCRATCH || (va >= EXOS_PIPES && va < EXOS_PIPES_END))
    return 0;  // ExOS's own pages and the pipes stay
  if (p->sw->nbatch == p->max_batch)
    return -E_NOMEM;
  // vm_table only looks the table up: it exists, since va is mapped.
  p->batch[p->sw->nbatch++] = (struct pte_write){vm_table(va), PX(0, va), 0};
  unsigned long ppn = PTE_PPN(pte);
  const struct page_info *pi = vm_page_info(ppn);
  if (pi->owner == p->me && pi->mapcount == 1 && ppn != p->sw->trampoline_ppn &&
      p->sw->nfree < p->max_free)
    p->free[p->sw->nfree++] = PTE_PPN(pte);
  return 0;
  // END LAB fork
}

// Plan mapping page ppn at va with bits in the new program. Returns 0 or an error.
static long plan_mapping(struct exec_plan *p, unsigned long va, unsigned long ppn,
                         unsigned long bits)
{
  // LAB fork: plan the entry that maps ppn at va in the new program
  // HANDOUT: return -E_NOSYS;
  long t = vm_table(va);
  if (t < 0)
    return t;
  if (p->sw->nbatch == p->max_batch)
    return -E_NOMEM;
  p->batch[p->sw->nbatch++] =
      (struct pte_write){t, PX(0, va), PA2PTE(ppn << 12) | bits | PTE_U | PTE_V | PTE_A | PTE_D};
  return 0;
  // END LAB fork
}

// Read the new program's pages into fresh pages of ours and plan their
// mappings, recording each page made in made[] (at most max; *nmade
// counts them). Returns 0 or an error (the caller frees the pages made).
static long load_for_exec(struct exec_plan *p, struct image *im, unsigned long *made,
                          unsigned long *nmade, unsigned long max)
{
  // LAB fork: read every page of every PT_LOAD segment into a fresh page and plan its mapping
  // HANDOUT: return -E_NOSYS;
  for (int i = 0; i < im->eh.phnum; i++) {
    const struct proghdr *ph = &im->ph[i];
    for (unsigned long off = 0; ph->type == PT_LOAD && off < ph->memsz; off += PGSIZE) {
      long pg = *nmade < max ? vm_page_alloc(PG_USER) : -E_NOMEM, err;
      if (pg < 0)
        return pg;
      made[(*nmade)++] = pg;
      if ((err = fill_page(im, ph, off, pg, 1)) < 0 ||
          (err = plan_mapping(p, ph->vaddr + off, pg, segment_bits(ph))) < 0)
        return err;
    }
  }
  return 0;
  // END LAB fork
}

extern char exos_exec_switch[];

// Replace the running program by the one in file path, with arguments argv.
// The process keeps its pid, its parent, its exit-status page, its disk
// binding and ExOS's page-table window; everything below ExOS's own pages
// goes. Does not return on success; on an error (E_NOTFOUND, E_NOEXEC,
// E_2BIG, E_NOMEM, ...) it returns it with the program unchanged.
//
// How: the new program is read into fresh pages while the old one runs and
// a plan is written into ExOS's exec buffer (which survives): one batch of
// PTE writes that clears every old mapping and installs the new ones, and
// the old pages to free. The last step cannot run from the old program's
// text, which it unmaps, so exos_exec_switch (exec.S) runs from an alias of
// its page at EXOS_TRAMPOLINE. Entry points are cleared first, so no upcall
// can reach the old program's code half-way; the new program's start-up
// (exec_finish) frees the alias and the buffer.
int exec(const char *path, char *const argv[])
{
  static struct image im;
  static unsigned long made[1024];
  unsigned long nmade = 0;
  long argc = count_args(argv), err = 0;
  if (argc < 0)
    return argc;
  if ((err = open_image(path, &im, 0)) < 0)
    return err;
  for (unsigned long i = 0; i < EXOS_EXECBUF_PAGES && err >= 0; i++)
    if (!(vm_pte(EXOS_EXECBUF + i * PGSIZE) & PTE_V))
      err = vm_alloc(EXOS_EXECBUF + i * PGSIZE, PTE_R | PTE_W);
  if (err < 0) {
    close_image(&im);
    return err;
  }
  struct exec_plan p = {
      .sw = (struct exec_switch *)EXOS_EXECBUF,
      .batch = (struct pte_write *)(EXOS_EXECBUF + PGSIZE),
      .free = (unsigned long *)(EXOS_EXECBUF + (EXOS_EXECBUF_PAGES - 2) * PGSIZE),
      .max_batch = EXECBUF_BATCH_PAGES * PGSIZE / sizeof(struct pte_write),
      .max_free = 2 * PGSIZE / sizeof(unsigned long),
      .me = sys_getenvid(),
  };
  memset(p.sw, 0, sizeof(*p.sw));
  p.sw->batch = p.batch;
  p.sw->free = p.free;
  unsigned long tramp = PTE_PPN(vm_pte((unsigned long)exos_exec_switch));
  p.sw->trampoline_ppn = tramp;  // its page is not freed: the switch runs from it
  err = vm_for_each_leaf(plan_removal, &p);
  if (err == 0)
    err = load_for_exec(&p, &im, made, &nmade, sizeof(made) / sizeof(made[0]) - 1);
  close_image(&im);
  static struct fd_handoff fds;
  struct args a = {.argv = argv, .argc = argc, .fds = &fds};
  if (err == 0)
    fd_handoff(&fds, 1, NULL, NULL);  // the pipes stay mapped
  long stack = err == 0 ? vm_page_alloc(PG_USER) : 0;
  if (stack < 0)
    err = stack;
  else if (err == 0) {
    made[nmade++] = stack;
    if ((err = vm_map(EXOS_SCRATCH, stack, PTE_R | PTE_W)) == 0) {
      build_args((char *)EXOS_SCRATCH, &a);
      vm_unmap(EXOS_SCRATCH);
      err = plan_mapping(&p, EXOS_STACKTOP - PGSIZE, stack, PTE_R | PTE_W);
    }
  }
  if (err == 0)
    err = vm_map(EXOS_TRAMPOLINE, tramp, PTE_R | PTE_X);
  if (err < 0) {
    for (unsigned long i = 0; i < nmade; i++)
      sys_page_free(made[i]);
    return err;
  }
  p.sw->entry = im.eh.entry;
  p.sw->sp = a.sp;
  p.sw->argc = argc;
  p.sw->fds = a.fds_va;
  p.sw->sys_batch = SYS_pte_write_batch;
  p.sw->sys_free = SYS_page_free;
  p.sw->sys_exit = SYS_env_exit;
  vm_window(p.sw->window);
  for (int e = ENTRY_EXCEPTION; e <= ENTRY_REVOKE; e++)
    sys_env_set_entry(0, e, 0);
  void (*sw)(struct exec_switch *) = (void (*)(struct exec_switch *))(
      EXOS_TRAMPOLINE + ((unsigned long)exos_exec_switch & (PGSIZE - 1)));
  sw(p.sw);
  return -E_INVAL;  // not reached
}

// Start-up after exec (from libmain, with the window adopted): free the
// trampoline's alias and the exec buffer.
void exec_finish(void)
{
  // LAB fork: free the trampoline's alias (if nobody else maps its page) and the exec buffer
  const struct exec_switch *sw = (const struct exec_switch *)EXOS_EXECBUF;
  unsigned long tramp = sw->trampoline_ppn;
  const struct page_info *pi = vm_page_info(tramp);
  vm_unmap(EXOS_TRAMPOLINE);
  if (pi->owner == (unsigned int)sys_getenvid() && pi->mapcount == 0)
    sys_page_free(tramp);
  for (unsigned long i = 0; i < EXOS_EXECBUF_PAGES; i++) {
    unsigned long va = EXOS_EXECBUF + i * PGSIZE, pte = vm_pte(va);
    vm_unmap(va);
    sys_page_free(PTE_PPN(pte));
  }
  // END LAB fork
}

_Static_assert(EXOS_EXECBUF_PAGES >= 4, "the exec buffer: header, batch, free list");
