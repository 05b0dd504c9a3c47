# The first user program's ELF file, linked into the kernel image.
# INIT_ELF is the path of the built program, set by the Makefile.
.section .rodata
.p2align 3
.globl init_elf, init_elf_end
init_elf:
	.incbin	INIT_ELF
init_elf_end:
