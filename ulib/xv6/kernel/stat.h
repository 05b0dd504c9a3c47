// What stat and fstat report about a file, with the names and layout that
// programs written for xv6 use (xv6 compatibility: ulib/xv6/README.md).
#ifndef RVEXO_XV6_STAT_H
#define RVEXO_XV6_STAT_H

#ifndef T_DIR
#define T_DIR    1  // directory
#define T_FILE   2  // file
#define T_DEVICE 3  // device (the console and pipes report this)
#endif

struct stat {
  int dev;             // the file system's device number (0)
  unsigned int ino;    // inode number
  short type;          // T_DIR, T_FILE or T_DEVICE
  short nlink;         // links to the file
  unsigned long size;  // size in bytes
};

#endif
