// The platform-level interrupt controller (PLIC) of QEMU virt. Each hart has
// an M-mode context (2*hart) and an S-mode context (2*hart + 1); the kernel
// uses the S-mode one.

#include "defs.h"
#include "memlayout.h"

#define PLIC_REG(off)         (*(volatile uint32 *)((uint64)KADDR(PLIC_PHYS) + (off)))
#define PLIC_PRIORITY(irq)    PLIC_REG(4 * (irq))
#define PLIC_SENABLE(hart)    PLIC_REG(0x2000 + 0x80 * (2 * (hart) + 1))
#define PLIC_STHRESHOLD(hart) PLIC_REG(0x200000 + 0x1000 * (2 * (hart) + 1))
#define PLIC_SCLAIM(hart)     PLIC_REG(0x200004 + 0x1000 * (2 * (hart) + 1))

// Route the UART's interrupt to this hart's S-mode context.
void plic_init(int hart)
{
  PLIC_STHRESHOLD(hart) = 0;
  plic_enable(hart, UART0_IRQ);
}

// Route interrupt irq (below 32) to this hart's S-mode context.
void plic_enable(int hart, int irq)
{
  PLIC_PRIORITY(irq) = 1;
  PLIC_SENABLE(hart) |= 1U << irq;
}

// Claim the highest-priority pending interrupt (0 if none).
int plic_claim(int hart)
{
  return PLIC_SCLAIM(hart);
}

// Tell the PLIC that interrupt irq has been handled.
void plic_complete(int hart, int irq)
{
  PLIC_SCLAIM(hart) = irq;
}
