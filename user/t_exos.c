// t_exos: ExOS's user-level exceptions, virtual memory and heap.

#include "user/tsupport.h"
#include "ulib/exos.h"

#define REGION 0x2400000000UL  // pages this test maps on demand
#define PROT   0x2500000000UL  // vm_protect_range's pages straddle this root-entry boundary

static int breakpoints, illegals, demand_maps, nested_inner, nested_intact;
static exos_handler next_load, next_store, next_fetch;

// Skip the faulting 4-byte instruction.
static int skip(struct xframe *f)
{
  f->pc += 4;
  return 1;
}

// What the breakpoint handler saw: its sp and exos_critical.
static unsigned long handler_sp, handler_critical;

static int on_breakpoint(struct xframe *f)
{
  asm volatile("mv %0, sp" : "=r"(handler_sp));
  handler_critical = exos_critical;
  breakpoints++;
  return skip(f);
}

// Skip a breakpoint after changing every register a C function may change,
// as a bigger handler would.
static int clobber_and_skip(struct xframe *f)
{
  asm volatile("li t0, -1; li t1, -1; li t2, -1; li t3, -1; li t4, -1; li t5, -1; li t6, -1\n"
               "li a0, -1; li a1, -1; li a2, -1; li a3, -1; li a4, -1; li a5, -1; li a6, -1\n"
               "li a7, -1"
               :
               :
               : "t0", "t1", "t2", "t3", "t4", "t5", "t6", "a0", "a1", "a2", "a3", "a4", "a5",
                 "a6", "a7");
  return on_breakpoint(f);
}

// Skip a breakpoint and change a0: the program resumes with the frame's.
static int set_a0(struct xframe *f)
{
  f->a0 = 42;
  return skip(f);
}

static int on_illegal(struct xframe *f)
{
  illegals++;
  return skip(f);
}

// Appel-Li style: a fault in REGION maps a page there and retries.
static int on_page_fault(struct xframe *f)
{
  if (f->addr >= REGION && f->addr < REGION + (1 << 20)) {
    demand_maps++;
    return vm_alloc(PGROUNDDOWN(f->addr), PTE_R | PTE_W) > 0;
  }
  exos_handler next = f->cause == EXC_LOAD_PAGE_FAULT ? next_load : next_store;
  return next != NULL && next(f);
}

// Appel-Li's other half: a store to a page made read-only traps; the
// handler makes it writable again (as a checkpointing or concurrent
// collector would, after noting the page), and the store is retried.
#define GUARDED (REGION + (2 << 20))
static volatile int unprotects;  // a handler changes it
static int on_protected_store(struct xframe *f)
{
  if (PGROUNDDOWN(f->addr) != GUARDED || !(vm_pte(GUARDED) & PTE_V))
    return on_page_fault(f);
  unprotects++;
  return vm_protect(GUARDED, PTE_R | PTE_W) == 0;
}

// An instruction fetch from REGION + 1 MiB maps a page holding
// "li a0, 42; ret" there and retries.
#define CODE (REGION + (1 << 20))
static int on_fetch_fault(struct xframe *f)
{
  if (f->addr != CODE)
    return next_fetch != NULL && next_fetch(f);
  long p = vm_alloc(CODE, PTE_R | PTE_W);
  if (p < 0)
    return 0;
  ((volatile unsigned int *)CODE)[0] = 0x02a00513;  // li a0, 42
  ((volatile unsigned int *)CODE)[1] = 0x00008067;  // ret
  vm_protect(CODE, PTE_R | PTE_X);
  asm volatile("fence.i");
  return 1;
}

// A breakpoint handler that takes a nested exception (illegal instruction)
// on the exception stack before skipping its own.
static int nested_outer(struct xframe *f)
{
  unsigned long sp;
  struct xframe before = *f;
  asm volatile("mv %0, sp" : "=r"(sp));
  nested_inner = sp >= EXOS_XSTACK_LO && sp < EXOS_XSTACK_TOP;
  asm volatile(".4byte 0");  // illegal: handled by on_illegal, nested
  nested_intact = memcmp(&before, f, sizeof(before)) == 0;
  return skip(f);
}

