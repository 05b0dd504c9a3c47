// Traps: system calls, exceptions and interrupts from user mode, and the
// report for a trap in the kernel (always a kernel bug).
//
// The kernel runs with interrupts disabled; they are taken only while an
// environment runs (sstatus.SPIE is set on return to user mode) or while the
// hart idles in schedule().

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

extern char uservec[], uservec_smp[], kernelvec[];
void userret(struct trapframe *tf) __attribute__((noreturn));

static const char *const exception_names[] = {
    [EXC_INST_MISALIGNED] = "instruction address misaligned",
    [EXC_INST_ACCESS] = "instruction access fault",
    [EXC_ILLEGAL_INST] = "illegal instruction",
    [EXC_BREAKPOINT] = "breakpoint",
    [EXC_LOAD_MISALIGNED] = "load address misaligned",
    [EXC_LOAD_ACCESS] = "load access fault",
    [EXC_STORE_MISALIGNED] = "store address misaligned",
    [EXC_STORE_ACCESS] = "store access fault",
    [EXC_ECALL_U] = "environment call from U-mode",
    [EXC_ECALL_S] = "environment call from S-mode",
    [EXC_INST_PAGE_FAULT] = "instruction page fault",
    [EXC_LOAD_PAGE_FAULT] = "load page fault",
    [EXC_STORE_PAGE_FAULT] = "store page fault",
};

// The name of an exception cause, for messages.
static const char *cause_name(uint64 cause)
{
  if (cause & SCAUSE_INTR)
    return "interrupt";
  if (cause < sizeof(exception_names) / sizeof(exception_names[0]) && exception_names[cause])
    return exception_names[cause];
  return "unknown exception";
}

// Point traps at the kernel's vector and enable the interrupt sources the
// kernel uses (they are still masked while the kernel itself runs).
void trap_init(void)
{
  csr_write(stvec, kernelvec);
  csr_set(sie, SIE_STIE | SIE_SEIE | SIE_SSIE);
  csr_write(scounteren, 7);  // user mode may read cycle, time and instret
}

// Handle a device interrupt claimed from the PLIC.
static void external_intr(void)
{
  int hart = r_tp();
  int irq = plic_claim(hart);
  if (irq == UART0_IRQ)
    uart_intr();
  else if (irq != 0 && irq == disk_irq_number())
    disk_intr();
  else if (irq != 0 && irq == net_irq_number())
    net_intr();
  if (irq != 0)
    plic_complete(hart, irq);
}

// Handle one interrupt cause, from user mode or in the idle loop. May switch
// environments (and then does not return). A software interrupt is another
// hart's (smp.c): it only makes this hart enter the kernel, where it finds
// out why (an environment doomed, say).
void handle_interrupt(uint64 cause)
{
  if (cause == (SCAUSE_INTR | IRQ_S_TIMER)) {
    sched_timer();
  } else if (cause == (SCAUSE_INTR | IRQ_S_EXT)) {
    external_intr();
  } else if (cause == (SCAUSE_INTR | IRQ_S_SOFT)) {
    csr_clear(sip, SIE_SSIE);
  }
}

// Destroy e after an exception it cannot handle, saying why in one line.
static void kill_env(struct env *e, const char *why, uint64 cause, uint64 pc, uint64 addr)
{
  printf("rvexo: env %x (%s) destroyed: %s: %s at pc %p, address %p\n", e->pub->id, e->pub->name,
         why, cause_name(cause), (void *)pc, (void *)addr);
  env_destroy(e);
}

static int is_memory_fault(uint64 cause)
{
  return cause == EXC_LOAD_PAGE_FAULT || cause == EXC_STORE_PAGE_FAULT ||
         cause == EXC_LOAD_ACCESS || cause == EXC_STORE_ACCESS || cause == EXC_LOAD_MISALIGNED ||
         cause == EXC_STORE_MISALIGNED;
}

