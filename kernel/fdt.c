// A small reader for the flattened device tree (DTB) that firmware passes at
// boot. It extracts only what the kernel needs: RAM, the harts, the timer
// frequency, an ACLINT SSWI device and the boot arguments. (Whether a hart
// may use Sstc's stimecmp the kernel finds out by trying: sbi.c.) Format: Devicetree Specification v0.4,
// chapter 5 (all fields big-endian).

#include "defs.h"
#include "memlayout.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

struct fdt_header {
  uint32 magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap;
  uint32 version, last_comp_version, boot_cpuid_phys, size_dt_strings, size_dt_struct;
};

static uint32 be32(const void *p)
{
  const uint8 *b = p;
  return ((uint32)b[0] << 24) | ((uint32)b[1] << 16) | ((uint32)b[2] << 8) | b[3];
}

// Read a big-endian number of `cells` 32-bit cells (1 or 2).
static uint64 read_cells(const uint8 *p, int cells)
{
  uint64 v = 0;
  for (int i = 0; i < cells; i++)
    v = (v << 32) | be32(p + 4 * i);
  return v;
}

static int starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

// Walk the device tree at physical address fdt_pa and fill in bi.
// Panics if the blob is not a device tree: nothing can work without one.
void fdt_parse(uint64 fdt_pa, struct bootinfo *bi)
{
  const struct fdt_header *h = KADDR(fdt_pa);
  if (be32(&h->magic) != FDT_MAGIC)
    panic("no device tree at %p (bad magic)", (void *)fdt_pa);
  bi->fdt_pa = fdt_pa;
  bi->fdt_size = be32(&h->totalsize);

  const uint8 *p = (const uint8 *)h + be32(&h->off_dt_struct);
  const char *strings = (const char *)h + be32(&h->off_dt_strings);
  const uint8 *struct_end = p + be32(&h->size_dt_struct);
  int addr_cells = 2, size_cells = 2;  // the root's, per the spec's defaults
  const char *path[4] = {0};           // node names at depths 0..3
  int depth = -1;
  uint64 reg = 0;      // the first address of a /soc node's reg
  int is_sswi = 0;     // that node is an ACLINT SSWI device

  while (p < struct_end) {
    uint32 token = be32(p);
    p += 4;
    if (token == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      depth++;
      if (depth < 4)
        path[depth] = name;
      if (depth == 2 && strcmp(path[1], "cpus") == 0 && starts_with(name, "cpu@"))
        bi->nharts++;
      p += (strlen(name) + 4) & ~3UL;
    } else if (token == FDT_END_NODE) {
      if (depth == 2 && is_sswi && bi->sswi_pa == 0)
        bi->sswi_pa = reg;
      if (depth == 2)
        reg = 0, is_sswi = 0;
      depth--;
    } else if (token == FDT_PROP) {
      uint32 len = be32(p);
      const char *pname = strings + be32(p + 4);
      const uint8 *val = p + 8;
      p += 8 + ((len + 3) & ~3UL);
      if (depth == 0 && strcmp(pname, "#address-cells") == 0)
        addr_cells = be32(val);
      else if (depth == 0 && strcmp(pname, "#size-cells") == 0)
        size_cells = be32(val);
      else if (depth == 1 && starts_with(path[1], "memory") && strcmp(pname, "reg") == 0 &&
               bi->ram_size == 0) {
        bi->ram_base = read_cells(val, addr_cells);
        bi->ram_size = read_cells(val + 4 * addr_cells, size_cells);
      } else if (depth == 1 && strcmp(path[1], "cpus") == 0 &&
                 strcmp(pname, "timebase-frequency") == 0)
        bi->timebase_hz = be32(val);
      else if (depth == 2 && strcmp(path[1], "soc") == 0 && strcmp(pname, "reg") == 0)
        reg = read_cells(val, addr_cells);  // (QEMU's /soc has the root's cells)
      else if (depth == 2 && strcmp(path[1], "soc") == 0 && strcmp(pname, "compatible") == 0)
        is_sswi = strcmp((const char *)val, "riscv,aclint-sswi") == 0;
      else if (depth == 1 && strcmp(path[1], "chosen") == 0 && strcmp(pname, "bootargs") == 0 &&
               strlcpy(bi->bootargs, (const char *)val, sizeof(bi->bootargs)) >=
                   sizeof(bi->bootargs))
        printf("rvexo: the boot arguments are longer than %lu bytes; the rest is dropped\n",
               sizeof(bi->bootargs) - 1);
    } else if (token == FDT_END) {
      break;
    } else if (token != FDT_NOP) {
      panic("device tree: unknown token %u", token);
    }
  }
}
