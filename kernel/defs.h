// Kernel-internal interfaces, one block per file.
#ifndef RVEXO_DEFS_H
#define RVEXO_DEFS_H

#include "types.h"
#include "fmt.h"
#include "string.h"

struct env;
struct trapframe;

// main.c
struct bootinfo {
  uint64 ram_base, ram_size;  // usable RAM (capped at MAXRAM)
  uint64 fdt_pa, fdt_size;    // the device tree blob, kept reserved
  uint64 timebase_hz;         // rdtime ticks per second
  int nharts;                 // harts in the device tree
  int boot_hart;
  char bootargs[128];  // /chosen/bootargs, e.g. from QEMU -append
};
extern struct bootinfo bootinfo;

// fdt.c
void fdt_parse(uint64 fdt_pa, struct bootinfo *bi);

// printf.c
void console_write(const char *s, size_t n);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void backtrace(uint64 pc, uint64 ra, uint64 fp);
const char *symbolize(uint64 pc, uint64 *offset);

// uart.c
void uart_init(void);
void uart_putc(int c);
void uart_intr(void);
int console_getc(void);

// plic.c
void plic_init(int hart);
int plic_claim(int hart);
void plic_complete(int hart, int irq);

// sbi.c
void sbi_set_timer(uint64 when);
void poweroff(int status) __attribute__((noreturn));

// pmap.c
void pmap_init(void);
uint64 page_alloc(uint32 owner, int type);
void page_free(uint64 pa);
uint64 kernel_root(void);
uint64 pages_free(void);

// env.c
struct env *env_create_bootstrap(const char *name, const uint8 *elf, size_t size);
void env_destroy(struct env *e, int status);
void env_run(struct env *e) __attribute__((noreturn));
void schedule(void) __attribute__((noreturn));
int copy_from_user(struct env *e, void *dst, uint64 va, size_t len);
extern struct env *curenv;

// trap.c
void trap_init(void);
void trap_user(struct trapframe *tf) __attribute__((noreturn));
void trap_return(struct env *e) __attribute__((noreturn));
void handle_interrupt(uint64 cause);
void timer_start(void);

// syscall.c
long syscall(struct env *e, struct trapframe *tf);

// ktest.c
void ktest_run(const char *bootargs);

#endif
