// Runs main() and exits with its return value.

#include "ulib.h"

int main(int argc, char **argv);

void libmain(void)
{
  exit(main(0, NULL));
}

// End this program with the given status.
void exit(int status)
{
  sys_env_exit(status);
  for (;;)
    ;  // not reached: the kernel does not return from env_exit
}
