# Program entry: the first instruction of every rvexo user program.
# The environment starts with sp at the top of its stack.
.section .text.entry
.globl _start
_start:
	mv	s0, zero	# ends user backtraces
	call	libmain
1:	j	1b		# libmain does not return
