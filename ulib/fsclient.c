// The file system, as a client sees it: calls to the file-system server
// (user/fsd.c running fs.c) over RPC. Paths and data travel in the page
// this process shares with the server (rpc_buffer).
//
// Finding the server: the one this process was handed (spawn and exec pass
// it on, fork copies it), else the oldest live environment named "fsd",
// else a new one started here (detached: it holds none of this process's
// descriptors, and wait() does not wait for it; started by the function the
// start-up gives fs_set_starter, spawn_server: programs are a higher layer). Processes that find none
// at once (children forked before their parent's first file call) each
// start one; a server that finds an older one ends at once, and each
// starter then takes the oldest, so all agree on one. Ids grow with
// creation, so "oldest" is "smallest id", and a server created later can
// never displace the one a process took. A server ends itself when it is
// the last environment left.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

static unsigned int server;  // the file-system server; 0: not known yet
static int (*starter)(const char *path, char *const argv[], int with_disk);

// Make start(path, argv, with_disk) the way to start a server when none
// runs (the start-up gives spawn_server).
void fs_set_starter(int (*start)(const char *path, char *const argv[], int with_disk))
{
  starter = start;
}

// Is env a live environment?
static int alive(unsigned int env)
{
  return env != 0 && ((const struct env_info *)UENVS)[env & 255].id == env;
}

// The oldest live environment named "fsd" (the smallest id), or 0: the
// file-system server, once it has started.
unsigned int fs_server_oldest(void)
{
  const struct env_info *envs = (const struct env_info *)UENVS;
  unsigned int oldest = 0;
  for (unsigned long i = 0; i < ((const struct sysinfo *)USYSINFO)->nenv; i++)
    if (envs[i].id != 0 && (oldest == 0 || envs[i].id < oldest) && strcmp(envs[i].name, "fsd") == 0)
      oldest = envs[i].id;
  return oldest;
}

// The file-system server this process uses (or, with id nonzero, make it
// id). Finds or starts one if need be. Returns 0 if there is none and none
// can be started.
unsigned int fs_server(unsigned int id)
{
  if (id != 0)
    server = id;
  if (alive(server))
    return server;
  if ((server = fs_server_oldest()) == 0 && starter != NULL) {
    char *argv[] = {"fsd", NULL};
    starter("/fsd", argv, 1);       // it needs this process's disk binding
    server = fs_server_oldest();    // ours, or one another process started first
  }
  return server;
}

// The file-system server this process knows of (0: none yet), without
// looking for one.
unsigned int fs_server_known(void)
{
  return server;
}

// Copy the path p, the caller's and perhaps a bad pointer, with its NUL to
// dst. Returns the bytes copied or an error: E_FAULT, E_NAMETOOLONG.
static long copy_path(char *dst, const char *p)
{
  long n = exos_strnlen(p, FS_MAXPATH);
  if (n == FS_MAXPATH)
    return -E_NAMETOOLONG;
  return n < 0 || exos_copy(dst, p, n + 1) < 0 ? -E_FAULT : n + 1;
}

// Call the server: operation op with m's w[1..5], and the paths p1 and p2
// (if not NULL) in the shared page. Returns the reply's w[0] (the reply is
// left in *m), or an error: E_NAMETOOLONG, E_FAULT for a bad path pointer,
// or E_BADENV with no server.
static long fs_call(long op, struct rpc_msg *m, const char *p1, const char *p2)
{
  unsigned int s = fs_server(0);
  char *page = s != 0 ? rpc_buffer(s) : NULL;
  if (page == NULL)
    return -E_BADENV;
  long n1 = p1 != NULL ? copy_path(page, p1) : 0;
  long n2 = p2 != NULL && n1 >= 0 ? copy_path(page + n1, p2) : 0;
  if (n1 < 0 || n2 < 0)
    return n1 < 0 ? n1 : n2;
  m->w[0] = op;
  return rpc_call(s, m);
}

// Open the file at path (relative to the current directory) with flags
// (O_* and FS_NOREF, FS_DIRONLY). Fills *f (with FS_NOREF, f->file is the
// inode's number: nothing is open). Returns 0 or an error.
long fs_open(const char *path, int flags, struct fs_file *f)
{
  struct rpc_msg m = {{0, diskfs_cwd(0), flags}};
  long r = fs_call(FS_OPEN, &m, path, NULL);
  if (r < 0)
    return r;
  *f = (struct fs_file){
      .file = r, .hold = m.w[4], .type = m.w[1], .nlink = m.w[2], .major = m.w[5], .size = m.w[3]};
  return 0;
}

