// t_xv6: a program written against xv6's user interface only (its include
// lines, names and types), checking that ExOS gives it xv6's behaviour.

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "user/user.h"

static int checks, failed;

// xv6 programs bring their own panic (xv6's library has none).
void panic(char *s)
{
  fprintf(2, "t_xv6: %s\n", s);
  exit(1);
}

static void expect(const char *what, int ok)
{
  checks++;
  if (!ok)
    failed++;
  printf("%s: %s\n", what, ok ? "ok" : "FAIL");
}

// Every failing call returns -1, as on xv6 (ExOS's own functions return
// an error code).
static void failing_calls(void)
{
  struct stat st;
  char buf[8], *args[] = {"nofile", 0};
  expect("failing calls return -1: open, close, read, write, dup, fstat",
         open("nofile", O_RDONLY) == -1 && close(NOFILE - 1) == -1 &&
             read(NOFILE - 1, buf, 1) == -1 && write(NOFILE - 1, buf, 1) == -1 &&
             dup(NOFILE - 1) == -1 && fstat(NOFILE - 1, &st) == -1);
  expect("failing calls return -1: stat, unlink, link, chdir, mkdir, mknod, exec, kill",
         stat("nofile", &st) == -1 && unlink("nofile") == -1 && link("nofile", "x") == -1 &&
             chdir("nofile") == -1 && mkdir("d") == -1 && mknod("nodir/x", 1, 0) == -1 &&
             exec("nofile", args) == -1 && kill(-1) == -1);
}

// A bad pointer makes a call return -1; the program goes on, as on xv6.
static void bad_pointers(void)
{
  char *wild = (char *)0x80000000L, *args[] = {"echo", wild, 0}, *good[] = {"echo", 0};
  int fd = open("README.md", O_RDONLY);
  expect("a write from a wild pointer returns -1 and the program goes on", write(1, wild, 8) == -1);
  expect("a read into an unmapped buffer returns -1 and the program goes on",
         read(fd, wild, 8) == -1);
  expect("a read running past the end of the heap returns -1",
         read(fd, sbrk(0) - 1, 100) == -1 && read(fd, sbrk(0) - 1, -1) == -1);
  expect("open, unlink and exec of a wild path return -1", open(wild, O_CREATE | O_RDWR) == -1 &&
                                                               unlink((char *)-1L) == -1 &&
                                                               exec((char *)1, good) == -1);
  expect("exec with a wild argv or argument returns -1",
         exec("echo", (char **)wild) == -1 && exec("echo", args) == -1);
  close(fd);
}

// Files behave as on xv6.
static void files_as_on_xv6(void)
{
  struct stat st;
  struct dirent de;
  char buf[8];
  int fd = open("cut", O_CREATE | O_RDWR), fd2;
  write(fd, "0123456789", 10);
  fd2 = open("cut", O_TRUNC | O_RDWR);
  expect("a write at an offset a truncation left past the end returns -1",
         fd2 >= 0 && write(fd, "x", 1) == -1 && fstat(fd, &st) == 0 && st.size == 0);
  expect("... and the other descriptor writes from the start",
         write(fd2, "ab", 2) == 2 && read(fd, buf, 2) == 0 && fstat(fd, &st) == 0 && st.size == 2);
  close(fd);
  close(fd2);
  unlink("cut");
  mkdir("dir");
  expect("open(dir, O_CREATE) of an existing directory returns -1",
         open("dir", O_CREATE) == -1 && open("dir", O_CREATE | O_RDWR) == -1);
  unlink("dir");
  fd = open("abcdefghijklmnopqrstuvwxyz", O_CREATE | O_RDWR);
  close(fd);
  expect("a name longer than DIRSIZ means its first DIRSIZ characters",
         fd >= 0 && stat("abcdefghijklmn", &st) == 0 && stat("abcdefghijklmnXYZ", &st) == 0);
  int found = 0;
  fd = open(".", O_RDONLY);
  while (read(fd, &de, sizeof(de)) == sizeof(de))
    found |= de.inum != 0 && memcmp(de.name, "abcdefghijklmn", DIRSIZ) == 0;
  close(fd);
  expect("... and the directory holds that name", found && unlink("abcdefghijklmnop") == 0);
}

// The headers xv6 programs include give xv6's names; printf takes xv6's forms.
static void headers_and_printf(void)
{
  char path[MAXPATH + 1];
  int fds[NOFILE], n = 0, last = -1;
  ushort us = 65535;
  uchar uc = 255;
  expect("xv6's newer names: pause, sbrklazy, SBRK_ERROR",
         pause(0) == 0 && sbrklazy(4096) != SBRK_ERROR && sbrk(-4096) != SBRK_ERROR);
  expect("ushort and uchar", sizeof(us) == 2 && (ushort)(us + 1) == 0 && (uchar)(uc + 1) == 0);
  while (n < NOFILE && (fds[n] = dup(1)) >= 0)
    last = fds[n++];
  expect("descriptors run out at NOFILE", last == NOFILE - 1 && dup(1) == -1);
  while (n > 0)
    close(fds[--n]);
  memset(path, 'x', MAXPATH);
  path[MAXPATH] = 0;
  expect("a path of MAXPATH characters is too long", open(path, O_CREATE | O_RDWR) == -1);
  expect("BSIZE, DIRSIZ and struct dirent",
         BSIZE >= 512 && DIRSIZ == 14 && sizeof(struct dirent) == 16);
  printf("%%l forms: %ld %lu %lx %lld %llu %llx %d %u %x %p %c %s\n", -5L, 18446744073709551615UL,
         0xcafeUL, -9LL, 12ULL, 0xbeefULL, -7, 7u, 255, (void *)0x1000, 'c', "s");
}

// Touch the page below the stack's USERSTACK pages, as xv6's stacktest
// does: this must end the program.
static void touch_below_the_stack(void)
{
  char here = 0;
  volatile char *below = &here - USERSTACK * 4096;
  printf("t_xv6: read below the stack: %d\n", *below);
  panic("not killed");
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

  failing_calls();
  bad_pointers();
  files_as_on_xv6();
  headers_and_printf();
  if (fork() == 0)
    touch_below_the_stack();
  expect("reading below the stack kills the program (status -1)",
         wait(&status) > 0 && status == -1);
  expect("wait with no children left returns -1", wait(0) == -1);

  if (failed)
    printf("t_xv6: %d of %d checks FAILED\n", failed, checks);
  else
    printf("t_xv6: all %d checks passed\n", checks);
  exit(0);
}
