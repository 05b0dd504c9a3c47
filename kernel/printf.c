// Kernel console output: printf, panic and symbolised backtraces.
//
// The kernel image carries its own symbol table (.ksyms, generated at build
// time from the first link by kernel/ksyms.sh), so a panic names functions
// without any host tool.

#include <stdarg.h>
#include "defs.h"
#include "memlayout.h"
#include "riscv.h"
#include "symtab.h"

extern char _start[], etext[];

static int panicking;

static void console_putch(int c, void *arg)
{
  (void)arg;
  if (c == '\n')
    uart_putc('\r');
  uart_putc(c);
}

// Write n bytes to the console.
void console_write(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    console_putch(s[i], NULL);
}

// Print to the console. Returns nothing useful (0); kept int for familiarity.
int printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vprintfmt(console_putch, NULL, fmt, ap);
  va_end(ap);
  return 0;
}

// Whether fp may be a frame pointer on the kernel stack: inside it, with
// room below for the frame record it points above, and 8-byte aligned.
static int on_stack(uint64 fp)
{
  // LAB boot: fp on this hart's kernel stack (up to kstack_top()), 16 above its bottom, aligned
  // HANDOUT: return 0;
  uint64 hi = kstack_top(), lo = hi - KSTACKSIZE;
  return fp >= lo + 16 && fp <= hi && (fp & 7) == 0;
  // END LAB boot
}

// Whether pc is inside the kernel's code (_start up to etext).
static int in_text(uint64 pc)
{
  // LAB boot: pc within the kernel's text
  // HANDOUT: return 0;
  return pc >= (uint64)_start && pc < (uint64)etext;
  // END LAB boot
}

// Name the kernel function containing pc and set *offset to pc's distance
// from its start. Returns NULL for addresses outside the kernel's text.
const char *symbolize(uint64 pc, uint64 *offset)
{
  return in_text(pc) ? symtab_lookup(ksym_table, ksym_count, pc, offset) : NULL;
}

// Print frame number depth of a backtrace, stopped at pc, as
// "  #depth 0x<16 hex digits> function+0x<offset>", or "... ?" when no
// function of the kernel contains pc.
static void print_frame(int depth, uint64 pc)
{
  // LAB boot: name pc with symbolize() and print the frame's line
  uint64 off;
  const char *name = symbolize(pc, &off);
  if (name)
    printf("  #%d %p %s+0x%lx\n", depth, (void *)pc, name, off);
  else
    printf("  #%d %p ?\n", depth, (void *)pc);
  // END LAB boot
}

// Print the call chain of a function stopped at pc, whose frame pointer is
// fp and whose return-address register holds ra. The kernel is built with
// frame pointers: a function's saved ra is at fp-8 and its caller's fp at
// fp-16 -- except in a leaf function, which saves only the caller's fp (at
// fp-8) and keeps its return address in ra. The walk stops at a zero or
// implausible frame pointer (entry.S starts the kernel with fp = 0), at a
// return address outside the kernel's text, or after 32 frames.
void backtrace(uint64 pc, uint64 ra, uint64 fp)
{
  printf("backtrace:\n");
  // LAB boot: print frame #0 at pc; then a leaf's caller (from ra), then walk the chain
  int depth = 0;
  print_frame(depth++, pc);
  if (on_stack(fp) && on_stack(((uint64 *)fp)[-1]) && in_text(ra - 4)) {
    print_frame(depth++, ra - 4);  // stopped in a leaf function
    fp = ((uint64 *)fp)[-1];
  }
  for (; depth < 32 && on_stack(fp); depth++) {
    uint64 caller = ((uint64 *)fp)[-1];
    if (!in_text(caller - 4))  // the call: it may be the text's last instruction
      break;
    print_frame(depth, caller - 4);  // the call instruction, inside the caller
    fp = ((uint64 *)fp)[-2];
  }
  // END LAB boot
}

// Report a fatal kernel error at file:line with a backtrace, then power off
// with a failure status. Reached through the panic() macro.
void panic_at(const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  if (panicking++) {  // a panic while panicking: stop as quietly as possible
    printf("panic: recursive panic at %s:%d\n", file, line);
    poweroff(1);
  }
  printf("panic at %s:%d: ", file, line);
  va_start(ap, fmt);
  vprintfmt(console_putch, NULL, fmt, ap);
  va_end(ap);
  printf("\n");
  uint64 pc;
  asm volatile("auipc %0, 0" : "=r"(pc));
  backtrace(pc, 0, r_fp());
  poweroff(1);
}
