// The file system, as the file-system server (user/fsd.c) runs it: the
// only program that writes the disk's file system. Clients reach it by RPC
// (fsclient.c); the protocol is in ulib/exos.h (FS_OPEN, ...).
//
// Layers, bottom up:
//   block cache  NBUF pages at EXOS_FSCACHE, filled from the disk through
//                the server's disk binding; least recently used goes first.
//                Under memory pressure the kernel's revocation (revoke.c)
//                takes clean blocks' pages back, between operations; a
//                block the log still needs (dirty) is never given.
//   log          every operation is one transaction: the blocks it changed
//                are written to the log, then the log header (the commit
//                point), then to their homes, then the header is cleared.
//                A crash before the header write loses the operation; after
//                it, mounting replays the log. So every multi-block update
//                is atomic.
//   blocks       the bitmap allocator
//   inodes       read and written in place in the cached inode blocks;
//                direct, single- and double-indirect blocks
//   directories  lookups, entries, paths (symbolic links followed, at
//                most MAXLINKS in one path)
//   operations   open, read, write, stat, link, symlink, unlink, mkdir,
//                mknod, rename, with the open-file records of each client
//   bindings     a client's own binding to its file's blocks (FS_BIND),
//                taken back before those blocks are freed
//
// The server handles one call at a time (rpc.c), so nothing here is
// shared between threads; an operation holds off revocation upcalls
// (exos_critical), so they find the cache between operations. A disk
// error or a corrupt structure ends the server with a message (clients'
// calls then fail with -E_BADENV).

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

#define NBUF   512  // blocks cached (2 MiB)
#define NHASH  128  // hash chains of the cache
#define NFILES 256  // open files, all clients together
#define NHOLDS 512  // (client, open file) pairs

static struct superblock sb;
static unsigned int logsize;  // blocks one transaction may write (<= LOGSIZE)

// ---------------------------------------------------------------- block cache

struct buf {
  unsigned int block;   // which disk block; 0: the slot is empty
  short next;           // the next slot in the hash chain, or -1
  unsigned char dirty;  // changed in the transaction being built
  unsigned long used;   // the operation that last used it (for eviction)
  unsigned long ppn;    // the page holding it
};

// Static tables: the server's start takes no page fault (so no fault
// handler), and a program that does not serve leaves them out (--gc-sections).
static struct buf bufs[NBUF];
static short chains[NHASH];      // the first slot of each chain, or -1
static unsigned long operation;  // counts operations; bufs used by this one are not evicted

// The page holding the contents of cache slot i.
static inline void *buf_data(const struct buf *b)
{
  return (void *)(EXOS_FSCACHE + (b - bufs) * FS_BSIZE);
}

// Transfer blocks[i] to or from cache pages pages[i] for i < n, with as
// many requests in flight as the disk takes. Ends the server on an error.
static void disk_transfer(const unsigned int *blocks, struct buf *const *pages, int n, int write)
{
  long req[LOGSIZE + 1];
  int started = 0, done = 0;
  while (done < n) {
    long r = started < n
                 ? sys_disk_io(blocks[started],
                               PTE_PPN(vm_pte((unsigned long)buf_data(pages[started]))), write)
                 : -E_AGAIN;
    if (r >= 0)
      req[started++ % (LOGSIZE + 1)] = r;
    else if (r != -E_AGAIN || started == done)
      panic("disk %s of block %u: %s", write ? "write" : "read", blocks[started], exos_strerror(r));
    else if ((r = sys_disk_wait(req[done++ % (LOGSIZE + 1)])) < 0)
      panic("disk %s: %s", write ? "write" : "read", exos_strerror(r));
  }
}

// Write one cached block to disk block `block` (its home or a log slot).
static void buf_write_to(struct buf *b, unsigned int block)
{
  disk_transfer(&block, &b, 1, 1);
}

// Take slot i out of its hash chain.
static void unchain(int i)
{
  short *p = &chains[bufs[i].block % NHASH];
  while (*p != i)
    p = &bufs[*p].next;
  *p = bufs[i].next;
}

// The cache slot for block b, holding its contents if read is set (else
// uninitialized: the caller fills it). A slot found moves to the front of
// its hash chain, so finding a block costs what was used since it was last
// used, whatever else the cache holds. Evicts the least recently used
// clean slot that this operation has not used. Ends the server if every
// slot is in use by this operation.
static struct buf *buf_get(unsigned int block, int read)
{
  if (block < FS_SUPERBLK || (sb.size != 0 && block >= sb.size))
    panic("block %u is outside the file system", block);
  for (short *link = &chains[block % NHASH]; *link >= 0; link = &bufs[*link].next)
    if (bufs[*link].block == block) {
      int i = *link;
      *link = bufs[i].next;
      bufs[i].next = chains[block % NHASH];
      chains[block % NHASH] = i;
      bufs[i].used = operation;
      return &bufs[i];
    }
  int victim = -1;
  for (int i = 0; i < NBUF; i++) {
    struct buf *b = &bufs[i];
    if (b->block == 0) {  // never used yet
      victim = i;
      break;
    }
    if (!b->dirty && b->used != operation && (victim < 0 || b->used < bufs[victim].used))
      victim = i;
  }
  if (victim < 0)
    panic("the block cache is full");
  struct buf *b = &bufs[victim];
  if (b->block != 0)
    unchain(victim);
  else if ((long)(b->ppn = vm_alloc((unsigned long)buf_data(b), PTE_R | PTE_W)) < 0)
    panic("no memory for the block cache");
  b->block = block;
  b->used = operation;
  b->next = chains[block % NHASH];
  chains[block % NHASH] = victim;
  if (read) {
    unsigned int blk = block;
    disk_transfer(&blk, &b, 1, 0);
  }
  return b;
}

// Empty cache slot b, whose page is gone or about to go (freeing a page
// breaks its mapping).
static void buf_forget(struct buf *b)
{
  unchain(b - bufs);
  b->block = 0;
}

// Forget block b's cached copy, if any, and free its page (between
// operations, when every cached block is clean).
static void buf_drop(unsigned int block)
{
  for (int i = chains[block % NHASH]; i >= 0; i = bufs[i].next)
    if (bufs[i].block == block) {
      buf_forget(&bufs[i]);
      sys_page_free(bufs[i].ppn);
      return;
    }
}