// Call the server about the open file f: operation op with w2, w3 and w5.
// Returns the result (the reply in *m).
static long file_call(struct fs_file *f, long op, struct rpc_msg *m, long w2, long w3, long w5)
{
  *m = (struct rpc_msg){{0, f->file, w2, w3, f->hold, w5}};
  long r = fs_call(op, m, NULL, NULL);
  if (r >= 0)
    f->hold = m->w[4];
  return r;
}

// Read up to n bytes of the open file f into dst: at offset at, or, if at
// is negative, at the file's offset (which moves past them). Returns the
// count (0 at the end) or an error (E_FAULT: dst is bad where the next
// piece would go, which is checked before the piece is read).
static long read_at(struct fs_file *f, void *dst, long at, unsigned long n)
{
  unsigned long done = 0;
  struct rpc_msg m;
  while (done < n) {
    unsigned long chunk = n - done < PGSIZE ? n - done : PGSIZE;
    long r = exos_probe((char *)dst + done, chunk, 1);
    if (r == 0)
      r = file_call(f, FS_READ, &m, at < 0 ? 0 : FS_AT, chunk, at + done);
    if (r >= 0 && exos_copy((char *)dst + done, rpc_buffer(server), r) < 0)
      r = -E_FAULT;
    if (r < 0)
      return done > 0 ? (long)done : r;
    done += r;
    if ((unsigned long)r < chunk)
      break;
  }
  return done;
}

// Read up to n bytes of the open file f into dst, from its offset (which
// moves past them). Returns the count (0 at the end) or an error.
long fs_read(struct fs_file *f, void *dst, unsigned long n)
{
  return read_at(f, dst, -1, n);
}

// Read up to n bytes at offset off of the open file f into dst, leaving
// its offset alone. Returns the count (0 at the end) or an error.
long fs_pread(struct fs_file *f, void *dst, unsigned long off, unsigned long n)
{
  return read_at(f, dst, off, n);
}

// Write n bytes from src to the open file f at its offset (with append
// set, at its end), moving the offset past them. Each page-sized piece is
// one atomic update. Returns the count written (short if the disk fills or
// src turns bad part-way) or an error (E_FAULT: src is bad).
long fs_write(struct fs_file *f, const void *src, unsigned long n, int append)
{
  unsigned long done = 0;
  struct rpc_msg m;
  while (done < n) {
    unsigned long chunk = n - done < PGSIZE ? n - done : PGSIZE;
    char *page = rpc_buffer(fs_server(0));
    long r = page == NULL ? -E_BADENV : exos_copy(page, (const char *)src + done, chunk);
    if (r == 0)
      r = file_call(f, FS_WRITE, &m, append ? FS_APPEND : 0, chunk, 0);
    if (r < 0)
      return done > 0 ? (long)done : r;
    done += r;
    if ((unsigned long)r < chunk)
      break;
  }
  return done;
}

// Move the open file f's offset (lseek's whence and off). Returns the new
// offset or an error.
long fs_seek(struct fs_file *f, long off, int whence)
{
  struct rpc_msg m;
  return file_call(f, FS_SEEK, &m, whence, off, 0);
}

// Fill *st for the open file f (as it is now). Returns 0 or an error.
long fs_fstat(struct fs_file *f, struct stat *st)
{
  struct rpc_msg m;
  long r = file_call(f, FS_STAT, &m, 0, 0, 0);
  if (r < 0)
    return r;
  memset(st, 0, sizeof(*st));
  st->ino = m.w[5];
  st->type = m.w[1];
  st->nlink = m.w[2];
  st->size = m.w[3];
  return 0;
}

// Drop this process's reference to the open file f (one per descriptor
// table entry's open file).
void fs_close(struct fs_file *f)
{
  struct rpc_msg m;
  file_call(f, FS_CLOSE, &m, 0, 0, 0);
}

// Let process env hold the open file f too (a child about to start with a
// copy of it); the two share its offset. Returns 0 or an error.
long fs_share(struct fs_file *f, unsigned int env)
{
  struct rpc_msg m;
  return file_call(f, FS_SHARE, &m, env, 0, 0);
}

