// exobench: instruction-exact benchmarks of rvexo's primitives (`make bench`).
//
// Every figure is retired instructions per operation, read with rdinstret.
// Under QEMU's -icount shift=0 that counter advances by exactly one per
// instruction (kernel, firmware and user alike), so the figures do not
// depend on the host and repeat from run to run.
//
// How a row is measured (measure()): its setup, a warm-up run, then RUNS
// runs of `iters` iterations, each started, once the other environments
// wait, at the beginning of a fresh time slice (settle()), so that a run
// shorter than a slice sees no timer interrupt and a longer one sees them
// at the same points every time. A run
// times its loop and then an empty loop of the same shape (TIMED), and
// reports the difference, less the time the hart spent idle meanwhile
// (sysinfo->idle: waiting for the disk is host time under -icount). The
// figure printed is the median of the runs, with their minimum and maximum
// ("stable" when all runs agree). Each row is measured in a process of its
// own, a fresh `exobench -row NAME` spawned for it, which writes its result
// to its standard output, a pipe: no row sees what another left behind, so
// a figure is the same alone, in any order and in the whole table.
//
// Without -icount shift=0 the counter is not an instruction count (QEMU then
// reads the host's cycle counter): exobench checks (exact_counting()), and
// if it is not, says so at the top and marks no target.
//
// Usage: exobench [bench=quick] [reverse] [net] [ROW...]
//   bench=quick (or quick): few iterations, for the grader;
//   reverse: measure the rows in the reverse of the table's order (which
//   gives the same figures: the order does not matter);
//   net: the network rows (they need the host's peer: labs/bench.py);
//   ROW...: measure only these rows, in this order (the others print as
//   "(not selected)"); anything else is an error.
// As the first program: make qemu ICOUNT=1 ARGS="init=exobench bench=quick pte-write".
// The table's columns are explained in README.md, "Benchmarks"; labs/bench.py
// parses it into build/bench.json. Adding a row is one function and one line
// in `rows`.

#include "ulib/ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define RUNS 5

#define STR(x)  #x
#define XSTR(x) STR(x)

// Address-space regions of the benchmarks (root entry 192, between the
// heap's limit and the stack), each covered by a level-0 table of its own.
#define FAULT_VA    0x3000000000UL  // pagefault-map-only: pages mapped by the fault handler
#define PTEW_VA     0x3000200000UL  // pte-write, pte-write-batch: 64 pages; pte-map-new
#define APPEL_VA    0x3000400000UL  // the Appel-Li rows: APPEL_PAGES pages
#define SHARED_VA   0x3000600000    // a page shared with children (no UL: used in assembly)
#define DATA_VA     0x3000800000UL  // scratch data of a benchmark (batches, sequences)
#define NET_VA      0x3000A00000UL  // the network rows: ring pages, then the page sent from
#define FAULT_PAGES 512
#define BATCH       64
#define APPEL_PAGES 100
#define SEQ_LEN     1024  // appel1's page sequence (a power of two)

// The page shared with the children (PTE_SHARE: fork shares it writable).
struct shared {
  volatile unsigned long oneway;       // pct-oneway: the server's sum of transfer costs
  volatile unsigned long slice_instr;  // slice-switch: instructions in the child's window
  volatile unsigned long slice_iters;  //   and iterations of its busy loop in that window
  volatile unsigned long slice_done;   //   1 once the child has written them
  volatile long net_port, net_count;   // filter-demux: a child's filters to install; 0 once
                                       // it has (or the error)
};
#define SHARED             ((struct shared *)SHARED_VA)
#define SHARED_SLICE_INSTR 8
#define SHARED_SLICE_ITERS 16
#define SHARED_SLICE_DONE  24
_Static_assert(__builtin_offsetof(struct shared, oneway) == 0 &&
                   __builtin_offsetof(struct shared, slice_instr) == SHARED_SLICE_INSTR &&
                   __builtin_offsetof(struct shared, slice_iters) == SHARED_SLICE_ITERS &&
                   __builtin_offsetof(struct shared, slice_done) == SHARED_SLICE_DONE,
               "struct shared offsets used in assembly");

// Instructions retired by `n` iterations of the statement in the remaining
// arguments, less those of an empty loop of the same shape (its counter,
// compare and branch), measured right after it. The barrier in both loops
// stops the compiler from hoisting work out of the loop or deleting the
// empty one.
#define TIMED(n, ...)                                                                              \
  ({                                                                                               \
    unsigned long n_ = (n), t0_ = rdinstret();                                                     \
    for (unsigned long i_ = 0; i_ < n_; i_++) {                                                    \
      __VA_ARGS__;                                                                                 \
      asm volatile("" ::: "memory");                                                               \
    }                                                                                              \
    unsigned long t1_ = rdinstret();                                                               \
    for (unsigned long i_ = 0; i_ < n_; i_++)                                                      \
      asm volatile("" ::: "memory");                                                               \
    unsigned long t2_ = rdinstret();                                                               \
    (long)((t1_ - t0_) - (t2_ - t1_));                                                             \
  })

// ---------------------------------------------------------------- helpers

#define SYSINFO ((const volatile struct sysinfo *)USYSINFO)

static long shared_ppn;  // the shared page, while mapped

// Map the page shared with children at SHARED_VA (zeroed). Returns 0 or an error.
static long shared_map(void)
{
  long p = vm_alloc(SHARED_VA, PTE_R | PTE_W | PTE_SHARE);
  if (p < 0)
    return p;
  shared_ppn = p;
  memset(SHARED, 0, sizeof(*SHARED));
  return 0;
}

// Unmap and free the shared page (the children that mapped it are gone).
static void shared_unmap(void)
{
  vm_unmap(SHARED_VA);
  sys_page_free(shared_ppn);
}

// Map npages fresh pages from va on with PTE bits `bits`. Returns 0 or an error.
static long region_alloc(unsigned long va, unsigned long npages, unsigned long bits)
{
  for (unsigned long i = 0; i < npages; i++) {
    long p = vm_alloc(va + i * PGSIZE, bits);
    if (p < 0)
      return p;
  }
  return 0;
}

// Unmap the npages pages from va on; free them too if `free` is set.
static void region_free(unsigned long va, unsigned long npages, int free)
{
  for (unsigned long i = 0; i < npages; i++, va += PGSIZE) {
    unsigned long pte = vm_pte(va);
    if (!(pte & PTE_V))
      continue;
    vm_unmap(va);
    if (free)
      sys_page_free(PTE_PPN(pte));
  }
}

// How many of the npages pages from va on are mapped writable (a check,
// after a run, that the handlers did what they are timed doing).
static unsigned long writable_pages(unsigned long va, unsigned long npages)
{
  unsigned long n = 0;
  for (unsigned long i = 0; i < npages; i++)
    n += (vm_pte(va + i * PGSIZE) & (PTE_V | PTE_W)) == (PTE_V | PTE_W);
  return n;
}

// End child process pid and collect it.
static void end_child(int pid)
{
  kill(pid);
  waitpid(pid, NULL);
}

// Instructions between two rdinstret reads in a row (the first one's own).
static unsigned long instret_step(void)
{
  unsigned long a, b;
  asm volatile("rdinstret %0\n\trdinstret %1" : "=r"(a), "=r"(b));
  return b - a;
}

// Is an environment other than this one runnable?
static int others_runnable(void)
{
  const volatile struct env_info *envs = (const volatile struct env_info *)UENVS;
  unsigned int self = getpid();
  for (unsigned long i = 0; i < SYSINFO->nenv; i++)
    if (envs[i].status == ENV_RUNNABLE && envs[i].id != self)
      return 1;
  return 0;
}

// Begin a run in the same state whatever ran before. First let the other
// environments run until they wait (a server that has answered goes back
// to sleep in pct_accept, say), as far as a few slices allow (a partner
// that only yields back stays runnable). Then take every free time slice
// and give up the rest of this one: the next slice is this process's, so
// the run begins at its start, whoever the round robin would have picked
// (the others run only when this process waits or yields to them, or in
// slices they own). unsettle() gives the slices back.
static void settle(void)
{
  for (int i = 0; i < 4 && others_runnable(); i++)
    sys_yield(0);
  while (sys_slice_alloc(0, -1) >= 0)
    ;
  sys_yield(0);
}

// Give back the time slices this process owns (after a run).
static void unsettle(void)
{
  const volatile unsigned int *owner = (const volatile unsigned int *)USLICES;
  for (int i = 0; i < NSLICES; i++)
    if (owner[i] == (unsigned int)getpid())
      sys_slice_free(i);
}

// ---------------------------------------------------------------- kernel crossings

// null-syscall: one sys_getenvid through ExOS's stub.
static long b_null_syscall(unsigned long n)
{
  return TIMED(n, sys_getenvid());
}

static exos_handler saved_breakpoint;

// The breakpoint handler: step over the (4-byte) ebreak and resume.
static int on_breakpoint(struct xframe *f)
{
  f->pc += 4;
  return 1;
}