// Free the pages of up to n clean cached blocks (a revocation request).
// Returns how many.
static unsigned long cache_give(unsigned long n)
{
  unsigned long done = 0;
  for (struct buf *b = bufs; b < bufs + NBUF && done < n; b++)
    if (b->block != 0 && !b->dirty) {
      buf_forget(b);
      sys_page_free(b->ppn);
      done++;
    }
  return done;
}

// The kernel took page ppn: forget the block it held. Returns 1 if it was
// a cache page. Ends the server if the block was one the log still needs.
static int cache_taken(unsigned long ppn)
{
  for (struct buf *b = bufs; b < bufs + NBUF; b++)
    if (b->block != 0 && b->ppn == ppn) {
      if (b->dirty)
        panic("the kernel took block %u of the transaction", b->block);
      buf_forget(b);
      return 1;
    }
  return 0;
}

// The contents of block b (cached).
static void *bread(unsigned int block)
{
  return buf_data(buf_get(block, 1));
}

// ---------------------------------------------------------------- log

static unsigned int tx_blocks[LOGSIZE];  // the blocks this transaction changed
static struct buf *tx_bufs[LOGSIZE];
static int tx_n;

// Record that the cached block holding p (any address inside it) changed:
// it goes to disk at the commit. Ends the server if one operation changes
// more blocks than the log holds (every operation is bounded well below).
static void log_write(const void *p)
{
  struct buf *b = &bufs[((unsigned long)p - EXOS_FSCACHE) / FS_BSIZE];
  if (b->dirty)
    return;
  if (tx_n == (int)logsize)
    panic("a transaction outgrew the log (%u blocks)", logsize);
  b->dirty = 1;
  tx_bufs[tx_n] = b;
  tx_blocks[tx_n++] = b->block;
}

// Write the log header saying n blocks (tx_blocks) are committed.
static void write_log_header(int n)
{
  // LAB fs: the log header
  struct buf *h = buf_get(sb.logstart, 0);
  struct logheader *lh = buf_data(h);
  memset(lh, 0, FS_BSIZE);
  lh->n = n;
  memmove(lh->block, tx_blocks, n * sizeof(tx_blocks[0]));
  buf_write_to(h, sb.logstart);
  // END LAB fs
}

// End the transaction: make its blocks durable atomically (copies to the
// log, the header, the homes, then an empty header).
static void commit(void)
{
  if (tx_n == 0)
    return;
  // Write the blocks (tx_bufs) to the log's slots, then the header (the commit point), then the
  // blocks to their homes (tx_blocks), then an empty header.
  // LAB fs: the commit
  // HANDOUT: disk_transfer(tx_blocks, tx_bufs, tx_n, 1);  // (straight home: not crash-safe)
  unsigned int slots[LOGSIZE];
  for (int i = 0; i < tx_n; i++)
    slots[i] = sb.logstart + 1 + i;
  disk_transfer(slots, tx_bufs, tx_n, 1);
  write_log_header(tx_n);  // the commit point
  disk_transfer(tx_blocks, tx_bufs, tx_n, 1);
  write_log_header(0);
  // END LAB fs
  for (int i = 0; i < tx_n; i++)
    tx_bufs[i]->dirty = 0;
  tx_n = 0;
}

// At mount: install a transaction the log holds (a crash came after its
// commit point), then empty the log.
static void log_recover(void)
{
  // Install the blocks of a committed transaction from the log's slots, then clear the header
  // (saying "fsd: replayed N blocks from the log" when there were N).
  // LAB fs: recovery
  struct logheader lh = *(struct logheader *)bread(sb.logstart);
  if (lh.n > logsize)
    panic("the log header is corrupt (%u blocks)", lh.n);
  for (unsigned int i = 0; i < lh.n; i++) {
    operation++;
    struct buf *copy = buf_get(sb.logstart + 1 + i, 1);
    struct buf *home = buf_get(lh.block[i], 0);
    memmove(buf_data(home), buf_data(copy), FS_BSIZE);
    buf_write_to(home, lh.block[i]);
  }
  if (lh.n > 0) {
    printf("fsd: replayed %u blocks from the log\n", lh.n);
    write_log_header(0);
  }
  // END LAB fs
}

// ---------------------------------------------------------------- blocks

static unsigned int next_free;  // where balloc looks first (a hint)

// Allocate a zeroed data block. Returns its number, or 0 if the disk is
// full. The search starts where the last one ended and takes the bitmap
// a byte at a time.
static unsigned int balloc(void)
{
  unsigned int first = sb.size - sb.nblocks, n = sb.nblocks;
  if (next_free < first || next_free >= sb.size)
    next_free = first;
  for (unsigned int tried = 0; tried < n;) {
    unsigned int b = next_free, bit = b % BPB;
    unsigned char *map = bread(BBLOCK(b, sb));
    if (bit % 8 == 0 && map[bit / 8] == 0xFF && b + 8 <= sb.size) {
      tried += 8;  // a full byte: eight blocks in use
      next_free = b + 8 < sb.size ? b + 8 : first;
      continue;
    }
    tried++;
    next_free = b + 1 < sb.size ? b + 1 : first;
    if (map[bit / 8] & (1 << (bit % 8)))
      continue;
    map[bit / 8] |= 1 << (bit % 8);
    log_write(map);
    struct buf *z = buf_get(b, 0);
    memset(buf_data(z), 0, FS_BSIZE);
    log_write(buf_data(z));
    return b;
  }
  return 0;
}

// Free data block b.
static void bfree(unsigned int b)
{
  if (b < sb.size - sb.nblocks || b >= sb.size)
    panic("freeing block %u, which is not a data block", b);
  unsigned char *map = bread(BBLOCK(b, sb));
  unsigned int bit = b % BPB;
  if (!(map[bit / 8] & (1 << (bit % 8))))
    panic("freeing free block %u", b);
  map[bit / 8] &= ~(1 << (bit % 8));
  log_write(map);
}

// ---------------------------------------------------------------- inodes

