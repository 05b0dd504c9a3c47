// t_memback: memory given back. A program counts the pages it can
// allocate, runs a big file workload (the file server's block cache fills
// up), and counts again: under pressure the kernel asks the server, whose
// clean cached blocks go back, and the counts agree. Then it asks the
// server itself, through the kernel's visible revocation: the server
// answers at once. Then a request the server cannot answer in time (one
// tick): the kernel takes pages by force, and the server forgets the
// blocks they held and works on. Booted
// with init=t_memback, this program starts the server, so it is the
// server's creator and may ask it (sys_revoke).

#include "user/tsupport.h"

#define MAXPAGES 40000
#define BIG      (4UL << 20)  // the big workload's file: twice the cache

static unsigned int pages[MAXPAGES];

// Allocate pages until the kernel has none left for us (waiting while it
// gets some back from others: -E_AGAIN), then free them all. Returns how
// many there were.
static long count_pages(void)
{
  long n = 0, p;
  while (n < MAXPAGES) {
    p = sys_page_alloc(0, 0, PG_USER);
    if (p == -E_AGAIN) {
      sys_yield(0);
      continue;
    }
    if (p < 0)
      break;
    pages[n++] = p;
  }
  for (long i = 0; i < n; i++)
    sys_page_free(pages[i]);
  return n;
}

// Write size bytes to a new file, read them back, and remove it. Returns
// 1 if every call succeeded.
static int workload(unsigned long size)
{
  static char buf[PGSIZE];
  int fd = open("big", O_CREAT | O_RDWR), ok = fd >= 0;
  for (unsigned long off = 0; ok && off < size; off += sizeof(buf)) {
    memset(buf, (int)(off / PGSIZE), sizeof(buf));
    ok = write(fd, buf, sizeof(buf)) == sizeof(buf);
  }
  ok = ok && lseek(fd, 0, SEEK_SET) == 0;
  for (unsigned long off = 0; ok && off < size; off += sizeof(buf))
    ok = read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[7] == (char)(off / PGSIZE);
  close(fd);
  return ok && unlink("big") == 0;
}

// Let the server run: a call it refuses (one that uses no block).
static long wake(unsigned int server)
{
  struct rpc_msg m = {{-1000}};
  return rpc_call(server, &m);
}

int main(int argc, char **argv)
{
  // A small run first: the server mounts and reaches every depth of its
  // stack, so that what the big one adds is cached blocks only.
  check("write, read and remove a 64 KiB file", workload(64 * 1024), 1);
  unsigned int server = fs_server_known();
  // Only the kernel asking: an allocation that finds no free page makes it
  // ask the biggest other holder, the server (a plea: it is below its fair
  // share), which gives its clean cached blocks back.
  long before = count_pages();
  unsigned long held = ENVINFO(server)->npages;
  check("write, read and remove a 4 MiB file", workload(BIG), 1);
  printf("the file server took %lu pages more\n", ENVINFO(server)->npages - held);
  long after = count_pages();
  printf("pages: %ld before, %ld after\n", before, after);
  check("the pages a program can allocate, before and after, the kernel asking", after, before);
  // Its creator asking: the server answers when it next runs.
  check("write, read and remove a 4 MiB file again", workload(BIG), 1);
  unsigned long grown = ENVINFO(server)->npages - held;
  unsigned long hz = SYSINFO->timebase_hz, asked = sys_uptime();
  check("ask the file server for the pages it took", sys_revoke(server, REVOKE_PAGES, grown, hz / 10),
        0);
  check("... let it run", wake(server), -E_INVAL);
  check("... it gave them back at once", ENVINFO(server)->npages, held);
  while ((unsigned long)sys_uptime() < asked + hz / 10 + hz / 100)
    sys_yield(0);  // past the deadline: the request is over
  // A request it cannot answer in time (one tick): the kernel takes the
  // most recent pages by force, cached blocks' (a small run has just filled
  // some), and the server forgets them.
  check("write, read and remove a 64 KiB file once more", workload(64 * 1024), 1);
  unsigned long now = ENVINFO(server)->npages;
  check("ask for 8 pages within a tick", sys_revoke(server, REVOKE_PAGES, 8, 1), 0);
  while (ENVINFO(server)->npages > now - 8)
    sys_yield(0);
  check("the file system still works after the kernel took 8 pages", workload(64 * 1024), 1);
  finish("t_memback");
}