// Bind this process, through the server, the disk blocks holding pages
// [first, first + n) of the open file f (each written: no holes), and put
// their numbers in blocks[0 .. n-1], so that a paged region (region_map)
// reads and writes them itself. The binding lasts until this process ends
// or the file's blocks are freed (truncated, or its last link and last
// open gone). Returns 0 or an error: E_INVAL (a page past the end, a hole,
// n beyond FS_BIND_MAX), E_QUOTA (the blocks lie in more ranges than a
// process may hold), E_FAULT (blocks is bad).
long fs_bind(struct fs_file *f, unsigned long first, unsigned long n, unsigned int *blocks)
{
  struct rpc_msg m;
  long r = file_call(f, FS_BIND, &m, first, n, 0);
  if (r == 0 && exos_copy(blocks, rpc_buffer(server), n * sizeof(*blocks)) < 0)
    r = -E_FAULT;
  return r;
}

// How much of the file system is free: fills *s. Returns 0 or an error.
long fs_statfs(struct fs_statfs *s)
{
  struct rpc_msg m = {{0}};
  long r = fs_call(FS_STATFS, &m, NULL, NULL);
  if (r == 0)
    *s = (struct fs_statfs){m.w[1], m.w[2], m.w[3], m.w[4]};
  return r;
}

// What the file at path is (with nofollow set, a symbolic link at its end
// is described itself). Returns 0 or an error (E_FAULT if path or st is
// bad).
static int stat_path(const char *path, struct stat *st, int nofollow)
{
  struct fs_file f;
  long r = exos_probe(st, sizeof(*st), 1) < 0
               ? -E_FAULT
               : fs_open(path, FS_NOREF | (nofollow ? FS_NOFOLLOW : 0), &f);
  if (r < 0)
    return r;
  memset(st, 0, sizeof(*st));
  st->ino = f.file;
  st->type = f.type;
  st->nlink = f.nlink;
  st->size = f.size;
  return 0;
}

// What the file at path is, links followed. Returns 0 or an error.
int stat(const char *path, struct stat *st)
{
  return stat_path(path, st, 0);
}

// What the file at path is, a symbolic link at its end not followed.
// Returns 0 or an error.
int lstat(const char *path, struct stat *st)
{
  return stat_path(path, st, 1);
}

// Read the path the symbolic link at path names into buf (n bytes at most,
// no NUL added). Returns its length or an error (E_INVAL: no link).
long readlink(const char *path, char *buf, unsigned long n)
{
  struct fs_file f;
  long r = fs_open(path, FS_NOFOLLOW, &f);
  if (r < 0)
    return r;
  r = f.type == T_SYMLINK ? fs_read(&f, buf, n) : -E_INVAL;
  fs_close(&f);
  return r;
}

// Make the directory at path the current directory. Returns 0 or an error
// (E_NOTDIR if it is no directory).
long chdir(const char *path)
{
  struct fs_file f;
  long r = fs_open(path, FS_NOREF | FS_DIRONLY, &f);
  if (r == 0)
    diskfs_cwd(f.file);
  return r;
}

// Call the server with a path (and w2, w3) relative to the current
// directory. Returns its result.
static long path_call(long op, const char *p1, const char *p2, long w2, long w3)
{
  struct rpc_msg m = {{0, diskfs_cwd(0), w2, w3}};
  return fs_call(op, &m, p1, p2);
}

// Remove the directory entry path; a directory must be empty. The file
// goes when its last link does and nobody has it open. Returns 0 or an
// error.
int unlink(const char *path)
{
  return path_call(FS_UNLINK, path, NULL, 0, 0);
}

// Remove the empty directory path (and nothing else: E_NOTDIR). Returns 0
// or an error.
int rmdir(const char *path)
{
  return path_call(FS_UNLINK, path, NULL, FS_DIRONLY, 0);
}

// Make new another name for the file old. Returns 0 or an error.
int link(const char *old, const char *new)
{
  return path_call(FS_LINK, old, new, 0, 0);
}

// Make path a symbolic link naming target (a path, resolved when the link
// is used: from the link's directory if it is relative). Returns 0 or an
// error.
int symlink(const char *target, const char *path)
{
  return path_call(FS_SYMLINK, target, path, 0, 0);
}

// Rename old to new (replacing a file new, or an empty directory new when
// old is a directory), atomically. Returns 0 or an error.
int rename(const char *old, const char *new)
{
  long r = path_call(FS_RENAME, old, new, 0, 0);
  return r < 0 ? r : 0;
}

// Make a directory. Returns 0 or an error.
int mkdir(const char *path)
{
  long r = path_call(FS_MKDIR, path, NULL, 0, 0);
  return r < 0 ? r : 0;
}

// Make a device file (major 1 is the console). Returns 0 or an error.
int mknod(const char *path, short major, short minor)
{
  long r = path_call(FS_MKNOD, path, NULL, major, minor);
  return r < 0 ? r : 0;
}