// regs_survive(): load every register but gp with a known value, take a
// breakpoint (handled by skipping it), and compare them all. Returns 0, or
// the number of the first register that changed.
int regs_survive(void);
asm(".globl regs_survive\n"
    "regs_survive:\n"
    "  addi sp, sp, -112\n"
    "  sd ra, 0(sp); sd s0, 8(sp); sd s1, 16(sp); sd s2, 24(sp); sd s3, 32(sp)\n"
    "  sd s4, 40(sp); sd s5, 48(sp); sd s6, 56(sp); sd s7, 64(sp); sd s8, 72(sp)\n"
    "  sd s9, 80(sp); sd s10, 88(sp); sd s11, 96(sp); sd tp, 104(sp)\n"
    "  la gp, regs_saved_sp\n"
    "  sd sp, 0(gp)\n"
    "  li x1, 0x1111; li x2, 0x2222; li x4, 0x4444; li x5, 0x5555; li x6, 0x6666\n"
    "  li x7, 0x7777; li x8, 0x8888; li x9, 0x9999; li x10, 0x1010; li x11, 0x1011\n"
    "  li x12, 0x1012; li x13, 0x1013; li x14, 0x1014; li x15, 0x1015; li x16, 0x1016\n"
    "  li x17, 0x1017; li x18, 0x1018; li x19, 0x1019; li x20, 0x1020; li x21, 0x1021\n"
    "  li x22, 0x1022; li x23, 0x1023; li x24, 0x1024; li x25, 0x1025; li x26, 0x1026\n"
    "  li x27, 0x1027; li x28, 0x1028; li x29, 0x1029; li x30, 0x1030; li x31, 0x1031\n"
    "  .4byte 0x00100073\n"  // ebreak
#define CMP(n, v) "  li gp, " #v "; li t0, " #n "; bne x" #n ", gp, 1f\n"
    "  li gp, 0x5555; bne x5, gp, 2f\n" CMP(1, 0x1111) CMP(2, 0x2222) CMP(4, 0x4444) CMP(6, 0x6666)
        CMP(7, 0x7777) CMP(8, 0x8888) CMP(9, 0x9999) CMP(10, 0x1010) CMP(11, 0x1011) CMP(12, 0x1012)
            CMP(13, 0x1013) CMP(14, 0x1014) CMP(15, 0x1015) CMP(16, 0x1016) CMP(17, 0x1017)
                CMP(18, 0x1018) CMP(19, 0x1019) CMP(20, 0x1020) CMP(21, 0x1021) CMP(22, 0x1022) CMP(
                    23, 0x1023) CMP(24, 0x1024) CMP(25, 0x1025) CMP(26, 0x1026) CMP(27, 0x1027)
                    CMP(28, 0x1028) CMP(29, 0x1029) CMP(30, 0x1030) CMP(
                        31,
                        0x1031) "  li t0, 0\n"
                                "  j 1f\n"
                                "2:li t0, 5\n"
                                "1:la gp, regs_saved_sp\n"
                                "  ld sp, 0(gp)\n"
                                "  mv a0, t0\n"
                                "  ld ra, 0(sp); ld s0, 8(sp); ld s1, 16(sp); ld s2, 24(sp); ld "
                                "s3, 32(sp)\n"
                                "  ld s4, 40(sp); ld s5, 48(sp); ld s6, 56(sp); ld s7, 64(sp); ld "
                                "s8, 72(sp)\n"
                                "  ld s9, 80(sp); ld s10, 88(sp); ld s11, 96(sp); ld tp, 104(sp)\n"
                                "  addi sp, sp, 112\n"
                                "  ret\n");
unsigned long regs_saved_sp;

