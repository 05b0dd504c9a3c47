// The file system's on-disk names as xv6's kernel/fs.h gives them to its
// programs (DIRSIZ, struct dirent, ROOTINO, ...): rvexo's format
// (ulib/fsformat.h), whose names are xv6's, and BSIZE for its block size.
#ifndef RVEXO_XV6_FS_H
#define RVEXO_XV6_FS_H

#include "ulib/fsformat.h"

#define BSIZE FS_BSIZE  // bytes per block

#endif
