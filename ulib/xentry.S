# ExOS's exception entry and resume path.
#
# The kernel enters exos_xentry on a synchronous exception with every
# register as it was and the cause, pc and address in the u-area. This code
# saves the registers a C function may change (and sp and s0) in a frame on
# the exception stack, copies the u-area's record into the frame (a nested
# exception would overwrite the u-area), and calls exos_dispatch(frame) in
# C on the exception stack, which keeps the rest as the calling convention
# says. (exos_revoke_entry
# does the same for revocation upcalls, saving every register; the
# time-slice upcalls that switch threads are at the end of the file.) When
# that returns, it reloads the saved registers from the frame and jumps to
# frame->pc: the interrupted code resumes without entering the kernel.
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

# Store every register but gp in slots 1..31 of the frame at gp.
.macro save_regs
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

# Store in the frame at gp what the handler, C code, may change: ra, the
# temporaries and arguments (t0..t6, a0..a7); and sp and s0 (the frame
# pointer, for backtraces). s1..s11 and tp stay in their registers: C code
# keeps the callee-saved ones, and never touches tp. Their slots are left
# as they were.
.macro save_call_clobbered
	sd	x1, F(1)(gp)
	sd	x2, F(2)(gp)
	sd	x5, F(5)(gp)
	sd	x6, F(6)(gp)
	sd	x7, F(7)(gp)
	sd	x8, F(8)(gp)
	sd	x10, F(10)(gp)
	sd	x11, F(11)(gp)
	sd	x12, F(12)(gp)
	sd	x13, F(13)(gp)
	sd	x14, F(14)(gp)
	sd	x15, F(15)(gp)
	sd	x16, F(16)(gp)
	sd	x17, F(17)(gp)
	sd	x28, F(28)(gp)
	sd	x29, F(29)(gp)
	sd	x30, F(30)(gp)
	sd	x31, F(31)(gp)
.endm

# Save registers (with the macro `save`: every register but gp, or only
# the call-clobbered ones) in a new frame on the exception stack (gp is
# left pointing at it).
.macro save_frame save=save_regs
	# Where does the frame go? gp is the only scratch register.
	li	gp, EXOS_XSTACK_LO
	sub	gp, sp, gp
	srli	gp, gp, EXOS_XSTACK_SHIFT
	beqz	gp, 1f			# sp is on the exception stack: nested
	li	gp, EXOS_XSTACK_TOP
	j	2f
1:	mv	gp, sp
2:	addi	gp, gp, -XFRAME_SIZE
	\save
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

# Reload what save_call_clobbered saved from the frame at sp and jump to
# frame->pc (s1..s11 and tp were never moved).
.macro resume_call_clobbered
	mv	gp, sp
	ld	x1, F(1)(gp)
	ld	x5, F(5)(gp)
	ld	x6, F(6)(gp)
	ld	x7, F(7)(gp)
	ld	x8, F(8)(gp)
	ld	x10, F(10)(gp)
	ld	x11, F(11)(gp)
	ld	x12, F(12)(gp)
	ld	x13, F(13)(gp)
	ld	x14, F(14)(gp)
	ld	x15, F(15)(gp)
	ld	x16, F(16)(gp)
	ld	x17, F(17)(gp)
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
	li	t1, 1
	amoadd.d zero, t1, (t0)		# one instruction for the load, add and store
	mv	sp, gp
	mv	a0, gp
	mv	s0, zero		# ends user backtraces here
	call	\fn
	la	t0, exos_critical
	li	t1, -1
	amoadd.d zero, t1, (t0)
.endm

# The code from here to exos_upcall_code_end runs with a frame half saved
# or half restored; ExOS declares it upcall-free (ENTRY_NOUPCALL_LO/HI), so
# the kernel delivers no asynchronous upcall with the pc inside it.
.globl exos_xentry, exos_revoke_entry, exos_upcall_code_start, exos_upcall_code_end
.globl exos_thread_epilogue, exos_thread_prologue, exos_thread_switch
.p2align 2
exos_upcall_code_start:
exos_xentry:
	save_frame save_call_clobbered
	li	t0, UAREA
	ld	t1, UAREA_X_PC(t0)
	sd	t1, F(0)(gp)
	ld	t1, UAREA_X_CAUSE(t0)
	sd	t1, F(32)(gp)
	ld	t1, UAREA_X_ADDR(t0)
	sd	t1, F(33)(gp)
	call_handler exos_dispatch
	resume_call_clobbered

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