// Install on_breakpoint. Returns 0.
static long setup_breakpoint(void)
{
  saved_breakpoint = exos_set_handler(EXC_BREAKPOINT, on_breakpoint);
  return 0;
}

// Put the previous breakpoint handler back.
static void teardown_breakpoint(void)
{
  exos_set_handler(EXC_BREAKPOINT, saved_breakpoint);
}

// exception-upcall: ebreak, delivered to ExOS's handler, which resumes
// after it without entering the kernel.
static long b_exception_upcall(unsigned long n)
{
  return TIMED(n, asm volatile(".option push\n\t.option norvc\n\tebreak\n\t.option pop" ::
                                   : "memory"));
}

static long fault_ppn;  // the page the fault handler maps
static exos_handler next_load_fault;

// The load-fault handler of pagefault-map-only: map fault_ppn at the faulting
// page of the region; other faults go to the handler installed before.
static int on_load_fault(struct xframe *f)
{
  unsigned long va = PGROUNDDOWN(f->addr);
  if (va - FAULT_VA >= FAULT_PAGES * PGSIZE)
    return next_load_fault != NULL && next_load_fault(f);
  return vm_map(va, fault_ppn, PTE_R | PTE_W) == 0;
}

// A page for the handler to map, the region's table, the handler. Returns 0 or an error.
static long setup_pagefault(void)
{
  long t = vm_table(FAULT_VA);
  if (t < 0)
    return t;
  if ((fault_ppn = vm_page_alloc(PG_USER)) < 0)
    return fault_ppn;
  next_load_fault = exos_set_handler(EXC_LOAD_PAGE_FAULT, on_load_fault);
  return 0;
}

// Put the previous load-fault handler back and free the page.
static void teardown_pagefault(void)
{
  exos_set_handler(EXC_LOAD_PAGE_FAULT, next_load_fault);
  sys_page_free(fault_ppn);
}

// pagefault-map-only: load from an unmapped page; the handler maps the page
// allocated at setup there and the load is retried (nothing is allocated
// or zeroed: demand-zero-fault does that). n distinct pages (at most
// FAULT_PAGES), unmapped again afterwards (not timed).
static long b_pagefault_map_only(unsigned long n)
{
  if (n > FAULT_PAGES)
    return -E_INVAL;
  volatile char *p = (volatile char *)FAULT_VA;
  long r = TIMED(n, (void)*p; p += PGSIZE);
  if (writable_pages(FAULT_VA, n) != n)  // each load faulted and had its page mapped
    r = -E_INVAL;
  region_free(FAULT_VA, n, 0);
  return r;
}

// demand-zero-fault: grow the heap by a page and store to it; ExOS's
// fault handler (heap.c) allocates a zeroed page, maps it and the store is
// retried. The heap shrinks back afterwards (not timed), freeing the pages.
static long b_demand_zero_fault(unsigned long n)
{
  char *start = sbrk(0);
  if (start == (char *)-1 || PGROUNDUP((unsigned long)start) != (unsigned long)start)
    start = sbrk(PGROUNDUP((unsigned long)start) - (unsigned long)start);  // page-align the break
  volatile char *p = sbrk(0);
  long r = TIMED(n, sbrk(PGSIZE); *p = 1; p += PGSIZE);
  if (writable_pages((unsigned long)sbrk(0) - n * PGSIZE, n) != n)  // each store got its page
    r = -E_INVAL;
  sbrk(-(long)n * PGSIZE);
  return r;
}

#define PTEW_BATCH ((struct pte_write *)DATA_VA)  // the 64 entries rewritten

// 64 mapped pages and a batch rewriting each of their entries as it is.
// Returns 0 or an error.
static long setup_ptew(void)
{
  long err = region_alloc(PTEW_VA, BATCH, PTE_R | PTE_W);
  if (err < 0 || (err = vm_alloc(DATA_VA, PTE_R | PTE_W)) < 0)
    return err;
  long t = vm_table(PTEW_VA);
  for (int i = 0; i < BATCH; i++) {
    unsigned long va = PTEW_VA + i * PGSIZE;
    PTEW_BATCH[i] = (struct pte_write){t, PX(0, va), vm_pte(va)};
  }
  return 0;
}

// Free the pages and the batch.
static void teardown_ptew(void)
{
  region_free(PTEW_VA, BATCH, 1);
  region_free(DATA_VA, 1, 1);
}

// pte-write: one sys_pte_write rewriting a leaf (same page, same bits).
static long b_pte_write(unsigned long n)
{
  struct pte_write w = PTEW_BATCH[0];
  return TIMED(n, sys_pte_write(w.pt_ppn, w.index, w.pte));
}

// pte-write-batch: one sys_pte_write_batch of 64 leaves (per entry: BATCH
// operations an iteration).
static long b_pte_write_batch(unsigned long n)
{
  return TIMED(n, sys_pte_write_batch(PTEW_BATCH, BATCH));
}

#define NEW_PAGES 512  // pte-map-new: one level-0 table's worth
static long new_ppn[NEW_PAGES];
static long new_table;

// NEW_PAGES pages allocated (not mapped) and the level-0 table of PTEW_VA,
// empty; the batch (in DATA_VA) the batched row fills. Returns 0 or an error.
static long setup_map_new(void)
{
  long err = vm_alloc(DATA_VA, PTE_R | PTE_W);
  if (err < 0 || (new_table = vm_table(PTEW_VA)) < 0)
    return err < 0 ? err : new_table;
  for (int i = 0; i < NEW_PAGES; i++)
    if ((new_ppn[i] = vm_page_alloc(PG_USER)) < 0)
      return new_ppn[i];
  return 0;
}

// Free the pages and the batch.
static void teardown_map_new(void)
{
  for (int i = 0; i < NEW_PAGES && new_ppn[i] > 0; i++)
    sys_page_free(new_ppn[i]);
  region_free(DATA_VA, 1, 1);
}

// The leaf mapping page i of the new pages, read-write.
static unsigned long new_leaf(unsigned long i)
{
  return PA2PTE(new_ppn[i] << PGSHIFT) | PTE_V | PTE_U | PTE_R | PTE_W;
}

// pte-map-new: one sys_pte_write putting a page not mapped before into an
// empty slot (the general path: ownership, the reverse map). n pages, at
// most NEW_PAGES, unmapped again afterwards (not timed).
static long b_pte_map_new(unsigned long n)
{
  if (n > NEW_PAGES)
    return -E_INVAL;
  unsigned long t = new_table, i = 0;
  long r = TIMED(n, sys_pte_write(t, i, new_leaf(i)); i++);
  if (writable_pages(PTEW_VA, n) != n)
    r = -E_INVAL;
  region_free(PTEW_VA, n, 0);
  return r;
}

// pte-map-new-batch: one sys_pte_write_batch of BATCH entries, each a page
// not mapped before into an empty slot (per entry: BATCH operations an
// iteration). n batches, at most NEW_PAGES / BATCH, unmapped afterwards.
static long b_pte_map_new_batch(unsigned long n)
{
  if (n * BATCH > NEW_PAGES)
    return -E_INVAL;
  struct pte_write *w = PTEW_BATCH;
  unsigned long k = 0;
  long r = TIMED(n, {
    for (int j = 0; j < BATCH; j++, k++)
      w[j] = (struct pte_write){new_table, k, new_leaf(k)};
    sys_pte_write_batch(w, BATCH);
  });
  // the filling of the batch is not the kernel's: time it alone and take it out
  k = 0;
  long fill = TIMED(n, {
    for (int j = 0; j < BATCH; j++, k++)
      w[j] = (struct pte_write){new_table, k, new_leaf(k)};
  });
  if (writable_pages(PTEW_VA, n * BATCH) != n * BATCH)
    r = -E_INVAL;
  region_free(PTEW_VA, n * BATCH, 0);
  return r < 0 ? r : r - fill;
}

// ---------------------------------------------------------------- control transfer

// The PCT server's entry (a forked child registers it). A synchronous call
// is answered at once with the message as it came (reply to the caller in
// a6). An asynchronous message carries the sender's instruction count in a0:
// the server adds what has passed since to the shared page's `oneway`, then
// yields back to the sender. Afterwards it idles in bench_server_idle, on
// the stack it had when it first went idle (bench_server_sp), so repeated
// entries do not creep down the stack.
void bench_pct_entry(void);
void bench_server_idle(void);
unsigned long bench_server_sp;
_Static_assert(SYS_pct_reply == 22 && SYS_yield == 16 && PCT_SYNC == 0,
               "constants in bench_pct_entry");
// clang-format off
asm(".globl bench_pct_entry\n"
    "bench_pct_entry:\n"
    "  bnez a7, 1f\n"           // PCT_ASYNC
    "  li a7, 22\n"             // pct_reply(a0..a5, caller a6)
    "  ecall\n"
    "  j 2f\n"
    "1:rdinstret t0\n"
    "  sub t0, t0, a0\n"
    "  li t1, " XSTR(SHARED_VA) "\n"
    "  ld t2, 0(t1)\n"
    "  add t2, t2, t0\n"
    "  sd t2, 0(t1)\n"
    "  mv a0, a6\n"             // yield(the sender)
    "  li a7, 16\n"
    "  ecall\n"
    "2:la t0, bench_server_sp\n"
    "  ld sp, 0(t0)\n"
    "  j bench_server_idle\n");
