// RISC-V privileged architecture: CSR access, status bits and Sv39.
// Values are from the RISC-V privileged specification (v1.12).
#ifndef RVEXO_RISCV_H
#define RVEXO_RISCV_H

#ifndef __ASSEMBLER__
#include "types.h"

#define csr_read(csr)                                                                              \
  ({                                                                                               \
    uint64 v_;                                                                                     \
    asm volatile("csrr %0, " #csr : "=r"(v_));                                                     \
    v_;                                                                                            \
  })
#define csr_write(csr, val)  asm volatile("csrw " #csr ", %0" ::"r"((uint64)(val)))
#define csr_set(csr, bits)   asm volatile("csrs " #csr ", %0" ::"r"((uint64)(bits)))
#define csr_clear(csr, bits) asm volatile("csrc " #csr ", %0" ::"r"((uint64)(bits)))
#endif

// sstatus
#define SSTATUS_SIE  (1UL << 1)   // interrupts enabled in S-mode
#define SSTATUS_SPIE (1UL << 5)   // SIE before the trap
#define SSTATUS_SPP  (1UL << 8)   // trap came from S-mode
#define SSTATUS_FS   (3UL << 13)  // floating-point unit state
#define SSTATUS_SUM  (1UL << 18)  // S-mode may touch U pages

// sie / sip
#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)
#define SIE_SEIE (1UL << 9)

// scause
#define SCAUSE_INTR (1UL << 63)
#define IRQ_S_SOFT  1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT   9

#define EXC_INST_MISALIGNED  0
#define EXC_INST_ACCESS      1
#define EXC_ILLEGAL_INST     2
#define EXC_BREAKPOINT       3
#define EXC_LOAD_MISALIGNED  4
#define EXC_LOAD_ACCESS      5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS     7
#define EXC_ECALL_U          8
#define EXC_ECALL_S          9
#define EXC_INST_PAGE_FAULT  12
#define EXC_LOAD_PAGE_FAULT  13
#define EXC_STORE_PAGE_FAULT 15

// Sv39: three levels of 512 eight-byte entries, 4 KiB pages.
#define PGSIZE         4096UL
#define PGSHIFT        12
#define PGROUNDUP(a)   (((a) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) ((a) & ~(PGSIZE - 1))
#define NPTENTRIES     512

#define PTE_V   (1UL << 0)
#define PTE_R   (1UL << 1)
#define PTE_W   (1UL << 2)
#define PTE_X   (1UL << 3)
#define PTE_U   (1UL << 4)
#define PTE_G   (1UL << 5)
#define PTE_A   (1UL << 6)
#define PTE_D   (1UL << 7)
#define PTE_RSW (3UL << 8)  // reserved for software: ExOS's
#define PTE_RWX (PTE_R | PTE_W | PTE_X)

#define PTE_PPN(pte)     (((pte) >> 10) & ((1UL << 44) - 1))
#define PTE_PA(pte)      (PTE_PPN(pte) << PGSHIFT)
#define PA2PTE(pa)       ((((uint64)(pa)) >> PGSHIFT) << 10)
#define PTE_IS_LEAF(pte) (((pte)&PTE_RWX) != 0)

// Index into the level-`level` table (2 = root) for virtual address va.
#define PX(level, va) ((((uint64)(va)) >> (PGSHIFT + 9 * (level))) & 0x1FF)

#define SATP_SV39           (8UL << 60)
#define SATP_ASID_SHIFT     44
#define MAKE_SATP(pa, asid) (SATP_SV39 | ((uint64)(asid) << SATP_ASID_SHIFT) | ((pa) >> PGSHIFT))

#ifndef __ASSEMBLER__
static inline void sfence_vma_all(void)
{
  asm volatile("sfence.vma zero, zero" ::: "memory");
}

static inline uint64 r_fp(void)
{
  uint64 x;
  asm volatile("mv %0, s0" : "=r"(x));
  return x;
}

static inline uint64 r_tp(void)
{
  uint64 x;
  asm volatile("mv %0, tp" : "=r"(x));
  return x;
}

static inline uint64 rdtime(void)
{
  uint64 x;
  asm volatile("rdtime %0" : "=r"(x));
  return x;
}

// Instructions retired so far (exact under QEMU's -icount; user mode may
// read it, see trap_init). The memory clobber keeps the compiler from
// moving loads and stores across the reading, so a measurement covers
// what lies between its two readings.
static inline uint64 rdinstret(void)
{
  uint64 x;
  asm volatile("rdinstret %0" : "=r"(x)::"memory");
  return x;
}

#endif  // __ASSEMBLER__

#endif
