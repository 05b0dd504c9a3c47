// t_overflow: unbounded recursion runs into the stack's guard page, which
// must end the program with a clear message and leave the kernel running.

#include "ulib/ulib.h"

static volatile int depth_limit = 1 << 30;  // volatile: GCC must not prove it endless

static int __attribute__((noinline)) recurse(int n)
{
  volatile char pad[512];
  pad[0] = n;
  return n < depth_limit ? recurse(n + 1) + pad[0] : 0;
}

int main(int argc, char **argv)
{
  printf("t_overflow: overflowing the stack\n");
  return recurse(0);
}
