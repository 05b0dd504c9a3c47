// init: the first user program, started by the kernel itself.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  printf("init: hello from user space, environment %lx\n", sys_getenvid());
  return 0;
}
