# exos_exec_switch(sw): the last step of exec (ulib/spawn.c), run from an
# alias of this code's page at EXOS_TRAMPOLINE, since it unmaps the program
# it belongs to. sw (struct exec_switch, in ExOS's exec buffer, which
# survives) says what to do: one pte_write_batch that removes the old
# program's mappings and installs the new one's, page_free of each old page,
# then a jump to the new program's entry with sp, a0 = argc, a1 = argv,
# a2 = EXOS_EXEC_MAGIC (so its start-up adopts the page-table window) and
# a3 = the descriptors handed over.
# Nothing here may use memory outside the exec buffer and this code.
#
# The code must not cross a page: it is aligned to 256 bytes and is shorter
# (about 150).

#include "ulib/exos.h"

.section .text
.globl exos_exec_switch
.p2align 8
exos_exec_switch:
	mv	s1, a0
	ld	a0, EXS_BATCH(s1)
	ld	a1, EXS_NBATCH(s1)
	ld	a7, EXS_SYS_BATCH(s1)
	ecall
	ld	t0, EXS_NBATCH(s1)
	bne	a0, t0, 3f		# it returns n; else the old program is half gone: give up
	ld	s2, EXS_FREE(s1)
	ld	s3, EXS_NFREE(s1)
1:	beqz	s3, 2f
	ld	a0, 0(s2)
	ld	a7, EXS_SYS_FREE(s1)
	ecall
	addi	s2, s2, 8
	addi	s3, s3, -1
	j	1b
2:	ld	sp, EXS_SP(s1)
	ld	a0, EXS_ARGC(s1)
	mv	a1, sp
	li	a2, EXOS_EXEC_MAGIC
	ld	a3, EXS_FDS(s1)
	mv	s0, zero
	mv	ra, zero
	ld	t0, EXS_ENTRY(s1)
	jr	t0
3:	li	a0, -1
	ld	a7, EXS_SYS_EXIT(s1)
	ecall
