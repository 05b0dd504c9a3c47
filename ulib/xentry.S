# ExOS's exception entry and resume path.
#
# The kernel enters exos_xentry on a synchronous exception with every
# register as it was and the cause, pc and address in the u-area. This code
# saves all registers in a frame on the exception stack, copies the u-area's
# record into the frame (a nested exception would overwrite the u-area), and
# calls exos_dispatch(frame) in C on the exception stack. (exos_revoke_entry
# does the same for revocation upcalls.) When that returns,
# it reloads every register from the frame and jumps to frame->pc: the
# interrupted code resumes without entering the kernel.
#
# THE REGISTER CONVENTION: gp is reserved for ExOS. RISC-V has no return
# that takes its target from memory, so the resume path needs one register
# of its own to hold the target: gp. Programs must not use gp (ExOS code is
# built without linker relaxation, which is what would use it, and with
# -ffixed-gp; the Makefile checks that no program defines __global_pointer$).
# Every other register is restored exactly.
#
# Frames go at the top of the exception stack, or, for an exception taken
# while already on it (a fault inside a handler), just below the interrupted
# handler's sp. A frame that does not fit lands on the guard page below the
# stack, and the kernel ends the program: "fault on its exception stack".

#include "kernel/abi.h"
#include "ulib/exos.h"

#define F(n) (8 * (n))  // frame slot n: pc (0), x1..x31 (1..31), cause, addr

.section .text

# Save every register but gp in a new frame on the exception stack (gp is
# left pointing at it).
.macro save_frame
	# Where does the frame go? gp is the only scratch register.
	li	gp, EXOS_XSTACK_LO
	sub	gp, sp, gp
	srli	gp, gp, EXOS_XSTACK_SHIFT
	beqz	gp, 1f			# sp is on the exception stack: nested
	li	gp, EXOS_XSTACK_TOP
	j	2f
1:	mv	gp, sp
2:	addi	gp, gp, -XFRAME_SIZE
	sd	x1, F(1)(gp)
	sd	x2, F(2)(gp)
	sd	x4, F(4)(gp)
	sd	x5, F(5)(gp)
	sd	x6, F(6)(gp)
	sd	x7, F(7)(gp)
	sd	x8, F(8)(gp)
	sd	x9, F(9)(gp)
	sd	x10, F(10)(gp)
	sd	x11, F(11)(gp)
	sd	x12, F(12)(gp)
	sd	x13, F(13)(gp)
	sd	x14, F(14)(gp)
	sd	x15, F(15)(gp)
	sd	x16, F(16)(gp)
	sd	x17, F(17)(gp)
	sd	x18, F(18)(gp)
	sd	x19, F(19)(gp)
	sd	x20, F(20)(gp)
	sd	x21, F(21)(gp)
	sd	x22, F(22)(gp)
	sd	x23, F(23)(gp)
	sd	x24, F(24)(gp)
	sd	x25, F(25)(gp)
	sd	x26, F(26)(gp)
	sd	x27, F(27)(gp)
	sd	x28, F(28)(gp)
	sd	x29, F(29)(gp)
	sd	x30, F(30)(gp)
	sd	x31, F(31)(gp)
.endm

# Reload every register from the frame at sp and jump to frame->pc.
.macro resume_frame
	mv	gp, sp
	ld	x1, F(1)(gp)
	ld	x4, F(4)(gp)
	ld	x5, F(5)(gp)
	ld	x6, F(6)(gp)
	ld	x7, F(7)(gp)
	ld	x8, F(8)(gp)
	ld	x9, F(9)(gp)
	ld	x10, F(10)(gp)
	ld	x11, F(11)(gp)
	ld	x12, F(12)(gp)
	ld	x13, F(13)(gp)
	ld	x14, F(14)(gp)
	ld	x15, F(15)(gp)
	ld	x16, F(16)(gp)
	ld	x17, F(17)(gp)
	ld	x18, F(18)(gp)
	ld	x19, F(19)(gp)
	ld	x20, F(20)(gp)
	ld	x21, F(21)(gp)
	ld	x22, F(22)(gp)
	ld	x23, F(23)(gp)
	ld	x24, F(24)(gp)
	ld	x25, F(25)(gp)
	ld	x26, F(26)(gp)
	ld	x27, F(27)(gp)
	ld	x28, F(28)(gp)
	ld	x29, F(29)(gp)
	ld	x30, F(30)(gp)
	ld	x31, F(31)(gp)
	ld	x2, F(2)(gp)
	ld	gp, F(0)(gp)
	jr	gp
.endm

# Enter C: count the upcall in exos_critical (so the kernel makes no
# asynchronous upcall while one is handled), move sp to the frame and call
# fn(frame). The frame's pc, cause and addr must be filled in already.
.macro call_handler fn
	sd	zero, F(3)(gp)		# the interrupted gp is not kept
	la	t0, exos_critical
	ld	t1, 0(t0)
	addi	t1, t1, 1
	sd	t1, 0(t0)
	mv	sp, gp
	mv	a0, gp
	mv	s0, zero		# ends user backtraces here
	call	\fn
	la	t0, exos_critical
	ld	t1, 0(t0)
	addi	t1, t1, -1
	sd	t1, 0(t0)
.endm

# The code from here to exos_upcall_code_end runs with a frame half saved
# or half restored; ExOS declares it upcall-free (ENTRY_NOUPCALL_LO/HI), so
# the kernel delivers no asynchronous upcall with the pc inside it.
.globl exos_xentry, exos_revoke_entry, exos_upcall_code_start, exos_upcall_code_end
.p2align 2
exos_upcall_code_start:
exos_xentry:
	save_frame
	li	t0, UAREA
	ld	t1, UAREA_X_PC(t0)
	sd	t1, F(0)(gp)
	ld	t1, UAREA_X_CAUSE(t0)
	sd	t1, F(32)(gp)
	ld	t1, UAREA_X_ADDR(t0)
	sd	t1, F(33)(gp)
	call_handler exos_dispatch
	resume_frame

# The revocation entry (ENTRY_REVOKE): the same frame, with the pc the
# kernel kept in revoke_pc; exos_revoke_upcall() answers the kernel.
.p2align 2
exos_revoke_entry:
	save_frame
	li	t0, UAREA
	ld	t1, UAREA_REVOKE_PC(t0)
	sd	t1, F(0)(gp)
	sd	zero, F(32)(gp)
	sd	zero, F(33)(gp)
	call_handler exos_revoke_upcall
	resume_frame
exos_upcall_code_end:
