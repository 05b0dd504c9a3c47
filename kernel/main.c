// Kernel start: bring the machine up, then run the first environment.

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"
#include "smp.h"

struct bootinfo bootinfo;

// The user programs linked into the kernel image (kernel/progs.sh).
struct uprog {
  const char *name;
  const uint8 *elf;
  uint64 size;
};
extern const struct uprog uprog_table[];
extern const uint64 uprog_count;

// The value of boot argument key (e.g. "init=") in the boot arguments, up to
// the next space, copied into buf; NULL if the key is absent.
const char *bootarg(const char *key, char *buf, size_t size)
{
  const char *args = bootinfo.bootargs;
  size_t n = strlen(key);
  for (const char *p = args; *p != '\0'; p++)
    if ((p == args || p[-1] == ' ') && strncmp(p, key, n) == 0) {
      size_t len = 0;
      for (p += n; p[len] != '\0' && p[len] != ' '; len++)
        ;
      strlcpy(buf, p, len + 1 < size ? len + 1 : size);
      return buf;
    }
  return NULL;
}

// Start the first environment: the program named by init=NAME, or init, with
// the other boot arguments as its arguments.
static void start_first_env(void)
{
  char name[32];
  if (bootarg("init=", name, sizeof(name)) == NULL)
    strlcpy(name, "init", sizeof(name));
  for (uint64 i = 0; i < uprog_count; i++)
    if (strcmp(uprog_table[i].name, name) == 0) {
      disk_bind_boot(
          env_create_bootstrap(name, uprog_table[i].elf, uprog_table[i].size, bootinfo.bootargs));
      printf("rvexo: %lu pages free; starting %s\n", pages_free(), name);
      return;
    }
  panic("no program '%s' in the kernel image", name);
}

// Entered from entry.S on the boot hart, in the direct map, with interrupts
// off. The other harts wait in the firmware until smp_start starts them.
void kmain(uint64 hartid, uint64 fdt_pa)
{
  uart_init();
  bootinfo.boot_hart = hartid;
  fdt_parse(fdt_pa, &bootinfo);
  bootinfo.sstc = stimecmp_usable();  // (each other hart looks too: kmain_hart)
  if (bootinfo.ram_base != RAMBASE || bootinfo.ram_size < (16UL << 20))
    panic("need at least 16 MiB of RAM at %p (found %lu MiB at %p)", (void *)RAMBASE,
          bootinfo.ram_size >> 20, (void *)bootinfo.ram_base);
  if (bootinfo.ram_size > MAXRAM)
    bootinfo.ram_size = MAXRAM;
  if (bootinfo.timebase_hz == 0)
    panic("device tree gives no timebase-frequency");
  if (bootinfo.boot_hart >= MAXHARTS)
    panic("booted on hart %d: rvexo runs on harts 0..%d (boot with CPUS=%d or fewer)",
          bootinfo.boot_hart, MAXHARTS - 1, MAXHARTS);

  printf("\nrvexo: exokernel for RISC-V, %d hart%s (booted on hart %d), %lu MiB RAM\n",
         bootinfo.nharts, bootinfo.nharts == 1 ? "" : "s", bootinfo.boot_hart,
         bootinfo.ram_size >> 20);

  pmap_init();
  env_init();
  sched_init();
  trap_init();
  plic_init(hartid);
  disk_init();
  net_init();
  ktest_run();
  start_first_env();
  smp_start();
  kernel_lock();
  sched_start();
}
