// mkfs: build an rvexo file-system image from files on the host.
//
//   mkfs [-s BLOCKS] [-i INODES] IMAGE [FILE...]
//
// IMAGE gets BLOCKS blocks (default 2048, 8 MiB) and INODES inodes (default
// 200), a root directory (inode 1) holding "." and "..", both naming the
// root, and one entry per FILE under its last path component. The on-disk
// format is ulib/fsformat.h; mkfs/README.md describes the tool.
//
// A host program in standard C11, built from the repository root with
//   gcc -O2 -Wall -Wextra -Werror -o build/mkfs/mkfs mkfs/mkfs.c
// (the header is included by a path relative to this file, so no -I is
// needed). The structs are written as the host lays them out, so the host
// must be little-endian like RISC-V: checked at compile time where the
// compiler says, and always at run time.
//
// How it works: everything is checked first (options, files, names, and
// whether it all fits), then the image is filled with zeros and written
// front to back. Inodes and blocks are handed out in order: inode 1 is the
// root and the files follow in argument order; data blocks are taken from
// the start of the data region, so the blocks in use are exactly those
// below the next free one. Any error prints one line "mkfs: ..." to stderr,
// removes the image if this run created it, and exits with status 1.

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ulib/fsformat.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mkfs writes little-endian images by writing its structs as they are: use a little-endian host"
#endif

#define DEFAULT_BLOCKS  2048
#define DEFAULT_INODES  200
#define MAX_BLOCKS      (1u << 20)  // 4 GiB: a larger image is surely a typo
#define MAX_INODES      65536       // inode numbers must fit dirent.inum

// The file sizes fit the inode's 32-bit size, so their blocks fit MAXFILE.
_Static_assert(MAXFILESIZE / FS_BSIZE < MAXFILE, "MAXFILESIZE bytes fit in MAXFILE blocks");

// One FILE argument, as checked before the image is written.
struct input {
  const char *path;          // as given on the command line
  char name[DIRSIZ + 1];     // its last path component
  unsigned long long size;   // its length in bytes when checked
};

static const char *image_path;  // IMAGE
static FILE *image;             // IMAGE once this run has created it, else NULL
static struct superblock sb;    // the layout, decided before anything is written
static struct dinode *itable;   // the inode table, written out at the end
static unsigned int next_inum;  // the next inode to hand out
static unsigned int next_block; // the next data block to hand out

// Print "mkfs: " and the message as one line on stderr, remove the image
// if this run created it, and exit with status 1. Never returns.
static void fail(const char *fmt, ...)
{
  va_list ap;

  fputs("mkfs: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  if (image) {
    fclose(image);
    remove(image_path);
  }
  exit(1);
}

// Print the usage line and exit with status 1. Never returns.
static void usage(void)
{
  fail("usage: mkfs [-s BLOCKS] [-i INODES] IMAGE [FILE...]");
}

// The value of option opt, the decimal text, which must lie in [min, max];
// any other text ends the program with a message naming the option.
static unsigned int parse_count(char opt, const char *text, const char *what,
                                unsigned long min, unsigned long max)
{
  char *end;
  unsigned long n;

  errno = 0;
  n = strtoul(text, &end, 10);
  if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno || n < min || n > max)
    fail("bad value for -%c: '%s' (want a number of %s from %lu to %lu)",
         opt, text, what, min, max);
  return (unsigned int)n;
}

// ---------------------------------------------------------------- layout

// Blocks taken by everything but the data region in an image of size
// blocks with ninodes inodes and the default log.
static unsigned long long metadata_blocks(unsigned long long size, unsigned int ninodes)
{
  return 2 + FS_NLOG + FS_INODEBLOCKS((unsigned long long)ninodes) + FS_BITMAPBLOCKS(size);
}

// The smallest -s value whose data region holds need blocks, with
// ninodes inodes.
static unsigned long long blocks_needed(unsigned long long need, unsigned int ninodes)
{
  unsigned long long size = need + metadata_blocks(need, ninodes);

  while (size - metadata_blocks(size, ninodes) < need)
    size++;
  return size;
}

// Fill in sb for an image of size blocks and ninodes inodes; the image
// must leave room for at least one data block (the root directory's).
static void plan_layout(unsigned int size, unsigned int ninodes)
{
  unsigned long long meta = metadata_blocks(size, ninodes);

  if (meta >= size)
    fail("image too small: %u blocks, but the metadata alone takes %llu (with %u inodes) "
         "and the root directory needs a block (-s %llu would do)",
         size, meta, ninodes, blocks_needed(1, ninodes));
  sb.magic = FS_MAGIC;
  sb.size = size;
  sb.ninodes = ninodes;
  sb.nlog = FS_NLOG;
  sb.logstart = FS_SUPERBLK + 1;
  sb.inodestart = sb.logstart + sb.nlog;
  sb.bmapstart = sb.inodestart + FS_INODEBLOCKS(ninodes);
  sb.nblocks = size - (sb.bmapstart + FS_BITMAPBLOCKS(size));
}

