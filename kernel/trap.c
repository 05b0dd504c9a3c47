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

extern char uservec[], kernelvec[], boot_stack[];
void userret(struct trapframe *tf) __attribute__((noreturn));

static uint64 ticks;
#define TICK_HZ 100

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
  csr_set(sie, SIE_STIE | SIE_SEIE);
}

// Start the periodic timer interrupt.
void timer_start(void)
{
  sbi_set_timer(rdtime() + bootinfo.timebase_hz / TICK_HZ);
}

// Handle a device interrupt claimed from the PLIC.
static void external_intr(void)
{
  int hart = r_tp();
  int irq = plic_claim(hart);
  if (irq == UART0_IRQ)
    uart_intr();
  if (irq != 0)
    plic_complete(hart, irq);
}

// Handle one interrupt cause. Used for interrupts from user mode and by the
// idle loop.
void handle_interrupt(uint64 cause)
{
  if (cause == (SCAUSE_INTR | IRQ_S_TIMER)) {
    ticks++;
    timer_start();
  } else if (cause == (SCAUSE_INTR | IRQ_S_EXT)) {
    external_intr();
  }
}

// Entry from uservec with the user's registers saved in tf (the current
// environment's trapframe). Never returns: it ends by running an environment.
void trap_user(struct trapframe *tf)
{
  csr_write(stvec, kernelvec);
  uint64 cause = csr_read(scause);
  struct env *e = curenv;

  if (cause & SCAUSE_INTR) {
    handle_interrupt(cause);
  } else if (cause == EXC_ECALL_U) {
    tf->pc += 4;
    tf->a0 = syscall(e, tf);
  } else {
    printf("rvexo: env %x (%s) killed: %s at pc %p, address %p\n", e->id, e->name,
           cause_name(cause), (void *)tf->pc, (void *)csr_read(stval));
    env_destroy(e, -1);
  }
  schedule();
}

// Return to user mode in environment e, whose address space is active.
void trap_return(struct env *e)
{
  e->tf.kernel_sp = (uint64)boot_stack + KSTACKSIZE;
  e->tf.hartid = r_tp();
  csr_write(stvec, uservec);
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
