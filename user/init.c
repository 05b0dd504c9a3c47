// init: the first user program, started by the kernel itself. It starts
// the file-system server and the network daemon (netd: it answers ARP
// and ping, and sleeps otherwise), then the shell on the console, and a
// new shell whenever the shell ends.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  printf("init: hello from user space, environment %lx\n", sys_getenvid());
  if (fs_server(0) == 0)
    printf("init: cannot start the file-system server /fsd\n");
  char *netd[] = {"netd", NULL};
  int err = spawn_server("/netd", netd, 0);
  if (err < 0)
    printf("init: cannot start /netd: %s\n", exos_strerror(err));
  char *sh[] = {"sh", NULL};
  for (;;) {
    int pid = spawn("/sh", sh), status = 0;
    if (pid < 0) {
      printf("init: cannot start /sh: %s\n", exos_strerror(pid));
      return 1;
    }
    waitpid(pid, &status);
    printf("init: the shell ended (status %d); starting another\n", status);
  }
}
