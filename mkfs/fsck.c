// fsck: check an rvexo file-system image.
//
//   fsck [-l] IMAGE
//
// fsck reads IMAGE, never writing it, and checks what the on-disk format
// (ulib/fsformat.h) promises and mkfs (mkfs/mkfs.c) sets up: the layout the
// superblock describes, the log header, every inode, the directory tree
// from the root, every block address and the bitmap. A committed
// transaction still in the log is installed first, in memory only, as the
// file system installs it when it mounts the disk. With -l it then lists
// every file, directory and device reachable from the root, with a hash
// of its contents. mkfs/README.md describes the output.
//
// A host program in standard C11, built from the repository root with
//   gcc -O2 -std=c11 -Wall -Wextra -Werror -I. -o build/mkfs/fsck mkfs/fsck.c
// Like mkfs it takes the format's structs as they are in memory, so the
// host must be little-endian like RISC-V.
//
// How it works: the whole image is read into memory. Each allocated inode's
// block addresses are followed, recording which inode uses each block;
// then the tree is walked from the root, counting the entries that name
// each inode; then the link counts and the bitmap are compared with what
// was found. Each problem is one line on stdout; exit status 0 means
// clean, 1 problems found, 2 the image could not be checked at all.

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ulib/fsformat.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "fsck reads its structs as the little-endian image lays them out: use a little-endian host"
#endif

#define MAXSHOWN   50           // problems printed; the others are only counted
#define MAXINODES  65536        // inode numbers must fit dirent.inum
#define FNV_OFFSET 0x811c9dc5u  // FNV-1a, 32 bits: the starting value
#define FNV_PRIME  0x01000193u  // and the multiplier

// A directory entry found in the walk of the tree: the path it gives
// inode inum (from the root, "/" first, odd bytes as \xHH), and the
// directory dir it is in.
struct entry {
  char *path;
  unsigned int inum;
  unsigned int dir;
};

static const char *image_path;   // IMAGE
static unsigned char *disk;      // the whole image, the log's transaction installed
static struct superblock sb;     // its superblock
static unsigned int datastart;   // the first block of the data region
static struct dinode *itable;    // a copy of the inode table
static unsigned long nproblems;  // problems found so far

static unsigned int *owner;    // per block: the inode using it, 0 for none
static unsigned int *refs;     // per inode: links to it found (see add_link)
static unsigned int *subdirs;  // per directory: subdirectories found in it
static unsigned int *parent;   // per reached directory: the one whose entry names it
static unsigned int *dirhash;  // per reached directory: the hash -l shows
static char **pathof;          // per reached inode: the path it was first found under
static struct entry *found;    // every reachable path, for -l
static size_t nfound, maxfound;
static struct entry *waiting;  // entries naming directories whose ".." is elsewhere
static size_t nwaiting, maxwaiting, nextwaiting;
static unsigned int *stack;  // reached directories not yet checked
static unsigned int nstack;  // how many