// Guarded copies (ucopy.S): a bad address fails the copy with -E_FAULT and
// the program goes on; a page a handler maps on demand is no bad address.
static void guarded_copies(void)
{
  static char big[CPUTS_MAX + 2];
  char b[16] = "abcdefgh";
  unsigned long brk = (unsigned long)sbrk(0);
  sbrk(PGROUNDUP(brk) - brk + PGSIZE);
  char *top = (char *)sbrk(0), *heap = top - PGSIZE;  // heap: a page not touched yet
  char *stack_guard = (char *)(EXOS_STACKTOP - EXOS_STACK_MAX) - 8;
  check("a copy from an unmapped address fails", exos_copy(b, (void *)0x80000000UL, 8), -E_FAULT);
  check("a copy from the kernel's half fails", exos_copy(b, (void *)-8UL, 8), -E_FAULT);
  check("a copy into a range wrapping past the top fails", exos_copy((void *)-8UL, b, 16),
        -E_FAULT);
  check("copies of every alignment and length",
        exos_copy(b + 1, "0123456789abcd", 15) == 0 && memcmp(b + 1, "0123456789abcd", 15) == 0 &&
            exos_copy(b, b + 8, 8) == 0 && memcmp(b, "789abcd", 8) == 0,
        1);
  check("a copy into the program's text fails", exos_copy((void *)skip, b, 8), -E_FAULT);
  check("a copy into the stack's guard page fails", exos_copy(stack_guard, b, 8), -E_FAULT);
  check("a copy into heap not yet touched maps it",
        exos_copy(heap, "abcdefgh", 8) == 0 && heap[7] == 'h', 1);
  vm_protect((unsigned long)heap, PTE_R);
  check("a copy into a heap page made read-only fails and leaves it as it was",
        exos_copy(heap, "XY", 2) == -E_FAULT && heap[0] == 'a', 1);
  vm_protect((unsigned long)heap, PTE_R | PTE_W);
  check("a probe for writing of a read-only page fails", exos_probe((void *)skip, 1, 1), -E_FAULT);
  check("a probe running off the heap fails", exos_probe(top - 8, 16, 0), -E_FAULT);
  top[-1] = 'x';
  check("the length of a string running off the heap fails", exos_strnlen(top - 1, 8), -E_FAULT);
  check("a console write from a bad pointer fails", write(1, (void *)0x80000000UL, 8), -E_FAULT);
  memset(big, '.', sizeof(big) - 1);
  big[sizeof(big) - 2] = '\n';
  check("a console write longer than the kernel takes at once prints it all",
        write(1, big, sizeof(big) - 1), CPUTS_MAX + 1);
}

