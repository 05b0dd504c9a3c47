// Read-only access to the file system on the disk, straight through this
// program's own disk binding, for the programs that hold one (the first
// program, and what it forks): spawn loads the file server from here (it
// cannot load itself). Everything else goes through the file-system
// server (fsclient.c; a paged region has it bind the blocks of its
// backing file, fs_bind), which installs every
// change on the disk before it replies, so what is read here is what the
// server last committed. The on-disk format is mkfs's (ulib/fsformat.h).
//
// Blocks are read into one buffer page mapped at EXOS_DISKBUF, which also
// serves as a one-block cache for the length of one diskfs_open() and the
// lookups after it (each open starts afresh: the server may have changed
// the disk meanwhile). Nothing here writes the disk.

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"
#include "ulib/fsformat.h"

static struct superblock sb;        // magic 0 until read
static unsigned int cwd = ROOTINO;  // the current directory's inode
static unsigned long cached;        // the block in the buffer; 0: none (block 0 is never read)

// Read block b into the buffer page (unless it is there). Returns a pointer
// to the buffer or NULL with *err set. (A forked child has no buffer page
// yet, since fork does not copy ExOS's own pages: it makes one.)
static const void *read_block(unsigned long b, long *err)
{
  unsigned long pte = vm_pte(EXOS_DISKBUF);
  long p = PTE_PPN(pte);
  if (!(pte & PTE_V) && (p = vm_alloc(EXOS_DISKBUF, PTE_R | PTE_W)) < 0) {
    *err = p;
    return NULL;
  }
  if (b == cached && (pte & PTE_V))
    return (const void *)EXOS_DISKBUF;
  cached = 0;
  long r = sys_disk_io(b, p, 0);
  if (r >= 0)
    r = sys_disk_wait(r);
  if (r < 0) {
    *err = r;
    return NULL;
  }
  cached = b;
  return (const void *)EXOS_DISKBUF;
}

// Read the superblock once. Returns 0 or an error (E_BADFS if the disk
// holds no rvexo file system).
static long load_superblock(void)
{
  long err = 0;
  if (sb.magic == FS_MAGIC)
    return 0;
  const struct superblock *s = read_block(FS_SUPERBLK, &err);
  if (s == NULL)
    return err;
  if (s->magic != FS_MAGIC || s->size == 0 || s->inodestart >= s->size)
    return -E_BADFS;
  sb = *s;
  return 0;
}

// Read inode inum into *di. Returns 0 or an error.
static long read_inode(unsigned int inum, struct dinode *di)
{
  long err = 0;
  if (inum == 0 || inum >= sb.ninodes)
    return -E_BADFS;
  const struct dinode *blk = read_block(IBLOCK(inum, sb), &err);
  if (blk == NULL)
    return err;
  *di = blk[inum % IPB];
  return 0;
}

// The disk block holding block `index` of file f: 0 for a hole, or an error.
static long diskfs_bmap(const struct diskfs_file *f, unsigned long index)
{
  long err = 0;
  const unsigned int *ind;
  if (index < NDIRECT)
    return f->di.addrs[index];
  index -= NDIRECT;
  unsigned long top = index < NINDIRECT ? f->di.addrs[NDIRECT] : f->di.addrs[NDIRECT + 1];
  if (index >= NINDIRECT) {  // double indirect: first the block of indirect blocks
    index -= NINDIRECT;
    if (index >= (unsigned long)NINDIRECT * NINDIRECT)
      return -E_INVAL;
    if (top == 0)
      return 0;
    if ((ind = read_block(top, &err)) == NULL)
      return err;
    top = ind[index / NINDIRECT];
    index %= NINDIRECT;
  }
  if (top == 0)
    return 0;
  if (top >= sb.size)
    return -E_BADFS;
  if ((ind = read_block(top, &err)) == NULL)
    return err;
  return ind[index];
}

// Read up to n bytes at offset off of file f into dst. Returns the number
// of bytes read (0 at the end of the file) or an error.
long diskfs_read(const struct diskfs_file *f, void *dst, unsigned long off, unsigned long n)
{
  if (off >= f->di.size)
    return 0;
  if (n > f->di.size - off)
    n = f->di.size - off;
  for (unsigned long done = 0; done < n;) {
    unsigned long in = (off + done) % FS_BSIZE, chunk = FS_BSIZE - in;
    if (chunk > n - done)
      chunk = n - done;
    long b = diskfs_bmap(f, (off + done) / FS_BSIZE), err = 0;
    const char *data = b > 0 ? read_block(b, &err) : NULL;
    if (b < 0 || err < 0)
      return b < 0 ? b : err;
    if (data == NULL)
      memset((char *)dst + done, 0, chunk);  // a hole reads as zeros
    else
      memmove((char *)dst + done, data + in, chunk);
    done += chunk;
  }
  return n;
}

// Find name in directory dir. Returns its inode number or an error.
static long dir_lookup(const struct diskfs_file *dir, const char *name, unsigned long len)
{
  struct dirent de;
  if (dir->di.type != T_DIR)
    return -E_NOTDIR;
  if (len > DIRSIZ)
    return -E_NOTFOUND;
  for (unsigned long off = 0; off + sizeof(de) <= dir->di.size; off += sizeof(de)) {
    long r = diskfs_read(dir, &de, off, sizeof(de));
    if (r < 0)
      return r;
    if (de.inum != 0 && strncmp(de.name, name, len) == 0 && (len == DIRSIZ || de.name[len] == 0))
      return de.inum;
  }
  return -E_NOTFOUND;
}

// Open the file at path (absolute, or relative to the current directory)
// for reading. Returns 0 with *f filled in, or an error: E_NOTFOUND,
// E_NOTDIR, E_BADFS, or the disk's.
long diskfs_open(const char *path, struct diskfs_file *f)
{
  cached = 0;
  long err = load_superblock();
  if (err < 0)
    return err;
  f->inum = path[0] == '/' ? ROOTINO : cwd;
  if ((err = read_inode(f->inum, &f->di)) < 0)
    return err;
  while (*path != 0) {
    while (*path == '/')
      path++;
    unsigned long len = 0;
    while (path[len] != 0 && path[len] != '/')
      len++;
    if (len == 0)
      break;
    long inum = dir_lookup(f, path, len);
    if (inum < 0)
      return inum;
    f->inum = inum;
    if ((err = read_inode(inum, &f->di)) < 0)
      return err;
    path += len;
  }
  return 0;
}

// The current directory's inode (chdir() sets it; spawn and exec hand it
// over), or, with inum nonzero, set it.
unsigned int diskfs_cwd(unsigned int inum)
{
  if (inum != 0)
    cwd = inum;
  return cwd;
}
