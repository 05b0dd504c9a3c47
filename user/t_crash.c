// t_crash: the ways a program ends with a report and a backtrace through its
// own functions: an exception nobody handles, a failed assert, and panic.
// It runs the assert and the panic in children (spawned as `t_crash assert`
// and `t_crash panic`), then crashes itself.

#include "ulib/ulib.h"

static void __attribute__((noinline)) crash_deep(volatile long *p)
{
  *p = 1;  // p is null: a store page fault
}

static void __attribute__((noinline)) crash_middle(volatile long *p)
{
  crash_deep(p);
  asm volatile("");  // keep this a real call
}

static void __attribute__((noinline)) assert_sum(volatile int x)
{
  assert(x + 1 == 3);
  asm volatile("");
}

static void __attribute__((noinline)) panic_middle(int code)
{
  panic("deliberate panic %d", code);
}

int main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[1], "assert") == 0)
    assert_sum(1);
  if (argc == 2 && strcmp(argv[1], "panic") == 0)
    panic_middle(42);
  if (argc == 2) {
    printf("t_crash: not reached (%s)\n", argv[1]);
    return 0;
  }
  int status = 0;
  char *a[] = {"t_crash", "assert", NULL}, *p[] = {"t_crash", "panic", NULL};
  waitpid(spawn("t_crash", a), &status);
  printf("t_crash: the assert ended its program with status %d\n", status);
  waitpid(spawn("t_crash", p), &status);
  printf("t_crash: panic ended its program with status %d\n", status);
  crash_middle(0);
  printf("t_crash: not reached\n");
  return 0;
}
