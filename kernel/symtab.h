// Symbol tables built into the kernel and into user programs (kernel/symtab.c).
#ifndef RVEXO_SYMTAB_H
#define RVEXO_SYMTAB_H

#include "types.h"

struct ksym {
  uint64 addr;
  const char *name;
};

// Emitted by kernel/ksyms.sh into every image's .ksyms section.
extern const struct ksym ksym_table[];
extern const uint64 ksym_count;

const char *symtab_lookup(const struct ksym *table, uint64 n, uint64 pc, uint64 *offset);

#endif