// Blocks a file of size bytes takes: its data blocks plus the indirect
// blocks that point at them.
static unsigned long long file_blocks(unsigned long long size)
{
  unsigned long long data = (size + FS_BSIZE - 1) / FS_BSIZE;
  unsigned long long total = data;

  if (data > NDIRECT)
    total += 1;  // the single-indirect block
  if (data > NDIRECT + NINDIRECT) {
    unsigned long long rest = data - NDIRECT - NINDIRECT;
    total += 1 + (rest + NINDIRECT - 1) / NINDIRECT;  // the double-indirect block and its children
  }
  return total;
}

// ---------------------------------------------------------------- inputs

// Whether err is the error of reading a directory as a file (EISDIR is
// POSIX, not standard C; without it, the plain message has to do).
static int is_dir_error(int err)
{
#ifdef EISDIR
  return err == EISDIR;
#else
  (void)err;
  return 0;
#endif
}

// Check one FILE argument and fill in *in: the file must be readable,
// at most MAXFILESIZE bytes, and its last path component (trailing slashes
// ignored) from 1 to DIRSIZ characters.
static void check_input(const char *path, struct input *in)
{
  FILE *f;
  long size;
  size_t len;
  const char *start, *end;

  in->path = path;
  f = fopen(path, "rb");
  if (f == NULL)
    fail("cannot read %s: %s", path, strerror(errno));
  // Read a byte: opening a directory may succeed, reading it does not.
  errno = 0;
  if (getc(f) == EOF && ferror(f))
    fail("cannot read %s: %s%s", path, strerror(errno), is_dir_error(errno) ?
         " (mkfs takes files only, not directories)" : "");
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)
    fail("cannot read %s: %s", path, strerror(errno));
  fclose(f);
  if ((unsigned long long)size > MAXFILESIZE)
    fail("file too large (max %u bytes): %s", MAXFILESIZE, path);
  in->size = (unsigned long long)size;

  end = path + strlen(path);
  while (end > path && end[-1] == '/')
    end--;
  start = end;
  while (start > path && start[-1] != '/')
    start--;
  len = (size_t)(end - start);
  if (len == 0)
    fail("no file name in %s", path);
  if (len > DIRSIZ)
    fail("name too long (max %d): %.*s", DIRSIZ, (int)len, start);
  memcpy(in->name, start, len);
  in->name[len] = '\0';
}

// qsort comparison of two inputs by name.
static int by_name(const void *a, const void *b)
{
  return strcmp(((const struct input *)a)->name, ((const struct input *)b)->name);
}

// End the program if two of the n inputs share a name, or one is named
// "." or "..", which the root directory already holds.
static void check_names_unique(const struct input *inputs, unsigned int n)
{
  struct input *sorted;
  unsigned int i;

  for (i = 0; i < n; i++)
    if (strcmp(inputs[i].name, ".") == 0 || strcmp(inputs[i].name, "..") == 0)
      fail("duplicate name: %s", inputs[i].name);
  if (n < 2)
    return;
  sorted = malloc(n * sizeof *sorted);
  if (sorted == NULL)
    fail("out of memory");
  memcpy(sorted, inputs, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, by_name);
  for (i = 1; i < n; i++)
    if (strcmp(sorted[i - 1].name, sorted[i].name) == 0)
      fail("duplicate name: %s", sorted[i].name);
  free(sorted);
}

// ---------------------------------------------------------------- the image

// Write FS_BSIZE bytes from buf to block b of the image.
static void write_block(unsigned int b, const void *buf)
{
  if (fseek(image, (long)b * FS_BSIZE, SEEK_SET) != 0 || fwrite(buf, FS_BSIZE, 1, image) != 1)
    fail("cannot write %s: %s", image_path, strerror(errno));
}

// Read block b of the image into buf (FS_BSIZE bytes).
static void read_block(unsigned int b, void *buf)
{
  if (fseek(image, (long)b * FS_BSIZE, SEEK_SET) != 0 || fread(buf, FS_BSIZE, 1, image) != 1)
    fail("cannot read back %s: %s", image_path, strerror(errno));
}

// Create (or truncate) IMAGE and fill its sb.size blocks with zeros.
static void create_image(void)
{
  static const char zeros[FS_BSIZE];
  unsigned int b;

  if ((unsigned long long)sb.size * FS_BSIZE > LONG_MAX)
    fail("image too large for this host: %u blocks", sb.size);
  image = fopen(image_path, "wb+");
  if (image == NULL)
    fail("cannot create %s: %s", image_path, strerror(errno));
  for (b = 0; b < sb.size; b++)
    if (fwrite(zeros, FS_BSIZE, 1, image) != 1)
      fail("cannot write %s: %s", image_path, strerror(errno));
}

