// ExOS exceptions: the handler registry, the dispatcher that xentry.S calls,
// the recovery of a guarded access to a bad pointer (ucopy.S), and the
// report for an exception nobody handles (with a backtrace).

#include "ulib.h"
#include "kernel/riscv.h"
#include "kernel/symtab.h"
#include "ulib/exos.h"

#define NCAUSES 16

static exos_handler handlers[NCAUSES];
extern char etext[], exos_upcall_code_start[], exos_upcall_code_end[];
extern char exos_guarded_start[], exos_guarded_end[], exos_guarded_fault[];
_Static_assert(EXOS_E_FAULT == E_FAULT, "EXOS_E_FAULT");

static const char *const cause_names[NCAUSES] = {
    [EXC_INST_MISALIGNED] = "instruction address misaligned",
    [EXC_INST_ACCESS] = "instruction access fault",
    [EXC_ILLEGAL_INST] = "illegal instruction",
    [EXC_BREAKPOINT] = "breakpoint",
    [EXC_LOAD_MISALIGNED] = "load address misaligned",
    [EXC_LOAD_ACCESS] = "load access fault",
    [EXC_STORE_MISALIGNED] = "store address misaligned",
    [EXC_STORE_ACCESS] = "store access fault",
    [EXC_INST_PAGE_FAULT] = "instruction page fault",
    [EXC_LOAD_PAGE_FAULT] = "load page fault",
    [EXC_STORE_PAGE_FAULT] = "store page fault",
};

// The name of an exception cause, as reports print it.
static const char *cause_name(unsigned long cause)
{
  return cause < NCAUSES && cause_names[cause] ? cause_names[cause] : "unknown exception";
}

// Install fn as the handler for exceptions with this cause; returns the
// previous handler (NULL if none), so a handler can pass on what it does
// not handle.
exos_handler exos_set_handler(int cause, exos_handler fn)
{
  // LAB upcalls: install fn for the cause and return the handler it replaces
  // HANDOUT: return NULL;
  if (cause < 0 || cause >= NCAUSES)
    return NULL;
  exos_handler old = handlers[cause];
  handlers[cause] = fn;
  return old;
  // END LAB upcalls
}

// The program's name, from the kernel's environment table.
const char *exos_progname(void)
{
  const struct env_info *envs = (const struct env_info *)UENVS;
  return envs[sys_getenvid() & 255].name;
}

// Print the chain of calls from a function stopped at pc with frame pointer
// fp (and return address ra, for a leaf), naming functions from the
// program's own symbol table. Frames are walked while they look sane.
void exos_backtrace(unsigned long pc, unsigned long ra, unsigned long fp)
{
  unsigned long off;
  int depth = 0;
  printf("backtrace:\n");
  for (;;) {
    const char *name = pc >= 0x10000 && pc < (unsigned long)etext
                           ? symtab_lookup(ksym_table, ksym_count, pc, &off)
                           : NULL;
    if (name)
      printf("  #%d 0x%lx %s+0x%lx\n", depth, pc, name, off);
    else
      printf("  #%d 0x%lx ?\n", depth, pc);
    if (++depth == 32 || fp < 0x10000 || fp >= UTOP || (fp & 7) || vm_pte(fp - 16) == 0)
      return;
    // A return address is checked as the call before it: a call to a
    // function that never returns may be the last instruction of the text.
    unsigned long saved = ((unsigned long *)fp)[-1];
    int saved_is_code = saved - 4 >= 0x10000 && saved - 4 < (unsigned long)etext;
    if (depth == 1 && ra != 0 && !saved_is_code) {
      pc = ra - 4;  // a leaf: its return address is still in ra
      fp = saved;
      continue;
    }
    if (!saved_is_code)
      return;
    pc = saved - 4;
    fp = ((unsigned long *)fp)[-2];
  }
}

// Is f a memory fault inside ucopy.S's guarded functions: a bad pointer a
// caller handed ExOS, if no handler can resolve it? (A handler that would
// end the program for a fault at such an address, a stack's guard page,
// asks this first and lets the call fail instead.)
int exos_fault_is_guarded(const struct xframe *f)
{
  int memory = f->cause == EXC_LOAD_PAGE_FAULT || f->cause == EXC_STORE_PAGE_FAULT ||
               f->cause == EXC_LOAD_ACCESS || f->cause == EXC_STORE_ACCESS;
  return memory && f->pc >= (unsigned long)exos_guarded_start &&
         f->pc < (unsigned long)exos_guarded_end;
}

// Run the handler for f's cause (xentry.S's exos_dispatch comes here
// while the program has no hart threads); returning resumes the program
// with the registers in f (a handler may change them, e.g. move f->pc past
// a faulting instruction). A fault no handler resolves inside a guarded
// access fails that access: it returns -E_FAULT (ucopy.S). Otherwise the
// program ends with a report.
void exos_dispatch_exception(struct xframe *f)
{
  // LAB upcalls: run the cause's handler; unresolved, fail a guarded access or report and exit
  // HANDOUT: printf("%s: exception %lu at pc 0x%lx: exos_dispatch() is not written\n",
  // HANDOUT:        exos_progname(), f->cause, f->pc);
  // HANDOUT: exit(-1);
  if (f->cause < NCAUSES && handlers[f->cause] != NULL && handlers[f->cause](f))
    return;
  if (exos_fault_is_guarded(f)) {
    f->pc = (unsigned long)exos_guarded_fault;
    return;
  }
  printf("%s: unhandled %s at pc 0x%lx, address 0x%lx\n", exos_progname(), cause_name(f->cause),
         f->pc, f->addr);
  exos_backtrace(f->pc, f->ra, f->s0);
  exit(-1);
  // END LAB upcalls
}

// exos_dispatch (xentry.S) comes here once the program has hart threads:
// exos_dispatch_exception(f), holding ExOS's lock meanwhile if this upcall
// began the critical section.
void exos_dispatch_locked(struct xframe *f)
{
  int took = exos_upcall_lock();
  exos_dispatch_exception(f);
  exos_upcall_unlock(took);
}

// Called by xentry.S for a revocation upcall: the handler revoke.c set
// (exos_revoke_hook), holding ExOS's lock meanwhile as above.
void exos_revoke_dispatch(struct xframe *f)
{
  int took = exos_upcall_lock();
  exos_revoke_hook(f);
  exos_upcall_unlock(took);
}

// Set up exception handling: map the exception stack (the page below it
// stays unmapped as a guard), tell the kernel where it is, where to enter,
// and when not to make asynchronous upcalls (exos_critical, and the pc range
// of xentry.S's entry and exit code).
long exos_exceptions_init(void)
{
  long err;
  for (unsigned long va = EXOS_XSTACK_LO; va < EXOS_XSTACK_TOP; va += PGSIZE)
    if (vm_pte(va) == 0 && (err = vm_alloc(va, PTE_R | PTE_W)) < 0)  // fork maps a child's
      return err;
  exos_critical = 0;
  if ((err = sys_env_set_xstack(0, EXOS_XSTACK_LO, EXOS_XSTACK_TOP)) < 0 ||
      (err = sys_env_set_entry(0, ENTRY_CRITICAL, (unsigned long)&exos_critical)) < 0 ||
      (err = sys_env_set_entry(0, ENTRY_NOUPCALL_LO, (unsigned long)exos_upcall_code_start)) < 0 ||
      (err = sys_env_set_entry(0, ENTRY_NOUPCALL_HI, (unsigned long)exos_upcall_code_end)) < 0)
    return err;
  return sys_env_set_entry(0, ENTRY_EXCEPTION, (unsigned long)exos_xentry);
}
