#!/bin/sh
# Usage: progs.sh PROGRAM... > progs.S
# Emit an assembly table of the user programs built into the kernel image:
# struct uprog { const char *name; const uint8 *elf; uint64 size; }.
# The kernel starts one of them (init, or the one named by init=NAME) as
# the first environment.
set -e
echo "	.section .rodata"
echo "	.p2align 3"
echo "	.globl uprog_table, uprog_count"
echo "uprog_count:"
echo "	.dword $#"
echo "uprog_table:"
i=0
for p in "$@"; do
  echo "	.dword .Lname$i, .Lelf$i, .Lend$i - .Lelf$i"
  i=$((i + 1))
done
i=0
for p in "$@"; do
  echo ".Lname$i:	.asciz \"$(basename "$p")\""
  echo "	.p2align 3"
  echo ".Lelf$i:	.incbin \"$p\""
  echo ".Lend$i:"
  i=$((i + 1))
done