// Inode inum, in place in the cache (valid until the operation ends), or
// NULL if inum is out of range.
static struct dinode *iget(unsigned int inum)
{
  if (inum == 0 || inum >= sb.ninodes)
    return NULL;
  struct dinode *blk = bread(IBLOCK(inum, sb));
  return &blk[inum % IPB];
}

// Allocate an inode of the given type. Returns its number, or 0 if every
// inode is in use.
static unsigned int ialloc(short type)
{
  for (unsigned int inum = ROOTINO + 1; inum < sb.ninodes; inum++) {
    struct dinode *ip = iget(inum);
    if (ip->type == 0) {
      memset(ip, 0, sizeof(*ip));
      ip->type = type;
      log_write(ip);
      return inum;
    }
  }
  return 0;
}

// The block *slot names; if there is none and alloc is set, a newly
// allocated one, recorded in *slot (a cached inode or indirect block).
// Returns 0 for none (a hole, or a full disk).
static unsigned int follow(unsigned int *slot, int alloc)
{
  if (*slot == 0 && alloc && (*slot = balloc()) != 0)
    log_write(slot);
  return *slot;
}

// The disk block holding block `index` of ip: 0 for a hole (or past
// MAXFILE), or, with alloc, a newly allocated block and any indirect
// blocks on the way to it (0 only if the disk is full).
static unsigned int bmap(struct dinode *ip, unsigned long index, int alloc)
{
  // LAB fs: the block map: direct, single-indirect, double-indirect blocks
  // HANDOUT: if (index < NDIRECT)  // (the handout's: direct and single-indirect blocks only)
  // HANDOUT:   return follow(&ip->addrs[index], alloc);
  // HANDOUT: index -= NDIRECT;
  // HANDOUT: unsigned int table = index < NINDIRECT ? follow(&ip->addrs[NDIRECT], alloc) : 0;
  // HANDOUT: return table == 0 ? 0 : follow((unsigned int *)bread(table) + index, alloc);
  if (index < NDIRECT)
    return follow(&ip->addrs[index], alloc);
  index -= NDIRECT;
  unsigned int table;
  if (index < NINDIRECT) {
    if ((table = follow(&ip->addrs[NDIRECT], alloc)) == 0)
      return 0;
  } else {  // the double-indirect block: a table of NINDIRECT indirect blocks
    index -= NINDIRECT;
    if (index >= (unsigned long)NINDIRECT * NINDIRECT)
      return 0;
    if ((table = follow(&ip->addrs[NDIRECT + 1], alloc)) == 0)
      return 0;
    unsigned int *dbl = bread(table);
    if ((table = follow(&dbl[index / NINDIRECT], alloc)) == 0)
      return 0;
    index %= NINDIRECT;
  }
  unsigned int *ind = bread(table);
  return follow(&ind[index], alloc);
  // END LAB fs
}

// Free every block of ip, indirect blocks included: it becomes empty.
static void itrunc(struct dinode *ip)
{
  // LAB fs: truncation
  // HANDOUT: for (unsigned long i = 0, b; i < NDIRECT + NINDIRECT; i++)  // (the handout's: no
  // HANDOUT:   if ((b = bmap(ip, i, 0)) != 0)                           // double-indirect range)
  // HANDOUT:     bfree(b);
  // HANDOUT: if (ip->addrs[NDIRECT] != 0)
  // HANDOUT:   bfree(ip->addrs[NDIRECT]);
  // HANDOUT: memset(ip->addrs, 0, sizeof(ip->addrs));
  // HANDOUT: ip->size = 0;
  // HANDOUT: log_write(ip);
  for (int i = 0; i < NDIRECT; i++)
    if (ip->addrs[i] != 0)
      bfree(ip->addrs[i]);
  if (ip->addrs[NDIRECT] != 0) {
    unsigned int *ind = bread(ip->addrs[NDIRECT]);
    for (int i = 0; i < NINDIRECT; i++)
      if (ind[i] != 0)
        bfree(ind[i]);
    bfree(ip->addrs[NDIRECT]);
  }
  if (ip->addrs[NDIRECT + 1] != 0) {
    unsigned int *dbl = bread(ip->addrs[NDIRECT + 1]);
    for (int i = 0; i < NINDIRECT; i++) {
      if (dbl[i] == 0)
        continue;
      unsigned int *ind = bread(dbl[i]);
      for (int j = 0; j < NINDIRECT; j++)
        if (ind[j] != 0)
          bfree(ind[j]);
      bfree(dbl[i]);
      dbl = bread(ip->addrs[NDIRECT + 1]);  // still cached: used by this operation
    }
    bfree(ip->addrs[NDIRECT + 1]);
  }
  memset(ip->addrs, 0, sizeof(ip->addrs));
  ip->size = 0;
  log_write(ip);
  // END LAB fs
}

// Read up to n bytes at offset off of ip into dst. Returns the count:
// short if dst turns bad part-way (it may be a client's page, which the
// client can free under the server: exos_copy fails where a plain copy
// would end the server).
static unsigned long readi(struct dinode *ip, void *dst, unsigned long off, unsigned long n)
{
  if (off >= ip->size)
    return 0;
  if (n > ip->size - off)
    n = ip->size - off;
  for (unsigned long done = 0; done < n;) {
    unsigned long in = (off + done) % FS_BSIZE, chunk = FS_BSIZE - in;
    if (chunk > n - done)
      chunk = n - done;
    unsigned int b = bmap(ip, (off + done) / FS_BSIZE, 0);
    if (b == 0)
      memset((char *)dst + done, 0, chunk);  // a hole
    else if (exos_copy((char *)dst + done, (char *)bread(b) + in, chunk) < 0)
      return done;
    done += chunk;
  }
  return n;
}

// Write n bytes (at most a page: the log bounds one operation) from src at
// offset off of ip, growing it. Returns the count written, short if the
// disk fills, or -E_FBIG past the largest file.
static long writei(struct dinode *ip, const void *src, unsigned long off, unsigned long n)
{
  if (off > MAXFILESIZE || n > MAXFILESIZE - off || (off + n + FS_BSIZE - 1) / FS_BSIZE > MAXFILE)
    return -E_FBIG;
  unsigned long done = 0;
  while (done < n) {
    unsigned long in = (off + done) % FS_BSIZE, chunk = FS_BSIZE - in;
    if (chunk > n - done)
      chunk = n - done;
    unsigned int b = bmap(ip, (off + done) / FS_BSIZE, 1);
    if (b == 0)
      break;  // the disk is full
    char *data = bread(b);
    memmove(data + in, (const char *)src + done, chunk);
    log_write(data);
    done += chunk;
  }
  if (done > 0 && off + done > ip->size) {
    ip->size = off + done;
    log_write(ip);
  }
  return done > 0 || n == 0 ? (long)done : -E_NOSPC;
}

