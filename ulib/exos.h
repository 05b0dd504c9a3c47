// ExOS's address-space layout and the exception frame, shared by its C and
// assembly code. (User programs include ulib/ulib.h.)
#ifndef EXOS_EXOS_H
#define EXOS_EXOS_H

// Layout of every ExOS program's address space (below UTOP = 2^38):
//   0x10000 ...           the program: text, read-only data, data, bss
//   end ... heap top      the heap (sbrk), filled lazily with zero pages
//   EXOS_FSCACHE ...      the file-system server's block cache (fs.c; fsd only)
//   EXOS_TSTACKS ...      threads' stacks, one 64 KiB span per thread slot (thread.c)
//   EXOS_STACKTOP         the stack grows down from here (INIT_STACKTOP)
//   EXOS_SCRATCH ...      ExOS's own pages: a scratch page, the exit-status page,
//                         the children's status pages (not copied by fork)
//   EXOS_XSTACK_LO/TOP    the exception stack; the page below is a guard
//   EXOS_UVPT ...         read-only views of this program's own page tables
//   UAREA                 the u-area (read-only)
#define EXOS_XSTACK_SHIFT  14  // the exception stack is 16 KiB
#define EXOS_XSTACK_TOP    0x3F80000000
#define EXOS_XSTACK_LO     (EXOS_XSTACK_TOP - (1 << EXOS_XSTACK_SHIFT))
#define EXOS_UVPT          0x3F80000000  // root entry 254: the page-table window (vm.c)
#define EXOS_STACKTOP      0x3F00000000  // = INIT_STACKTOP
#define EXOS_STACK_MAX     (1UL << 20)   // the stack grows lazily to 1 MiB; then a guard page
#define EXOS_HEAP_MAX      0x2000000000  // the heap ends below here
#define EXOS_SCRATCH       0x3F7FF00000  // a page ExOS maps for a moment (copy-on-write)
#define EXOS_STATUS        0x3F7FF01000  // the exit-status page this process's parent shares
#define EXOS_DISKBUF       0x3F7FF02000  // the block buffer of diskfs.c
#define EXOS_TRAMPOLINE    0x3F7FF03000  // exec's last step runs from an alias here
#define EXOS_EXECBUF       0x3F7FF04000  // exec's plan: struct exec_switch, then the batch
#define EXOS_EXECBUF_PAGES 8
#define EXOS_COWSCRATCH    0x3F7FF0C000  // copy_page's (fork.c): a fault may come mid-EXOS_SCRATCH
#define EXOS_EXEC_MAGIC    0x6578656321  // a2 at the entry of an exec'd program
#define EXOS_CHILDREN      0x3F7FF10000  // the status pages of this process's children
#define EXOS_MAXCHILD      64
#define EXOS_RPC_CLIENTS   0x3F7FF50000  // a server's views of its clients' pages (64)
#define EXOS_RPC_SERVERS   0x3F7FF90000  // a client's pages shared with servers (64)
#define EXOS_FSCACHE       0x3D00000000  // the file-system server's block cache (fs.c)
#define EXOS_PIPES         0x3F40000000  // pipes: two pages each, shared (kept by exec)
#define EXOS_NPIPES        128
#define EXOS_PIPES_END     (EXOS_PIPES + EXOS_NPIPES * 2 * PGSIZE)
#define EXOS_NET           0x3C00000000  // the network's rings and the page frames leave from (ether.c)
#define PTE_COW            (1UL << 8)  // an RSW bit: the page is shared copy-on-write
#define PTE_SHARE          (1UL << 9)  // the other RSW bit: fork shares the page writable