// A fresh zeroed data block for the contents of what (named in the error
// if the data region is full).
static unsigned int alloc_block(const char *what)
{
  if (next_block >= sb.size)
    fail("image too small: no data block left for %s", what);
  return next_block++;
}

// A fresh inode of the given type with one link; its number.
static unsigned int alloc_inode(short type)
{
  struct dinode *ip;

  if (next_inum >= sb.ninodes)
    fail("too many files: the image has %u inodes", sb.ninodes);
  ip = &itable[next_inum];
  memset(ip, 0, sizeof *ip);
  ip->type = type;
  ip->nlink = 1;
  return next_inum++;
}

// The address in slot i of the pointer block whose address is *ptr,
// allocating the pointer block (stored in *ptr) and the block for slot i
// if they do not exist yet.
static unsigned int pointer_slot(unsigned int *ptr, unsigned int i, const char *what)
{
  unsigned int slots[NINDIRECT];

  if (*ptr == 0)
    *ptr = alloc_block(what);
  read_block(*ptr, slots);
  if (slots[i] == 0) {
    slots[i] = alloc_block(what);
    write_block(*ptr, slots);
  }
  return slots[i];
}

// The disk block holding block fbn of inode ip's contents, allocated
// (with any indirect block on the way to it) if it has none yet.
static unsigned int file_block(struct dinode *ip, unsigned int fbn, const char *what)
{
  unsigned int indirect;

  if (fbn < NDIRECT) {
    if (ip->addrs[fbn] == 0)
      ip->addrs[fbn] = alloc_block(what);
    return ip->addrs[fbn];
  }
  fbn -= NDIRECT;
  if (fbn < NINDIRECT)
    return pointer_slot(&ip->addrs[NDIRECT], fbn, what);
  fbn -= NINDIRECT;
  indirect = pointer_slot(&ip->addrs[NDIRECT + 1], fbn / NINDIRECT, what);
  return pointer_slot(&indirect, fbn % NINDIRECT, what);
}

// Add n bytes from buf to the end of inode inum's contents, growing its
// size; what names the file in error messages.
static void append(unsigned int inum, const void *buf, size_t n, const char *what)
{
  struct dinode *ip = &itable[inum];
  const char *src = buf;
  char block[FS_BSIZE];
  unsigned int b, off, chunk;

  while (n > 0) {
    if (ip->size == MAXFILESIZE)
      fail("file too large (max %u bytes): %s", MAXFILESIZE, what);
    b = file_block(ip, ip->size / FS_BSIZE, what);
    off = ip->size % FS_BSIZE;
    chunk = FS_BSIZE - off;
    if (chunk > n)
      chunk = (unsigned int)n;
    if (chunk > MAXFILESIZE - ip->size)
      chunk = MAXFILESIZE - ip->size;
    read_block(b, block);
    memcpy(block + off, src, chunk);
    write_block(b, block);
    ip->size += chunk;
    src += chunk;
    n -= chunk;
  }
}

// Make the root directory, inode ROOTINO: ".", "..", then an entry for
// each of the n inputs, which are to get inodes ROOTINO+1, ROOTINO+2, ...
static void make_root(const struct input *inputs, unsigned int n)
{
  struct dirent *dir;
  unsigned int i, count = n + 2;

  if (alloc_inode(T_DIR) != ROOTINO)
    fail("internal error: the root is not inode %d", ROOTINO);
  dir = calloc(count, sizeof *dir);
  if (dir == NULL)
    fail("out of memory");
  dir[0].inum = ROOTINO;
  strcpy(dir[0].name, ".");
  dir[1].inum = ROOTINO;
  strcpy(dir[1].name, "..");
  for (i = 0; i < n; i++) {
    dir[2 + i].inum = (unsigned short)(ROOTINO + 1 + i);
    // calloc zeroed the entry, so a shorter name is NUL-padded.
    memcpy(dir[2 + i].name, inputs[i].name, strlen(inputs[i].name));
  }
  append(ROOTINO, dir, count * sizeof *dir, "the root directory");
  free(dir);
}

// Copy the input file in into the next free inode, which must be inode
// number expected (the one its directory entry names).
static void copy_file(const struct input *in, unsigned int expected)
{
  char buf[FS_BSIZE];
  unsigned int inum = alloc_inode(T_FILE);
  size_t got;
  FILE *f;

  if (inum != expected)
    fail("internal error: %s got inode %u, not %u", in->path, inum, expected);
  f = fopen(in->path, "rb");
  if (f == NULL)
    fail("cannot read %s: %s", in->path, strerror(errno));
  while ((got = fread(buf, 1, sizeof buf, f)) > 0)
    append(inum, buf, got, in->path);
  if (ferror(f))
    fail("cannot read %s: %s", in->path, strerror(errno));
  fclose(f);
}