// ---------------------------------------------------------------- directories

// Does entry de hold the name name[0 .. len-1]?
static int name_is(const struct dirent *de, const char *name, unsigned long len)
{
  return strncmp(de->name, name, len) == 0 && (len == DIRSIZ || de->name[len] == 0);
}

// Look name (len bytes) up in directory dp. Returns the inode number, 0
// if absent; *offp (if not NULL) gets the entry's offset.
static unsigned int dir_lookup(struct dinode *dp, const char *name, unsigned long len,
                               unsigned long *offp)
{
  for (unsigned long off = 0; off < dp->size; off += FS_BSIZE) {
    unsigned int b = bmap(dp, off / FS_BSIZE, 0);
    if (b == 0)
      continue;  // a hole: no entries
    const struct dirent *de = bread(b);
    for (unsigned long i = 0; i < FS_BSIZE / sizeof(*de) && off + i * sizeof(*de) < dp->size; i++)
      if (de[i].inum != 0 && name_is(&de[i], name, len)) {
        if (offp != NULL)
          *offp = off + i * sizeof(*de);
        return de[i].inum;
      }
  }
  return 0;
}

// Add the entry name -> inum to directory dp, in a free slot or at the
// end. Returns 0 or -E_NOSPC.
static long dir_link(struct dinode *dp, const char *name, unsigned long len, unsigned int inum)
{
  struct dirent de;
  unsigned long off;
  for (off = 0; off < dp->size; off += sizeof(de)) {
    readi(dp, &de, off, sizeof(de));
    if (de.inum == 0)
      break;
  }
  memset(&de, 0, sizeof(de));
  memmove(de.name, name, len);
  de.inum = inum;
  return writei(dp, &de, off, sizeof(de)) == sizeof(de) ? 0 : -E_NOSPC;
}

// Clear the entry at offset off of directory dp.
static void dir_unlink(struct dinode *dp, unsigned long off)
{
  struct dirent de = {0};
  writei(dp, &de, off, sizeof(de));
}

// Is directory dp empty (nothing but "." and "..")?
static int dir_empty(struct dinode *dp)
{
  struct dirent de;
  for (unsigned long off = 2 * sizeof(de); off < dp->size; off += sizeof(de))
    if (readi(dp, &de, off, sizeof(de)) == sizeof(de) && de.inum != 0)
      return 0;
  return 1;
}

// How resolve() treats the last component of a path.
enum {
  FOLLOW,    // a symbolic link there is followed: its target is the result
  NOFOLLOW,  // a symbolic link there is the result itself
  PARENT,    // it is not looked up: its directory is the result
};
#define MAXLINKS 8  // symbolic links one resolve() follows, at most

static long walk(unsigned int cwd, const char *path, int how, const char **name,
                 unsigned long *len, int *links);

// The inode the symbolic link ip names: its contents are a path, resolved
// from dir (the directory holding the link) when relative, every link on
// the way followed. *links counts the links this resolve() has followed.
// Returns an inode number or an error: E_LOOP past MAXLINKS links.
// LAB fs: follow a symbolic link (the function follow_link above)
static long follow_link(unsigned int dir, struct dinode *ip, int *links)
{
  char target[FS_MAXPATH];
  if (++*links > MAXLINKS)
    return -E_LOOP;
  if (ip->size == 0 || ip->size >= sizeof(target))
    panic("symbolic link of %u bytes", ip->size);
  readi(ip, target, 0, ip->size);
  target[ip->size] = 0;
  return walk(dir, target, FOLLOW, NULL, NULL, links);
}
// END LAB fs

// Where path leads from the directory cwd (or the root, for an absolute
// path), the last component treated as how says (PARENT: its directory is
// returned, the component left in *name, *len). A component longer than
// DIRSIZ stands for its first DIRSIZ bytes, as in xv6. *links counts the
// symbolic links followed so far. Returns an inode number or an error
// (E_NOTFOUND, E_NOTDIR, E_LOOP, E_INVAL for an empty path, or a parent
// lookup of a path with no last component).
static long walk(unsigned int cwd, const char *path, int how, const char **name,
                 unsigned long *len, int *links)
{
  unsigned int inum = path[0] == '/' ? ROOTINO : cwd;
  struct dinode *ip = iget(inum);
  if (ip == NULL || ip->type == 0)
    return -E_NOTFOUND;
  if (path[0] == 0)
    return -E_INVAL;
  for (;;) {
    while (*path == '/')
      path++;
    unsigned long n = 0;
    while (path[n] != 0 && path[n] != '/')
      n++;
    if (n == 0)
      return how == PARENT ? -E_INVAL : (long)inum;
    if (ip->type != T_DIR)
      return -E_NOTDIR;
    const char *rest = path + n;
    while (*rest == '/')
      rest++;
    unsigned long k = n < DIRSIZ ? n : DIRSIZ;  // a longer name means its first DIRSIZ bytes
    if (how == PARENT && *rest == 0) {
      *name = path;
      *len = k;
      return inum;
    }
    unsigned int next = dir_lookup(ip, path, k, NULL);
    if (next == 0)
      return -E_NOTFOUND;
    if ((ip = iget(next)) == NULL || ip->type == 0)
      panic("directory entry names free inode %u", next);
    // LAB fs: a symbolic link in the middle of the path, or at its end unless how is NOFOLLOW
    if (ip->type == T_SYMLINK && (*rest != 0 || how == FOLLOW)) {
      long r = follow_link(inum, ip, links);
      if (r < 0)
        return r;
      ip = iget(next = r);
    }
    // END LAB fs
    inum = next;
    path += n;
  }
}