// exec's plan for exos_exec_switch (exec.S), at EXOS_EXECBUF.
#define EXS_BATCH     0
#define EXS_NBATCH    8
#define EXS_FREE      16
#define EXS_NFREE     24
#define EXS_ENTRY     32
#define EXS_SP        40
#define EXS_ARGC      48
#define EXS_SYS_BATCH 56
#define EXS_SYS_FREE  64
#define EXS_SYS_EXIT  72
#define EXS_FDS       80
#ifndef __ASSEMBLER__
struct exec_switch {
  const struct pte_write *batch;  // the old mappings' removal, then the new ones
  unsigned long nbatch;
  const unsigned long *free;  // old pages to free afterwards
  unsigned long nfree;
  unsigned long entry, sp, argc;
  unsigned long sys_batch, sys_free, sys_exit;  // system call numbers
  unsigned long fds;                            // the descriptors handed over (a3)
  unsigned long window[3];                      // the page-table window (vm_window)
  unsigned long trampoline_ppn;                 // the page aliased at EXOS_TRAMPOLINE
};
_Static_assert(__builtin_offsetof(struct exec_switch, sys_exit) == EXS_SYS_EXIT, "EXS_SYS_EXIT");
_Static_assert(__builtin_offsetof(struct exec_switch, fds) == EXS_FDS, "EXS_FDS");
#endif

// The file-system server's calls (fs.c serves them, fsclient.c makes
// them). w[0] is the operation going in and the result (>= 0) or -E_...
// coming back. "cwd" is the caller's current directory's inode; paths are
// NUL-terminated in the caller's RPC page. Calls on an open file name it
// in w1 and the caller's hold on it in w4 (a hint: any value works, the
// right one is faster; replies carry the right one back in w4).
// FS_OPEN: w1 cwd, w2 flags; path -> the open file; w1 type, w2 nlink, w3 size, w4 hold, w5 major
#define FS_OPEN    1
#define FS_UNLINK  2   // w1 cwd, w2 0 or FS_DIRONLY; path -> 0
#define FS_LINK    3   // w1 cwd; old path, new path -> 0
#define FS_RENAME  4   // w1 cwd; old path, new path -> 0
#define FS_MKDIR   5   // w1 cwd; path -> inum
#define FS_MKNOD   6   // w1 cwd, w2 major, w3 minor; path -> inum
#define FS_READ    7   // w2 0 or FS_AT, w3 count <= a page, w5 offset if FS_AT -> count; bytes in the page
#define FS_WRITE   8   // w2 0 or FS_APPEND, w3 count; the bytes in the page -> count
#define FS_STAT    9   // -> 0; w1 type, w2 nlink, w3 size, w5 inum
#define FS_CLOSE   10  // -> 0
#define FS_SHARE   11  // w2 a process -> 0: it holds the open file too (fork, spawn)
#define FS_SEEK    12  // w2 whence (SEEK_SET, SEEK_CUR, SEEK_END), w3 offset -> the new offset
#define FS_STATFS  13  // -> 0; w1 free data blocks, w2 data blocks, w3 free inodes, w4 inodes
#define FS_BIND    14  // w2 first page, w3 pages (<= FS_BIND_MAX) -> 0; their blocks in the page
#define FS_SYMLINK 15  // w1 cwd; target, path -> 0: path becomes a symbolic link to target
#define FS_APPEND  1   // FS_WRITE: at the end of the file
#define FS_AT      2   // FS_READ: at offset w5, leaving the file's offset alone
#define FS_BIND_MAX 1024  // FS_BIND: pages one call binds (their block numbers fill the page)
// ExOS's state that code which cannot take a copy-on-write fault writes:
// xentry.S's entry and thread switches (upcall-free: a fault there ends the
// program) and a forked child's start-up before it handles faults. The
// linker script (user/user.ld) gathers it on pages of its own after the bss
// (with xentry.S's own variables); fork copies those pages to the child at
// once and makes the rest of data and bss copy-on-write.
#define EXOS_STATE __attribute__((section(".bss.exos_state")))
// The same for thread.c's records, on pages of their own within ExOS's
// state (exos_threads_start to exos_threads_end): all zero until the first
// thread is made, when fork gives a child fresh pages instead of copies.
#define EXOS_STATE_THREADS __attribute__((section(".bss.exos_threads")))

#define FS_NOREF   0x10000  // FS_OPEN flag: look only, record no open (stat, chdir)
#define FS_DIRONLY 0x20000  // FS_OPEN flag: refuse anything but a directory
#define FS_NOFOLLOW 0x40000  // FS_OPEN flag: a symbolic link at the path's end is opened itself

