# ExOS's exception entry and resume path.
#
# The kernel enters exos_xentry on a synchronous exception with every
# register as it was and the cause, pc and address in the u-area. This code
# saves the registers a C function may change (and sp and s0) in a frame on
# the exception stack, copies the u-area's record into the frame (a nested
# exception would overwrite the u-area), and calls exos_dispatch(frame) in
# C on the exception stack, which keeps the rest as the calling convention
# says. (exos_revoke_entry does the same for revocation upcalls, saving
# every register; the time-slice upcalls that switch threads are at the end
# of the file.) When that returns, it reloads the saved registers from the frame and jumps to
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

# The code from here to exos_upcall_code_end runs with a frame half saved
# or half restored; ExOS declares it upcall-free (ENTRY_NOUPCALL_LO/HI), so
# the kernel delivers no asynchronous upcall with the pc inside it.
.globl exos_xentry, exos_revoke_entry, exos_upcall_code_start, exos_upcall_code_end
.globl exos_thread_epilogue, exos_thread_prologue, exos_thread_switch
.globl exos_thread_park, exos_hart_xentries
.p2align 2
exos_upcall_code_start:

# What the lab's code below provides, as the rest of this file uses it. On
# entry gp is the only register free (nothing else may change before it is
# saved), so a frame is reached through gp, and sp is the frame once C runs.
#   save_regs           store every register but gp (x1, x2, x4..x31) in
#                       slots 1..31 of the frame at gp
#   save_frame save=M   point gp at a new frame on the exception stack (its
#                       top, or just below sp if sp is on it already: a
#                       nested exception) and store registers with macro M
#                       (save_regs, or fewer); sp stays 16-byte aligned
#   call_handler FN     with pc, cause and addr in the frame at gp: count
#                       the upcall in exos_critical, call FN(frame) with sp
#                       at the frame and s0 zero, then count it out
#   resume_frame        reload every register from the frame at sp, then
#                       jump to its pc through gp, without the kernel (for
#                       a frame that save_regs filled)
#   resume_call_clobbered  the same for a frame that holds only the
#                       registers C may change (the others were never moved)
#   exos_xentry         the exception entry: a frame holding the registers
#                       C may change, with the u-area's pc, cause and addr
#                       copied in; exos_dispatch(frame); the resume

# LAB upcalls: the frame: save the registers on the exception stack, call C, resume through gp
# HANDOUT: # Stand-ins until the lab is done: an exception or a thread switch ends the
# HANDOUT: # program with a message; a revocation upcall resumes at once, unanswered.
# HANDOUT: .macro save_regs; j exos_xentry; .endm
# HANDOUT: .macro save_frame save; li gp, UAREA; ld gp, UAREA_REVOKE_PC(gp); jr gp; .endm
# HANDOUT: .macro call_handler fn; .endm
# HANDOUT: .macro resume_frame; j exos_xentry; .endm
# HANDOUT: exos_xentry:
# HANDOUT: 	li	sp, EXOS_XSTACK_TOP
# HANDOUT: 	la	a0, no_xentry
# HANDOUT: 	call	exos_panic
# HANDOUT: no_xentry: .string "an exception came, and ulib/xentry.S is not written (lab upcalls)"
# Registers by number: those a C function may change (ra, t0..t6,
# a0..a7) with s0, the frame pointer (for backtraces); and the rest but sp
# and gp (tp, s1..s11), which C code keeps (and never touches tp).
#define CALL_CLOBBERED 1, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31
#define CALL_KEPT      4, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27

# Store sp and the registers numbered in the list in their slots of the
# frame at gp.
.macro store_regs regs:vararg
	sd	x2, F(2)(gp)
	.irp	r, \regs
	sd	x\r, F(\r)(gp)
	.endr
.endm

# Store every register but gp in slots 1..31 of the frame at gp.
.macro save_regs
	store_regs CALL_CLOBBERED, CALL_KEPT
.endm

# Store in the frame at gp only what the handler, C code, may change (and
# sp and s0). The slots of s1..s11 and tp are left as they were.
.macro save_call_clobbered
	store_regs CALL_CLOBBERED
.endm

