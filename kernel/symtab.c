// Symbol lookup in a table built into the image by kernel/ksyms.sh.
// Shared by the kernel (panics) and ExOS (user backtraces).

#include "types.h"
#include "symtab.h"

// The name of the function containing pc, in a table of n symbols sorted
// by address, and pc's offset from its start; NULL if pc precedes them all.
const char *symtab_lookup(const struct ksym *table, uint64 n, uint64 pc, uint64 *offset)
{
  // LAB boot: find the last entry with addr <= pc by binary search; set *offset
  // HANDOUT: return NULL;
  if (n == 0 || pc < table[0].addr)
    return NULL;
  uint64 lo = 0, hi = n;  // table[lo].addr <= pc < table[hi].addr (table[n]: beyond)
  while (hi - lo > 1) {
    uint64 mid = (lo + hi) / 2;
    if (table[mid].addr <= pc)
      lo = mid;
    else
      hi = mid;
  }
  *offset = pc - table[lo].addr;
  return table[lo].name;
  // END LAB boot
}