// Write the inode table, the bitmap (every block below next_block in use),
// an empty log header, and the superblock.
static void finish_image(void)
{
  unsigned char block[FS_BSIZE];
  unsigned int i, b, first;

  for (i = 0; i < FS_INODEBLOCKS(sb.ninodes); i++) {
    memset(block, 0, sizeof block);
    first = i * IPB;
    memcpy(block, &itable[first],
           (sb.ninodes - first < IPB ? sb.ninodes - first : IPB) * sizeof(struct dinode));
    write_block(sb.inodestart + i, block);
  }

  for (i = 0; i < FS_BITMAPBLOCKS(sb.size); i++) {
    memset(block, 0, sizeof block);
    for (b = i * BPB; b < next_block && b < (i + 1) * BPB; b++)
      block[(b % BPB) / 8] |= (unsigned char)(1u << (b % 8));
    write_block(sb.bmapstart + i, block);
  }

  memset(block, 0, sizeof block);
  write_block(sb.logstart, block);  // n = 0: nothing to replay

  memcpy(block, &sb, sizeof sb);
  write_block(FS_SUPERBLK, block);
}

// ---------------------------------------------------------------- main

int main(int argc, char **argv)
{
  unsigned int size = DEFAULT_BLOCKS, ninodes = DEFAULT_INODES;
  unsigned int i, nfiles, datastart;
  unsigned long long need;
  struct input *inputs;
  const unsigned int one = 1;
  int arg = 1;

  if (*(const unsigned char *)&one != 1)
    fail("this host is big-endian; mkfs writes the little-endian format only on a little-endian host");

  // Options come first; "--" ends them.
  while (arg < argc && argv[arg][0] == '-' && argv[arg][1] != '\0') {
    if (strcmp(argv[arg], "--") == 0) {
      arg++;
      break;
    }
    if (strcmp(argv[arg], "-s") == 0 && arg + 1 < argc)
      size = parse_count('s', argv[arg + 1], "blocks", 1, MAX_BLOCKS);
    else if (strcmp(argv[arg], "-i") == 0 && arg + 1 < argc)
      ninodes = parse_count('i', argv[arg + 1], "inodes", 2, MAX_INODES);
    else
      usage();
    arg += 2;
  }
  if (arg >= argc)
    usage();
  image_path = argv[arg++];
  nfiles = (unsigned int)(argc - arg);

  // Check everything before writing anything.
  if (nfiles > ninodes - 2)
    fail("too many files: %u files and the root need %u inodes, the image has %u inodes",
         nfiles, nfiles + 2, ninodes);
  plan_layout(size, ninodes);
  inputs = calloc(nfiles ? nfiles : 1, sizeof *inputs);
  itable = calloc(ninodes, sizeof *itable);
  if (inputs == NULL || itable == NULL)
    fail("out of memory");
  for (i = 0; i < nfiles; i++)
    check_input(argv[arg + i], &inputs[i]);
  check_names_unique(inputs, nfiles);
  need = file_blocks((nfiles + 2ull) * sizeof(struct dirent));
  for (i = 0; i < nfiles; i++)
    need += file_blocks(inputs[i].size);
  if (need > sb.nblocks) {
    unsigned long long enough = blocks_needed(need, ninodes);
    char hint[64];

    if (enough <= MAX_BLOCKS)
      snprintf(hint, sizeof hint, "-s %llu would do", enough);
    else
      snprintf(hint, sizeof hint, "more than -s allows");
    fail("image too small: the root directory and %u file%s need %llu data blocks, "
         "an image of %u blocks has %u (%s)", nfiles, nfiles == 1 ? "" : "s",
         need, sb.size, sb.nblocks, hint);
  }

  // Write it.
  datastart = sb.size - sb.nblocks;
  next_inum = ROOTINO;
  next_block = datastart;
  create_image();
  make_root(inputs, nfiles);
  for (i = 0; i < nfiles; i++)
    copy_file(&inputs[i], ROOTINO + 1 + i);
  finish_image();
  if (fclose(image) != 0) {
    int err = errno;
    image = NULL;
    remove(image_path);
    fail("cannot write %s: %s", image_path, strerror(err));
  }
  image = NULL;

  printf("mkfs: %s: %u blocks (1 boot, 1 super, %u log, %u inode, %u bitmap, %u data), "
         "%u inodes, %u files, %u data blocks used\n",
         image_path, sb.size, sb.nlog, sb.bmapstart - sb.inodestart,
         datastart - sb.bmapstart, sb.nblocks, sb.ninodes, nfiles, next_block - datastart);
  free(inputs);
  free(itable);
  return 0;
}