# Save registers (with the macro `save`: every register but gp, or only
# the call-clobbered ones) in a new frame on the exception stack (gp is
# left pointing at it): at the top of the stack, or, for an exception taken
# while already on it (a fault inside a handler), just below the
# interrupted handler's sp. XFRAME_SIZE keeps sp 16-byte aligned.
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

# Reload the registers numbered in the list, then sp, from the frame at sp
# and jump to frame->pc.
.macro resume_with regs:vararg
	mv	gp, sp
	.irp	r, \regs
	ld	x\r, F(\r)(gp)
	.endr
	ld	x2, F(2)(gp)
	ld	gp, F(0)(gp)
	jr	gp
.endm

# Reload every register from the frame at sp and jump to frame->pc.
.macro resume_frame
	resume_with CALL_CLOBBERED, CALL_KEPT
.endm

# Reload what save_call_clobbered saved (s1..s11 and tp were never moved).
.macro resume_call_clobbered
	resume_with CALL_CLOBBERED
.endm

# Enter C: count the upcall in exos_critical (so the kernel makes no
# asynchronous upcall while one is handled), move sp to the frame and call
# fn(frame); then count it out. The frame's pc, cause and addr must be
# filled in already.
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

# The exception entry (ENTRY_EXCEPTION): the kernel comes here with every
# register as the exception left it, the cause, pc and address in the
# u-area. Copy those into the frame (a nested exception would overwrite
# the u-area), run exos_dispatch(frame) and resume what the frame says.
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
# END LAB upcalls

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
	call_handler exos_revoke_dispatch	# (exception.c: exos_revoke_hook(frame))
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
	# LAB threads: save the running thread, count its preemption, mark it saved, yield(0), then choose
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
	# END LAB threads

# ENTRY_PROLOGUE: a slice of ours begins. Unless the epilogue has saved the
# running thread, its registers are all live here (it stopped in a system
# call, a yield or a blocking one, and resumes at slice_pc): save them first.
# Then exos_thread_pick() chooses, on the exception stack with exos_critical
# set, the thread to run, and we resume it.
.p2align 2
exos_thread_prologue:
	# LAB threads: save the running thread unless the epilogue did; choose on the exception stack, critical
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
	call	exos_upcall_prologue
	# END LAB threads
	# fall through: resume the thread record a0 names

# Resume the thread whose record is at a0: give exos_critical the count it
# had (0 for a preempted thread: the pc leaves the upcall-free range with the
# jump, and from then on it may be preempted again), reload every register
# and jump to its pc.
exos_thread_resume:
	ld	t0, F(TFRAME_CRITICAL)(a0)
	la	t1, exos_critical
	sd	t0, 0(t1)
	bnez	t0, 1f			# inside a critical section: ExOS's lock stays held
	la	t1, exos_lock		# (taken only once there are hart threads: lock.c)
	fence	rw, w
	sw	zero, 0(t1)
1:	mv	sp, a0
	resume_frame

# exos_thread_switch(from, to): called from C with exos_critical held. Save
# what a function call must keep (ra, sp, tp, s0..s11) and exos_critical in
# the record `from`, with its pc the return address, and resume the thread
# `to`. The caller continues (exos_thread_switch returns) when another
# switch or the prologue resumes `from`.
.p2align 2
exos_thread_switch:
	# LAB threads: save what a call keeps and exos_critical in from's record, the return address as its pc
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
	# END LAB threads
	mv	a0, a1
	j	exos_thread_resume

# exos_thread_park(idle): called from C, in a critical section, when the
# program's own processor has no thread left to run but hart threads run:
# wait on the exception stack (free: no upcall comes in a critical section)
# until idle() returns a thread, and resume it.
.p2align 2
exos_thread_park:
	li	sp, EXOS_XSTACK_TOP
	mv	s0, zero
	jalr	a0
	j	exos_thread_resume

