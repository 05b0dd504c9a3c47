#!/bin/sh
# Usage: ksyms.sh NM [KERNEL] > ksyms.S
# Turn the function symbols of a linked kernel into an assembly table
# (struct ksym { uint64 addr; const char *name; }, sorted by address) that
# the second link builds into the image, so panics can name functions.
# Without KERNEL, emit an empty table (for the first link).
set -e
if [ -n "$2" ]; then "$1" -n "$2"; fi | awk '
  BEGIN { n = 0 }
  $2 ~ /^[tT]$/ && $3 !~ /^\./ { addr[n] = $1; name[n] = $3; n++ }
  END {
    print "\t.section .ksyms, \"a\""
    print "\t.p2align 3"
    print "\t.globl ksym_table, ksym_count"
    print "ksym_count:\n\t.dword " n
    print "ksym_table:"
    for (i = 0; i < n; i++) printf "\t.dword 0x%s, .Lsym%d\n", addr[i], i
    for (i = 0; i < n; i++) printf ".Lsym%d:\t.asciz \"%s\"\n", i, name[i]
  }'