// clang-format on

// Where the server waits between messages: it gives its time away.
void bench_server_idle(void)
{
  for (;;)
    sys_yield(0);
}

static int server_pid;

// Fork the PCT server and wait until it answers a call. Returns 0 or an error.
static long setup_server(void)
{
  long err = shared_map();
  if (err < 0)
    return err;
  int pid = fork();
  if (pid == 0) {
    asm volatile("mv %0, sp" : "=r"(bench_server_sp));
    sys_env_set_entry(0, ENTRY_PCT, (unsigned long)bench_pct_entry);
    bench_server_idle();
  }
  if (pid < 0)
    return pid;
  server_pid = pid;
  while ((err = sys_pct_call(0, 0, 0, 0, 0, 0, pid)) == -E_NOENTRY)
    sys_yield(pid);  // it has not registered its entry yet
  return err;
}

// End the server.
static void teardown_server(void)
{
  end_child(server_pid);
  shared_unmap();
}

// pct_send to `dest` with the instruction counter, read just before the
// ecall, as the message's a0.
static inline void send_stamped(unsigned long dest)
{
  register unsigned long a0 asm("a0");
  register unsigned long a6 asm("a6") = dest;
  register unsigned long a7 asm("a7") = SYS_pct_send;
  asm volatile("rdinstret a0\n\tecall"
               : "=r"(a0), "+r"(a6), "+r"(a7)
               :
               : "a1", "a2", "a3", "a4", "a5", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
}

// pct-oneway: instructions from the sender's ecall (pct_send) to the first
// instruction of the server's PCT entry, as the server counts them.
static long b_pct_oneway(unsigned long n)
{
  unsigned long pid = server_pid, step = instret_step();
  SHARED->oneway = 0;
  for (unsigned long i = 0; i < n; i++)
    send_stamped(pid);
  return SHARED->oneway - n * step;
}

// pct-roundtrip: pct_call through ExOS's stub, answered by pct_reply.
static long b_pct_roundtrip(unsigned long n)
{
  unsigned int pid = server_pid;
  return TIMED(n, sys_pct_call(1, 2, 3, 4, 5, 6, pid));
}

static int partner_pid;

// Fork the directed-yield partner: it yields straight back to this process
// whenever it runs. Returns 0 or an error.
static long setup_partner(void)
{
  int parent = getpid();
  int pid = fork();
  if (pid == 0)
    for (;;)
      if (sys_yield(parent) < 0)
        sys_yield(0);
  if (pid < 0)
    return pid;
  partner_pid = pid;
  return 0;
}

// End the partner.
static void teardown_partner(void)
{
  end_child(partner_pid);
}

// directed-yield: yield to the partner, which yields back: two switches an
// iteration.
static long b_directed_yield(unsigned long n)
{
  unsigned int pid = partner_pid;
  return TIMED(n, sys_yield(pid));
}

// slice_measure(out, k), run by the slice-switch child: with minimal
// prologue and epilogue entries registered, spin in a counting loop of two
// instructions (addi, blt) while k slice boundaries pass, after two to warm
// up; store the instructions retired in that window and the loop's
// iterations in it to out->slice_instr and out->slice_iters, set
// out->slice_done, and unregister the entries. Registers: s1 counts loop
// iterations, s3 slice boundaries (the prologue counts them), s2 is the
// boundary to wait for; the epilogue keeps the interrupted pc in s4 and a0,
// a7 in s7, s8 across its yield(0). All s registers used are saved.
void slice_measure(struct shared *out, unsigned long k);
void slice_epilogue(void), slice_prologue(void);
_Static_assert(SYS_env_set_entry == 9 && SYS_yield == 16 && ENTRY_PROLOGUE == 1 &&
                   ENTRY_EPILOGUE == 2,
               "constants in slice_measure");
// clang-format off
asm(".globl slice_measure, slice_epilogue, slice_prologue\n"
    "slice_measure:\n"
    "  addi sp, sp, -96\n"
    "  sd ra, 0(sp)\n"
    "  sd s1, 8(sp)\n"
    "  sd s2, 16(sp)\n"
    "  sd s3, 24(sp)\n"
    "  sd s4, 32(sp)\n"
    "  sd s5, 40(sp)\n"
    "  sd s6, 48(sp)\n"
    "  sd s7, 56(sp)\n"
    "  sd s8, 64(sp)\n"
    "  sd s9, 72(sp)\n"
    "  sd s10, 80(sp)\n"
    "  mv s5, a0\n"
    "  mv s10, a1\n"
    "  li s1, 0\n"
    "  li s3, 0\n"
    "  li a0, 0\n"               // env_set_entry(0, ENTRY_EPILOGUE, slice_epilogue)
    "  li a1, 2\n"
    "  la a2, slice_epilogue\n"
    "  li a7, 9\n"
    "  ecall\n"
    "  li a0, 0\n"               // env_set_entry(0, ENTRY_PROLOGUE, slice_prologue)
    "  li a1, 1\n"
    "  la a2, slice_prologue\n"
    "  li a7, 9\n"
    "  ecall\n"
    "  li s2, 2\n"               // warm up: two boundaries
    "1:addi s1, s1, 1\n"
    "  blt s3, s2, 1b\n"
    "  rdinstret s6\n"           // the window: k boundaries
    "  mv s9, s1\n"
    "  add s2, s3, s10\n"
    "2:addi s1, s1, 1\n"
    "  blt s3, s2, 2b\n"
    "  rdinstret t0\n"
    "  sub t0, t0, s6\n"
    "  sub t1, s1, s9\n"
    "  sd t0, " XSTR(SHARED_SLICE_INSTR) "(s5)\n"
    "  sd t1, " XSTR(SHARED_SLICE_ITERS) "(s5)\n"
    "  li t2, 1\n"
    "  sd t2, " XSTR(SHARED_SLICE_DONE) "(s5)\n"
    "  li a0, 0\n"               // no prologue, then no epilogue
    "  li a1, 1\n"
    "  li a2, 0\n"
    "  li a7, 9\n"
    "  ecall\n"
    "  li a0, 0\n"
    "  li a1, 2\n"
    "  li a2, 0\n"
    "  li a7, 9\n"
    "  ecall\n"
    "  ld ra, 0(sp)\n"
    "  ld s1, 8(sp)\n"
    "  ld s2, 16(sp)\n"
    "  ld s3, 24(sp)\n"
    "  ld s4, 32(sp)\n"
    "  ld s5, 40(sp)\n"
    "  ld s6, 48(sp)\n"
    "  ld s7, 56(sp)\n"
    "  ld s8, 64(sp)\n"
    "  ld s9, 72(sp)\n"
    "  ld s10, 80(sp)\n"
    "  addi sp, sp, 96\n"
    "  ret\n"
    "slice_epilogue:\n"          // the slice ended: keep pc, a0, a7; yield(0)
    "  li s4, " XSTR(UAREA) "\n"
    "  ld s4, " XSTR(UAREA_SLICE_PC) "(s4)\n"
    "  mv s7, a0\n"
    "  mv s8, a7\n"
    "  li a0, 0\n"
    "  li a7, 16\n"
    "  ecall\n"
    "slice_prologue:\n"          // a slice begins: count it, resume
    "  addi s3, s3, 1\n"
    "  mv a0, s7\n"
    "  mv a7, s8\n"
    "  jr s4\n");
// clang-format on

// slice-switch: n slice boundaries (epilogue, yield, prologue) of a forked
// child that owns every slice; the instructions outside its busy loop, as
// it counts them. Returns them, or -E_INVAL if the child did not report.
static long b_slice_switch(unsigned long n)
{
  SHARED->slice_done = 0;
  int pid = fork();
  if (pid == 0) {
    slice_measure(SHARED, n);
    exit(0);
  }
  if (pid < 0)
    return pid;
  unsettle();  // the slices measure() took go to the child
  for (int i = 0; i < NSLICES; i++)
    sys_slice_alloc(pid, i);
  waitpid(pid, NULL);  // its slices come back when it exits
  if (!SHARED->slice_done || SHARED->slice_iters == 0)
    return -E_INVAL;
  return SHARED->slice_instr - 2 * SHARED->slice_iters;
}

// ---------------------------------------------------------------- processes

// fork-exit-wait: fork this program, the child exits at once, wait for it.
static long b_fork_exit_wait(unsigned long n)
{
  int bad = 0;
  long r = TIMED(n, {
    int pid = fork();
    if (pid == 0)
      exit(0);
    if (pid < 0 || waitpid(pid, NULL) != pid)
      bad = 1;
  });
  return bad ? -E_INVAL : r;
}

static char *const echo_argv[] = {"echo", NULL};

// fork-exec-wait: fork this program, the child execs echo from the file
// system (it prints a newline and exits), wait for it.
static long b_fork_exec_wait(unsigned long n)
{
  int bad = 0;
  long r = TIMED(n, {
    int pid = fork();
    if (pid == 0) {
      exec("echo", echo_argv);
      exit(1);
    }
    int status = -1;
    if (pid < 0 || waitpid(pid, &status) != pid || status != 0)
      bad = 1;
  });
  return bad ? -E_INVAL : r;
}

// spawn-exit-wait: spawn echo from the file system (it prints a newline
// and exits), wait for it.
static long b_spawn_exit_wait(unsigned long n)
{
  int bad = 0;
  long r = TIMED(n, {
    int pid = spawn("echo", echo_argv);
    if (pid < 0 || waitpid(pid, NULL) != pid)
      bad = 1;
  });
  return bad ? -E_INVAL : r;
}

#define HEAP_1MIB (1L << 20)
static char *heap_1mib;

// Grow the heap by 1 MiB and touch every page of it (fork-1mib-exit-wait's
// program). Returns 0 or an error.
static long setup_heap_1mib(void)
{
  heap_1mib = sbrk(HEAP_1MIB);
  if (heap_1mib == (char *)-1)
    return -E_NOMEM;
  for (long off = 0; off < HEAP_1MIB; off += PGSIZE)
    heap_1mib[off] = 1;
  return 0;
}

// Give the heap back.
static void teardown_heap_1mib(void)
{
  sbrk(-HEAP_1MIB);
}

// ---------------------------------------------------------------- Appel and Li

#define APPEL_SEQ  ((unsigned short *)DATA_VA)             // appel1's pages, SEQ_LEN of them
#define APPEL_PERM ((unsigned short *)(DATA_VA + PGSIZE))  // appel2's: a permutation

static exos_handler next_store_fault;
static int appel_mode;            // 1: appel1's handler, 2: appel2's, 0: none
static unsigned long appel_open;  // appel1: the one page left writable
static volatile unsigned long dirty_sink;

// The store-fault handler of the Appel-Li rows. appel1: protect the page
// left open, unprotect the faulting one. appel2: unprotect the faulting
// page. Other faults go to the handler installed before.
static int on_appel_fault(struct xframe *f)
{
  unsigned long va = PGROUNDDOWN(f->addr);
  if (appel_mode == 0 || va - APPEL_VA >= APPEL_PAGES * PGSIZE)
    return next_store_fault != NULL && next_store_fault(f);
  if (appel_mode == 1) {
    if (vm_protect(appel_open, PTE_R) < 0)
      return 0;
    appel_open = va;
  }
  return vm_protect(va, PTE_R | PTE_W) == 0;
}

// A small deterministic pseudo-random generator (xorshift).
static unsigned long rand_next(unsigned long *state)
{
  unsigned long x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

// The pages, the sequences (appel1: random pages, no two in a row the same,
// cyclically; appel2: a random permutation) and the handler. Returns 0 or
// an error.
static long setup_appel(void)
{
  long err = region_alloc(APPEL_VA, APPEL_PAGES, PTE_R | PTE_W);
  if (err < 0 || (err = region_alloc(DATA_VA, 2, PTE_R | PTE_W)) < 0)
    return err;
  unsigned long seed = 0x2545F4914F6CDD1DUL;
  for (int i = 0; i < SEQ_LEN; i++)
    do
      APPEL_SEQ[i] = rand_next(&seed) % APPEL_PAGES;
    while ((i > 0 && APPEL_SEQ[i] == APPEL_SEQ[i - 1]) ||
           (i == SEQ_LEN - 1 && APPEL_SEQ[i] == APPEL_SEQ[0]));
  for (int i = 0; i < APPEL_PAGES; i++)
    APPEL_PERM[i] = i;
  for (int i = APPEL_PAGES - 1; i > 0; i--) {
    unsigned long j = rand_next(&seed) % (i + 1);
    unsigned short t = APPEL_PERM[i];
    APPEL_PERM[i] = APPEL_PERM[j];
    APPEL_PERM[j] = t;
  }
  appel_mode = 0;
  next_store_fault = exos_set_handler(EXC_STORE_PAGE_FAULT, on_appel_fault);
  return 0;
}

// Put the previous store-fault handler back and free the pages.
static void teardown_appel(void)
{
  exos_set_handler(EXC_STORE_PAGE_FAULT, next_store_fault);
  appel_mode = 0;
  region_free(APPEL_VA, APPEL_PAGES, 1);
  region_free(DATA_VA, 2, 1);
}

// appel-prot1: protect one page (read-only) with vm_protect.
static long b_appel_prot1(unsigned long n)
{
  return TIMED(n, vm_protect(APPEL_VA, PTE_R));
}

// appel-prot100: protect 100 pages, in one batch (vm_protect_range).
static long b_appel_prot100(unsigned long n)
{
  return TIMED(n, vm_protect_range(APPEL_VA, APPEL_PAGES, PTE_R));
}

// appel-unprot100: unprotect 100 pages, in one batch.
static long b_appel_unprot100(unsigned long n)
{
  return TIMED(n, vm_protect_range(APPEL_VA, APPEL_PAGES, PTE_R | PTE_W));
}

// appel-appel1: store to a random protected page; the handler protects
// the page left open and unprotects this one.
static long b_appel_appel1(unsigned long n)
{
  vm_protect_range(APPEL_VA, APPEL_PAGES, PTE_R);
  appel_open = APPEL_VA + APPEL_SEQ[SEQ_LEN - 1] * PGSIZE;
  vm_protect(appel_open, PTE_R | PTE_W);
  appel_mode = 1;
  const unsigned short *seq = APPEL_SEQ;
  unsigned long k = 0;
  long r = TIMED(n, *(volatile char *)(APPEL_VA + seq[k++ % SEQ_LEN] * PGSIZE) = 1);
  appel_mode = 0;
  if (writable_pages(APPEL_VA, APPEL_PAGES) != 1)  // the handler closed each page it left
    r = -E_INVAL;
  return r;
}

// appel-appel2: protect 100 pages (one batch), then store to each in a
// random order; the handler unprotects the faulting page (APPEL_PAGES
// operations an iteration: the figure is per page).
static long b_appel_appel2(unsigned long n)
{
  const unsigned short *perm = APPEL_PERM;
  appel_mode = 2;
  long r = TIMED(n, {
    vm_protect_range(APPEL_VA, APPEL_PAGES, PTE_R);
    for (int j = 0; j < APPEL_PAGES; j++)
      *(volatile char *)(APPEL_VA + perm[j] * PGSIZE) = 1;
  });
  appel_mode = 0;
  if (writable_pages(APPEL_VA, APPEL_PAGES) != APPEL_PAGES)  // the handler opened each page
    r = -E_INVAL;
  return r;
}

// appel-dirty: is a page dirty? One read of its PTE through ExOS's
// read-only view of the page tables (vm_pte).
static long b_appel_dirty(unsigned long n)
{
  return TIMED(n, dirty_sink = (vm_pte(APPEL_VA) & PTE_D) != 0);
}

static int rpc_pid;

// The RPC server's handler: answers at once.
static void rpc_echo(struct rpc_req *r)
{
  r->msg.w[0] = r->msg.w[1];
}

// Fork an RPC server (ulib/rpc.c) and wait until it answers. Returns 0 or
// an error.
static long setup_rpc(void)
{
  int pid = fork();
  if (pid == 0)
    rpc_serve(rpc_echo);
  if (pid < 0)
    return pid;
  rpc_pid = pid;
  struct rpc_msg m = {{0, 1}};
  long r = rpc_call(pid, &m);
  return r == 1 ? 0 : r;
}

// End the RPC server.
static void teardown_rpc(void)
{
  end_child(rpc_pid);
}

// rpc-roundtrip: rpc_call with an empty body, answered by the handler.
static long b_rpc_roundtrip(unsigned long n)
{
  unsigned int pid = rpc_pid;
  struct rpc_msg m;
  return TIMED(n, m.w[0] = 0; rpc_call(pid, &m));
}

static int pipe_pid, to_partner[2], from_partner[2];

// Fork a partner that sends back every byte it reads, over two pipes.
// Returns 0 or an error.
static long setup_pipe(void)
{
  long err = pipe(to_partner);
  if (err < 0 || (err = pipe(from_partner)) < 0)
    return err;
  int pid = fork();
  if (pid == 0) {
    char c;
    close(to_partner[1]);
    close(from_partner[0]);
    while (read(to_partner[0], &c, 1) == 1)
      write(from_partner[1], &c, 1);
    exit(0);
  }
  close(to_partner[0]);
  close(from_partner[1]);
  if (pid < 0)
    return pid;
  pipe_pid = pid;
  return 0;
}

// Close the pipes (the partner sees the end and exits) and wait for it.
static void teardown_pipe(void)
{
  close(to_partner[1]);
  close(from_partner[0]);
  waitpid(pipe_pid, NULL);
}

// pipe-roundtrip: one byte to the partner and back.
static long b_pipe_roundtrip(unsigned long n)
{
  char c = 'x';
  int out = to_partner[1], in = from_partner[0];
  return TIMED(n, write(out, &c, 1); read(in, &c, 1));
}

// ---------------------------------------------------------------- files

#define MIB (1UL << 20)
static int file_fd;
static char file_buf[4096];

// Make /benchfile, 1 MiB, through the file server (which then has it in
// its cache). Returns 0 or an error.
static long setup_file(void)
{
  file_fd = open("/benchfile", O_CREAT | O_RDWR | O_TRUNC);
  for (unsigned long off = 0; off < MIB && file_fd >= 0; off += sizeof(file_buf))
    if (write(file_fd, file_buf, sizeof(file_buf)) != sizeof(file_buf))
      return -E_NOSPC;
  return file_fd < 0 ? file_fd : 0;
}

// Close and remove /benchfile.
static void teardown_file(void)
{
  close(file_fd);
  unlink("/benchfile");
}

// Read (or write) the whole file n times, 4 KiB a call. Returns the
// instructions it took or an error.
static long file_passes(unsigned long n, int writing)
{
  int bad = 0;
  long r = TIMED(n, {
    lseek(file_fd, 0, SEEK_SET);
    for (unsigned long off = 0; off < MIB; off += sizeof(file_buf))
      bad |= (writing ? write(file_fd, file_buf, sizeof(file_buf))
                      : read(file_fd, file_buf, sizeof(file_buf))) != sizeof(file_buf);
  });
  return bad ? -E_IO : r;
}

// file-read-1mib: read the whole file from the server's cache.
static long b_file_read(unsigned long n)
{
  return file_passes(n, 0);
}

// file-write-1mib: overwrite the whole file, each 4 KiB write one
// transaction through the log (the disk's own time is left out: idle).
static long b_file_write(unsigned long n)
{
  return file_passes(n, 1);
}

// ---------------------------------------------------------------- the network

// The network rows measure with the kernel's stamps (abi.h, struct
// sysinfo): net_rx_instret when the kernel took a frame from the device,
// net_match_instret when the packet filters had found whose it is, and
// net_tx_instret when the next frame was handed to the device after it.
// The frames come from a peer on the host (labs/bench.py, which `make
// bench` runs; everything stays on 127.0.0.1): each round trip, this
// process sends the peer a datagram saying "go" and the peer sends it
// back (addresses and ports swapped) saying "ok". So the peer never waits
// on the machine's time: a frame arrives whenever the host delivers it,
// and only what the machine does from its arrival on is counted. The
// processor is shared as usual (no settle(): the competing processes get
// every slice they would).

#define NET_RING    2  // ring pages
#define NET_OUT     (NET_VA + NET_RING * PGSIZE)
#define NET_SLOT(i) ((volatile struct net_slot *)(NET_VA + (i) % NET_RING * PGSIZE))
#define NET_PORT    7007   // the row's UDP port (0x1B5F)
#define OTHER_PORT  20000  // filter-demux: the other filters' ports from here on
#define GO_OFFSET   2048   // where the "go" frame sits in the out page
#define NET_KIDS    16     // competing processes, or children holding filters, at most
#define NET_RETRIES 20     // datagrams a run that came too early (b_udp_user), at most
#define PEER_WAIT   4      // seconds of the machine's time to wait for the peer's first answer

// The "go" datagram: from 52:54:00:12:34:56 (QEMU's first NIC), 10.0.2.15
// port NET_PORT, to 10.0.2.2 port 7 (the peer takes any), IP header
// checksummed, no UDP checksum.
static const unsigned char go_frame[44] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00,  // Ethernet
    0x45, 0x00, 0x00, 0x1E, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x22, 0xBF,  // IPv4, 30 bytes
    0x0A, 0x00, 0x02, 0x0F, 0x0A, 0x00, 0x02, 0x02,                          //
    0x1B, 0x5F, 0x00, 0x07, 0x00, 0x0A, 0x00, 0x00,                          // UDP, 10 bytes
    'g',  'o'};

// Install a filter for the UDP ports port .. port + nports - 1 (IPv4 with
// no options; the port last, so that dpf.c merges them all into one
// class; an OR of them: nports at most DPF_ALTS) with the ring pages
// ring[0..n-1]. Returns its number or an error.
static long udp_filter(unsigned int port, int nports, const unsigned long *ring, unsigned long n)
{
  static const struct dpf_term udp[4] = {
      {12, 2, 0xFFFF, 0x0800}, {14, 1, 0xFF, 0x45}, {23, 1, 0xFF, 17}, {36, 2, 0xFFFF, 0}};
  struct dpf_term t[DPF_ALTS * 5];
  int k = 0;
  for (int i = 0; i < nports; i++) {
    if (i > 0)
      t[k++] = DPF_OR;
    memmove(&t[k], udp, sizeof(udp));
    t[k + 3].value = port + i;
    k += 4;
  }
  return sys_net_filter(t, k, ring, n);
}

static unsigned long net_ring[NET_RING], net_out;
static long net_filter_no;
static unsigned long net_seen;  // frames taken from the ring
static int net_kid[NET_KIDS], net_nkids;

// Send the "go" datagram. Returns the request number or an error.
static long ask_peer(void)
{
  return sys_net_send(net_out, GO_OFFSET, sizeof(go_frame));
}

// The pages, the filter for NET_PORT, and the peer's first answer (it may
// take a while to come: the first frame is waited for with a limit, the
// others without). Returns 0 or an error (-E_AGAIN: no peer answered).
static long net_begin(void)
{
  for (int i = 0; i <= NET_RING; i++) {
    long p = vm_alloc(NET_VA + i * PGSIZE, PTE_R | PTE_W | PTE_SHARE);  // forks do not copy it
    if (p < 0)
      return p;
    if (i < NET_RING)
      net_ring[i] = p;
    else
      net_out = p;
  }
  memmove((char *)NET_OUT + GO_OFFSET, go_frame, sizeof(go_frame));
  if ((net_filter_no = udp_filter(NET_PORT, 1, net_ring, NET_RING)) < 0)
    return net_filter_no;
  long go = ask_peer();
  if (go < 0)
    return go;
  unsigned long end = rdtime() + PEER_WAIT * SYSINFO->timebase_hz;
  while (!NET_SLOT(0)->full && rdtime() < end)
    sys_yield(0);
  if (!NET_SLOT(0)->full) {
    fprintf(2, "exobench: no answer from the host's peer (labs/bench.py answers: make bench)\n");
    return -E_AGAIN;
  }
  NET_SLOT(0)->full = 0;
  net_seen = 1;
  return sys_net_status(go, 1);
}

// Wait for the next datagram in the ring. Returns its slot, or NULL.
static volatile struct net_slot *net_next(void)
{
  long got = sys_net_wait(net_filter_no, net_seen, 0);
  if (got <= (long)net_seen)
    return NULL;
  return NET_SLOT(net_seen++);
}

// Wait until send request req has left the machine, spinning (no one
// else runs meanwhile), and collect it. Returns 0 or an error. (The
// device holds a frame TX_DELAY before sending it, labs/bench.py, unless
// one is already waiting: so the "go" must not follow a frame still
// held, or it would leave at once.)
static long net_sent(long req)
{
  long r;
  while ((r = sys_net_status(req, 0)) == 1)
    ;
  return r;
}

// A busy process: it spins for ever, taking every time slice it is given.
static void spin(void)
{
  for (;;)
    asm volatile("");
}

// Fork `n` children running fn (which never returns) into net_kid.
// Returns 0 or an error.
static long net_fork(int n, void (*fn)(void))
{
  if (n > NET_KIDS)
    return -E_INVAL;
  for (; net_nkids < n; net_nkids++) {
    int pid = fork();
    if (pid == 0)
      fn();
    if (pid < 0)
      return pid;
    net_kid[net_nkids] = pid;
  }
  return 0;
}

static int net_arg;  // the row's competing processes, or filters (measure sets it)

// udp-roundtrip rows: net_arg busy children (forked first: the network's
// pages are then this process's alone), the pages, the filter, the peer.
static long setup_roundtrip(void)
{
  long err = net_fork(net_arg, spin);
  return err < 0 ? err : net_begin();
}

// End the children (the filter, the pages and the children's slots go
// with this process).
static void teardown_net(void)
{
  for (int i = 0; i < net_nkids; i++)
    end_child(net_kid[i]);
  net_nkids = 0;
}

// Turn the datagram in slot s into its echo in the out page: the frame
// copied with its Ethernet and IP addresses and its UDP ports swapped
// (the IP checksum is the same). Returns its length.
static unsigned long echo_frame(volatile struct net_slot *s)
{
  static const unsigned char fields[3][2] = {{0, 6}, {26, 4}, {34, 2}};  // offset, length
  unsigned char *f = (unsigned char *)NET_OUT;
  unsigned long len = s->len;
  memmove(f, (const void *)s->frame, len);
  for (int i = 0; i < 3; i++) {
    int at = fields[i][0], n = fields[i][1];
    memmove(f + at, (const void *)(s->frame + at + n), n);
    memmove(f + at + n, (const void *)(s->frame + at), n);
  }
  return len;
}

// udp-roundtrip-user-K: n round trips; in each, this process wakes from
// net_wait with the peer's datagram, writes the echo in its own page and
// sends it. Returns the instructions from each datagram's arrival to its
// echo's transmission, summed. A datagram that came before this process
// went to sleep for it took another path, one without a wake-up: it is
// not counted, and the peer is asked again (at most NET_RETRIES times a
// run). (The device's delay, labs/bench.py's TX_DELAY, keeps that from
// happening: without it QEMU could send the go and take the answer
// before the processor went on from the device's register.)
static long b_udp_user(unsigned long n)
{
  long total = 0;
  for (unsigned long i = 0, tries = 0; i < n; tries++) {
    long go = ask_peer(), reply;
    unsigned long asked = rdinstret();
    volatile struct net_slot *s = go < 0 ? NULL : net_next();
    if (s == NULL || tries > n + NET_RETRIES)
      return go < 0 ? go : s == NULL ? -E_INVAL : -E_AGAIN;
    unsigned long len = echo_frame(s);
    s->full = 0;
    if ((reply = sys_net_send(net_out, 0, len)) < 0)
      return reply;
    unsigned long rx = SYSINFO->net_rx_instret, tx = SYSINFO->net_tx_instret;
    long err = net_sent(go);
    if (err == 0)
      err = net_sent(reply);
    if (err < 0 || tx < rx)
      return err < 0 ? err : -E_INVAL;
    if (rx > asked)
      total += tx - rx, i++;
  }
  return total;
}

// udp-roundtrip-ash-K rows: as udp-roundtrip-user-K's, and ulib's
// ash_udp_echo handler on the filter, building its replies at the start
// of the out page.
static long setup_ash(void)
{
  long err = setup_roundtrip();
  return err < 0 ? err : ash_udp_echo(net_filter_no, net_out);
}

// udp-roundtrip-ash-K: n round trips, each answered by the handler in the
// kernel as the datagram arrives; this process only yields the processor
// until the handler has sent (it runs no part of the round trip), and
// then until the echo has left. Returns the instructions from each
// datagram's arrival to its echo's transmission, summed. (The go is
// collected before the answer comes, and the echo before the next go, so
// the handler's send always finds the same free send slot.)
static long b_udp_ash(unsigned long n)
{
  const volatile struct ash_info *a = &SYSINFO->ash[net_filter_no];
  long total = 0;
  for (unsigned long i = 0; i < n; i++) {
    unsigned long gone = SYSINFO->net_sent;
    unsigned int sent = a->sent;
    long go = ask_peer();
    long err = go < 0 ? go : net_sent(go);
    while (err == 0 && a->sent == sent && !a->stopped)
      sys_yield(0);
    unsigned long rx = SYSINFO->net_rx_instret, tx = SYSINFO->net_tx_instret;
    if (err < 0 || a->stopped || tx < rx)
      return err < 0 ? err : -E_INVAL;
    total += tx - rx;
    while (SYSINFO->net_sent < gone + 2)  // the go and the echo
      sys_yield(0);
  }
  return total;
}

// Install filters for the UDP ports port .. port + nports - 1, DPF_ALTS
// ports a filter (ORs), with ring page ring. Returns 0 or an error.
static long udp_filters(unsigned int port, int nports, unsigned long ring)
{
  for (int i = 0; i < nports; i += DPF_ALTS) {
    long f = udp_filter(port + i, nports - i < DPF_ALTS ? nports - i : DPF_ALTS, &ring, 1);
    if (f < 0)
      return f;
  }
  return 0;
}

// A child of filter-demux's: install the filters for shared->net_count
// ports from OTHER_PORT + shared->net_port on (a page of its own as their
// ring), say so in the shared page (net_count 0, or the error), and sleep
// for ever (none of its ports gets a frame).
static void hold_filters(void)
{
  long ring = vm_page_alloc(PG_USER), err = ring;
  if (ring >= 0)
    err = udp_filters(OTHER_PORT + SHARED->net_port, SHARED->net_count, ring);
  SHARED->net_count = err < 0 ? err : 0;
  for (;;)
    sys_net_wait(NET_WAIT_ALL, 0, 0);
}

#define PORTS_PER_ENV (NET_FILTERS_PER_ENV * DPF_ALTS)

// filter-demux-N: the filter of this process's port and N - 1 other ports
// in the merged table, all one class, in filters of DPF_ALTS ports (ORs;
// the machine has NET_FILTERS filters, but each of a filter's
// alternatives is an entry of the table of its own): this process's
// other filters hold up to PORTS_PER_ENV - DPF_ALTS of them, children
// PORTS_PER_ENV each.
static long setup_demux(void)
{
  long err = shared_map();
  if (err < 0 || (err = net_begin()) < 0)
    return err;
  int others = net_arg - 1, mine = PORTS_PER_ENV - DPF_ALTS;
  mine = others < mine ? others : mine;
  if ((err = udp_filters(OTHER_PORT, mine, net_ring[0])) < 0)
    return err;
  for (int port = mine; port < others; port += PORTS_PER_ENV) {
    SHARED->net_port = port;
    SHARED->net_count = others - port < PORTS_PER_ENV ? others - port : PORTS_PER_ENV;
    if ((err = net_fork(net_nkids + 1, hold_filters)) < 0)
      return err;
    while (SHARED->net_count > 0)  // the child installs them
      sys_yield(net_kid[net_nkids - 1]);
    if (SHARED->net_count < 0)
      return SHARED->net_count;
  }
  return 0;
}

// End the children (their filters go with them) and unmap the shared page.
static void teardown_demux(void)
{
  teardown_net();
  shared_unmap();
}

// filter-demux-N: n datagrams for this process's port; for each, the
// instructions from its arrival to the packet filters' verdict (the
// kernel's whole demultiplexing), summed.
static long b_filter_demux(unsigned long n)
{
  long total = 0;
  for (unsigned long i = 0; i < n; i++) {
    long go = ask_peer();
    volatile struct net_slot *s = go < 0 ? NULL : net_next();
    if (s == NULL)
      return go < 0 ? go : -E_INVAL;
    s->full = 0;
    total += SYSINFO->net_match_instret - SYSINFO->net_rx_instret;
    long err = net_sent(go);
    if (err < 0)
      return err;
  }
  return total;
}

// ---------------------------------------------------------------- the table

#define NONE    (-1L)

struct row {
  const char *name;
  long (*run)(unsigned long n);  // instructions for n iterations; NULL: not built yet
  long (*setup)(void);           // optional; returns 0 or an error
  void (*teardown)(void);        // optional
  unsigned long iters, quick;    // iterations a run (full, quick)
  unsigned long ops;             // operations an iteration
  long reference, target;        // xv6-riscv's figure, the target (NONE: none)
  int kind;                      // PLAIN, SIZED or NET
  const char *note;
};
// A row's kind. PLAIN: as measure() describes it. SIZED: its note gives
// the program's size (pages mapped). NET: a network row, which gives its
// own figure (no idle to leave out), shares the processor as usual (no
// settle()), and whose name ends in its count of competing processes or
// packet filters (net_arg).
#define PLAIN 0
#define SIZED 1
#define NET   2

// Iteration counts keep a run within one time slice (1,000,000
// instructions) where the operation allows, so that no timer interrupt
// lands in it.
static const struct row rows[] = {
    {"null-syscall", b_null_syscall, NULL, NULL, 5000, 50, 1, 1130, 40, 0, "sys_getenvid"},
    {"exception-upcall", b_exception_upcall, setup_breakpoint, teardown_breakpoint, 4000, 50, 1,
     NONE, 100, 0, "ebreak, ExOS handler, resume"},
    {"pagefault-map-only", b_pagefault_map_only, setup_pagefault, teardown_pagefault, 512, 20, 1,
     NONE, NONE, 0, "load fault, vm_map a given page, resume"},
    {"demand-zero-fault", b_demand_zero_fault, NULL, NULL, 400, 20, 1, 26400, 1200, 0,
     "sbrk a page, store: alloc, zero, map"},
    {"pte-write", b_pte_write, setup_ptew, teardown_ptew, 4000, 50, 1, NONE, 150, 0,
     "one leaf rewritten"},
    {"pte-write-batch", b_pte_write_batch, setup_ptew, teardown_ptew, 128, 4, BATCH, NONE, 40, 0,
     "per entry, 64 a call"},
    {"pte-map-new", b_pte_map_new, setup_map_new, teardown_map_new, 512, 20, 1, NONE, 200, 0,
     "a new page into an empty slot"},
    {"pte-map-new-batch", b_pte_map_new_batch, setup_map_new, teardown_map_new, 8, 1, BATCH, NONE,
     NONE, 0, "per entry, 64 new pages a call"},
    {"pct-oneway", b_pct_oneway, setup_server, teardown_server, 1000, 50, 1, NONE, NONE, 0,
     "pct_send's ecall to callee entry"},
    {"pct-roundtrip", b_pct_roundtrip, setup_server, teardown_server, 4000, 50, 1, NONE, 150, 0,
     "pct_call + pct_reply"},
    {"directed-yield", b_directed_yield, setup_partner, teardown_partner, 1000, 20, 2, NONE, NONE,
     0, "per switch"},
    {"slice-switch", b_slice_switch, shared_map, shared_unmap, 20, 2, 1, NONE, NONE, 0,
     "per slice boundary"},
    {"rpc-roundtrip", b_rpc_roundtrip, setup_rpc, teardown_rpc, 2000, 50, 1, NONE, 250, 0,
     "rpc_call, empty body"},
    {"pipe-roundtrip", b_pipe_roundtrip, setup_pipe, teardown_pipe, 500, 20, 1, 95839, 800, 0,
     "1 byte, two processes"},
    {"fork-exit-wait", b_fork_exit_wait, NULL, NULL, 20, 2, 1, 474592, 250000, SIZED,
     "child exits at once"},
    {"fork-1mib-exit-wait", b_fork_exit_wait, setup_heap_1mib, teardown_heap_1mib, 10, 2, 1,
     12283185, NONE, SIZED, "with 1 MiB of heap touched"},
    {"fork-exec-wait", b_fork_exec_wait, NULL, NULL, 10, 2, 1, 1303597, 400000, 0,
     "child execs echo from the disk"},
    {"spawn-exit-wait", b_spawn_exit_wait, NULL, NULL, 10, 2, 1, NONE, NONE, 0,
     "echo from the disk, instead of fork+exec"},
    {"appel-prot1", b_appel_prot1, setup_appel, teardown_appel, 2000, 20, 1, NONE, NONE, 0,
     "vm_protect"},
    {"appel-prot100", b_appel_prot100, setup_appel, teardown_appel, 64, 2, 1, NONE, NONE, 0,
     "per 100 pages, batched"},
    {"appel-unprot100", b_appel_unprot100, setup_appel, teardown_appel, 64, 2, 1, NONE, NONE, 0,
     "per 100 pages, batched"},
    {"appel-appel1", b_appel_appel1, setup_appel, teardown_appel, 1000, 20, 1, NONE, NONE, 0,
     "per access"},
    {"appel-appel2", b_appel_appel2, setup_appel, teardown_appel, 10, 1, APPEL_PAGES, NONE, NONE, 0,
     "per page"},
    {"appel-dirty", b_appel_dirty, setup_appel, teardown_appel, 10000, 50, 1, NONE, NONE, 0,
     "vm_pte"},
    {"file-read-1mib", b_file_read, setup_file, teardown_file, 4, 1, 1, NONE, 1200000, 0,
     "4 KiB reads, cached in fsd"},
    {"file-write-1mib", b_file_write, setup_file, teardown_file, 2, 1, 1, NONE, NONE, 0,
     "4 KiB writes, each logged"},
    {"udp-roundtrip-user-0", b_udp_user, setup_roundtrip, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "owner echoes; 0 busy processes"},
    {"udp-roundtrip-user-1", b_udp_user, setup_roundtrip, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "owner echoes; 1 busy process"},
    {"udp-roundtrip-user-2", b_udp_user, setup_roundtrip, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "owner echoes; 2 busy processes"},
    {"udp-roundtrip-user-4", b_udp_user, setup_roundtrip, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "owner echoes; 4 busy processes"},
    {"udp-roundtrip-user-8", b_udp_user, setup_roundtrip, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "owner echoes; 8 busy processes"},
    {"udp-roundtrip-user-16", b_udp_user, setup_roundtrip, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "owner echoes; 16 busy processes"},
    {"udp-roundtrip-ash-0", b_udp_ash, setup_ash, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "handler echoes; 0 busy processes"},
    {"udp-roundtrip-ash-1", b_udp_ash, setup_ash, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "handler echoes; 1 busy process"},
    {"udp-roundtrip-ash-2", b_udp_ash, setup_ash, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "handler echoes; 2 busy processes"},
    {"udp-roundtrip-ash-4", b_udp_ash, setup_ash, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "handler echoes; 4 busy processes"},
    {"udp-roundtrip-ash-8", b_udp_ash, setup_ash, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "handler echoes; 8 busy processes"},
    {"udp-roundtrip-ash-16", b_udp_ash, setup_ash, teardown_net, 10, 3, 1, NONE, NONE, NET,
     "handler echoes; 16 busy processes"},
    {"filter-demux-1", b_filter_demux, setup_demux, teardown_demux, 100, 10, 1, NONE, NONE, NET,
     "arrival to filter found; 1 port"},
    {"filter-demux-10", b_filter_demux, setup_demux, teardown_demux, 100, 10, 1, NONE, NONE, NET,
     "arrival to filter found; 10 ports"},
    {"filter-demux-100", b_filter_demux, setup_demux, teardown_demux, 100, 10, 1, NONE, NONE, NET,
     "arrival to filter found; 100 ports"},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

struct result {
  long err;               // 0, or why the row could not be measured
  unsigned long ops;      // operations a run
  unsigned long pages;    // user pages the program had mapped after the row's setup
  long run[RUNS];         // each run's figure, in tenths of an instruction
  long median, min, max;  // in tenths
  long idle[RUNS];        // each run's idle wait (left out of run[]), in tenths an operation
  long waits[RUNS];       // how many times the hart went idle in each run
};

static struct result results[NROWS];
#define SKIPPED 1  // results[i].err of a row the arguments did not select
static int quick;  // bench=quick: few iterations
static int reverse;  // reverse: every row, the last first
static int exact;  // rdinstret counts instructions exactly (exact_counting)

// Does rdinstret count exactly one per instruction (QEMU's -icount
// shift=0)? Under -icount, QEMU reads the counter from the virtual clock,
// in nanoseconds, which advances 2^shift of them per instruction; without
// it, from the host's cycle counter. So the counter must read as the clock
// does, and a loop of a known number of instructions must advance it by
// that number (a few tries: a timer interrupt may land in one).
static int exact_counting(void)
{
  unsigned long ns_per_tick = 1000000000UL / SYSINFO->timebase_hz;
  for (int try = 0; try < 3; try++) {
    sys_yield(0);  // a fresh time slice
    unsigned long ticks = rdtime(), ns = rdinstret();
    if (ns < ticks * ns_per_tick || ns - ticks * ns_per_tick > 2 * ns_per_tick)
      return 0;  // the counter does not follow the virtual clock
    unsigned long n = 10000, t0 = rdinstret();
    asm volatile("1: addi %0, %0, -1\n bnez %0, 1b" : "+r"(n));  // 2n instructions
    unsigned long counted = rdinstret() - t0;
    if (counted >= 20000 && counted <= 20000 + 16)
      return 1;
  }
  return 0;
}

// total instructions over d operations, in tenths of an instruction, rounded.
static long tenths(long total, unsigned long d)
{
  return (total * 10 + (long)(d / 2)) / (long)d;
}

// Copy the RUNS values of v into out, sorted, smallest first.
static void sort_runs(const long *v, long *out)
{
  memmove(out, v, RUNS * sizeof(long));
  for (int i = 1; i < RUNS; i++)  // insertion sort
    for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
      long t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
}

// Where a profiler (labs/profile.py) starts and stops counting: around
// each timed run. They must stay distinct functions that are really called.
__attribute__((noipa)) void bench_profile_begin(void)
{
  asm volatile("");
}

__attribute__((noipa)) void bench_profile_end(void)
{
  asm volatile("nop");
}

// Count a user page (vm_for_each_leaf's callback).
static long count_page(unsigned long va, unsigned long pte, void *arg)
{
  (*(unsigned long *)arg)++;
  return 0;
}

// The number a network row's name ends in ("filter-demux-100": 100).
static int name_count(const char *name)
{
  const char *last = name;
  for (const char *p = name; *p != '\0'; p++)
    if (*p == '-')
      last = p + 1;
  return atoi(last);
}

// Measure row r into *res: setup, a warm-up run, RUNS runs, each from the
// start of a fresh time slice, teardown; then the median, minimum and
// maximum. A row that fails keeps its error in res->err.
static void measure(const struct row *r, struct result *res)
{
  unsigned long n = quick ? r->quick : r->iters;
  res->ops = n * r->ops;
  if (r->kind == NET)
    net_arg = name_count(r->name);
  long err = r->setup != NULL ? r->setup() : 0;
  vm_for_each_leaf(count_page, &res->pages);
  if (err == 0) {
    long w = r->run(n / 10 ? n / 10 : 1);
    err = w < 0 ? w : 0;
  }
  for (int i = 0; i < RUNS && err == 0; i++) {
    if (r->kind != NET)
      settle();
    unsigned long idle = SYSINFO->idle, waits = SYSINFO->idle_waits;
    bench_profile_begin();
    long t = r->run(n);
    bench_profile_end();
    if (r->kind != NET)
      unsettle();
    // waiting for a device: host time under -icount
    idle = r->kind == NET ? 0 : SYSINFO->idle - idle;
    res->waits[i] = SYSINFO->idle_waits - waits;
    if (t < 0) {
      err = t;
    } else if (t <= (long)idle) {
      err = -E_INVAL;
    } else {
      res->run[i] = tenths(t - idle, res->ops);
      res->idle[i] = tenths(idle, res->ops);
    }
  }
  if (r->teardown != NULL)
    r->teardown();
  res->err = err;
  long sorted[RUNS];
  sort_runs(res->run, sorted);
  res->min = sorted[0];
  res->median = sorted[RUNS / 2];
  res->max = sorted[RUNS - 1];
}

// Measure row r in a fresh process (`exobench -row NAME`, which runs
// row_main) whose standard output is a pipe, wait for it to end, and read
// its result from the pipe into *res. If there is no pipe or no process to
// be had (a lab's starter, whose pipes or spawn are not written yet), say
// so and measure it in this one. If the process ends without a result,
// res->err says so.
static void measure_apart(const struct row *r, struct result *res)
{
  int p[2], out = dup(1), pid = out;
  if (out >= 0 && (pid = pipe(p)) == 0) {
    char *argv[] = {"exobench", "-row", (char *)r->name, quick ? "quick" : NULL, NULL};
    dup2(p[1], 1);  // spawn hands over descriptors 0, 1 and 2
    pid = spawn("exobench", argv);
    dup2(out, 1);
    close(p[1]);
    long got = 0;
    if (pid >= 0 && waitpid(pid, NULL) == pid)  // asleep meanwhile: not in the row's way
      for (long k; got < (long)sizeof(*res); got += k)
        if ((k = read(p[0], (char *)res + got, sizeof(*res) - got)) <= 0)
          break;
    close(p[0]);
    if (pid >= 0 && got != sizeof(*res))
      res->err = -E_IO;
  }
  if (out >= 0)
    close(out);
  if (pid < 0) {
    printf("exobench: %s: no process of its own (%s); measured in this one\n", r->name,
           exos_strerror(pid));
    measure(r, res);
  }
}

// Write v, in tenths, into buf: thousands separated by commas, and a
// decimal only if it is not whole (1,130 / 89.4). Returns buf.
static char *fmt_tenths(char *buf, long v)
{
  char digits[24];
  int n = 0, len = 0;
  unsigned long whole = v / 10;
  do {
    if (n > 0 && n % 3 == 0)
      digits[len++] = ',';
    digits[len++] = '0' + whole % 10;
    whole /= 10;
    n++;
  } while (whole != 0);
  for (int i = 0; i < len; i++)
    buf[i] = digits[len - 1 - i];
  if (v % 10 != 0)
    buf[len++] = '.', buf[len++] = '0' + v % 10;
  buf[len] = '\0';
  return buf;
}

// Print the table: one line per row, in the order of `rows`.
static void print_table(void)
{
  printf("%-21s %7s %12s  %-27s %10s %8s %11s  %-6s  %s\n", "benchmark", "iters", "instr/op",
         "runs (min..max)", "xv6-riscv", "ratio", "target", "mark", "note");
  for (unsigned long i = 0; i < NROWS; i++) {
    const struct row *r = &rows[i];
    const struct result *res = &results[i];
    int ok = r->run != NULL && res->err == 0;
    char iters[24] = "-", per_op[24] = "-", runs[56] = "-", ref[24] = "-", ratio[24] = "-",
         target[24] = "-", note[64];
    const char *mark = "-";
    if (r->run != NULL && res->err != SKIPPED)
      snprintf(iters, sizeof(iters), "%lu", res->ops);
    if (ok) {
      fmt_tenths(per_op, res->median);
      if (res->min == res->max) {
        strlcpy(runs, "stable", sizeof(runs));
      } else {
        char lo[24], hi[24];
        snprintf(runs, sizeof(runs), "%s..%s", fmt_tenths(lo, res->min), fmt_tenths(hi, res->max));
      }
    }
    if (r->reference != NONE)
      fmt_tenths(ref, r->reference * 10);
    if (ok && exact && r->reference != NONE) {
      fmt_tenths(ratio, (r->reference * 100 + res->median / 2) / res->median);
      strlcpy(ratio + strlen(ratio), "x", sizeof(ratio) - strlen(ratio));
    }
    if (r->target != NONE) {
      char t[24];
      snprintf(target, sizeof(target), "<= %s", fmt_tenths(t, r->target * 10));
      if (ok && exact)
        mark = res->median <= r->target * 10 ? "met" : "MISSED";
    }
    if (r->run == NULL)
      strlcpy(note, "(not built yet)", sizeof(note));
    else if (res->err == SKIPPED)
      strlcpy(note, "(not selected)", sizeof(note));
    else if (!ok)
      snprintf(note, sizeof(note), "(failed: %s)", exos_strerror(res->err));
    else if (r->kind == SIZED)
      snprintf(note, sizeof(note), "%s; %lu pages", r->note, res->pages);
    else
      strlcpy(note, r->note, sizeof(note));
    printf("%-21s %7s %12s  %-27s %10s %8s %11s  %-6s  %s\n", r->name, iters, per_op, runs, ref,
           ratio, target, mark, note);
  }
  for (unsigned long i = 0; i < NROWS; i++) {  // footnotes: idle time left out
    long sorted[RUNS], waits[RUNS];
    char idle[24];
    sort_runs(results[i].idle, sorted);
    sort_runs(results[i].waits, waits);
    if (rows[i].run != NULL && results[i].err == 0 && sorted[RUNS / 2] > 0)
      printf("exobench: %s: not counted above, the hart waited idle (for the disk) %s "
             "instructions' worth of time an operation, in %ld..%ld waits a run (median; host "
             "time under -icount)\n",
             rows[i].name, fmt_tenths(idle, sorted[RUNS / 2]), waits[0], waits[RUNS - 1]);
  }
}

// Is arg bench=quick (or quick)?
static int is_quick(const char *arg)
{
  return strcmp(arg, "bench=quick") == 0 || strcmp(arg, "quick") == 0;
}

// The row named name, or NULL.
static const struct row *row_named(const char *name)
{
  for (unsigned long i = 0; i < NROWS; i++)
    if (strcmp(rows[i].name, name) == 0)
      return &rows[i];
  return NULL;
}

// exobench -row NAME [quick], as measure_apart starts it: measure the row
// NAME and write its result to the standard output, a pipe (which the
// row's own children do not write: they print to the standard error's
// file instead). Returns the exit status.
static int row_main(int argc, char **argv)
{
  const struct row *r = argc >= 3 ? row_named(argv[2]) : NULL;
  if (r == NULL || r->run == NULL) {
    fprintf(2, "exobench: -row: no row %s\n", argc >= 3 ? argv[2] : "named");
    return 2;
  }
  quick = argc >= 4 && is_quick(argv[3]);
  int out = dup(1);
  dup2(2, 1);
  struct result res = {0};
  measure(r, &res);
  return write(out, &res, sizeof(res)) == sizeof(res) ? 0 : 1;
}

int main(int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "-row") == 0)
    return row_main(argc, argv);
  int named = 0;
  for (int i = 1; i < argc; i++) {
    if (is_quick(argv[i])) {
      quick = 1;
    } else if (strcmp(argv[i], "reverse") == 0) {
      reverse = 1;
    } else if (row_named(argv[i]) != NULL || strcmp(argv[i], "net") == 0) {
      named++;
    } else {
      fprintf(2,
              "exobench: unknown argument %s\nusage: exobench [bench=quick] [reverse] [net] "
              "[ROW...]; "
              "the rows:",
              argv[i]);
      for (unsigned long k = 0; k < NROWS; k++)
        fprintf(2, " %s", rows[k].name);
      fprintf(2, "\n");
      return 2;
    }
  }
  unsigned long harts = ((const struct sysinfo *)USYSINFO)->harts_up;
  if (harts > 1) {
    fprintf(2,
            "exobench: it measures one hart, and this machine has %lu (rdinstret counts every "
            "hart's instructions under -icount, and the fast paths exist only with one hart): "
            "boot it with CPUS=1\n",
            harts);
    return 1;
  }
  printf("exobench: %s run; retired instructions (rdinstret) per operation, median of %d runs\n",
         quick ? "quick" : "full", RUNS);
  exact = exact_counting();
  if (!exact)
    printf("exobench: WARNING: rdinstret is not counting instructions here (QEMU runs without "
           "-icount shift=0): the figures below are not instruction counts (and may vary from "
           "run to run); no target is marked, and no ratio given. Run `make bench`, or make "
           "qemu ICOUNT=1.\n");
  for (unsigned long i = 0; i < NROWS; i++)
    results[i].err = SKIPPED;
  for (int i = 1; i < argc; i++) {  // the rows named, in the order named
    if (row_named(argv[i]) != NULL)
      measure_apart(row_named(argv[i]), &results[row_named(argv[i]) - rows]);
    for (unsigned long k = 0; k < NROWS && strcmp(argv[i], "net") == 0; k++)
      if (rows[k].kind == NET && rows[k].run != NULL)
        measure_apart(&rows[k], &results[k]);
  }
  for (unsigned long k = 0; k < NROWS && named == 0; k++) {  // none named: every row
    unsigned long i = reverse ? NROWS - 1 - k : k;
    if (rows[i].run != NULL)
      measure_apart(&rows[i], &results[i]);
  }
  print_table();
  printf("exobench: done\n");
  return 0;
}