// Where path leads from cwd, the last component treated as how says
// (walk). Returns an inode number or an error.
static long resolve(unsigned int cwd, const char *path, int how, const char **name,
                    unsigned long *len)
{
  int links = 0;
  return walk(cwd, path, how, name, len, &links);
}

// ---------------------------------------------------------------- bindings

// A client may read and write its file's blocks itself (a paged region
// over a file, ulib/revoke.c): FS_BIND binds it the blocks, from this
// server's own binding; the kernel lets a server bind one waiting in a
// call to it. Each range bound is recorded here, so that it is taken back
// (disk_unbind) before the file's blocks are freed and reused. The server
// forgets its cached copies of blocks it binds: from then on the client
// writes them without telling it (reads through the server see what the
// client last wrote back; a write through the server is not seen by a
// page the client holds).
#define NBOUND 64

static struct bound {
  unsigned int env;  // the client; 0: a free record
  unsigned int inum, start, count;
} bound[NBOUND];

// Is env a live environment?
static int alive(unsigned int env)
{
  return ((const struct env_info *)UENVS)[env & 255].id == env;
}

// Bind blocks [start, start + count) of file inum to env, unless it holds
// them already. Returns 0 or an error (E_QUOTA: no record left, or env
// holds as many ranges as the kernel allows).
static long bind_range(unsigned int env, unsigned int inum, unsigned int start, unsigned int count)
{
  // LAB fs: bind a range, recorded
  // HANDOUT: return -E_NOSYS;
  struct bound *free = NULL;
  for (struct bound *b = bound; b < bound + NBOUND; b++) {
    if (b->env != 0 && !alive(b->env))
      b->env = 0;  // the kernel dropped its bindings
    if (b->env == env && start >= b->start && start + count <= b->start + b->count)
      return 0;
    if (b->env == 0 && free == NULL)
      free = b;
  }
  long err = free != NULL ? sys_disk_bind(env, start, count) : -E_QUOTA;
  if (err == 0)
    *free = (struct bound){env, inum, start, count};
  return err;
  // END LAB fs
}

// Take back every range of inum's blocks bound to a client: they are about
// to be freed.
static void unbind_file(unsigned int inum)
{
  // LAB fs: take back the ranges of inum's blocks
  for (struct bound *b = bound; b < bound + NBOUND; b++)
    if (b->env != 0 && b->inum == inum) {
      if (alive(b->env))
        sys_disk_unbind(b->env, b->start, b->count);
      b->env = 0;
    }
  // END LAB fs
}

// FS_BIND: bind caller the disk blocks of pages [first, first + n) of file
// inum, each written (no hole), and list them in blocks (the caller's
// page). Returns 0 or an error: E_INVAL (no file, a page past its end, a
// hole, n beyond FS_BIND_MAX), E_QUOTA, E_PERM (the caller is not waiting
// for this reply).
static long op_bind(unsigned int caller, unsigned int inum, unsigned long first, unsigned long n,
                    unsigned int *blocks)
{
  // LAB fs: check the request, bind each run of consecutive blocks, forget their cached copies
  // HANDOUT: return -E_NOSYS;
  struct dinode *ip = iget(inum);
  unsigned long pages = (ip->size + FS_BSIZE - 1) / FS_BSIZE;
  if (ip->type != T_FILE || n == 0 || n > FS_BIND_MAX || first >= pages || n > pages - first)
    return -E_INVAL;
  for (unsigned long i = 0; i < n; i++)
    if ((blocks[i] = bmap(ip, first + i, 0)) == 0)
      return -E_INVAL;
  for (unsigned long i = 0, j; i < n; i = j) {  // one binding per run of consecutive blocks
    for (j = i + 1; j < n && blocks[j] == blocks[j - 1] + 1; j++)
      ;
    long err = bind_range(caller, inum, blocks[i], j - i);
    if (err < 0)
      return err;
  }
  for (unsigned long i = 0; i < n; i++)
    buf_drop(blocks[i]);
  return 0;
  // END LAB fs
}

// ---------------------------------------------------------------- open files

// An open file: what open() made, with the offset the next read or write
// uses. Processes share one through fork and spawn (as a shell's children
// share its output file), so the offset lives here, not in any of them.
// Each process holding it has a hold record, with a count of its own
// descriptor tables' references. An inode with no links is freed when its
// last open file goes. Holds of processes that died are dropped by reap().
// A write past the end of the file makes a hole only where a seek put the
// offset; at an offset the file shrank under (truncated through another
// open file) it fails, as xv6's does.
static struct open_file {
  unsigned int inum;   // the file
  unsigned int holds;  // hold records naming it; 0: a free slot
  unsigned long off;
  int sought;  // a seek put off where it is, perhaps past the end (no write since)
} files[NFILES];

static struct hold {
  unsigned int env;    // the holder; 0: a free record
  unsigned int file;   // the open file
  unsigned int count;  // the holder's references to it
} holds[NHOLDS];

// Is inum open anywhere?
static int is_open(unsigned int inum)
{
  for (int i = 0; i < NFILES; i++)
    if (files[i].holds != 0 && files[i].inum == inum)
      return 1;
  return 0;
}

// env's hold on open file `file` (hint: where it probably is), or -1.
static int find_hold(unsigned int env, unsigned long file, unsigned long hint)
{
  if (hint < NHOLDS && holds[hint].env == env && holds[hint].file == file)
    return hint;
  for (int i = 0; i < NHOLDS; i++)
    if (holds[i].env == env && holds[i].file == file)
      return i;
  return -1;
}

// Free inode inum if nothing names it and nobody has it open.
static void iput(unsigned int inum)
{
  struct dinode *ip = iget(inum);
  if (ip->nlink > 0 || is_open(inum))
    return;
  unbind_file(inum);
  itrunc(ip);
  ip->type = 0;
  log_write(ip);
}

// Drop one reference of hold h; the open file goes with its last hold.
static void drop_hold(int h)
{
  if (--holds[h].count > 0)
    return;
  unsigned int f = holds[h].file;
  holds[h].env = 0;
  if (--files[f].holds == 0)
    iput(files[f].inum);
}

