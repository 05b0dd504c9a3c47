# ExOS's guarded access to memory a caller names: copies and probes that
# fail with -E_FAULT instead of ending the program.
#
# A library call handed a bad pointer (unmapped, read-only where it must
# write, in the kernel's half) must fail the way xv6's copyin does, and the
# program go on. The three functions below are how ExOS touches such
# memory:
#
#   exos_copy(dst, src, n)      copy n bytes; 0 or -E_FAULT
#   exos_strnlen(s, max)        the length of s, at most max; or -E_FAULT
#   exos_probe(p, n, write)     touch every page of p[0..n-1], with a store
#                               that changes nothing when write is set;
#                               0 or -E_FAULT
#
# THE RECOVERY RULE: a fault inside them is an exception like any other:
# exos_dispatch (exception.c) first runs the handlers, so the lazy heap and
# stack map a page and copy-on-write copies one, and the access is retried.
# Only a fault no handler resolves, at a pc between exos_guarded_start and
# exos_guarded_end, is the caller's bad pointer: the dispatcher resumes at
# exos_guarded_fault, which returns -E_FAULT. (A stack's guard page is such
# a pointer too: the handlers that report an overflow ask
# exos_fault_is_guarded first.) This works without any record
# of who is copying (so threads and nested exceptions need nothing) because
# these are leaf functions: they keep sp and ra as they were and use only
# registers a call may change, so returning from the middle of one is a
# plain `ret`.

#include "ulib/exos.h"

.section .text
.globl exos_copy, exos_strnlen, exos_probe
.globl exos_guarded_start, exos_guarded_end, exos_guarded_fault
.p2align 2
exos_guarded_start:

# long exos_copy(void *dst, const void *src, unsigned long n): bytes until
# dst is aligned, then blocks of eight words and then words if src is
# aligned too, then the bytes left. A dst range that wraps past the top of
# the address space is bad.
exos_copy:
	add	t2, a0, a2		# dst's end
	bltu	t2, a0, exos_guarded_fault
	xor	t0, a0, a1
	andi	t0, t0, 7
	bnez	t0, 3f			# never both aligned: bytes only
1:	andi	t0, a0, 7
	beqz	t0, 2f
	beq	a0, t2, 4f
	lb	t1, 0(a1)
	sb	t1, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	j	1b
2:	andi	t0, t2, -8		# the end of the whole words
	bgeu	a0, t0, 3f
	sub	t3, t0, a0
	andi	t3, t3, -64
	add	t3, a0, t3		# the end of the whole blocks of eight words
	bgeu	a0, t3, 5f
6:	ld	t1, 0(a1)		# a block at a time: a page in 64 turns, not 512
	ld	t4, 8(a1)
	ld	t5, 16(a1)
	ld	t6, 24(a1)
	sd	t1, 0(a0)
	sd	t4, 8(a0)
	sd	t5, 16(a0)
	sd	t6, 24(a0)
	ld	t1, 32(a1)
	ld	t4, 40(a1)
	ld	t5, 48(a1)
	ld	t6, 56(a1)
	sd	t1, 32(a0)
	sd	t4, 40(a0)
	sd	t5, 48(a0)
	sd	t6, 56(a0)
	addi	a0, a0, 64
	addi	a1, a1, 64
	bltu	a0, t3, 6b
	bgeu	a0, t0, 3f
5:	ld	t1, 0(a1)
	sd	t1, 0(a0)
	addi	a0, a0, 8
	addi	a1, a1, 8
	bltu	a0, t0, 5b
3:	bgeu	a0, t2, 4f
	lb	t1, 0(a1)
	sb	t1, 0(a0)
	addi	a0, a0, 1
	addi	a1, a1, 1
	j	3b
4:	li	a0, 0
	ret

# long exos_strnlen(const char *s, unsigned long max): the bytes before
# s's NUL, or max if there is none among the first max.
exos_strnlen:
	mv	t0, a0
	mv	a0, zero
1:	beq	a0, a1, 2f
	add	t1, t0, a0
	lbu	t1, 0(t1)
	beqz	t1, 2f
	addi	a0, a0, 1
	j	1b
2:	ret

# long exos_probe(const void *p, unsigned long n, int write): load a byte
# of each page p[0..n-1] touches or, if write is set, do an atomic OR of
# zero into the word holding it (a store to the hardware, as a copy into
# the page would be, but one that changes nothing even if another thread
# or process writes the word meanwhile). A range that wraps past the top of
# the address space is bad.
exos_probe:
	beqz	a1, 3f
	add	a1, a0, a1		# the end
	bltu	a1, a0, exos_guarded_fault
1:	bnez	a2, 2f
	lb	t0, 0(a0)
	j	4f
2:	andi	t0, a0, -4
	amoor.w	zero, zero, (t0)
4:	srli	a0, a0, 12		# on to the next page
	addi	a0, a0, 1
	slli	a0, a0, 12
	bltu	a0, a1, 1b
3:	li	a0, 0
	ret

exos_guarded_end:

# Where a fault nobody resolves inside the code above resumes (with ra and
# sp as the guarded function found them): fail the call.
exos_guarded_fault:
	li	a0, -EXOS_E_FAULT
	ret
