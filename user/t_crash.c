// t_crash: an exception nobody handles ends the program with a report and
// a backtrace through its own functions.

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

int main(int argc, char **argv)
{
  crash_middle(0);
  printf("t_crash: not reached\n");
  return 0;
}