// Give env one more reference to open file f. Returns the hold's index or
// -E_NFILE.
static long add_hold(unsigned int env, unsigned int f)
{
  int h = find_hold(env, f, NHOLDS);
  for (int i = 0; i < NHOLDS && h < 0; i++)
    if (holds[i].env == 0) {
      h = i;
      holds[h].env = env;
      holds[h].file = f;
      holds[h].count = 0;
      files[f].holds++;
    }
  if (h < 0)
    return -E_NFILE;
  holds[h].count++;
  return h;
}

// A new open file of inum held by env. Returns its index (and the hold's
// in *hold) or -E_NFILE.
static long new_file(unsigned int env, unsigned int inum, long *hold)
{
  for (unsigned int f = 0; f < NFILES; f++)
    if (files[f].holds == 0) {
      files[f].inum = inum;
      files[f].off = 0;
      files[f].sought = 0;
      *hold = add_hold(env, f);
      return *hold < 0 ? *hold : (long)f;
    }
  return -E_NFILE;
}

// Drop the holds of clients that are gone (killed, or ended without
// closing), each in its own transaction.
static void reap(void)
{
  for (int h = 0; h < NHOLDS; h++)
    if (holds[h].env != 0 && !alive(holds[h].env)) {
      holds[h].count = 1;
      drop_hold(h);
      commit();
    }
}

// ---------------------------------------------------------------- operations

// Make a new inode of the given type named by the last component of path
// (resolved from cwd). Returns its number or an error: E_EXIST if the name
// is taken (*existing then gets the inode named), E_NOSPC, E_NFILE...
static long create(unsigned int cwd, const char *path, short type, short major, short minor,
                   unsigned int *existing)
{
  const char *name;
  unsigned long len;
  long dinum = resolve(cwd, path, PARENT, &name, &len);
  if (dinum < 0)
    return dinum;
  struct dinode *dp = iget(dinum);
  if (dp->type != T_DIR)
    return -E_NOTDIR;
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    return -E_EXIST;
  unsigned int inum = dir_lookup(dp, name, len, NULL);
  if (inum != 0) {
    *existing = inum;
    return -E_EXIST;
  }
  if (type == T_DIR && dp->nlink == 0x7FFF)
    return -E_MLINK;
  if ((inum = ialloc(type)) == 0)
    return -E_NOSPC;
  struct dinode *ip = iget(inum);
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  long err = 0;
  if (type == T_DIR) {
    // "." and "..": the parent gains a link (this directory's "..").
    if ((err = dir_link(ip, ".", 1, inum)) == 0 && (err = dir_link(ip, "..", 2, dinum)) == 0) {
      dp->nlink++;
      log_write(dp);
    }
  }
  if (err == 0)
    err = dir_link(dp, name, len, inum);
  if (err < 0) {  // undo: free what was allocated (part of this transaction)
    if (type == T_DIR && ip->size >= 2 * sizeof(struct dirent)) {
      dp->nlink--;
      log_write(dp);
    }
    ip->nlink = 0;
    iput(inum);
    return err;
  }
  return inum;
}

// FS_OPEN: open path with flags (O_CREAT, O_TRUNC; O_WRONLY or O_RDWR
// refuse a directory, and so does O_CREAT, as in xv6), following a
// symbolic link at its end unless FS_NOFOLLOW is set. Without FS_NOREF,
// makes an open file held by the caller. Replies the open file, type,
// nlink, size, the hold, major.
static long op_open(unsigned int caller, unsigned int cwd, const char *path, long flags,
                    struct rpc_msg *m)
{
  unsigned int inum = 0;
  long r = -E_NOTFOUND;
  if (flags & O_CREAT)
    r = create(cwd, path, T_FILE, 0, 0, &inum);
  if ((r == -E_EXIST && inum != 0) || (r == -E_NOTFOUND && !(flags & O_CREAT)))
    r = resolve(cwd, path, flags & FS_NOFOLLOW ? NOFOLLOW : FOLLOW, NULL, NULL);
  if (r < 0)
    return r;
  inum = r;
  struct dinode *ip = iget(inum);
  if (ip->type == T_DIR && (flags & (O_WRONLY | O_RDWR | O_TRUNC | O_CREAT)))
    return -E_ISDIR;
  if ((flags & FS_DIRONLY) && ip->type != T_DIR)
    return -E_NOTDIR;
  long file = 0, hold = 0;
  if (!(flags & FS_NOREF) && (file = new_file(caller, inum, &hold)) < 0)
    return file;
  if ((flags & O_TRUNC) && ip->type == T_FILE) {
    unbind_file(inum);
    itrunc(ip);
  }
  m->w[1] = ip->type;
  m->w[2] = ip->nlink;
  m->w[3] = ip->size;
  m->w[4] = hold;
  m->w[5] = ip->major;
  return flags & FS_NOREF ? inum : file;
}

// Remove the entry at offset off of directory dp, which names inum: inum
// loses a link (and dp one, if inum is a directory: its ".." is gone) and
// is freed if that was the last and nobody has it open.
static void remove_entry(struct dinode *dp, unsigned long off, unsigned int inum)
{
  struct dinode *ip = iget(inum);
  dir_unlink(dp, off);
  if (ip->type == T_DIR) {
    dp->nlink--;
    log_write(dp);
  }
  ip->nlink--;
  log_write(ip);
  iput(inum);
}

// Is name[0 .. len-1] "." or ".."?
static int is_dots(const char *name, unsigned long len)
{
  return name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'));
}

// The directory holding the last component of path, in *dp, with that
// component in *name, *len. Returns the directory's inode number or an
// error (E_NOTDIR if the parent is no directory).
static long parent_dir(unsigned int cwd, const char *path, struct dinode **dp, const char **name,
                       unsigned long *len)
{
  long dinum = resolve(cwd, path, PARENT, name, len);
  if (dinum < 0)
    return dinum;
  *dp = iget(dinum);
  return (*dp)->type == T_DIR ? dinum : -E_NOTDIR;
}

