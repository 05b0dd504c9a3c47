// ExOS file descriptors: small numbers naming open files, as in Unix.
//
// A descriptor refers to an open file (struct file) that dup shares; an
// open file is the console, one end of a pipe, or a file or directory of
// the file system, reached through its server (fsclient.c), which keeps a
// record of each open so an unlinked file lives until its last close, or
// a socket (socket.c: this process's own, never handed over). The
// tables are this process's own:
// fork copies them (and tells each pipe it has one more holder), exec hands them all to the new
// program and spawn hands over 0, 1 and 2, in the new program's argument page (struct fd_handoff);
// exit closes every descriptor, so a pipe's reader sees the end of the file when the last writer is
// gone (and the server forgets the opens of a process killed before it could). Descriptors 0, 1
// and 2 start as the console.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

enum { F_NONE, F_CONSOLE, F_PIPE, F_FILE, F_SOCKET };

struct file {
  int refs;  // descriptors naming it; 0: a free slot
  unsigned char type, readable, writable, append;
  struct pipe *pipe;  // F_PIPE
  struct fs_file ff;  // F_FILE (the server keeps its offset: processes share it)
  struct sock *sock;  // F_SOCKET
};

static struct file files[NFILE];
static const struct sock_ops *sock_ops;  // socket.c's, once it made a socket (fd_socket)
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
  if (--f->refs == 0 && f->type == F_FILE)
    fs_close(&f->ff);
  else if (f->refs == 0 && f->type == F_SOCKET)
    sock_ops->close(f->sock);
  else if (f->refs == 0 && f->type == F_PIPE) {
    int last_here = 1;  // does another open file of ours hold this pipe?
    for (int i = 0; i < NFILE; i++)
      last_here &= !(files[i].refs > 0 && files[i].pipe == f->pipe);
    pipe_close(f->pipe, f->writable, last_here);
  }
  return 0;
}

// Read up to n bytes from fd into buf. The console waits for a line
// (console.c); a pipe for at least one byte or the end, and gives at most
// a page. Returns the number read (0 at the end), or an error: E_BADF,
// E_FAULT if buf is no memory the program may write (the program goes on;
// for a pipe, checked before reading, for as much as one read can give).
long read(int fd, void *buf, unsigned long n)
{
  struct file *f = file_of(fd);
  if (f == NULL || !f->readable)
    return -E_BADF;
  if (f->type == F_PIPE)
    return pipe_take(f->pipe, buf, n < PGSIZE ? n : PGSIZE);
  if (f->type == F_FILE)
    return fs_read(&f->ff, buf, n);
  if (f->type == F_SOCKET)
    return sock_ops->read(f->sock, buf, n);
  return console_read(buf, n);
}

// Write n bytes from buf to fd (for a file opened with O_APPEND, at its
// end). Returns the count written (short only when the disk is full or buf
// turns bad part-way), or an error: E_BADF, E_PIPE, E_NOSPC, E_FAULT if
// buf is no memory the program may read (the program goes on), E_INVAL at
// an offset another open file truncated the file under (see lseek), ...
long write(int fd, const void *buf, unsigned long n)
{
  struct file *f = file_of(fd);
  if (f == NULL || !f->writable)
    return -E_BADF;
  if (f->type == F_PIPE)
    return pipe_write(f->pipe, buf, n);
  if (f->type == F_FILE)
    return fs_write(&f->ff, buf, n, f->append);
  if (f->type == F_SOCKET)
    return sock_ops->write(f->sock, buf, n);
  return console_write(buf, n);
}

