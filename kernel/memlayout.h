// Physical and kernel-virtual memory layout of rvexo on QEMU virt.
//
// Physical (QEMU virt):
//   0x00100000  SiFive test device (power off / reboot)
//   0x0C000000  PLIC
//   0x10000000  UART0 (16550), interrupt 10
//   0x10001000  virtio-mmio slots, 4 KiB apart, interrupts 1..8
//   0x80000000  RAM: OpenSBI firmware first, then the kernel at 0x80200000
//
// Virtual (Sv39): the user half is 0 .. 2^38-1 and belongs to the library OS.
// The kernel lives in the upper half of every address space: physical address
// pa is mapped at KERNBASE + pa (the "direct map"), supervisor-only and global,
// so a trap never changes satp. Root entries 256..511 are the kernel's.
#ifndef RVEXO_MEMLAYOUT_H
#define RVEXO_MEMLAYOUT_H

#define KERNBASE  0xFFFFFFC000000000UL
#define KADDR(pa) ((void *)((uint64)(pa) + KERNBASE))
#define PADDR(va) ((uint64)(va)-KERNBASE)

#define RAMBASE     0x80000000UL
#define KERNEL_PHYS 0x80200000UL  // where OpenSBI jumps to
#define MAXRAM      (2UL << 30)   // RAM beyond 2 GiB is left unused

#define TESTDEV_PHYS 0x00100000UL
#define PLIC_PHYS    0x0C000000UL
#define UART0_PHYS   0x10000000UL
#define UART0_IRQ    10
#define VIRTIO0_PHYS 0x10001000UL
#define VIRTIO0_IRQ  1  // slot i interrupts on 1 + i

#define KSTACKSHIFT 14  // a kernel stack is 16 KiB
#define KSTACKSIZE  (1 << KSTACKSHIFT)

#endif