// FS_UNLINK: remove the entry path; a directory must be empty (and with
// FS_DIRONLY in flags, path must be one).
static long op_unlink(unsigned int cwd, const char *path, long flags)
{
  struct dinode *dp;
  const char *name;
  unsigned long len, off;
  long dinum = parent_dir(cwd, path, &dp, &name, &len);
  if (dinum < 0)
    return dinum;
  if (is_dots(name, len))
    return -E_INVAL;
  unsigned int inum = dir_lookup(dp, name, len, &off);
  if (inum == 0)
    return -E_NOTFOUND;
  struct dinode *ip = iget(inum);
  if ((flags & FS_DIRONLY) && ip->type != T_DIR)
    return -E_NOTDIR;
  if (ip->type == T_DIR && !dir_empty(ip))
    return -E_NOTEMPTY;
  remove_entry(dp, off, inum);
  return 0;
}

// FS_LINK: a new entry new for the file old (not a directory).
static long op_link(unsigned int cwd, const char *old, const char *new)
{
  long inum = resolve(cwd, old, FOLLOW, NULL, NULL);
  if (inum < 0)
    return inum;
  struct dinode *ip = iget(inum), *dp;
  if (ip->type == T_DIR)
    return -E_ISDIR;
  if (ip->nlink == 0x7FFF)
    return -E_MLINK;
  const char *name;
  unsigned long len;
  long dinum = parent_dir(cwd, new, &dp, &name, &len);
  if (dinum < 0)
    return dinum;
  if (is_dots(name, len) || dir_lookup(dp, name, len, NULL) != 0)
    return -E_EXIST;
  long err = dir_link(dp, name, len, inum);
  if (err == 0) {
    ip->nlink++;
    log_write(ip);
  }
  return err;
}

// FS_SYMLINK: a new symbolic link path naming target (which need not
// exist). Returns 0 or an error (E_INVAL for an empty target, E_EXIST,
// E_NOSPC...).
static long op_symlink(unsigned int cwd, const char *target, const char *path)
{
  // LAB fs: make the link: an inode of type T_SYMLINK holding the target's path
  // HANDOUT: return -E_NOSYS;
  unsigned long n = strlen(target);
  unsigned int existing;
  if (n == 0)
    return -E_INVAL;
  long inum = create(cwd, path, T_SYMLINK, 0, 0, &existing);
  if (inum < 0)
    return inum;
  if (writei(iget(inum), target, 0, n) != (long)n) {
    op_unlink(cwd, path, 0);  // the disk is full: take the new name back
    return -E_NOSPC;
  }
  return 0;
  // END LAB fs
}

// Is directory inum the directory anc or inside it?
static int inside(unsigned int inum, unsigned int anc)
{
  for (int depth = 0; depth < 4096; depth++) {
    if (inum == anc)
      return 1;
    if (inum == ROOTINO)
      return 0;
    inum = dir_lookup(iget(inum), "..", 2, NULL);
  }
  panic("the directory tree is deeper than 4096 (a loop?)");
}

// FS_RENAME: move the entry old to new, replacing a file (or, when old is
// a directory, an empty directory) of that name. One transaction.
static long op_rename(unsigned int cwd, const char *old, const char *new)
{
  struct dinode *odp, *ndp;
  const char *oname, *nname;
  unsigned long olen, nlen, ooff, noff;
  long odir = parent_dir(cwd, old, &odp, &oname, &olen), ndir;
  if (odir < 0)
    return odir;
  if ((ndir = parent_dir(cwd, new, &ndp, &nname, &nlen)) < 0)
    return ndir;
  if (is_dots(oname, olen) || is_dots(nname, nlen))
    return -E_INVAL;
  unsigned int inum = dir_lookup(odp, oname, olen, &ooff);
  if (inum == 0)
    return -E_NOTFOUND;
  struct dinode *ip = iget(inum);
  int moving_dir = ip->type == T_DIR && odir != ndir;
  if (moving_dir && inside(ndir, inum))
    return -E_INVAL;  // into itself
  unsigned int target = dir_lookup(ndp, nname, nlen, &noff);
  if (target == inum)
    return 0;
  if (target != 0) {
    struct dinode *tp = iget(target);
    if (tp->type == T_DIR && ip->type != T_DIR)
      return -E_ISDIR;
    if (tp->type != T_DIR && ip->type == T_DIR)
      return -E_NOTDIR;
    if (tp->type == T_DIR && !dir_empty(tp))
      return -E_NOTEMPTY;
    remove_entry(ndp, noff, target);
  }
  long err = dir_link(ndp, nname, nlen, inum);  // reuses the slot just freed, if any
  if (err < 0)
    return err;  // only when there was no target: nothing changed yet
  dir_unlink(odp, ooff);
  if (moving_dir) {  // its ".." names the new parent
    unsigned long dotdot;
    dir_lookup(ip, "..", 2, &dotdot);
    struct dirent de = {.inum = ndir, .name = ".."};
    writei(ip, &de, dotdot, sizeof(de));
    odp->nlink--;
    ndp->nlink++;
    log_write(odp);
    log_write(ndp);
  }
  return 0;
}

// ---------------------------------------------------------------- the server

// FS_STATFS: free and total data blocks and inodes.
static long op_statfs(struct rpc_msg *m)
{
  unsigned long freeb = 0, freei = 0;
  for (unsigned int b = sb.size - sb.nblocks; b < sb.size; b++) {
    const unsigned char *map = bread(BBLOCK(b, sb));
    freeb += !(map[b % BPB / 8] & (1 << (b % 8)));
  }
  for (unsigned int inum = ROOTINO + 1; inum < sb.ninodes; inum++)
    freei += iget(inum)->type == 0;
  m->w[1] = freeb;
  m->w[2] = sb.nblocks;
  m->w[3] = freei;
  m->w[4] = sb.ninodes - 2;
  return 0;
}

// Free every inode that no directory names: files unlinked while open when
// the machine stopped. (Run at mount, when nothing is open.)
static void free_orphans(void)
{
  // LAB fs: iput each inode in use with no links, each in a transaction of its own
  for (unsigned int inum = ROOTINO + 1; inum < sb.ninodes; inum++) {
    struct dinode *ip = iget(inum);
    if (ip->type != 0 && ip->nlink == 0) {
      iput(inum);
      commit();
    }
    operation++;
  }
  // END LAB fs
}

// Mount the file system on the disk: read the superblock, replay the log,
// free orphans. Ends the server if there is no rvexo file system.
static void mount(void)
{
  for (int i = 0; i < NHASH; i++)
    chains[i] = -1;
  static const struct exos_reclaimer cache = {cache_give, cache_taken};
  exos_set_reclaimer(&cache);
  operation = 1;
  struct superblock *s = bread(FS_SUPERBLK);
  if (s->magic != FS_MAGIC || s->nlog < 2 ||
      s->size > ((const struct sysinfo *)USYSINFO)->disk_blocks)
    panic("no rvexo file system on the disk");
  sb = *s;
  logsize = sb.nlog - 1 < LOGSIZE ? sb.nlog - 1 : LOGSIZE;
  log_recover();
  free_orphans();
}

// Copy the NUL-terminated path at *src (inside the page buf) to dst (max
// bytes), advancing *src past it. Returns 0 or -E_NAMETOOLONG.
static long take_path(const char *buf, const char **src, char *dst, unsigned long max)
{
  unsigned long n = 0;
  const char *p = *src;
  while (p + n < buf + PGSIZE && n < max && p[n] != 0) {
    dst[n] = p[n];
    n++;
  }
  if (n == max || p + n == buf + PGSIZE)
    return -E_NAMETOOLONG;
  dst[n] = 0;
  *src = p + n + 1;
  return 0;
}

// A call on an open file (FS_READ ... FS_SEEK, FS_BIND): w1 the open file, w4 the
// caller's hold (a hint). Returns the hold's index, or -E_BADF if the
// caller holds no such open file.
static long hold_of(const struct rpc_req *r)
{
  unsigned long f = r->msg.w[1];
  long h = f < NFILES && files[f].holds != 0 ? find_hold(r->caller, f, r->msg.w[4]) : -1;
  return h < 0 ? -E_BADF : h;
}

// The calls on an open file: m->w[1] names it, and h is the caller's hold.
// Returns the result.
static long file_call(struct rpc_req *r, int h)
{
  struct rpc_msg *m = &r->msg;
  unsigned int f = holds[h].file;
  struct dinode *ip = iget(files[f].inum);
  unsigned long n = m->w[3];
  unsigned long off =
      m->w[0] == FS_READ && m->w[2] == FS_AT ? (unsigned long)m->w[5] : files[f].off;
  long res = 0;
  if ((m->w[0] == FS_READ || m->w[0] == FS_WRITE || m->w[0] == FS_BIND) &&
      (r->buf == NULL || n > PGSIZE))
    return -E_INVAL;
  switch (m->w[0]) {
  case FS_READ:
    res = readi(ip, r->buf, off, n);
    if (m->w[2] != FS_AT)
      files[f].off += res;
    break;
  case FS_WRITE:
    if (ip->type != T_FILE)
      return -E_ISDIR;
    if (m->w[2] == FS_APPEND)
      off = ip->size;
    if (off > ip->size && !files[f].sought)
      return -E_INVAL;  // the file was truncated under this offset
    if ((res = writei(ip, r->buf, off, n)) >= 0) {
      files[f].off = off + res;
      files[f].sought = 0;
    }
    break;
  case FS_SEEK:
    off = m->w[2] == SEEK_SET ? 0 : m->w[2] == SEEK_CUR ? off : ip->size;
    if (m->w[2] < SEEK_SET || m->w[2] > SEEK_END || (long)(off + m->w[3]) < 0)
      return -E_INVAL;
    res = files[f].off = off + m->w[3];
    files[f].sought = 1;
    break;
  case FS_STAT:
    m->w[1] = ip->type;
    m->w[2] = ip->nlink;
    m->w[3] = ip->size;
    m->w[5] = files[f].inum;
    break;
  case FS_CLOSE:
    drop_hold(h);
    break;
  case FS_SHARE:
    res = alive(m->w[2]) ? add_hold(m->w[2], f) : -E_BADENV;
    res = res < 0 ? res : 0;
    break;
  case FS_BIND:
    res = op_bind(r->caller, files[f].inum, m->w[2], n, r->buf);
    break;
  }
  m->w[4] = h;
  return res;
}

// One call (see fs_handle).
static void handle(struct rpc_req *r)
{
  struct rpc_msg *m = &r->msg;
  char path[FS_MAXPATH], path2[FS_MAXPATH];
  const char *p = r->buf;
  long op = m->w[0], res = 0;
  unsigned int inum = 0;
  if (sb.magic != FS_MAGIC)
    mount();  // at the first call: the server is ready for calls at once
  operation++;
  if ((op >= FS_READ && op <= FS_SEEK) || op == FS_BIND) {
    long h = hold_of(r);
    m->w[0] = h < 0 ? h : file_call(r, h);
    commit();
    return;
  }
  reap();
  if (op == FS_STATFS || op < FS_OPEN || (op > FS_MKNOD && op != FS_SYMLINK)) {
    m->w[0] = op == FS_STATFS ? op_statfs(m) : -E_INVAL;
    return;
  }
  if (p == NULL)
    res = -E_INVAL;
  else if ((res = take_path(r->buf, &p, path, sizeof(path))) == 0 &&
           (op == FS_LINK || op == FS_RENAME || op == FS_SYMLINK))
    res = take_path(r->buf, &p, path2, sizeof(path2));
  if (res == 0) {
    switch (op) {
    case FS_OPEN:
      res = op_open(r->caller, m->w[1], path, m->w[2], m);
      break;
    case FS_UNLINK:
      res = op_unlink(m->w[1], path, m->w[2]);
      break;
    case FS_LINK:
      res = op_link(m->w[1], path, path2);
      break;
    case FS_RENAME:
      res = op_rename(m->w[1], path, path2);
      break;
    case FS_SYMLINK:
      res = op_symlink(m->w[1], path, path2);
      break;
    case FS_MKDIR:
    case FS_MKNOD:
      res = create(m->w[1], path, op == FS_MKDIR ? T_DIR : T_DEVICE, m->w[2], m->w[3], &inum);
      break;
    }
  }
  commit();
  m->w[0] = res;
}

// Handle one call (rpc.c): the operation in w[0], its result back in w[0].
// The first call mounts the file system. Calls with paths carry them in
// the caller's shared page, as reads and writes carry their data. No
// revocation upcall comes in the middle (it waits for the end).
void fs_handle(struct rpc_req *r)
{
  exos_critical_enter();
  handle(r);
  exos_critical_leave();
}