// Deliver a synchronous exception to e's exception entry: record cause, pc
// and address in its u-area and resume it at the entry with every register
// as it was. Without an entry, when the entry itself faults, or when the
// fault is on the exception stack (so the handler could not run), destroy e.
static void exception_upcall(struct env *e, struct trapframe *tf, uint64 cause, uint64 addr)
{
  struct uarea *u = e->uarea;
  uint64 entry = u->entry[ENTRY_EXCEPTION];
  if (entry == 0) {
    kill_env(e, "no exception handler", cause, tf->pc, addr);
    return;
  }
  if (tf->pc == entry) {  // delivering it again would fault again, forever
    kill_env(e, "its exception handler faulted at its entry", cause, tf->pc, addr);
    return;
  }
  if (is_memory_fault(cause) && u->xstack_hi != 0 && addr + PGSIZE >= u->xstack_lo &&
      addr < u->xstack_hi) {
    kill_env(e, "fault on its exception stack", cause, tf->pc, addr);
    return;
  }
  u->x_cause = cause;
  u->x_pc = tf->pc;
  u->x_addr = addr;
  u->x_count++;
  tf->pc = entry;
}

// Entry from uservec with the user's registers saved in tf (the current
// environment's trapframe). Never returns: it ends by running an environment.
// An environment another hart destroyed while it ran here dies now, before
// its trap is handled; one another hart queued a call for is interrupted
// (by that hart's IPI, or its slice's end) and takes the call now.
void trap_user(struct trapframe *tf)
{
  csr_write(stvec, kernelvec);
  uint64 cause = csr_read(scause);
  struct env *e = this_env();
  if (smp_on) {  // (one test of it: this path is every system call's)
    user_left();  // (before the lock: see tlb_note_remote)
    kernel_lock_smp();
    if (e->doomed) {
      env_destroy(e);
      if (cause & SCAUSE_INTR)
        handle_interrupt(cause);  // (a device's, say: not to be lost)
      schedule();
    }
    if (e->pct_knock && (cause & SCAUSE_INTR))
      pct_take_queued(e);  // (between two of its instructions, like a preempted callee)
  }

  if (cause & SCAUSE_INTR) {
    handle_interrupt(cause);
  } else if (cause == EXC_ECALL_U) {
    tf->pc += 4;
    tf->a0 = syscall(tf->a0, tf->a1, tf->a2, tf->a3, tf->a4, tf->a5, tf->a7);
  } else {
    exception_upcall(e, tf, cause, csr_read(stval));
  }
  e = this_env();
  if (e != NULL && e->pub->status == ENV_RUNNABLE)
    env_run(e);
  schedule();
}

// Return to user mode in environment e, whose address space is active,
// releasing the kernel lock.
void trap_return(struct env *e)
{
  if (smp_on) {  // (with one hart, env_alloc set them once and for all)
    uint64 me = r_tp();
    e->tf.kernel_sp = kstack_top();
    e->tf.hartid = me;
    csr_write(stvec, uservec_smp);
    // LAB smp: e's ASID fenced if this hart's bit of tlb_stale is set (cleared); in user mode now
    if (e->tlb_stale & (1 << me)) {  // (smp.h, tlb_note_remote)
      e->tlb_stale &= ~(1 << me);
      asm volatile("sfence.vma zero, %0" ::"r"((uint64)e->asid) : "memory");
    }
    hart_in_user[me] = 1;
    // END LAB smp
    kernel_unlock_smp();
  } else {
    csr_write(stvec, uservec);
  }
  uint64 s = csr_read(sstatus);
  s &= ~(SSTATUS_SPP | SSTATUS_SIE);
  s |= SSTATUS_SPIE;
  csr_write(sstatus, s);
  userret(&e->tf);
}

// A trap while in the kernel: report the cause, where it happened, and the
// call chain, then stop. tf holds the registers at the trap.
void kerneltrap(struct trapframe *tf)
{
  uint64 cause = csr_read(scause), off;
  const char *fn = symbolize(tf->pc, &off);
  printf("panic: unexpected trap in the kernel: %s (scause %p)\n", cause_name(cause),
         (void *)cause);
  printf("  sepc  %p %s+0x%lx\n", (void *)tf->pc, fn ? fn : "?", fn ? off : 0);
  printf("  stval %p\n", (void *)csr_read(stval));
  backtrace(tf->pc, tf->ra, tf->s0);
  poweroff(1);
}
