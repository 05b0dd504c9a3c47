// ExOS file descriptors: small numbers naming open files, as in Unix.
//
// A descriptor refers to an open file (struct file) that dup shares; an
// open file is the console, one end of a pipe, or a file on the disk read
// through diskfs.c (writing files comes with the file server). The tables are this process's own:
// fork copies them (and tells each pipe it has one more holder), exec hands them all to the new
// program and spawn hands over 0, 1 and 2, in the new program's argument page (struct fd_handoff);
// exit closes every descriptor, so a pipe's reader sees the end of the file when the last writer is
// gone. Descriptors 0, 1 and 2 start as the console.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

enum { F_NONE, F_CONSOLE, F_PIPE, F_FILE };

struct file {
  int refs;  // descriptors naming it; 0: a free slot
  unsigned char type, readable, writable;
  struct pipe *pipe;      // F_PIPE
  struct diskfs_file df;  // F_FILE: the file, and where the next read starts
  unsigned long off;
};

static struct file files[NFILE];
static signed char fds[NFD];  // the file's slot + 1; 0: closed

// The open file descriptor fd names, or NULL.
static struct file *file_of(int fd)
{
  return fd >= 0 && fd < NFD && fds[fd] != 0 ? &files[fds[fd] - 1] : NULL;
}

// The lowest free descriptor, or -E_MFILE.
static int free_fd(void)
{
  for (int fd = 0; fd < NFD; fd++)
    if (fds[fd] == 0)
      return fd;
  return -E_MFILE;
}

// A free open-file slot set up as given, with no descriptor yet, or NULL.
static struct file *new_file(int type, int readable, int writable, struct pipe *p)
{
  for (int i = 0; i < NFILE; i++)
    if (files[i].refs == 0) {
      files[i] = (struct file){.type = type, .readable = readable, .writable = writable, .pipe = p};
      return &files[i];
    }
  return NULL;
}

// Let descriptor fd name f.
static void install(int fd, struct file *f)
{
  f->refs++;
  fds[fd] = f - files + 1;
}

// Close descriptor fd. Returns 0 or -E_BADF.
int close(int fd)
{
  struct file *f = file_of(fd);
  if (f == NULL)
    return -E_BADF;
  fds[fd] = 0;
  if (--f->refs == 0 && f->type == F_PIPE) {
    int last_here = 1;  // does another open file of ours hold this pipe?
    for (int i = 0; i < NFILE; i++)
      last_here &= !(files[i].refs > 0 && files[i].pipe == f->pipe);
    pipe_close(f->pipe, f->writable, last_here);
  }
  return 0;
}

// Read up to n bytes from fd into buf. The console waits for a line
// (console.c); a pipe for at least one byte or the end. Returns the number
// read (0 at the end), or -E_BADF.
long read(int fd, void *buf, unsigned long n)
{
  struct file *f = file_of(fd);
  if (f == NULL || !f->readable)
    return -E_BADF;
  if (f->type == F_PIPE)
    return pipe_read(f->pipe, buf, n);
  if (f->type == F_FILE) {
    long r = diskfs_read(&f->df, buf, f->off, n);
    if (r > 0)
      f->off += r;
    return r;
  }
  return console_read(buf, n);
}

// Write n bytes from buf to fd. Returns n, or -E_BADF, or -E_PIPE.
long write(int fd, const void *buf, unsigned long n)
{
  struct file *f = file_of(fd);
  if (f == NULL || !f->writable)
    return -E_BADF;
  if (f->type == F_PIPE)
    return pipe_write(f->pipe, buf, n);
  sys_cputs(buf, n);
  return n;
}

// A second descriptor (the lowest free) for fd's open file. Returns it or
// an error.
int dup(int fd)
{
  struct file *f = file_of(fd);
  int nfd = free_fd();
  if (f == NULL)
    return -E_BADF;
  if (nfd >= 0)
    install(nfd, f);
  return nfd;
}

// Make descriptor nfd name fd's open file (closing what nfd named).
// Returns nfd or -E_BADF.
int dup2(int fd, int nfd)
{
  struct file *f = file_of(fd);
  if (f == NULL || nfd < 0 || nfd >= NFD)
    return -E_BADF;
  if (nfd != fd) {
    close(nfd);
    install(nfd, f);
  }
  return nfd;
}

// Open the file at path. Only reading works until the file server arrives:
// O_WRONLY, O_RDWR, O_CREAT, O_TRUNC and O_APPEND fail with -E_ROFS.
// Returns the descriptor or an error (E_NOTFOUND, E_NOTDIR, ...).
int open(const char *path, int flags)
{
  if (flags != O_RDONLY)
    return -E_ROFS;
  struct file *f = new_file(F_FILE, 1, 0, NULL);
  int fd = free_fd();
  if (f == NULL || fd < 0)
    return f == NULL ? -E_NFILE : fd;
  long err = diskfs_open(path, &f->df);
  if (err < 0)
    return err;  // f stays free: it has no descriptor
  install(fd, f);
  return fd;
}