# ---------------------------------------------------------------- threads
# Preemptive threads (thread.c). exos_thread_cur points at the running
# thread's record, whose first TFRAME_SLOTS words are its saved registers
# (ulib/exos.h). Everything below runs with the pc in the upcall-free range
# or with exos_critical set, so no upcall lands in the middle of a save, a
# choice or a resume.

# Save every register of the running thread, as the kernel's slice upcall
# left them, in its record (gp is left pointing at it): the pc from
# slice_pc, and its critical count, which was 0 or the kernel would not
# have come.
.macro save_running_thread
	la	gp, exos_thread_cur
	ld	gp, 0(gp)
	save_regs
	li	t0, UAREA
	ld	t1, UAREA_SLICE_PC(t0)
	sd	t1, F(0)(gp)
	sd	zero, F(TFRAME_CRITICAL)(gp)	# it was 0, or the kernel would not have come
.endm

# ENTRY_EPILOGUE: the slice is over. Every register is the running thread's
# and u-area slice_pc holds its pc. Save them all in its record, note that
# it is saved (exos_thread_saved), and give the processor back at once with
# yield(0): this takes a few dozen instructions, far inside GRACE_US. When a
# slice of ours begins the kernel resumes us right after the ecall (the pc is
# upcall-free, so it makes no prologue upcall), and we go on as the
# prologue does once it has saved the running thread.
.p2align 2
exos_thread_epilogue:
	save_running_thread
	ld	t1, F(TFRAME_PREEMPTED)(gp)
	addi	t1, t1, 1
	sd	t1, F(TFRAME_PREEMPTED)(gp)
	la	t0, exos_thread_saved
	li	t1, 1
	sd	t1, 0(t0)
	la	t0, exos_thread_epilogues
	ld	t1, 0(t0)
	addi	t1, t1, 1
	sd	t1, 0(t0)
	li	a0, 0
	li	a7, EXOS_SYS_YIELD
	ecall
	j	exos_thread_choose

# ENTRY_PROLOGUE: a slice of ours begins. Unless the epilogue has saved the
# running thread, its registers are all live here (it stopped in a system
# call, a yield or a blocking one, and resumes at slice_pc): save them first.
# Then exos_thread_pick() chooses, on the exception stack with exos_critical
# set, the thread to run, and we resume it.
.p2align 2
exos_thread_prologue:
	la	gp, exos_thread_saved
	ld	gp, 0(gp)
	bnez	gp, exos_thread_choose
	save_running_thread
exos_thread_choose:
	# The exception stack is free: an exception handler runs with
	# exos_critical set, and then no prologue or epilogue comes.
	li	sp, EXOS_XSTACK_TOP
	li	t0, 1
	la	t1, exos_critical
	sd	t0, 0(t1)
	mv	s0, zero		# ends backtraces here
	call	exos_thread_pick
	# fall through: resume the thread record a0 names

# Resume the thread whose record is at a0: give exos_critical the count it
# had (0 for a preempted thread: the pc leaves the upcall-free range with the
# jump, and from then on it may be preempted again), reload every register
# and jump to its pc.
exos_thread_resume:
	ld	t0, F(TFRAME_CRITICAL)(a0)
	la	t1, exos_critical
	sd	t0, 0(t1)
	mv	sp, a0
	resume_frame

# exos_thread_switch(from, to): called from C with exos_critical held. Save
# what a function call must keep (ra, sp, tp, s0..s11) and exos_critical in
# the record `from`, with its pc the return address, and resume the thread
# `to`. The caller continues (exos_thread_switch returns) when another
# switch or the prologue resumes `from`.
.p2align 2
exos_thread_switch:
	sd	ra, F(0)(a0)
	sd	ra, F(1)(a0)
	sd	sp, F(2)(a0)
	sd	tp, F(4)(a0)
	sd	s0, F(8)(a0)
	sd	s1, F(9)(a0)
	sd	s2, F(18)(a0)
	sd	s3, F(19)(a0)
	sd	s4, F(20)(a0)
	sd	s5, F(21)(a0)
	sd	s6, F(22)(a0)
	sd	s7, F(23)(a0)
	sd	s8, F(24)(a0)
	sd	s9, F(25)(a0)
	sd	s10, F(26)(a0)
	sd	s11, F(27)(a0)
	la	t0, exos_critical
	ld	t1, 0(t0)
	sd	t1, F(TFRAME_CRITICAL)(a0)
	mv	a0, a1
	j	exos_thread_resume
exos_upcall_code_end:
