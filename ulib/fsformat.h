// The on-disk format of the rvexo file system, shared by the host tool
// mkfs (mkfs/mkfs.c) and by ExOS's file system. Both are compiled from this
// one header, so it uses only the C basic types (no <stdint.h>: ExOS is
// built freestanding) and checks every size with _Static_assert. Numbers are
// stored in the byte order of RISC-V, little-endian; mkfs refuses to run on
// a big-endian host.
//
// The disk is an array of FS_BSIZE-byte blocks, numbered from 0, in six
// regions (the numbers below are block numbers, the ones under the boxes
// region sizes):
//
//   0      1       logstart      inodestart    bmapstart     size-nblocks  size
//   +------+-------+-------------+-------------+-------------+-------------+
//   | boot | super | log         | inodes      | bitmap      | data        |
//   +------+-------+-------------+-------------+-------------+-------------+
//     1      1       nlog          ninodes/IPB   size/BPB      nblocks
//                                  rounded up    rounded up
//
// mkfs's default image, 2048 blocks (8 MiB) and 200 inodes: logstart 2,
// nlog 31, inodestart 33 (4 blocks), bmapstart 37 (1 block), data from 38,
// nblocks 2010.
//
// Block 0 is left alone (a boot block, unused). Block 1 starts with the
// superblock; the rest of it is zero. Everything else is found from the
// superblock's fields, so other sizes than the defaults need no new code.
#ifndef RVEXO_FSFORMAT_H
#define RVEXO_FSFORMAT_H

#define FS_BSIZE    4096        // bytes per block
#define FS_MAGIC    0x52564653  // superblock.magic: 'R' 'V' 'F' 'S' as one number
#define FS_SUPERBLK 1           // the block holding the superblock

// The superblock: where each region starts and how big it is.
struct superblock {
  unsigned int magic;       // FS_MAGIC, or this is not an rvexo file system
  unsigned int size;        // blocks in the whole image, boot block included
  unsigned int nblocks;     // blocks in the data region (the last ones)
  unsigned int ninodes;     // inodes, inode 0 (never used) included
  unsigned int nlog;        // blocks in the log: its header, then its data
  unsigned int logstart;    // first block of the log (its header)
  unsigned int inodestart;  // first block of the inode table
  unsigned int bmapstart;   // first block of the free-block bitmap
};
_Static_assert(sizeof(struct superblock) == 32, "superblock is 8 words");

// ---------------------------------------------------------------- inodes

// Inode types. The numbers are xv6's, so that its programs build unchanged.
#define T_DIR    1  // a directory: an array of struct dirent
#define T_FILE   2  // a regular file
#define T_DEVICE 3  // a device, named by major and minor
#define T_SYMLINK 4  // a symbolic link: its contents are the path it names

#define NDIRECT     11              // block addresses held in the inode itself
#define NINDIRECT   (FS_BSIZE / 4)  // addresses in one indirect block (1024)
// The longest file, in blocks: direct, then one single-indirect block,
// then one double-indirect block (NINDIRECT indirect blocks).
#define MAXFILE     (NDIRECT + NINDIRECT + NINDIRECT * NINDIRECT)
// The size field has 32 bits, which caps a file at 4 GiB - 1 bytes, a
// little below MAXFILE blocks.
#define MAXFILESIZE 0xFFFFFFFFu

// An inode as stored on disk. A type of 0 marks a free inode. A block
// address of 0 means "no block": block 0 is never a data block. Since a
// directory's own "." is not counted in nlink, a directory has one link
// from its parent plus one per subdirectory (its ".."); the root, with no
// parent, has the one of its own "..".
struct dinode {
  short type;         // T_DIR, T_FILE, T_DEVICE; 0 when free
  short major;        // T_DEVICE only: which driver
  short minor;        // T_DEVICE only: which unit of it
  short nlink;        // directory entries naming it, "." not counted
  unsigned int size;  // length of the contents in bytes
  // addrs[0 .. NDIRECT-1]: the first NDIRECT blocks of the contents;
  // addrs[NDIRECT]: a block of NINDIRECT addresses of the next blocks;
  // addrs[NDIRECT+1]: a block of NINDIRECT addresses of indirect blocks.
  unsigned int addrs[NDIRECT + 2];
};
_Static_assert(sizeof(struct dinode) == 64, "an inode is 64 bytes");

#define IPB     (FS_BSIZE / 64)  // inodes per block (64)
#define ROOTINO 1                // the root directory's inode number

// The block holding inode inum.
#define IBLOCK(inum, sb)  ((inum) / IPB + (sb).inodestart)
// Blocks the inode table needs for n inodes.
#define FS_INODEBLOCKS(n) (((n) + IPB - 1) / IPB)

// ---------------------------------------------------------------- bitmap

// One bit per block of the image, 1 when the block is in use. Block b is
// bit b % 8 (1 << (b % 8)) of byte (b % BPB) / 8 of bitmap block BBLOCK(b).
// Bits for blocks past size are 0: an allocator must stop at size.
#define BPB (FS_BSIZE * 8)  // blocks described by one bitmap block

// The bitmap block holding block b's bit.
#define BBLOCK(b, sb)         ((b) / BPB + (sb).bmapstart)
// Blocks the bitmap needs for an image of size blocks.
#define FS_BITMAPBLOCKS(size) (((size) + BPB - 1) / BPB)

// ---------------------------------------------------------------- directories

// A directory's contents are an array of these. inum 0 marks a free slot.
// Every directory starts with "." (itself) and ".." (its parent; the root's
// parent is the root).
#define DIRSIZ 14  // longest name

struct dirent {
  unsigned short inum;  // the inode named, 0 for an empty slot
  char name[DIRSIZ];    // padded with NULs; no NUL when DIRSIZ long
};
_Static_assert(sizeof(struct dirent) == 16, "a directory entry is 16 bytes");

// ---------------------------------------------------------------- log

// The log's first block holds a struct logheader; the next nlog - 1 blocks
// hold copies of the blocks of one committed transaction. n == 0 means the
// log is empty (nothing to replay). block[i] is the home block number of
// the copy kept in log block logstart + 1 + i.
#define LOGSIZE 30             // most blocks one transaction may write
#define FS_NLOG (LOGSIZE + 1)  // mkfs's default nlog: header + LOGSIZE

struct logheader {
  unsigned int n;               // blocks in the committed transaction
  unsigned int block[LOGSIZE];  // where each of them belongs
};
_Static_assert(sizeof(struct logheader) <= FS_BSIZE, "the log header fits a block");

#endif  // RVEXO_FSFORMAT_H
