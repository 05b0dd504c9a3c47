// Kernel start: bring the machine up, then run the first environment.

#include "defs.h"
#include "env.h"
#include "memlayout.h"
#include "riscv.h"

struct bootinfo bootinfo;

// The first user program, linked into the kernel image (kernel/initimg.S).
extern const uint8 init_elf[], init_elf_end[];

// Entered from entry.S on the boot hart, in the direct map, with interrupts
// off. Other harts stay parked in the firmware (SBI HSM "stopped" state).
void kmain(uint64 hartid, uint64 fdt_pa)
{
  uart_init();
  bootinfo.boot_hart = hartid;
  fdt_parse(fdt_pa, &bootinfo);
  if (bootinfo.ram_base != RAMBASE || bootinfo.ram_size < (16UL << 20))
    panic("need at least 16 MiB of RAM at %p (found %lu MiB at %p)", (void *)RAMBASE,
          bootinfo.ram_size >> 20, (void *)bootinfo.ram_base);
  if (bootinfo.ram_size > MAXRAM)
    bootinfo.ram_size = MAXRAM;
  if (bootinfo.timebase_hz == 0)
    panic("device tree gives no timebase-frequency");

  printf("\nrvexo: exokernel for RISC-V, %d hart%s (booted on hart %d), %lu MiB RAM\n",
         bootinfo.nharts, bootinfo.nharts == 1 ? "" : "s", bootinfo.boot_hart,
         bootinfo.ram_size >> 20);
  if (bootinfo.nharts > 1)
    printf("rvexo: harts other than %d stay parked in the firmware\n", bootinfo.boot_hart);

  pmap_init();
  trap_init();
  plic_init(hartid);
  ktest_run(bootinfo.bootargs);

  env_create_bootstrap("init", init_elf, init_elf_end - init_elf);
  printf("rvexo: %lu pages free; starting init\n", pages_free());
  timer_start();
  schedule();
}
