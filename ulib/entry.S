# Program entry: the first instruction of every rvexo user program.
# The environment starts with sp at the top of its stack, a0 = argc and
# a1 = argv (spawn's and exec's; for the first program the kernel's: its name
# and the boot arguments but init=NAME), a2 = EXOS_EXEC_MAGIC after exec, and
# a3 = the descriptors handed over (struct fd_handoff, or 0).
.section .text.entry
.globl _start
_start:
	mv	s0, zero	# ends user backtraces
	call	libmain
1:	j	1b		# libmain does not return