int main(int argc, char **argv)
{
  exos_set_handler(EXC_BREAKPOINT, on_breakpoint);
  exos_set_handler(EXC_ILLEGAL_INST, on_illegal);
  next_load = exos_set_handler(EXC_LOAD_PAGE_FAULT, on_page_fault);
  next_store = exos_set_handler(EXC_STORE_PAGE_FAULT, on_page_fault);
  next_fetch = exos_set_handler(EXC_INST_PAGE_FAULT, on_fetch_fault);

  asm volatile(".4byte 0x00100073");  // ebreak
  check("breakpoint handled and resumed", breakpoints, 1);
  check("the handler ran on the exception stack",
        handler_sp >= EXOS_XSTACK_LO && handler_sp < EXOS_XSTACK_TOP, 1);
  check("its sp was 16-byte aligned", handler_sp & 15, 0);
  check("it ran with exos_critical counted", handler_critical, 1);
  check("exos_critical is 0 again once the program resumed", exos_critical, 0);
  asm volatile(".4byte 0");
  check("illegal instruction handled and resumed", illegals, 1);
  check("load page fault mapped a page", *(volatile unsigned long *)REGION, 0);
  *(volatile unsigned long *)(REGION + PGSIZE) = 77;
  check("store page fault mapped a page", *(volatile unsigned long *)(REGION + PGSIZE), 77);
  check("two pages mapped on demand", demand_maps, 2);
  check("instruction page fault mapped code that runs", ((long (*)(void))CODE)(), 42);
  exos_set_handler(EXC_BREAKPOINT, clobber_and_skip);
  check("every register but gp survives an exception", regs_survive(), 0);
  check("breakpoints so far", breakpoints, 2);
  exos_set_handler(EXC_BREAKPOINT, set_a0);
  register long a0 asm("a0") = 7;
  asm volatile(".4byte 0x00100073" : "+r"(a0));
  check("a handler's change to the frame's a0 is what the program resumes with", a0, 42);

  exos_set_handler(EXC_BREAKPOINT, nested_outer);
  asm volatile(".4byte 0x00100073");
  check("nested exception handled on the exception stack", nested_inner, 1);
  check("the inner one was the illegal instruction", illegals, 2);
  check("the outer handler's frame survived the inner exception", nested_intact, 1);

  // The lazy heap.
  unsigned long free0 = SYSINFO->nfree;
  char *h = sbrk(1 << 20);
  check("sbrk 1 MiB maps nothing yet", SYSINFO->nfree, free0);
  for (int i = 0; i < 16; i++)
    h[i * PGSIZE] = i;
  check("touching 16 pages maps 16 zero pages", free0 - SYSINFO->nfree >= 16, 1);
  check("they hold what was stored", h[5 * PGSIZE] == 5 && h[5 * PGSIZE + 1] == 0, 1);
  check("shrinking the heap frees them",
        (char *)sbrk(-(1 << 20)) == h + (1 << 20) && SYSINFO->nfree + 2 >= free0, 1);
  check("the heap cannot shrink below its start", (long)sbrk(-(1L << 40)), -1);

  // vm_protect_range: 200 pages across a root-entry boundary (so across
  // level-1 and level-0 tables), in two batches.
  unsigned long base = PROT - 100 * PGSIZE, nw = 0, nr = 0;
  int mapped = 1;
  for (int i = 0; i < 200; i++)
    mapped &= vm_alloc(base + i * PGSIZE, PTE_R | PTE_W) > 0;
  check("200 pages mapped for vm_protect_range", mapped, 1);
  check("vm_protect_range: 200 pages read-only", vm_protect_range(base, 200, PTE_R), 0);
  for (int i = 0; i < 200; i++) {
    unsigned long pte = vm_pte(base + i * PGSIZE);
    nr += (pte & (PTE_V | PTE_R | PTE_W)) == (PTE_V | PTE_R);
  }
  check("every one of them is read-only", nr, 200);
  check("and still readable", *(volatile char *)(base + 150 * PGSIZE), 0);
  check("vm_protect_range: writable again", vm_protect_range(base, 200, PTE_R | PTE_W), 0);
  for (int i = 0; i < 200; i++)
    nw += (vm_pte(base + i * PGSIZE) & (PTE_V | PTE_W)) == (PTE_V | PTE_W);
  check("every one of them is writable", nw, 200);
  *(volatile char *)(base + 150 * PGSIZE) = 1;
  check("a range reaching an unmapped page is refused",
        vm_protect_range(base + 199 * PGSIZE, 2, PTE_R), -E_INVAL);
  check("and its batch is not applied", (vm_pte(base + 199 * PGSIZE) & PTE_W) != 0, 1);
  for (int i = 0; i < 200; i++) {
    unsigned long pte = vm_pte(base + i * PGSIZE);
    vm_unmap(base + i * PGSIZE);
    sys_page_free(PTE_PPN(pte));
  }

  // malloc and free.
  char *blocks[64];
  int intact = 1;
  for (int i = 0; i < 64; i++) {
    blocks[i] = malloc(1 + i * 97);
    memset(blocks[i], i, 1 + i * 97);
  }
  for (int i = 0; i < 64; i++)
    for (int k = 0; k < 1 + i * 97; k++)
      intact &= blocks[i][k] == i;
  check("64 malloc blocks keep their contents", intact, 1);
  check("malloc aligns to 16", ((unsigned long)blocks[3] & 15), 0);
  for (int i = 0; i < 64; i += 2)
    free(blocks[i]);
  char *again = malloc(500);
  check("freed space is reused", again < blocks[63], 1);
  for (int i = 1; i < 64; i += 2)
    free(blocks[i]);
  free(again);
  char *big = malloc(1 << 20);
  check("a 1 MiB block", big != NULL, 1);
  big[(1 << 20) - 1] = 1;
  free(big);
  check("an impossible size fails", malloc(-1UL) == NULL, 1);
  kcheck("exos");
  exos_set_handler(EXC_STORE_PAGE_FAULT, on_protected_store);
  volatile unsigned long *g = (volatile unsigned long *)GUARDED;
  check("map a page and write it", vm_alloc(GUARDED, PTE_R | PTE_W) > 0, 1);
  g[0] = 1;
  check("protect it read-only", vm_protect(GUARDED, PTE_R), 0);
  check("... reading it takes no fault", g[0] == 1 && unprotects == 0, 1);
  g[1] = 2;
  check("a store faults, the handler unprotects it, the store is retried",
        unprotects == 1 && g[1] == 2 && (vm_pte(GUARDED) & PTE_W), 1);
  g[2] = 3;
  check("... once", unprotects, 1);
  guarded_copies();
  finish("t_exos");
}