// What fd is: its type, size and inode (struct stat). Returns 0 or -E_BADF.
int fstat(int fd, struct stat *st)
{
  struct file *f = file_of(fd);
  if (f == NULL)
    return -E_BADF;
  memset(st, 0, sizeof(*st));
  if (f->type == F_FILE) {
    st->ino = f->df.inum;
    st->type = f->df.di.type;
    st->nlink = f->df.di.nlink;
    st->size = f->df.di.size;
  } else {
    st->type = T_DEVICE;  // the console and pipes are not in the file system
    st->nlink = 1;
  }
  return 0;
}

// Make a pipe: pfd[0] reads what pfd[1] writes. Returns 0 or an error.
int pipe(int pfd[2])
{
  struct pipe *p = pipe_new();
  if (p == NULL)
    return -E_NOMEM;
  int rfd = -E_NFILE, wfd = -E_NFILE;
  struct file *r = new_file(F_PIPE, 1, 0, p), *w = NULL;
  if (r != NULL && (rfd = free_fd()) >= 0) {
    install(rfd, r);  // now w cannot take r's slot
    if ((w = new_file(F_PIPE, 0, 1, p)) != NULL && (wfd = free_fd()) >= 0)
      install(wfd, w);
  }
  if (wfd < 0) {
    if (rfd >= 0) {
      fds[rfd] = 0;
      r->refs = 0;
    }
    pipe_close(p, 0, 0);
    pipe_close(p, 1, 1);
    return rfd < 0 ? rfd : wfd;
  }
  pfd[0] = rfd;
  pfd[1] = wfd;
  return 0;
}

// Close every descriptor (at exit).
void fd_close_all(void)
{
  for (int fd = 0; fd < NFD; fd++)
    close(fd);
}

// A new process is about to get copies of open files: every open file
// (fork), or those handed over in h (spawn). Each pipe gains a holder for
// each such file; undo (after a failed fork or spawn) takes that back.
void fd_share(const struct fd_handoff *h, int undo)
{
  for (int i = 0; i < NFILE; i++) {
    struct file *f = &files[i];
    if (f->refs == 0 || f->type != F_PIPE || (h != NULL && h->files[i].type == F_NONE))
      continue;
    if (undo)
      pipe_close(f->pipe, f->writable, 0);
    else
      pipe_hold(f->pipe, f->writable);
  }
}

// Describe descriptors for a new program in *h: all of them (exec), or 0,
// 1 and 2 only (spawn: so a program spawned with one end of a pipe does not
// hold the other, and the pipe can end). Calls map(va, ppn, arg), if given,
// for each page of each pipe handed over, so the new program can map it at
// the same address. Returns 0 or map's error.
long fd_handoff(struct fd_handoff *h, int all,
                long (*map)(unsigned long va, unsigned long ppn, void *arg), void *arg)
{
  memset(h, 0, sizeof(*h));
  for (int fd = 0; fd < (all ? NFD : 3); fd++) {
    struct file *f = file_of(fd);
    if (f == NULL)
      continue;
    int i = f - files;
    h->fds[fd] = i + 1;
    if (h->files[i].type != F_NONE)
      continue;  // already described (dup)
    h->files[i] = (struct fd_handed){f->type,    f->readable, f->writable, (unsigned long)f->pipe,
                                     f->df.inum, f->off};
    int mapped = 0;  // another file handed over uses the same pipe
    for (int j = 0; j < NFILE; j++)
      mapped |= j != i && h->files[j].type == F_PIPE && h->files[j].pipe == (unsigned long)f->pipe;
    if (f->type == F_PIPE && !mapped && map != NULL) {
      unsigned long hp, dp;
      long err;
      pipe_pages(f->pipe, &hp, &dp);
      if ((err = map((unsigned long)f->pipe, hp, arg)) < 0 ||
          (err = map((unsigned long)f->pipe + PGSIZE, dp, arg)) < 0)
        return err;
    }
  }
  h->cwd = diskfs_cwd(0);
  h->magic = FD_HANDOFF_MAGIC;
  return 0;
}

// Set up the descriptors at start-up: from what the creator handed over,
// or 0, 1 and 2 on the console.
void fd_init(const struct fd_handoff *h)
{
  memset(files, 0, sizeof(files));
  memset(fds, 0, sizeof(fds));
  if (h == NULL || h->magic != FD_HANDOFF_MAGIC) {
    struct file *c = new_file(F_CONSOLE, 1, 1, NULL);
    for (int fd = 0; fd < 3; fd++)
      install(fd, c);
    return;
  }
  diskfs_cwd(h->cwd);
  for (int i = 0; i < NFILE; i++) {
    const struct fd_handed *g = &h->files[i];
    files[i] = (struct file){.type = g->type,
                             .readable = g->readable,
                             .writable = g->writable,
                             .pipe = (struct pipe *)g->pipe,
                             .off = g->off};
    if (g->type == F_FILE && diskfs_open_inum(g->inum, &files[i].df) < 0)
      files[i].type = F_NONE;  // gone: its descriptors are not installed
  }
  for (int fd = 0; fd < NFD; fd++)
    if (h->fds[fd] > 0 && h->fds[fd] <= NFILE && files[h->fds[fd] - 1].type != F_NONE)
      install(fd, &files[h->fds[fd] - 1]);
}
