# exos_save_context(ctx): save ra, sp, s0..s11 and tp in ctx and return 0.
# exos_resume_context(ctx, value): continue from that save, which then
# returns `value` (which must not be 0). Like C's setjmp/longjmp; fork uses
# them to start the child where the parent called fork.
.section .text
.globl exos_save_context, exos_resume_context
exos_save_context:
	sd	ra, 0(a0)
	sd	sp, 8(a0)
	sd	s0, 16(a0)
	sd	s1, 24(a0)
	sd	s2, 32(a0)
	sd	s3, 40(a0)
	sd	s4, 48(a0)
	sd	s5, 56(a0)
	sd	s6, 64(a0)
	sd	s7, 72(a0)
	sd	s8, 80(a0)
	sd	s9, 88(a0)
	sd	s10, 96(a0)
	sd	s11, 104(a0)
	sd	tp, 112(a0)
	li	a0, 0
	ret

exos_resume_context:
	ld	ra, 0(a0)
	ld	sp, 8(a0)
	ld	s0, 16(a0)
	ld	s1, 24(a0)
	ld	s2, 32(a0)
	ld	s3, 40(a0)
	ld	s4, 48(a0)
	ld	s5, 56(a0)
	ld	s6, 64(a0)
	ld	s7, 72(a0)
	ld	s8, 80(a0)
	ld	s9, 88(a0)
	ld	s10, 96(a0)
	ld	s11, 104(a0)
	ld	tp, 112(a0)
	mv	a0, a1
	ret