# ---------------------------------------------------------------- hart threads
# A hart thread (thread.c, thread_create_on) runs alone in an environment of
# its own and takes its exceptions here: the entry at exos_hart_xentries +
# 16 * slot points gp at its state (exos_harts[slot], ulib/exos.h: its count
# of critical sections, and room for t0 and t1) and goes on to hart_xentry.
# Everything else is found from sp, which is always in the thread's span
# (ulib/exos.h): its exception stack, its u-area.
.p2align 4
exos_hart_xentries:
	.set	slot, 0
	.rept	EXOS_MAXTHREADS
	la	gp, exos_harts + slot * EXOS_HART_SIZE
	j	hart_xentry
	.p2align 4
	.set	slot, slot + 1
	.endr

# The same frame as exos_xentry's, holding every register, with the pc,
# cause and address from this environment's u-area; exos_dispatch(frame)
# with the count raised; then the resume.
hart_xentry:
	sd	t0, HART_T0(gp)
	sd	t1, HART_T1(gp)
	mv	t0, gp			# t0: its state
	srli	t1, sp, EXOS_TSTACK_SHIFT
	slli	t1, t1, EXOS_TSTACK_SHIFT	# t1: the span
	sub	gp, sp, t1
	srli	gp, gp, 14		# 1: on the exception stack [1 << 14, 2 << 14): nested
	addi	gp, gp, -1
	beqz	gp, 1f
	li	gp, EXOS_HT_XSTACK_TOP
	add	gp, gp, t1
	j	2f
1:	mv	gp, sp
2:	addi	gp, gp, -XFRAME_SIZE
	save_regs
	ld	t1, HART_T0(t0)
	sd	t1, F(5)(gp)
	ld	t1, HART_T1(t0)
	sd	t1, F(6)(gp)
	srli	t1, sp, EXOS_TSTACK_SHIFT
	slli	t1, t1, EXOS_TSTACK_SHIFT
	li	t2, EXOS_HT_UAREA
	add	t1, t1, t2		# t1: the u-area
	ld	t2, UAREA_X_PC(t1)
	sd	t2, F(0)(gp)
	ld	t2, UAREA_X_CAUSE(t1)
	sd	t2, F(32)(gp)
	ld	t2, UAREA_X_ADDR(t1)
	sd	t2, F(33)(gp)
	sd	zero, F(3)(gp)
	mv	s1, t0			# its state, which C keeps in s1 (saved in the frame)
	ld	t1, HART_CRITICAL(s1)
	addi	t1, t1, 1
	sd	t1, HART_CRITICAL(s1)
	mv	sp, gp
	mv	a0, gp
	mv	s0, zero		# ends backtraces here
	call	exos_dispatch
	ld	t1, HART_CRITICAL(s1)
	addi	t1, t1, -1
	sd	t1, HART_CRITICAL(s1)
	resume_frame
exos_upcall_code_end:

# exos_dispatch(frame), the exception entries' C: exception.c's
# exos_dispatch_exception, or, once the program has hart threads, its
# exos_dispatch_locked, which holds ExOS's lock meanwhile. (A test and a
# jump: the usual path pays no more.)
.globl exos_dispatch
exos_dispatch:
	la	t0, exos_hart_threads
	lw	t0, 0(t0)
	bnez	t0, exos_dispatch_locked
	j	exos_dispatch_exception

# ---------------------------------------------------------------- hooks
# The upcalls a higher layer answers, through hooks it sets when it starts
# (so that this file, a lower layer, names none of their functions):
# exos_revoke_hook(frame) answers revocation (revoke.c sets it before it
# registers exos_revoke_entry), and exos_prologue_hook() returns the record
# of the thread to resume (thread.c sets it before it registers the
# prologue). The state the thread upcalls above share with thread.c is
# defined here too.
.globl exos_revoke_hook, exos_prologue_hook
.globl exos_thread_cur, exos_thread_saved, exos_thread_epilogues
exos_upcall_prologue:
	la	t0, exos_prologue_hook
	ld	t0, 0(t0)
	jr	t0

.section .bss
.p2align 3
exos_revoke_hook:	.dword 0
exos_prologue_hook:	.dword 0
exos_thread_cur:	.dword 0	# struct thread *, the running thread's record
exos_thread_saved:	.dword 0	# 1: the epilogue saved it
exos_thread_epilogues:	.dword 0	# slices that ended in a thread (preemptions)