// Threads (thread.c). Thread slot i (1..EXOS_MAXTHREADS-1; slot 0 is the
// program's first thread, on the normal stack) has the span of addresses
// EXOS_TSTACKS + i * EXOS_TSTACK_SPAN: its stack is the top EXOS_TSTACK_SIZE
// bytes, and the rest stays unmapped as a guard.
#define EXOS_TSTACKS     0x3E00000000
#define EXOS_TSTACK_SHIFT 16  // EXOS_TSTACK_SPAN is 1 << EXOS_TSTACK_SHIFT
#define EXOS_TSTACK_SPAN 0x10000
#define EXOS_TSTACK_SIZE 0x4000
#define EXOS_MAXTHREADS  64
// A hart thread's span (thread_create_on) holds more, at these offsets: its
// exception stack [XSTACK_LO, XSTACK_TOP) above a guard, and its
// environment's u-area (read-only) just above; then a guard, then its
// stack as above. xentry.S finds them all from sp, which is always on the
// thread's stack or exception stack.
#define EXOS_HT_XSTACK_LO  0x4000
#define EXOS_HT_XSTACK_TOP 0x8000
#define EXOS_HT_UAREA      0x8000
// A hart thread's own state (lock.c), kept apart from its record in
// thread.c: its processor's count of critical sections, and two words
// where xentry.S's hart_xentry keeps t0 and t1 until they are in the frame.
#define EXOS_HART_SIZE     32
#define HART_CRITICAL      0
#define HART_T0            8
#define HART_T1            16
#ifndef __ASSEMBLER__
struct exos_hart {
  volatile unsigned long critical;
  unsigned long t0, t1;
  volatile unsigned long in_use;  // the slot's thread is a hart thread
};
extern struct exos_hart exos_harts[EXOS_MAXTHREADS];
extern volatile unsigned long exos_sections_done;
int exos_hart_slot(void);
volatile unsigned long *exos_critical_count(void);
void exos_lock_take(void), exos_lock_release(void);
#endif
// A thread's saved registers (struct thread's frame, written by xentry.S):
// slot 0 the pc, slots 1..31 x1..x31 (x3, gp, not kept) as in struct xframe,
// then the thread's exos_critical count and how often the epilogue
// preempted it.
#define TFRAME_CRITICAL  32
#define TFRAME_PREEMPTED 33
#define TFRAME_SLOTS     34
#define EXOS_SYS_YIELD   16  // SYS_yield, for xentry.S (checked in thread.c)
#define EXOS_E_FAULT     3   // E_FAULT, for ucopy.S (checked in exception.c)
#define EXOS_E_AGAIN     7   // E_AGAIN, E_NOENTRY, E_REFUSED, for rpc_entry.S (checked in rpc.c)
#define EXOS_E_NOENTRY   22
#define EXOS_E_REFUSED   25

// The exception frame: pc, x1..x31 (x3, gp, not kept), cause, address. For
// a synchronous exception only ra, sp, s0, t0..t6 and a0..a7 are in it
// (the handler, C code, keeps s1..s11, and tp is not touched): a handler
// may change those, and the pc, to change what resumes.
#define XFRAME_SIZE (8 * 34)

#ifndef __ASSEMBLER__
struct xframe {
  unsigned long pc;
  unsigned long ra, sp, gp, tp, t0, t1, t2, s0, s1;
  unsigned long a0, a1, a2, a3, a4, a5, a6, a7;
  unsigned long s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  unsigned long t3, t4, t5, t6;
  unsigned long cause;  // scause
  unsigned long addr;   // stval
};
_Static_assert(sizeof(struct xframe) == XFRAME_SIZE, "XFRAME_SIZE");

// fork.c: building a child process (spawn.c too). The page-table pages this
// process made in a child, so it can add leaves.
struct child_space {
  unsigned int id;
  unsigned long root;
  int n1, n0;
  struct {
    unsigned long i2, ppn;
  } pt1[16];
  struct {
    unsigned long i2, i1, ppn;
  } pt0[64];
};

long child_begin(const char *name, struct child_space *cs, int *slot, int bind_disk);
long child_map(struct child_space *cs, unsigned long va, unsigned long ppn, unsigned long bits);
long child_start(int slot, const struct user_regs *r, long err);
#endif

#endif