// Move fd's offset to off from the start (SEEK_SET), from where it is
// (SEEK_CUR) or from the end (SEEK_END). Past the end is allowed: writing
// there leaves a hole that reads as zeros. (An offset left past the end
// because another open file truncated the file is not: a write there
// fails with E_INVAL, as in xv6.) Returns the new offset or an
// error (E_BADF; E_INVAL for a bad whence, a negative result, or a
// descriptor that is no file).
long lseek(int fd, long off, int whence)
{
  struct file *f = file_of(fd);
  if (f == NULL)
    return -E_BADF;
  return f->type == F_FILE ? fs_seek(&f->ff, off, whence) : -E_INVAL;
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

// Open the file at path: for reading (O_RDONLY), writing (O_WRONLY) or
// both (O_RDWR); O_CREAT makes it if it is not there, O_TRUNC empties it,
// O_APPEND makes every write go to its end. A directory opens only for
// reading; a device of major 1 is the console. Returns the descriptor or
// an error (E_NOTFOUND, E_NOTDIR, E_ISDIR, E_NOSPC, E_NODEV, ...).
int open(const char *path, int flags)
{
  int mode = flags & 3;
  if (mode == 3 || (flags & ~(3 | O_CREAT | O_TRUNC | O_APPEND)))
    return -E_INVAL;
  struct file *f = new_file(F_FILE, mode != O_WRONLY, mode != O_RDONLY, NULL);
  int fd = free_fd();
  if (f == NULL || fd < 0)
    return f == NULL ? -E_NFILE : fd;
  f->append = (flags & O_APPEND) != 0;
  long err = fs_open(path, flags & ~O_APPEND, &f->ff);
  if (err < 0)
    return err;  // f stays free: it has no descriptor
  if (f->ff.type == T_DEVICE) {
    fs_close(&f->ff);
    if (f->ff.major != CONSOLE_MAJOR)
      return -E_NODEV;
    f->type = F_CONSOLE;
  }
  install(fd, f);
  return fd;
}

// What fd is: its type, size and inode (struct stat). Returns 0 or an
// error: E_BADF, E_FAULT if st is bad.
int fstat(int fd, struct stat *st)
{
  struct file *f = file_of(fd);
  if (f == NULL)
    return -E_BADF;
  if (exos_probe(st, sizeof(*st), 1) < 0)
    return -E_FAULT;
  if (f->type == F_FILE)
    return fs_fstat(&f->ff, st);
  memset(st, 0, sizeof(*st));
  {
    st->type = T_DEVICE;  // the console and pipes are not in the file system
    st->nlink = 1;
  }
  return 0;
}

// Make a pipe: pfd[0] reads what pfd[1] writes. Returns 0 or an error
// (E_FAULT if pfd is bad).
int pipe(int pfd[2])
{
  if (exos_probe(pfd, 2 * sizeof(int), 1) < 0)
    return -E_FAULT;
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

// fork's child hook: the child's copies of sockets are closed (their
// filters are the parent's), without touching the parent's.
static void fd_fork_child(void)
{
  for (int fd = 0; fd < NFD; fd++)
    if (file_of(fd) != NULL && file_of(fd)->type == F_SOCKET)
      fds[fd] = 0;
  for (int i = 0; i < NFILE; i++)
    if (files[i].type == F_SOCKET)
      files[i].refs = 0;
}

// A descriptor (the lowest free) for socket s, which ops reads, writes
// and closes. Returns it or an error. (Through ops, a program that makes
// no socket links none of the network; its first socket makes fork close
// sockets in the child: fd_fork_child.)
int fd_socket(struct sock *s, const struct sock_ops *ops)
{
  if (sock_ops == NULL)
    exos_on_fork_child(fd_fork_child);
  sock_ops = ops;
  struct file *f = new_file(F_SOCKET, 1, 1, NULL);
  int fd = free_fd();
  if (f == NULL || fd < 0)
    return f == NULL ? -E_NFILE : fd;
  f->sock = s;
  install(fd, f);
  return fd;
}

// The socket descriptor fd names, or NULL.
struct sock *fd_sock(int fd)
{
  struct file *f = file_of(fd);
  return f != NULL && f->type == F_SOCKET ? f->sock : NULL;
}

// Close every descriptor (an exit hook: the status is not needed).
void fd_close_all(int status)
{
  for (int fd = 0; fd < NFD; fd++)
    close(fd);
}

// A new process, child, is about to get copies of open files: every open
// file (fork), or those handed over in h (spawn). Each pipe gains a holder
// for each such file, and the file server records the child's opens; undo
// (after a failed fork or spawn) takes back the pipes' (the server drops
// a dead process's records itself).
void fd_share(const struct fd_handoff *h, unsigned int child, int undo)
{
  for (int i = 0; i < NFILE; i++) {
    struct file *f = &files[i];
    if (f->refs == 0 || (h != NULL && h->files[i].type == F_NONE))
      continue;
    if (f->type == F_FILE && !undo)
      fs_share(&f->ff, child);
    if (f->type != F_PIPE)
      continue;
    pipe_hold(f->pipe, f->writable, child, undo ? -1 : 1);
  }
}

// fork's share hook: the child gets copies of every open file.
static void fd_fork_share(unsigned int child, int undo)
{
  fd_share(NULL, child, undo);
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
    if (f->type == F_SOCKET)
      continue;  // this process's own
    h->fds[fd] = i + 1;
    if (h->files[i].type != F_NONE)
      continue;  // already described (dup)
    h->files[i] =
        (struct fd_handed){f->type,    f->readable, f->writable, f->append, (unsigned long)f->pipe,
                           f->ff.file, f->ff.hold,  f->ff.type};
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
  h->fsd = fs_server_known();
  h->magic = FD_HANDOFF_MAGIC;
  return 0;
}

// Set up the descriptors at start-up: from what the creator handed over,
// or 0, 1 and 2 on the console. From now on printf writes through them,
// fork shares them and exit closes them (hooks.c).
void fd_init(const struct fd_handoff *h)
{
  memset(files, 0, sizeof(files));
  memset(fds, 0, sizeof(fds));
  printf_set_output(write);
  exos_on_fork_share(fd_fork_share);
  exos_on_exit(fd_close_all);
  if (h == NULL || h->magic != FD_HANDOFF_MAGIC) {
    struct file *c = new_file(F_CONSOLE, 1, 1, NULL);
    for (int fd = 0; fd < 3; fd++)
      install(fd, c);
    return;
  }
  diskfs_cwd(h->cwd);
  if (h->fsd != 0)
    fs_server(h->fsd);
  for (int i = 0; i < NFILE; i++) {
    const struct fd_handed *g = &h->files[i];
    files[i] = (struct file){.type = g->type,
                             .readable = g->readable,
                             .writable = g->writable,
                             .append = g->append,
                             .pipe = (struct pipe *)g->pipe,
                             .ff = {.file = g->file, .hold = g->hold, .type = g->ftype}};
  }
  for (int fd = 0; fd < NFD; fd++)
    if (h->fds[fd] > 0 && h->fds[fd] <= NFILE && files[h->fds[fd] - 1].type != F_NONE)
      install(fd, &files[h->fds[fd] - 1]);
}