// Print "fsck: " and the message as one line on stderr and exit with
// status 2: the image cannot be checked. Never returns.
static _Noreturn void fatal(const char *fmt, ...)
{
  va_list ap;

  fputs("fsck: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

// Count a problem with the image and print it as one line
// "fsck: IMAGE: message" on stdout, unless MAXSHOWN are printed already.
static void problem(const char *fmt, ...)
{
  va_list ap;

  if (++nproblems > MAXSHOWN)
    return;
  printf("fsck: %s: ", image_path);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

// n bytes of fresh zeroed memory; running out ends the program.
static void *zalloc(size_t n)
{
  void *p = calloc(n ? n : 1, 1);

  if (p == NULL)
    fatal("out of memory");
  return p;
}

// The array p of *max elements of size bytes, holding n, made larger if
// it is full (*max updated); running out of memory ends the program.
static void *grow(void *p, size_t n, size_t *max, size_t size)
{
  if (n < *max)
    return p;
  *max = *max ? 2 * *max : 64;
  p = realloc(p, *max * size);
  if (p == NULL)
    fatal("out of memory");
  return p;
}

// The FNV-1a hash h carried on over the n bytes at p.
static unsigned int fnv(unsigned int h, const void *p, size_t n)
{
  const unsigned char *s = p;

  while (n-- > 0)
    h = (h ^ *s++) * FNV_PRIME;
  return h;
}

// ---------------------------------------------------------------- the image

// Read IMAGE's superblock into sb and its sb.size blocks into disk. A
// file that cannot be read, is too short for a superblock, lacks the magic
// number, or is shorter than the superblock's size ends the program.
static void load_image(void)
{
  FILE *f;
  long len;

  f = fopen(image_path, "rb");
  if (f == NULL)
    fatal("cannot read %s: %s", image_path, strerror(errno));
  if (fseek(f, FS_SUPERBLK * FS_BSIZE, SEEK_SET) != 0 || fread(&sb, sizeof sb, 1, f) != 1) {
    if (ferror(f))
      fatal("cannot read %s: %s", image_path, strerror(errno));
    fatal("%s: not an rvexo file system: too short for a superblock", image_path);
  }
  if (sb.magic != FS_MAGIC)
    fatal("%s: not an rvexo file system: magic %#x, not %#x", image_path, sb.magic, FS_MAGIC);
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
    fatal("cannot read %s: %s", image_path, strerror(errno));
  if ((unsigned long long)len < (unsigned long long)sb.size * FS_BSIZE)
    fatal("%s: truncated: %ld bytes, but the superblock says %u blocks of %d", image_path, len,
          sb.size, FS_BSIZE);
  disk = zalloc((size_t)sb.size * FS_BSIZE);
  rewind(f);
  if (fread(disk, FS_BSIZE, sb.size, f) != sb.size)
    fatal("cannot read %s: %s", image_path, ferror(f) ? strerror(errno) : "it shrank");
  fclose(f);
}

// Whether block b lies in the data region.
static int in_data(unsigned int b)
{
  return b >= datastart && b < sb.size;
}

// Address i of the pointer block b, or 0 if b is not in the data region.
static unsigned int slot(unsigned int b, unsigned long long i)
{
  unsigned int a;

  if (!in_data(b))
    return 0;
  memcpy(&a, disk + (size_t)b * FS_BSIZE + i * sizeof a, sizeof a);
  return a;
}

// The block holding file block fbn (below MAXFILE) of inode ip, or 0 for
// a hole. An address outside the data region, on the way or at the end,
// reads as a hole too (it is reported by check_blocks).
static unsigned int bmap(const struct dinode *ip, unsigned long long fbn)
{
  unsigned int a;

  if (fbn < NDIRECT) {
    a = ip->addrs[fbn];
  } else if (fbn - NDIRECT < NINDIRECT) {
    a = slot(ip->addrs[NDIRECT], fbn - NDIRECT);
  } else {
    fbn -= NDIRECT + NINDIRECT;
    a = slot(slot(ip->addrs[NDIRECT + 1], fbn / NINDIRECT), fbn % NINDIRECT);
  }
  return in_data(a) ? a : 0;
}

// The FNV-1a hash of the size bytes of inode ip's contents, holes read
// as zeros.
static unsigned int hash_contents(const struct dinode *ip)
{
  static const unsigned char zeros[FS_BSIZE];
  unsigned long long off;
  unsigned int h = FNV_OFFSET, b, n;

  for (off = 0; off < ip->size; off += n) {
    n = ip->size - off < FS_BSIZE ? (unsigned int)(ip->size - off) : FS_BSIZE;
    b = bmap(ip, off / FS_BSIZE);
    h = fnv(h, b ? disk + (size_t)b * FS_BSIZE : zeros, n);
  }
  return h;
}

// Whether block b is marked in use in the bitmap; b may lie past size, up
// to the end of the last bitmap block.
static int marked(unsigned int b)
{
  return disk[(size_t)(sb.bmapstart + b / BPB) * FS_BSIZE + (b % BPB) / 8] >> (b % 8) & 1;
}

// ---------------------------------------------------------------- layout and log

// Check that the superblock lays out the regions as mkfs does: boot block,
// superblock, log (at least its header), inode table, bitmap and data
// region (at least one block), each right after the one before, the data
// region ending at size; set datastart. Returns whether it does: if not,
// nothing else can be trusted.
static int check_layout(void)
{
  unsigned long long inodeblocks = FS_INODEBLOCKS((unsigned long long)sb.ninodes);
  unsigned long long bitmapblocks = FS_BITMAPBLOCKS((unsigned long long)sb.size);
  unsigned long long end = sb.bmapstart + bitmapblocks + sb.nblocks;
  unsigned long before = nproblems;

  if (sb.logstart != FS_SUPERBLK + 1)
    problem("superblock: logstart is %u, not %d (right after the superblock)", sb.logstart,
            FS_SUPERBLK + 1);
  if (sb.nlog == 0)
    problem("superblock: nlog is 0, but the log needs a header block");
  if (sb.ninodes <= ROOTINO || sb.ninodes > MAXINODES)
    problem("superblock: ninodes is %u, not from %d to %d", sb.ninodes, ROOTINO + 1, MAXINODES);
  if (sb.inodestart != (unsigned long long)sb.logstart + sb.nlog)
    problem("superblock: inodestart is %u, not logstart + nlog = %llu", sb.inodestart,
            (unsigned long long)sb.logstart + sb.nlog);
  if (sb.bmapstart != sb.inodestart + inodeblocks)
    problem("superblock: bmapstart is %u, not inodestart + %llu inode blocks = %llu", sb.bmapstart,
            inodeblocks, sb.inodestart + inodeblocks);
  if (sb.nblocks == 0)
    problem("superblock: nblocks is 0, no data region");
  if (end != sb.size)
    problem("superblock: the bitmap (%llu blocks from %u) and the data region (%u blocks) end at "
            "block %llu, not at size %u",
            bitmapblocks, sb.bmapstart, sb.nblocks, end, sb.size);
  datastart = sb.size - sb.nblocks;
  return nproblems == before;
}

// Install the transaction committed in the log, if any, in the in-memory
// image: copy log block logstart+1+i to its home block[i]. A header that
// cannot be right (too many blocks, a home outside the inode table, bitmap
// and data region) is a problem, and then nothing is installed.
static void replay_log(void)
{
  struct logheader lh;
  unsigned int i, max = sb.nlog - 1 < LOGSIZE ? sb.nlog - 1 : LOGSIZE;
  unsigned long before = nproblems;

  memcpy(&lh, disk + (size_t)sb.logstart * FS_BSIZE, sizeof lh);
  if (lh.n == 0)
    return;
  if (lh.n > max) {
    problem("log header: n is %u, but a transaction holds at most %u blocks (not replayed)", lh.n,
            max);
    return;
  }
  for (i = 0; i < lh.n; i++)
    if (lh.block[i] < sb.inodestart || lh.block[i] >= sb.size)
      problem("log header: block[%u] is %u, outside the inode table, bitmap and data [%u, %u) "
              "(not replayed)",
              i, lh.block[i], sb.inodestart, sb.size);
  if (nproblems != before)
    return;
  for (i = 0; i < lh.n; i++)
    memcpy(disk + (size_t)lh.block[i] * FS_BSIZE, disk + (size_t)(sb.logstart + 1 + i) * FS_BSIZE,
           FS_BSIZE);
  printf("fsck: %s: replayed %u blocks from the log (in memory)\n", image_path, lh.n);
}

// ---------------------------------------------------------------- inodes and blocks

// The word for inode type t in listings and messages.
static const char *type_name(int t)
{
  switch (t) {
  case T_DIR:
    return "dir";
  case T_FILE:
    return "file";
  case T_DEVICE:
    return "dev";
  case T_SYMLINK:
    return "link";
  default:
    return "?";
  }
}

// Check and record the blocks inode inum reaches through address a: a is
// a data block when depth is 0, else a pointer block whose NINDIRECT
// addresses each lead to a subtree of depth - 1. The subtree holds the
// file's blocks from fbn on; the file has nblocks blocks. A subtree wholly
// past the end is reported once, at its top; past says that happened above.
// A block outside the data region or used already is not followed.
static void check_tree(unsigned int inum, unsigned int a, int depth, unsigned long long fbn,
                       unsigned long long nblocks, int past)
{
  unsigned long long span = depth == 2 ? NINDIRECT : 1;  // file blocks per child
  char what[64];
  unsigned int i;

  if (a == 0)
    return;
  if (depth == 0)
    snprintf(what, sizeof what, "file block %llu", fbn);
  else if (depth == 1)
    snprintf(what, sizeof what, "indirect block for file blocks %llu-%llu", fbn,
             fbn + NINDIRECT - 1);
  else
    snprintf(what, sizeof what, "double-indirect block");
  if (!past && fbn >= nblocks) {
    problem("inode %u: block %u (%s) lies past the end of the file (size %u)", inum, a, what,
            itable[inum].size);
    past = 1;
  }
  if (!in_data(a)) {
    problem("inode %u: block %u (%s) is outside the data region [%u, %u)", inum, a, what, datastart,
            sb.size);
    return;
  }
  if (owner[a]) {
    problem("inode %u: block %u (%s) is also used by inode %u", inum, a, what, owner[a]);
    return;
  }
  owner[a] = inum;
  if (depth > 0)
    for (i = 0; i < NINDIRECT; i++)
      check_tree(inum, slot(a, i), depth - 1, fbn + i * span, nblocks, past);
}

// Check inode inum's block addresses (direct, single- and double-indirect)
// and record the blocks it uses in owner.
static void check_blocks(unsigned int inum)
{
  const struct dinode *ip = &itable[inum];
  unsigned long long nblocks = ((unsigned long long)ip->size + FS_BSIZE - 1) / FS_BSIZE;
  unsigned int i;

  for (i = 0; i < NDIRECT; i++)
    check_tree(inum, ip->addrs[i], 0, i, nblocks, 0);
  check_tree(inum, ip->addrs[NDIRECT], 1, NDIRECT, nblocks, 0);
  check_tree(inum, ip->addrs[NDIRECT + 1], 2, NDIRECT + NINDIRECT, nblocks, 0);
}

// Check every inode on its own: its type; a free inode has nlink 0, inode
// 0 is never used, a device has no blocks, and the blocks of files and
// directories are checked and recorded. Counts the files, directories and
// devices in counts[T_FILE], counts[T_DIR], counts[T_DEVICE] (symbolic links,
// whose contents are a path, in counts[T_SYMLINK]).
static void check_inodes(unsigned int counts[T_SYMLINK + 1])
{
  const struct dinode *ip;
  unsigned int inum, i;

  for (inum = 0; inum < sb.ninodes; inum++) {
    ip = &itable[inum];
    if (ip->type == 0) {
      if (ip->nlink != 0)
        problem("free inode %u has nlink %d", inum, ip->nlink);
      continue;
    }
    if (inum == 0) {
      problem("inode 0 has type %d, but inode 0 is never used", ip->type);
      continue;
    }
    if (ip->type < T_DIR || ip->type > T_SYMLINK) {
      problem("inode %u has unknown type %d", inum, ip->type);
      continue;
    }
    counts[ip->type]++;
    if (ip->type != T_DEVICE) {
      check_blocks(inum);
      continue;
    }
    for (i = 0; i < NDIRECT + 2; i++)
      if (ip->addrs[i] != 0) {
        problem("inode %u: a device, but addrs[%u] is block %u (a device has no blocks)", inum, i,
                ip->addrs[i]);
        break;
      }
  }
}

// ---------------------------------------------------------------- the tree

// The path of the entry called name in the directory at path dir. Bytes
// other than printable ASCII, and space, '/' and '\\', appear as \xHH, so
// that a path is one word and one name.
static char *child_path(const char *dir, const char *name)
{
  size_t len = strlen(dir);
  char *path = zalloc(len + 1 + 4 * DIRSIZ + 1);
  char *p = path + len;
  unsigned char c;

  memcpy(path, dir, len);
  if (len > 1)  // the root's path "/" has its slash already
    *p++ = '/';
  for (; *name; name++) {
    c = (unsigned char)*name;
    if (c <= ' ' || c > '~' || c == '/' || c == '\\')
      p += sprintf(p, "\\x%02x", c);
    else
      *p++ = (char)c;
  }
  return path;
}

// Add the entry at path in directory dir naming inode inum to the list
// -l shows (and, if wait, to the waiting list instead).
static void add_entry(char *path, unsigned int inum, unsigned int dir, int wait)
{
  struct entry e = {path, inum, dir};

  if (wait) {
    waiting = grow(waiting, nwaiting, &maxwaiting, sizeof *waiting);
    waiting[nwaiting++] = e;
  } else {
    found = grow(found, nfound, &maxfound, sizeof *found);
    found[nfound++] = e;
  }
}

// qsort comparison of two names of DIRSIZ + 1 bytes.
static int by_name(const void *a, const void *b)
{
  return strcmp(a, b);
}

// Directory entry i of directory inode ip, or an empty one if ip's size
// does not cover it.
static struct dirent dir_entry(const struct dinode *ip, unsigned int i)
{
  struct dirent de;
  unsigned long long off = (unsigned long long)i * sizeof de;
  unsigned int b = off < ip->size ? bmap(ip, off / FS_BSIZE) : 0;

  memset(&de, 0, sizeof de);
  if (b)
    memcpy(&de, disk + (size_t)b * FS_BSIZE + off % FS_BSIZE, sizeof de);
  return de;
}

// Count the link from the entry at path in reached directory d to the
// allocated inode c, and record the entry (path is kept, or freed if it is
// not). A directory may be named by one entry only: an entry naming one
// already found is a problem, not a link. A directory found here for the
// first time is recorded (parent, path) and pushed on the stack to be
// checked; but if may_wait and its ".." names another directory, the
// entry goes to the waiting list instead, so that the directory is found
// from its ".." if that is reachable.
static void add_link(unsigned int d, char *path, unsigned int c, int may_wait)
{
  int first = refs[c] == 0 && c != ROOTINO;

  if (itable[c].type == T_DIR) {
    if (!first) {
      problem("%s: names directory inode %u, already named %s (a directory has one name)", path, c,
              pathof[c]);
      free(path);
      return;
    }
    if (may_wait && dir_entry(&itable[c], 1).inum != d) {
      add_entry(path, c, d, 1);
      return;
    }
    subdirs[d]++;
    parent[c] = d;
    stack[nstack++] = c;
  }
  refs[c]++;
  if (first)
    pathof[c] = path;
  add_entry(path, c, d, 0);
}

// Check an entry called name, naming inode c, of reached directory d, and
// count the link it makes (add_link). "." must name d and ".." d's parent;
// any other name must name an allocated inode.
static void check_entry(unsigned int d, const char *name, unsigned int c)
{
  char *path;

  if (strcmp(name, ".") == 0) {
    if (c != d)
      problem("%s: \".\" names inode %u, not the directory itself (inode %u)", pathof[d], c, d);
    return;
  }
  if (strcmp(name, "..") == 0) {
    if (c != parent[d])
      problem("%s: \"..\" names inode %u, not its parent (inode %u)", pathof[d], c, parent[d]);
    return;
  }
  path = child_path(pathof[d], name);
  if (c < sb.ninodes && itable[c].type != 0) {
    add_link(d, path, c, 1);
    return;
  }
  if (c >= sb.ninodes)
    problem("%s: names inode %u, past the last inode (%u)", path, c, sb.ninodes - 1);
  else
    problem("%s: names free inode %u", path, c);
  free(path);
}

// Check reached directory d: its size is a whole number of entries, entry
// 0 is "." and entry 1 "..", names are NUL-padded, not empty, without '/'
// and unique in d; each entry is checked by check_entry. Sets dirhash[d]
// to the hash of the names but "." and "..", sorted, each followed by
// '\n'.
static void check_dir(unsigned int d)
{
  const struct dinode *ip = &itable[d];
  const char *path = pathof[d];
  unsigned int i, k, n = ip->size / sizeof(struct dirent), h = FNV_OFFSET;
  char(*names)[DIRSIZ + 1] = NULL;
  size_t nnames = 0, maxnames = 0;
  struct dirent de;
  char *name;

  if (ip->size % sizeof(struct dirent))
    problem("%s: directory size %u is not a multiple of %zu", path, ip->size,
            sizeof(struct dirent));
  for (i = 0; i < n; i++) {
    de = dir_entry(ip, i);
    if (i < 2 && (de.inum == 0 || strncmp(de.name, i == 0 ? "." : "..", DIRSIZ) != 0))
      problem("%s: entry %u is not \"%s\"", path, i, i == 0 ? "." : "..");
    if (de.inum == 0)
      continue;
    names = grow(names, nnames, &maxnames, sizeof *names);
    name = names[nnames++];
    memcpy(name, de.name, DIRSIZ);
    name[DIRSIZ] = '\0';
    for (k = (unsigned int)strlen(name); k < DIRSIZ; k++)
      if (de.name[k] != '\0') {
        problem("%s: entry %u: the name is not padded with NULs", path, i);
        break;
      }
    if (name[0] == '\0')
      problem("%s: entry %u has an empty name", path, i);
    if (strchr(name, '/'))
      problem("%s: entry %u: the name has a '/'", path, i);
    check_entry(d, name, de.inum);
  }

  if (nnames > 1)  // names is NULL if there are none, which qsort does not take
    qsort(names, nnames, sizeof *names, by_name);
  for (i = 0; i < nnames; i++) {
    if (i > 0 && strcmp(names[i - 1], names[i]) == 0)
      problem("%s: two entries are named \"%s\"", path, names[i]);
    if (strcmp(names[i], ".") != 0 && strcmp(names[i], "..") != 0) {
      h = fnv(h, names[i], strlen(names[i]));
      h = fnv(h, "\n", 1);
    }
  }
  dirhash[d] = h;
  free(names);
}

// Walk the tree from the root, checking each directory reached (see
// check_dir). An entry naming a directory whose ".." is elsewhere waits
// until nothing else is left to check; then the first waiting entry is
// taken as the directory's name if no other entry has been. Returns 0,
// having checked nothing, if the root is not a directory.
static int walk_tree(void)
{
  static char rootpath[] = "/";
  struct entry *e;

  if (itable[ROOTINO].type != T_DIR) {
    problem("the root (inode %d) is not a directory: type %d", ROOTINO, itable[ROOTINO].type);
    return 0;
  }
  // Each directory is pushed once, when first found; the root at the start.
  stack = zalloc(sb.ninodes * sizeof *stack);
  pathof[ROOTINO] = rootpath;
  parent[ROOTINO] = ROOTINO;
  add_entry(rootpath, ROOTINO, ROOTINO, 0);
  stack[nstack++] = ROOTINO;
  for (;;) {
    while (nstack > 0)
      check_dir(stack[--nstack]);
    if (nextwaiting == nwaiting)
      break;
    e = &waiting[nextwaiting++];
    add_link(e->dir, e->path, e->inum, 0);
  }
  return 1;
}

// After the walk: every allocated inode must be reachable, and its nlink
// must count the entries naming it ("." not counted): for a file or a
// device the entries found; for a directory its one name (the root: its
// own "..") plus the ".." of each subdirectory.
static void check_links(void)
{
  const struct dinode *ip;
  unsigned int inum, want;

  for (inum = ROOTINO; inum < sb.ninodes; inum++) {
    ip = &itable[inum];
    if (ip->type == 0)
      continue;
    if (refs[inum] == 0 && inum != ROOTINO) {
      problem("inode %u (%s, nlink %d, size %u) is allocated but no entry reachable from the root "
              "names it: an orphan",
              inum, type_name(ip->type), ip->nlink, ip->size);
      continue;
    }
    want = refs[inum];
    if (ip->type == T_DIR)
      want += subdirs[inum] + (inum == ROOTINO);
    if (ip->type >= T_DIR && ip->type <= T_SYMLINK && (unsigned int)ip->nlink != want)
      problem("%s (inode %u): nlink %d, expected %u", pathof[inum], inum, ip->nlink, want);
  }
}

// Compare the bitmap with the blocks found in use: every block before the
// data region is marked (as mkfs marks them); a data block is marked if
// and only if an inode uses it; bits past size are 0. Returns the number
// of data blocks in use.
static unsigned int check_bitmap(void)
{
  unsigned int b, used = 0;
  unsigned long long end = FS_BITMAPBLOCKS((unsigned long long)sb.size) * BPB;

  for (b = 0; b < datastart; b++)
    if (!marked(b))
      problem("metadata block %u is not marked in use in the bitmap", b);
  for (b = datastart; b < sb.size; b++) {
    if (owner[b] && !marked(b))
      problem("block %u (used by inode %u) is not marked in use in the bitmap", b, owner[b]);
    if (!owner[b] && marked(b))
      problem("block %u is marked in use but no inode uses it", b);
    used += owner[b] != 0;
  }
  for (; b < end; b++)
    if (marked(b))
      problem("the bitmap marks block %u, past the end of the image (%u blocks)", b, sb.size);
  return used;
}

// ---------------------------------------------------------------- main

// qsort comparison of two entries by path.
static int by_path(const void *a, const void *b)
{
  return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

// Print every reachable path, sorted, as "PATH TYPE SIZE NLINK HASH".
static void list_found(void)
{
  const struct dinode *ip;
  size_t i;

  if (nfound > 1)  // found is NULL if there are none, which qsort does not take
    qsort(found, nfound, sizeof *found, by_path);
  for (i = 0; i < nfound; i++) {
    ip = &itable[found[i].inum];
    printf("%s %s %u %d %08x\n", found[i].path, type_name(ip->type), ip->size, ip->nlink,
           ip->type == T_DIR ? dirhash[found[i].inum] : hash_contents(ip));
  }
}

int main(int argc, char **argv)
{
  unsigned int counts[T_SYMLINK + 1] = {0}, used = 0;
  const unsigned int one = 1;
  int list = 0, arg = 1;

  if (*(const unsigned char *)&one != 1)
    fatal("this host is big-endian; fsck reads the little-endian format only on a little-endian "
          "host");
  if (arg < argc && strcmp(argv[arg], "-l") == 0) {
    list = 1;
    arg++;
  }
  if (argc - arg != 1 || argv[arg][0] == '-')
    fatal("usage: fsck [-l] IMAGE");
  image_path = argv[arg];
  load_image();

  if (check_layout()) {
    replay_log();
    itable = zalloc(sb.ninodes * sizeof *itable);
    memcpy(itable, disk + (size_t)sb.inodestart * FS_BSIZE, sb.ninodes * sizeof *itable);
    owner = zalloc(sb.size * sizeof *owner);
    refs = zalloc(sb.ninodes * sizeof *refs);
    subdirs = zalloc(sb.ninodes * sizeof *subdirs);
    parent = zalloc(sb.ninodes * sizeof *parent);
    dirhash = zalloc(sb.ninodes * sizeof *dirhash);
    pathof = zalloc(sb.ninodes * sizeof *pathof);
    check_inodes(counts);
    if (walk_tree())
      check_links();
    used = check_bitmap();
  }

  if (nproblems == 0) {
    printf("fsck: %s: clean: %u files, %u directories, %u devices, %u data blocks used\n",
           image_path, counts[T_FILE], counts[T_DIR], counts[T_DEVICE], used);
  } else {
    if (nproblems > MAXSHOWN)
      printf("fsck: %s: ... and %lu more\n", image_path, nproblems - MAXSHOWN);
    printf("fsck: %s: %lu problems\n", image_path, nproblems);
  }
  if (list)
    list_found();
  return nproblems ? 1 : 0;
}
