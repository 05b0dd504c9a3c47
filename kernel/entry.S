# Kernel entry. OpenSBI jumps here in S-mode with paging off:
#   a0 = this hart's id, a1 = physical address of the device tree.
# The kernel is linked in the upper half (KERNBASE + physical), so the first
# instructions run at their physical address and may use only pc-relative
# addressing. They turn on a boot page table that maps the kernel both at its
# physical address and in the direct map, then jump to the direct map.

#include "abi.h"
#include "memlayout.h"

.section .text.entry
.globl _start
_start:
	# The firmware may let another hart in here too (seen with QEMU -smp on a
	# busy host: a hart that smp.c's HSM start then finds already started).
	# The first hart boots; any other waits until the kernel is ready for
	# it and goes on as the harts smp.c starts do.
	lla	t0, boot_lottery
	li	t1, 1
	amoswap.w t1, t1, (t0)
	bnez	t1, late_hart
	# satp = Sv39 | physical page number of boot_pagetable
	lla	t0, boot_pagetable	# pc-relative: the physical address now
	srli	t0, t0, 12
	li	t1, 8 << 60
	or	t0, t0, t1
	csrw	satp, t0
	sfence.vma

	ld	t0, high_entry		# absolute (direct-map) address of 1f
	jr	t0
1:
	# Now running in the upper half. Clear .bss, which holds the stack.
	lla	t0, bss_start
	lla	t1, bss_end
2:	bgeu	t0, t1, 3f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	2b
3:
	# The stack: hart_stacks[a0] (kernel/smp.c), as for every hart; a hart
	# id beyond them takes hart 0's, long enough for kmain to refuse it.
	li	t0, MAXHARTS
	mv	t1, a0
	bltu	t1, t0, 9f
	li	t1, 0
9:	addi	t1, t1, 1
	slli	t1, t1, KSTACKSHIFT
	lla	sp, hart_stacks
	add	sp, sp, t1
	mv	tp, a0			# tp holds the hart id while in the kernel
	mv	s0, zero		# ends backtraces
	call	kmain
4:	wfi				# kmain does not return
	j	4b

.p2align 3
high_entry:
	.dword	1b

# The other harts start here (kernel/smp.c asks the firmware to start them):
#   a0 = this hart's id, a1 = the top of its kernel stack (a direct-map
#   address). Paging on as above, then kmain_hart in the upper half.
.globl _start_hart
_start_hart:
	lla	t0, boot_pagetable
	srli	t0, t0, 12
	li	t1, 8 << 60
	or	t0, t0, t1
	csrw	satp, t0
	sfence.vma
	ld	t0, high_hart_entry
	jr	t0
5:
	mv	sp, a1
	mv	tp, a0
	mv	s0, zero
	call	kmain_hart
6:	wfi				# kmain_hart does not return
	j	6b

.p2align 3
high_hart_entry:
	.dword	5b

# A hart that lost the lottery in _start: wait (at physical addresses,
# paging off) until smp_start sets harts_may_enter, then enter as a started
# hart, on its own stack. A hart id beyond the stacks waits for ever.
late_hart:
	li	t0, MAXHARTS
	bgeu	a0, t0, 8f
	lla	t0, harts_may_enter
7:	lw	t1, 0(t0)
	beqz	t1, 7b
	fence	r, rw
	ld	a1, hart_stacks_va	# hart_stacks[a0 + 1] (its top), a direct-map address
	addi	t0, a0, 1
	slli	t0, t0, KSTACKSHIFT
	add	a1, a1, t0
	j	_start_hart
8:	wfi
	j	8b

.p2align 3
hart_stacks_va:
	.dword	hart_stacks

.section .data
.p2align 2
boot_lottery:
	.word	0
.globl harts_may_enter
harts_may_enter:
	.word	0

# Boot page table: three 1 GiB pages, enough to reach the direct map.
#   entry 2:   va 0x80000000         -> pa 0x80000000 (RWX, this code)
#   entry 256: va KERNBASE           -> pa 0          (RW, devices)
#   entry 258: va KERNBASE+2 GiB     -> pa 0x80000000 (RWX, the kernel)
# A PTE holds (pa >> 12) << 10 | V R W X A D (0xcf) or V R W A D (0xc7).
.section .data
.p2align 12
boot_pagetable:
	.dword	0, 0
	.dword	(0x80000000 >> 2) | 0xcf
	.zero	8 * 253
	.dword	(0x00000000 >> 2) | 0xc7
	.dword	0
	.dword	(0x80000000 >> 2) | 0xcf
	.zero	8 * 253
