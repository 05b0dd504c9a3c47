# The RPC server's PCT entry, and the client's call stub (see ulib/rpc.c).
#
# exos_rpc_entry: the kernel enters it with the message in a0..a5, the
# caller's id in a6 and PCT_SYNC or PCT_ASYNC in a7. The server accepts
# one call at a time, so it has no live state here: start afresh on its
# stack and dispatch (which never returns).
#
# exos_pct_call(m, server): pct_call with a0..a5 from m->w, storing the
# six reply registers back into m->w; returns a0. A call the server never
# saw (refused, not ready, no entry: -E_REFUSED, -E_AGAIN, -E_NOENTRY)
# leaves m->w as it was, the message to call again with (a system call
# may change a1..a5).

#include "kernel/abi.h"
#include "ulib/exos.h"

.section .text
.globl exos_rpc_entry, exos_pct_call
.p2align 2
exos_rpc_entry:
	# LAB ipc: start afresh on the stack in exos_rpc_sp and call exos_rpc_dispatch
	# HANDOUT: unimp
	la	t0, exos_rpc_sp
	ld	sp, 0(t0)
	mv	s0, zero		# ends backtraces
	call	exos_rpc_dispatch
1:	j	1b			# not reached
	# END LAB ipc

.p2align 2
exos_pct_call:
	# LAB ipc: a0..a5 from m->w, a6 the server, a7 SYSNUM_PCT_CALL, ecall; a reply into m->w
	# HANDOUT: li	a0, -2			# -E_NOSYS
	# HANDOUT: ret
	addi	sp, sp, -16
	sd	s1, 0(sp)
	mv	s1, a0
	mv	a6, a1
	ld	a0, 0(s1)
	ld	a1, 8(s1)
	ld	a2, 16(s1)
	ld	a3, 24(s1)
	ld	a4, 32(s1)
	ld	a5, 40(s1)
	li	a7, SYSNUM_PCT_CALL
	ecall
	bgez	a0, 1f			# the server's reply
	li	t0, -EXOS_E_REFUSED
	beq	a0, t0, 2f
	li	t0, -EXOS_E_AGAIN
	beq	a0, t0, 2f
	li	t0, -EXOS_E_NOENTRY
	beq	a0, t0, 2f
1:	sd	a0, 0(s1)
	sd	a1, 8(s1)
	sd	a2, 16(s1)
	sd	a3, 24(s1)
	sd	a4, 32(s1)
	sd	a5, 40(s1)
2:	ld	s1, 0(sp)
	addi	sp, sp, 16
	ret
	# END LAB ipc
