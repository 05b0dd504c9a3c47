// t_xv6: a program written against xv6's user interface only (its include
// lines, names and types), checking that ExOS gives it xv6's behaviour.

#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

static int checks, failed;

static void expect(const char *what, int ok)
{
  checks++;
  if (!ok)
    failed++;
  printf("%s: %s\n", what, ok ? "ok" : "FAIL");
}

int main(int argc, char *argv[])
{
  int pid = fork(), status = -1;
  if (pid == 0)
    exit(7);
  expect("fork, exit(7), wait", wait(&status) == pid && status == 7);

  int p[2];
  char buf[64];
  expect("pipe", pipe(p) == 0);
  if (fork() == 0) {
    close(p[0]);
    write(p[1], "through a pipe", 14);
    exit(0);
  }
  close(p[1]);
  int n = read(p[0], buf, sizeof(buf));
  expect("a child writes, the parent reads", n == 14 && memcmp(buf, "through a pipe", 14) == 0);
  expect("then the end of the file", read(p[0], buf, 1) == 0);
  close(p[0]);
  wait(0);

  pipe(p);
  close(0);
  expect("dup takes the lowest free descriptor", dup(p[0]) == 0);
  write(p[1], "a line\nrest", 11);
  close(p[1]);
  close(p[0]);
  gets(buf, sizeof(buf));
  expect("gets reads a line from descriptor 0", strcmp(buf, "a line\n") == 0);

  char *mem = sbrk(8192);
  mem[0] = 1, mem[8191] = 2;
  char *m = malloc(100);
  expect("sbrk and malloc", mem != (char *)-1 && m != 0 && mem[8191] == 2);
  free(m);

  struct stat st, st2;
  int fd = open("README.md", O_RDONLY);
  expect("open a file", fd >= 0);
  expect("fstat and stat agree", fstat(fd, &st) == 0 && stat("/README.md", &st2) == 0 &&
                                     st.size == st2.size && st.ino == st2.ino && st.type == T_FILE);
  expect("read its start", read(fd, buf, 6) == 6 && memcmp(buf, "# rvexo", 6) == 0);
  close(fd);
  expect("a directory is T_DIR", stat(".", &st) == 0 && st.type == T_DIR);
  expect("open a missing file fails", open("nofile", O_RDONLY) < 0);
  fd = open("new", O_CREATE | O_RDWR);
  expect("create and write a file", fd >= 0 && write(fd, "hello", 5) == 5);
  close(fd);
  fd = open("new", O_RDONLY);
  expect("read it back", read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
  close(fd);
  expect("mkdir, chdir, link, unlink",
         mkdir("d") == 0 && chdir("d") == 0 && link("../new", "alias") == 0 &&
             stat("alias", &st) == 0 && st.nlink == 2 && st.size == 5 && unlink("../new") == 0 &&
             stat("alias", &st) == 0 && st.nlink == 1 && chdir("..") == 0 && open("new", 0) < 0);
  expect("mknod a console and write to it",
         mknod("console", 1, 0) == 0 && (fd = open("console", O_RDWR)) >= 0 &&
             write(fd, "to the console\n", 15) == 15 && fstat(fd, &st) == 0);
  close(fd);

  char copy[16];
  strcpy(copy, "12345");
  expect("strcpy, strlen, atoi, strchr",
         strlen(copy) == 5 && atoi(copy) == 12345 && strchr(copy, '3') == copy + 2);
  memset(copy, 'x', 3);
  expect("memset", copy[0] == 'x' && copy[2] == 'x' && copy[3] == '4');

  int t0 = uptime();
  sleep(3);
  expect("sleep(3) takes about 3 ticks", uptime() - t0 >= 3 && uptime() - t0 < 30);

  pid = fork();
  if (pid == 0) {
    char *args[] = {"echo", "exec", "from", "xv6", 0};
    exec("echo", args);
    exit(1);
  }
  wait(&status);
  expect("exec", status == 0);
  pid = fork();
  if (pid == 0)
    for (;;)
      sleep(1);
  expect("kill", kill(pid) == 0 && wait(&status) == pid && status == -1);
  expect("getpid", getpid() > 0);
  fprintf(2, "fprintf to descriptor 2\n");

  if (failed)
    printf("t_xv6: %d of %d checks FAILED\n", failed, checks);
  else
    printf("t_xv6: all %d checks passed\n", checks);
  exit(0);
}
