// t_xoverflow: a breakpoint handler that takes another breakpoint, forever,
// overflows the exception stack; the kernel must end the program with a
// clear message and keep running.

#include "ulib/ulib.h"
#include "ulib/exos.h"
#include "kernel/riscv.h"

static int fault_again(struct xframe *f)
{
  asm volatile(".4byte 0x00100073");  // a nested breakpoint, and so on
  return 0;
}

int main(int argc, char **argv)
{
  printf("t_xoverflow: nesting exceptions without end\n");
  exos_set_handler(EXC_BREAKPOINT, fault_again);
  asm volatile(".4byte 0x00100073");
  return 0;
}
