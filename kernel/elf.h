// ELF-64 file format: the parts needed to load a RISC-V executable.
// Shared by the kernel's bootstrap loader and ExOS's program loader.
#ifndef RVEXO_ELF_H
#define RVEXO_ELF_H

#include "types.h"

#define ELF_MAGIC  0x464C457FU  // "\x7FELF" read as a little-endian word
#define ELFCLASS64 2
#define EM_RISCV   243
#define ET_EXEC    2

struct elfhdr {
  uint32 magic;
  uint8 class, data, version, osabi, abiversion, pad[7];
  uint16 type, machine;
  uint32 version2;
  uint64 entry, phoff, shoff;
  uint32 flags;
  uint16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

#define PT_LOAD 1
#define PF_X    1
#define PF_W    2
#define PF_R    4

struct proghdr {
  uint32 type, flags;
  uint64 off, vaddr, paddr, filesz, memsz, align;
};

#endif
