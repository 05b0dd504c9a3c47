// Kernel self-tests, chosen by the boot argument ktest=NAME (QEMU -append).
// They exist so the grader can check the kernel's own diagnostics; nothing
// running on rvexo can set boot arguments, so users cannot reach them.
//   ktest=panic    a deliberate panic, to check the symbolised backtrace
//   ktest=illegal  an illegal instruction in the kernel, to check the trap report
//   ktest=printf   print known values in every format printf supports
//   ktest=loopframe, ktest=junkframe  a panic under a frame whose saved frame
//                  pointer points at itself, or off the kernel stack: the
//                  backtrace must end anyway
//   ktest=symtab   look up addresses with known answers in small symbol tables
//                  and in the kernel's own
//   ktest=hartpanic  a deliberate panic on the first other hart to come up
//                  (several harts), to check backtraces on its own stack

#include "defs.h"
#include "riscv.h"
#include "symtab.h"

// noinline keeps each test a frame of its own in the backtrace.
static void __attribute__((noinline)) ktest_panic(void)
{
  panic("ktest: deliberate panic (%d)", 42);
}

static void __attribute__((noinline)) ktest_hart_panic(void)
{
  panic("ktest: deliberate panic on hart %d", (int)r_tp());
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

// Check one lookup of pc in the first n entries of table against the
// expected name (NULL: none) and offset; print a FAIL line if it differs.
// Returns 1 if it does.
static int symtab_check(const struct ksym *table, uint64 n, uint64 pc,
                        const char *name, uint64 offset)
{
  uint64 off = ~0UL;
  const char *got = symtab_lookup(table, n, pc, &off);
  if (got == NULL && name == NULL)
    return 0;
  if (got && name && strcmp(got, name) == 0 && off == offset)
    return 0;
  printf("ktest symtab: FAIL: %p in %d entries: ", (void *)pc, (int)n);
  if (got)
    printf("%s+0x%lx", got, off);
  else
    printf("none");
  printf(", expected ");
  if (name)
    printf("%s+0x%lx\n", name, offset);
  else
    printf("none\n");
  return 1;
}

// symtab_lookup's answers at the edges: before the first symbol, at a
// symbol's first byte and its last, past the last symbol, in tables of
// odd and even length, of one entry and of none; then the kernel's own
// table, which has thousands of entries.
static void ktest_symtab(void)
{
  static const struct ksym t[] = {
    {0x1000, "one"}, {0x1008, "two"}, {0x1100, "three"}, {0x2000, "four"}, {0x2004, "five"},
  };
  int wrong = 0;
  wrong += symtab_check(t, 5, 0xfff, NULL, 0);
  wrong += symtab_check(t, 5, 0x1000, "one", 0);
  wrong += symtab_check(t, 5, 0x1007, "one", 7);
  wrong += symtab_check(t, 5, 0x1008, "two", 0);
  wrong += symtab_check(t, 5, 0x10ff, "two", 0xf7);
  wrong += symtab_check(t, 5, 0x1fff, "three", 0xeff);
  wrong += symtab_check(t, 5, 0x2004, "five", 0);
  wrong += symtab_check(t, 5, 0x9000, "five", 0x6ffc);
  wrong += symtab_check(t, 4, 0x2004, "four", 4);
  wrong += symtab_check(t, 4, 0x1100, "three", 0);
  wrong += symtab_check(t, 1, 0x5000, "one", 0x4000);
  wrong += symtab_check(t, 1, 0x0, NULL, 0);
  wrong += symtab_check(t, 0, 0x1000, NULL, 0);
  uint64 self = (uint64)ktest_symtab;
  wrong += symtab_check(ksym_table, ksym_count, self + 6, "ktest_symtab", 6);
  wrong += symtab_check(ksym_table, ksym_count, self, "ktest_symtab", 0);
  printf("ktest symtab: 15 lookups, %d wrong\n", wrong);
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
  else if (strcmp(t, "symtab") == 0)
    ktest_symtab();
  else if (strcmp(t, "hartpanic") != 0)
    printf("ktest: unknown test '%s'\n", t);
}

// Run the test named by ktest= that runs on a hart other than the boot
// hart, if it is that one (called by each as it comes up).
void ktest_run_hart(void)
{
  char t[16];
  if (bootarg("ktest=", t, sizeof(t)) != NULL && strcmp(t, "hartpanic") == 0)
    ktest_hart_panic();
}
