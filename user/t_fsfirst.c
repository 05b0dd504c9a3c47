// t_fsfirst: the file server's first use, by many processes at once. Booted
// with init=t_fsfirst, this program forks children before it uses a file
// itself, so no server runs yet and none is known: each child's first
// call creates a file. Every child's call succeeds, and every process
// finds the same server, which still runs at the end.

#include "user/tsupport.h"

#define CHILDREN 8

// A child: create file name and write its name there; report the server it
// found on fd. Exits with 0, or 1 if a call failed.
static void child(const char *name, int fd)
{
  int f = open(name, O_CREAT | O_RDWR);
  if (f < 0)
    printf("%s: open(O_CREAT): %s\n", name, exos_strerror(f));
  int ok = f >= 0 && write(f, name, 2) == 2 && close(f) == 0;
  unsigned int server = fs_server_known();
  write(fd, &server, sizeof(server));
  exit(!ok);
}

int main(int argc, char **argv)
{
  int p[2], pids[CHILDREN];
  char name[3] = "f0";
  pipe(p);
  for (int i = 0; i < CHILDREN; i++) {
    name[1] = '0' + i;
    if ((pids[i] = fork()) == 0)
      child(name, p[1]);
  }
  close(p[1]);
  int ok = 0, status;
  for (int i = 0; i < CHILDREN; i++)
    ok += waitpid(pids[i], &status) == pids[i] && status == 0;
  check("8 children's first file calls, all at once, succeed", ok, CHILDREN);
  unsigned int server, same = 0;
  char buf[2] = "";
  for (int i = 0; i < CHILDREN; i++) {
    name[1] = '0' + i;
    int f = open(name, O_RDONLY);
    if (read(p[0], &server, sizeof(server)) != sizeof(server) || server != fs_server_known())
      printf("%s: its server %x, not %x\n", name, server, fs_server_known());
    else if (f < 0 || read(f, buf, 2) != 2 || memcmp(buf, name, 2) != 0)
      printf("%s: not as written: %d, \"%.2s\"\n", name, f, buf);
    else
      same++;
    close(f);
  }
  check("... each found the one server this program finds, and wrote its file", same, CHILDREN);
  check("... which still runs", ENVINFO(fs_server_known())->id, fs_server_known());
  finish("t_fsfirst");
}
