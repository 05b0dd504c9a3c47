// Kernel self-tests, chosen by the boot argument ktest=NAME (QEMU -append).
// They exist so the grader can check the kernel's own diagnostics; nothing
// running on rvexo can set boot arguments, so users cannot reach them.
//   ktest=panic    a deliberate panic, to check the symbolised backtrace
//   ktest=illegal  an illegal instruction in the kernel, to check the trap report
//   ktest=printf   print known values in every format printf supports
//   ktest=loopframe, ktest=junkframe  a panic under a frame whose saved frame
//                  pointer points at itself, or off the kernel stack: the
//                  backtrace must end anyway

#include "defs.h"
#include "riscv.h"

// noinline keeps each test a frame of its own in the backtrace.
static void __attribute__((noinline)) ktest_panic(void)
{
  panic("ktest: deliberate panic (%d)", 42);
}

static void __attribute__((noinline)) ktest_illegal(void)
{
  asm volatile(".4byte 0");  // all-zero bits: defined to be illegal
}

// Panic with this frame's saved frame pointer (the caller's) overwritten:
// with its own address if loop, else with an address off the kernel stack.
// (The function never returns, so the lie harms nothing but the backtrace.)
static void __attribute__((noinline)) ktest_badframe(int loop)
{
  volatile uint64 *fp = (uint64 *)r_fp();
  fp[-2] = loop ? (uint64)fp : 0x1000;
  panic("ktest: a frame chain that %s", loop ? "loops" : "leaves the stack");
}

static void __attribute__((noinline)) ktest_printf(void)
{
  printf("ktest printf: [%d] [%i] [%d]\n", 0, -12345, -2147483647 - 1);
  printf("ktest printf: [%u] [%x] [%X]\n", 4294967295U, -1, 0xABCDEFu);
  printf("ktest printf: [%ld] [%lu] [%lx]\n", -9223372036854775807L - 1, 18446744073709551615UL,
         0x123456789abcdefUL);
  printf("ktest printf: [%p] [%p]\n", (void *)0x80200000UL, (void *)0);
  printf("ktest printf: [%s] [%c] [%%] [%5d] [%-5d] [%05x]\n", "str", 'c', 42, 42, 0xbeef);
  const char *volatile null_string = NULL;  // volatile: keep GCC from warning
  printf("ktest printf: [%s]\n", null_string);
}

// Run the test named by ktest= in the boot arguments, if any.
void ktest_run(void)
{
  char t[16];
  if (bootarg("ktest=", t, sizeof(t)) == NULL)
    return;
  if (strcmp(t, "panic") == 0)
    ktest_panic();
  else if (strcmp(t, "illegal") == 0)
    ktest_illegal();
  else if (strcmp(t, "printf") == 0)
    ktest_printf();
  else if (strcmp(t, "loopframe") == 0 || strcmp(t, "junkframe") == 0)
    ktest_badframe(t[0] == 'l');
  else
    printf("ktest: unknown test '%s'\n", t);
}
