// The rvexo system-call ABI: the one header shared by the kernel and ExOS.
//
// Calling convention: the call number goes in a7, arguments in a0..a5, and
// `ecall` traps into the kernel. The result comes back in a0: zero or a
// positive value on success, a negative E_* code on failure (pct_call also
// returns results in a1..a5). Like a C function call, a system call may
// change a1..a7 and t0..t6; ra, sp, gp, tp and s0..s11 are preserved. That
// lets the kernel's fast path (kernel/trapvec.S) save only three registers.
//
// SYSCALL_LIST is the single list of calls. ExOS's stubs (ulib/usys.S) and
// their C prototypes (ulib/syscall.h) are generated from it by the
// preprocessor; the kernel's dispatcher (kernel/syscall.c) switches on the
// SYS_* numbers it defines.
#ifndef RVEXO_ABI_H
#define RVEXO_ABI_H

//        number  name      return  C parameters
#define SYSCALL_LIST(X)                                                                            \
  X(1, cputs, long, (const char *s, unsigned long len))                                            \
  X(2, cgetc, long, (void))                                                                        \
  X(3, getenvid, long, (void))                                                                     \
  X(4, env_exit, void, (int status))                                                               \
  X(5, env_create, long, (const char *name))                                                       \
  X(6, env_start, long, (unsigned int envid))                                                      \
  X(7, env_destroy, long, (unsigned int envid))                                                    \
  X(8, env_set_regs, long, (unsigned int envid, const struct user_regs *regs))                     \
  X(9, env_set_entry, long, (unsigned int envid, int which, unsigned long va))                     \
  X(10, env_set_xstack, long, (unsigned int envid, unsigned long lo, unsigned long hi))            \
  X(11, page_alloc, long, (unsigned int envid, unsigned long ppn, int type))                       \
  X(12, page_free, long, (unsigned long ppn))                                                      \
  X(13, page_grant, long, (unsigned long ppn, unsigned int envid, int rights))                     \
  X(14, pte_write, long, (unsigned long pt_ppn, unsigned long index, unsigned long pte))           \
  X(15, pte_write_batch, long, (const struct pte_write *writes, unsigned long n))                  \
  X(16, yield, long, (unsigned int envid))                                                         \
  X(17, kcheck, long, (void))                                                                      \
  X(18, slice_alloc, long, (unsigned int envid, long position))                                    \
  X(19, slice_free, long, (unsigned long position))                                                \
  X(20, pct_call, long,                                                                            \
    (long a0, long a1, long a2, long a3, long a4, long a5, unsigned int callee))                   \
  X(21, pct_send, long,                                                                            \
    (long a0, long a1, long a2, long a3, long a4, long a5, unsigned int callee))                   \
  X(22, pct_reply, long,                                                                           \
    (long a0, long a1, long a2, long a3, long a4, long a5, unsigned int caller))                   \
  X(23, pct_accept, long, (unsigned long from))                                                    \
  X(24, revoke, long, (unsigned int envid, int kind, unsigned long arg, unsigned long ticks))      \
  X(25, uptime, long, (void))                                                                      \
  X(26, disk_bind, long, (unsigned int envid, unsigned long start, unsigned long count))           \
  X(27, disk_unbind, long, (unsigned int envid, unsigned long start, unsigned long count))         \
  X(28, disk_io, long, (unsigned long block, unsigned long ppn, int write))                        \
  X(29, disk_status, long, (unsigned long request))                                                \
  X(30, disk_wait, long, (unsigned long request))                                                  \
  X(31, cgetc_wait, long, (void))                                                                  \
  X(32, env_wait, long, (unsigned int envid, unsigned long flags))                                 \
  X(33, net_filter, long,                                                                          \
    (const struct dpf_term *terms, unsigned long nterms, const unsigned long *ring,                \
     unsigned long npages))                                                                        \
  X(34, net_unfilter, long, (unsigned long filter))                                                \
  X(35, net_wait, long, (unsigned long filter, unsigned long seen, unsigned long deadline))         \
  X(36, net_send, long, (unsigned long ppn, unsigned long offset, unsigned long len))              \
  X(37, net_status, long, (unsigned long request, int wait))                                       \
  X(38, net_handler, long,                                                                         \
    (unsigned long filter, const struct ash_insn *code, unsigned long ninsns,                      \
     const unsigned long *pages, unsigned long npages))                                            \
  X(39, env_create_sibling, long, (const char *name))

// Calls that may switch to another environment. The fast path leaves them
// to the full trap path, which saves every register first, except the
// common cases of pct_call, pct_reply and yield(id), which trapvec.S
// switches itself. (A bit mask of call numbers, all below 64.)
#define SYSNUM_PCT_CALL  20  // for trapvec.S's fast paths
#define SYSNUM_PCT_REPLY 22
#define SYSNUM_YIELD     16
#define SWITCHING_SYSCALLS                                                                         \
  ((1UL << 4) | (1UL << 7) | (1UL << 16) | (1UL << 20) | (1UL << 21) | (1UL << 22) | (1UL << 23) | \
   (1UL << 30) | (1UL << 31) | (1UL << 32) | (1UL << 35) | (1UL << 37))

// Error codes. System calls return their negation. Each refusal of a
// page-table write has a code of its own, so a library OS (and a student)
// can tell exactly which rule it broke.
#define ERROR_LIST(X)                                                                              \
  X(1, E_INVAL, "invalid argument")                                                                \
  X(2, E_NOSYS, "no such system call")                                                             \
  X(3, E_FAULT, "bad user address")                                                                \
  X(4, E_NOMEM, "out of memory")                                                                   \
  X(5, E_NOENV, "no free environment")                                                             \
  X(6, E_BADENV, "no such environment")                                                            \
  X(7, E_AGAIN, "resource temporarily unavailable")                                                \
  X(8, E_PERM, "not your environment or page")                                                     \
  X(9, E_BADPPN, "not a page of RAM")                                                              \
  X(10, E_NOTFREE, "page is not free")                                                             \
  X(11, E_BUSY, "page is still in use")                                                            \
  X(12, E_NOTPT, "not a page-table page you control")                                              \
  X(13, E_BADINDEX, "page-table index out of range or in the kernel half")                         \
  X(14, E_SUPERPAGE, "leaf above level 0: superpages are not supported")                           \
  X(15, E_NOTUSER, "leaf must have U set and G clear")                                             \
  X(16, E_BADBITS, "reserved PTE bits or W without R")                                             \
  X(17, E_NOACCESS, "page not owned or granted with these rights")                                 \
  X(18, E_PTWRITABLE, "page-table and u-area pages can be mapped read-only only")                  \
  X(19, E_BADLINK, "non-leaf must point to your own table of the next level")                      \
  X(20, E_LINKED, "page-table page is already linked")                                             \
  X(21, E_RUNNING, "environment has already started")                                              \
  X(22, E_NOENTRY, "no entry point set")                                                           \
  X(23, E_INVARIANT, "kernel invariant violated")                                                  \
  X(24, E_NOSLICE, "no free time slice")                                                           \
  X(25, E_REFUSED, "the callee refuses calls from you")                                            \
  X(26, E_NOTWAITING, "that environment is not waiting for your reply")                            \
  X(27, E_NOBINDING, "block not in a range bound to you")                                          \
  X(28, E_IO, "disk I/O error")                                                                    \
  X(29, E_NODISK, "no disk")                                                                       \
  X(30, E_QUOTA, "this environment's share of a kernel table is used up")                          \
  X(31, E_BADFILTER, "bad packet filter: a bad term, too many, or one past any frame")             \
  X(32, E_CLAIMED, "another filter already claims these packets")                                  \
  X(33, E_NONET, "no network device")                                                              \
  X(34, E_ASHLONG, "handler longer than ASH_INSNS instructions")                                   \
  X(35, E_ASHJUMP, "handler jumps backward or out of its code, or runs off its end")               \
  X(36, E_ASHOP, "handler has a bad opcode, register, unused field or verdict")                    \
  X(37, E_ASHBOUNDS, "handler's constant address is outside any frame or its pages")                \
  X(38, E_TIMEOUT, "the deadline passed first")

#define NERRORS 39  // one more than the largest error number

// Environment status (struct env_info).
#define ENV_FREE         0
#define ENV_RUNNABLE     1
#define ENV_NOT_RUNNABLE 2

// Lifecycles: what an environment leaves behind when it is destroyed.
//  - Its children pass to its own parent, which controls them from then on
//    (parent_id changes in UENVS and in each child's u-area). With no
//    parent, children that have started control only themselves (parent_id
//    0), and children that never started are destroyed: nobody could start
//    them any more.
//  - A user page it owns on which its descendants (children, their
//    children, ...) hold grants outlives it, owned by nobody (owner 0): each
//    of them keeps exactly the rights it had, and the page is freed when
//    the last grant on it goes (a holder gives up its own grant with
//    page_grant(ppn, itself, 0)). So a forked child keeps what it shares
//    with its parent. Grants others hold (a server it lent a page to) are
//    withdrawn, and every other page is freed.
//  - The disk bindings made from its own pass up to the ones its own were
//    made from, as its children pass to its parent, who can take them
//    back: disk_unbind takes a range back from everyone it reached. (Who
//    bound a range to an environment it does not control, a file server
//    to its client, can take that one back too.)
//  - Its packet filters are removed, with their handlers (and the default
//    filter, if it held it); its sends in flight, its handlers' too,
//    finish as the kernel's (their frames were copied), and are then freed.
//  - Pinning: no page is freed, repossessed or re-typed while the disk may
//    still write it. Destroying its owner waits for the device first,
//    page_free answers -E_BUSY, and the abort protocol passes it by.
//  - A free slot in UENVS is never runnable, and nobody waits on it.
//
// Siblings: env_create_sibling makes an environment that runs in the
// caller's address space (the same root table and ASID), so that one
// program can run on several harts at once, a sibling on each. The
// address space's owner (the caller, or the one the caller is a sibling
// of) is its parent and controls it; a sibling controls the owner and the
// other siblings in turn (they share all their memory anyway): it writes
// the owner's tables, and the pages it allocates for itself (page_alloc
// with envid 0) are the owner's, as is its u-area (so the owner's tables
// may map it; it is freed with the sibling). Destroying the owner destroys its siblings first; one running on
// another hart is interrupted and dies there, and the owner's pages are
// freed only once no sibling runs on its tables any more (until then the
// owner never runs again, and a destroy call waits).
//
// Pools: the kernel's fixed tables are shared out per environment, so that
// no environment can take a whole one; past its share a call returns
// -E_QUOTA.
//  - environments: ENV_CHILDREN_MAX live children per parent;
//  - grant records: an environment may have created at most a quarter of
//    the pool (two records per page of RAM) that still exist;
//  - disk requests: DISK_REQUESTS_PER_ENV not yet collected per environment;
//  - disk bindings: DISK_BINDINGS ranges per environment, bound to it only
//    by itself, its parent, or one it waits on in a synchronous call;
//  - packet filters: NET_FILTERS_PER_ENV per environment (64 in all), one
//    handler each;
//  - network sends: NET_SENDS_PER_ENV not yet collected per environment
//    (its handlers' sends in flight among them);
//  - mappings: a page's mapping count cannot overflow (each mapping is a
//    slot of a level-0 table that the mapping environment owns).
//  Not shared out: the time-slice vector. A user-level scheduler (ExOS's
//  stride scheduler) owns every slice on purpose; a parent takes slices
//  back from a child with revoke(REVOKE_SLICE) or by destroying it.
#define ENV_CHILDREN_MAX      64
#define DISK_REQUESTS_PER_ENV 8
#define DISK_BINDINGS         8

// Entry points an environment registers (env_set_entry). An environment
// without prologue and epilogue entries has its registers saved and
// restored by the kernel when its time slices end and begin.
#define ENTRY_EXCEPTION 0  // synchronous exceptions
#define ENTRY_PROLOGUE  1  // a time slice of its begins
#define ENTRY_EPILOGUE  2  // its slice ended: save state and yield(0) within the grace period
#define ENTRY_PCT       3  // a protected control transfer arrives
#define ENTRY_REVOKE    4  // the kernel asks for resources back, or has taken them
#define ENTRY_CRITICAL                                                                             \
  5  // not an entry: address of a user word; while it is nonzero the
     // kernel makes no asynchronous upcall (it saves the registers itself)
#define ENTRY_NOUPCALL_LO                                                                          \
  6  // not entries: while the pc is in [LO, HI) the kernel makes no asynchronous
#define ENTRY_NOUPCALL_HI 7  // upcall either (the library's upcall entry and exit code)
#define NENTRIES          8

// The time-slice vector: NSLICES slices of SLICE_US microseconds each, run
// round-robin; the epilogue must yield within GRACE_US. Exported read-only
// at USLICES as unsigned int owner[NSLICES] (0: free).
#define NSLICES      64
// Each hart has a vector of its own (kernel/smp.c): slice s of hart h is
// named h * NSLICES + s, and hart h's vector is exported at USLICES + h *
// NSLICES (so with one hart, names are positions). MAXHARTS harts at most.
#define MAXHARTS     8
#define SLICE_NAMES  (MAXHARTS * NSLICES)
#define SLICE_US     1000
#define GRACE_US     250
#define MAX_OVERRUNS 3  // the environment is destroyed at this many in a row

// PCT: the callee enters its ENTRY_PCT with a0..a5 the message, a6 the
// caller's id (written by the kernel, so it cannot be forged), and a7
// PCT_SYNC (the caller waits for pct_reply) or PCT_ASYNC. Its pc before the
// transfer is in u-area pct_pc; its a0..a7 are not kept (its library saves
// what it needs before it accepts calls). pct_reply's a0..a5 become the
// caller's results; like every system call, pct_call leaves t0..t6
// undefined, and here they may hold what the callee left in its own (a
// callee that must not show them clears them before it replies).
#define PCT_SYNC   0
#define PCT_ASYNC  1
#define PCT_NOBODY 0xFFFFFFFFU  // pct_accept(PCT_NOBODY) refuses every caller
// pct_accept(from | PCT_ONCE): accept one call at a time. Delivering a call
// (or a send) refuses further ones, as pct_accept(PCT_NOBODY) would, until
// the callee's pct_reply (or its next pct_accept) accepts `from` again; so
// a server is never entered while it is busy, and needs no system call to
// say so.
#define PCT_ONCE   (1UL << 32)
// pct_accept(... | PCT_SLEEP): and give up the processor until a call (or a
// send) arrives; it enters at ENTRY_PCT as any call does, so pct_accept
// itself does not return. A server waiting so costs no processor time, and
// does not keep the machine on: once only such servers are left, nobody
// can call them, and the kernel powers off. A revocation wakes it: then
// pct_accept returns 0 after the revocation upcall, and calls are refused
// until it calls pct_accept again.
#define PCT_SLEEP  (1UL << 33)

#ifndef __ASSEMBLER__
#define ERROR_NUMBER(n, name, text) name = n,
enum { ERROR_LIST(ERROR_NUMBER) };
#undef ERROR_NUMBER
#define SYSCALL_NUMBER(n, name, rtype, params) SYS_##name = n,
enum { SYSCALL_LIST(SYSCALL_NUMBER) };
#undef SYSCALL_NUMBER
_Static_assert(SWITCHING_SYSCALLS ==
                   ((1UL << SYS_env_exit) | (1UL << SYS_env_destroy) | (1UL << SYS_yield) |
                    (1UL << SYS_pct_call) | (1UL << SYS_pct_send) | (1UL << SYS_pct_reply) |
                    (1UL << SYS_pct_accept) | (1UL << SYS_disk_wait) | (1UL << SYS_cgetc_wait) |
                    (1UL << SYS_env_wait) | (1UL << SYS_net_wait) | (1UL << SYS_net_status)),
               "SWITCHING_SYSCALLS names the calls that may switch environments");
_Static_assert(SYSNUM_PCT_CALL == SYS_pct_call && SYSNUM_PCT_REPLY == SYS_pct_reply &&
                   SYSNUM_YIELD == SYS_yield,
               "SYSNUM_*");
#endif

#ifndef __ASSEMBLER__
// Registers for env_set_regs, in x-register order (x0's slot holds the pc).
struct user_regs {
  unsigned long pc, ra, sp, gp, tp, t0, t1, t2, s0, s1;
  unsigned long a0, a1, a2, a3, a4, a5, a6, a7;
  unsigned long s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  unsigned long t3, t4, t5, t6;
};

// One entry of a pte_write_batch call.
struct pte_write {
  unsigned long pt_ppn;  // the page-table page
  unsigned long index;   // 0..511
  unsigned long pte;     // the new entry
};

// The physical page table, one entry per page of RAM, indexed by
// (physical page number - first RAM page number). Exported read-only.
enum page_type {
  PG_FREE,    // on the free list
  PG_KERNEL,  // the kernel's own (image, tables, firmware)
  PG_USER,    // an environment's data page
  PG_PT0,     // an environment's page-table page, level 0 (leaves)
  PG_PT1,     // level 1
  PG_PT2,     // level 2 (the root)
  PG_UAREA,   // an environment's u-area
};

// Rights in a grant (page_grant), as in a PTE.
#define GRANT_R 0x2
#define GRANT_W 0x4
#define GRANT_X 0x8

// The environment table, one entry per slot, exported read-only at UENVS.

struct env_info {
  unsigned int id;          // generation << 8 | slot; 0 for a free slot
  unsigned int parent_id;   // the creator, which controls it; 0 if none
  unsigned int status;      // ENV_FREE, ENV_RUNNABLE or ENV_NOT_RUNNABLE
  unsigned int npages;      // pages it owns
  unsigned long uarea_ppn;  // its u-area page
  unsigned long root_ppn;   // its root page table
  char name[16];
};

#define NET_FILTERS 64  // packet filters installed, machine-wide

// What the kernel exports of filter f's handler (sysinfo.ash[f]), reset
// when a handler is installed.
struct ash_info {
  unsigned int installed;  // 1 while the filter has a handler (stopped or not)
  unsigned int stopped;    // ASH_STOP_*, 0 while it runs
  unsigned int pc;         // the instruction it stopped at
  unsigned int sent;       // frames it sent
  unsigned long runs;      // frames it ran on
  unsigned long instret;   // instructions the processor spent running it (rdinstret)
  unsigned long last;      // of them, its last run's
};
// Facts about the machine, exported read-only at USYSINFO.
struct sysinfo {
  unsigned long base_ppn;  // physical page number of the first entry in UPAGES
  unsigned long npages;    // pages of RAM
  unsigned long nfree;     // free pages now
  unsigned long nenv;      // slots in UENVS
  unsigned long timebase_hz;
  unsigned long disk_blocks;  // blocks of DISK_BLOCK bytes on the disk (0: no disk)
  unsigned long idle;         // rdinstret advance while the hart had nothing to run (its
                              // waits, and the ticks and searches between them); under
                              // -icount that is host time, so benchmarks subtract it
  unsigned long idle_waits;   // how many times the hart went idle (stretches counted in idle)
  // The console's input, typed and not yet read (cgetc): the bytes
  // console_in[i % CONSOLE_IN] for console_read <= i < console_write.
  // Exported so a shell can see a ^C typed for a program that reads none.
  unsigned long console_read, console_write;
  char console_in[256];
  // The network (kernel/net.c): frames the device delivered, and of them
  // those dropped as malformed (shorter than an Ethernet header or longer
  // than NET_FRAME_MAX), those no filter accepted, and those a filter
  // accepted but whose ring was full (or whose ring page its owner no
  // longer owns); frames sent. Of the frames not malformed: those a
  // filter's handler consumed, those put in a ring, and those no filter
  // accepted that went to the default filter (counted in net_unmatched
  // too). So received = malformed + unmatched - defaulted + consumed +
  // delivered + overflow.
  unsigned long net_received, net_malformed, net_unmatched, net_overflow, net_sent;
  unsigned long net_consumed, net_delivered, net_defaulted;
  struct ash_info ash[NET_FILTERS];  // each filter's handler (ASH), by filter number
  // Stamps (rdinstret) for benchmarks: when the kernel took the last frame
  // from the device, when the packet filters had found its filter (or
  // none), and when it next handed a frame to the device to send after
  // that arrival (a reply's transmission: net_tx_instret - net_rx_instret
  // is everything the hart did in between).
  unsigned long net_rx_instret, net_match_instret, net_tx_instret;
  // Harts (kernel/smp.c): how many run environments; how many times a hart
  // shot down translations of mappings it broke, and how many harts it
  // interrupted for them in all (only a hart running the environment in
  // user mode is); how many times a hart found the kernel lock held when it
  // came to take it; with several up, the environment each hart runs (0:
  // none), by hart id.
  unsigned long harts_up, shootdowns, shootdown_harts, lock_waits;
  unsigned int running[MAXHARTS];
};
_Static_assert(sizeof(struct sysinfo) <= 4096, "sysinfo is exported in one page");
#define CONSOLE_IN     256  // bytes of sysinfo.console_in
// env_wait(id, ENV_WAIT_INPUT): wait until the child ends or the next byte
// is typed at the console (whichever comes first; 0 either way).
#define ENV_WAIT_INPUT 1

#define DISK_BLOCK    4096  // the disk is read and written in page-sized blocks
#define DISK_REQUESTS 32    // requests not yet collected, machine-wide

// The network (kernel/net.c, kernel/dpf.c). A packet filter is a list of
// 1..DPF_TERMS terms, all of which must hold: the `length`-byte field at
// `offset` in the frame, read in network byte order, ANDed with mask,
// equals value. The kernel checks a filter when it is downloaded:
// length 1, 2 or 4, offset + length <= NET_FRAME_MAX, mask and value
// within the field, value within the mask. (A frame too short for a term
// does not match it.) Filters alike in every term but the value of the
// LAST one are merged: the frame's last field is looked up in a hash
// table, so put the field that tells yours from others' (a port) last.
// A filter is refused (-E_CLAIMED) if some frame could pass both it and
// another environment's filter, or if it is one installed already.
//
// ORs: a filter may be 1..DPF_ALTS alternatives, separated by a term of
// length 0 (DPF_OR, the rest of it zero): a frame matches if any
// alternative holds. Each alternative is merged and checked for overlap
// with others' filters like a filter of its own.
//
// The default filter: a filter with no terms (nterms 0) takes every frame
// no other filter accepts (they are still counted in net_unmatched). One
// environment holds it at a time (-E_CLAIMED for another); it goes with
// its filter or its environment.
#define DPF_TERMS           16
#define DPF_ALTS            4     // alternatives of one filter at most
#define DPF_CALL_TERMS      32    // terms in one net_filter call at most, separators included
#define NET_FRAME_MAX       1514  // bytes of an Ethernet frame without its checksum
#define NET_FRAME_MIN       14    // its header: shorter frames are dropped as malformed
#define NET_FILTERS_PER_ENV 8
#define NET_RING_PAGES      16            // pages of one filter's ring at most
#define NET_SENDS_PER_ENV   8             // sends not yet collected per environment
#define NET_SENDS           32            // sends not yet collected, machine-wide
#define NET_WAIT_ALL        0xFFFFFFFFUL  // net_wait: on all the caller's filters
// net_wait(filter, seen, deadline): sleeps until the filter has received
// more than `seen` frames; deadline, if nonzero, is the rdtime value at
// which it gives up with -E_TIMEOUT (at once if it has passed).

struct dpf_term {
  unsigned short offset;
  unsigned short length;  // 1, 2 or 4; 0: DPF_OR
  unsigned int mask;
  unsigned int value;
};
#define DPF_OR ((struct dpf_term){0, 0, 0, 0})

// Application-specific safe handlers (ASHs, kernel/ash.c). net_handler
// attaches to a filter its owner's handler: code the kernel runs on each
// frame the filter accepts, in the kernel, at once, without scheduling
// the owner. The kernel copies the code and checks it at download:
//  - 1..ASH_INSNS instructions (0 removes the handler), the last a RET;
//  - every opcode one of ASH_OP_LIST, every register field below
//    ASH_REGS, the fields an opcode does not use zero, register 0 never
//    written, RET's verdict ASH_DELIVER or ASH_CONSUME;
//  - jumps only forward (a skip of 0..127) and onto an instruction of
//    the code: so each
//    instruction runs at most once, and a run costs at most the length;
//  - a constant address (b = 0) inside any frame (NET_FRAME_MAX bytes) or
//    the handler's pages; the pages (1..ASH_PAGES, an array of page
//    numbers like a ring's) the caller's own user pages.
// A handler sees two memories: the frame, read-only, bytes 0..len-1; and
// its pages, one after the other (page i at i * PGSIZE), read and
// written. A range (COPY, CSUM, SEND, a load or store) must lie in the
// frame, or within one of the pages. That, and that the owner still owns
// the pages, the kernel checks while it runs: a handler that breaks a
// rule is stopped (disabled), the frame goes to the ring as if there were
// no handler, and sysinfo.ash[filter] says why and where; the kernel goes
// on. Install the handler again to restart it.
//
// The machine: ASH_REGS 32-bit registers; r0 is always 0, r1 holds the
// frame's length when the handler starts, the others 0. Every
// instruction's second operand is `r[b] + k` ("op2"; b = 0 gives the
// constant k). Loads and stores are in network byte order.
#define ASH_INSNS         128
#define ASH_PAGES         4
#define ASH_REGS          8
#define ASH_SENDS_PER_RUN 4  // frames one run may send (SEND past that stops it)
#define ASH_OP_LIST(X)                                                                             \
  X(1, ASH_MOV, "r[a] = op2")                                                                      \
  X(2, ASH_ADD, "r[a] += op2")                                                                     \
  X(3, ASH_SUB, "r[a] -= op2")                                                                     \
  X(4, ASH_AND, "r[a] &= op2")                                                                     \
  X(5, ASH_OR, "r[a] |= op2")                                                                      \
  X(6, ASH_XOR, "r[a] ^= op2")                                                                     \
  X(7, ASH_SHL, "r[a] <<= op2 % 32")                                                               \
  X(8, ASH_SHR, "r[a] >>= op2 % 32")                                                               \
  X(9, ASH_LDF1, "r[a] = the byte of the frame at op2")                                            \
  X(10, ASH_LDF2, "r[a] = the 2 bytes of the frame at op2")                                        \
  X(11, ASH_LDF4, "r[a] = the 4 bytes of the frame at op2")                                        \
  X(12, ASH_LDP1, "r[a] = the byte of the pages at op2")                                           \
  X(13, ASH_LDP2, "r[a] = the 2 bytes of the pages at op2")                                        \
  X(14, ASH_LDP4, "r[a] = the 4 bytes of the pages at op2")                                        \
  X(15, ASH_STP1, "the byte of the pages at op2 = r[a]")                                           \
  X(16, ASH_STP2, "the 2 bytes of the pages at op2 = r[a]")                                        \
  X(17, ASH_STP4, "the 4 bytes of the pages at op2 = r[a]")                                        \
  X(18, ASH_COPY, "copy r[c] bytes of the frame at op2 to the pages at r[a]")                      \
  X(19, ASH_CSUM, "r[a] = the Internet checksum of r[c] bytes of the pages at op2")                \
  X(20, ASH_CSUMF, "r[a] = the Internet checksum of r[c] bytes of the frame at op2")               \
  X(21, ASH_SEND, "send r[c] bytes of the pages at op2 as a frame (a = 0)")                        \
  X(22, ASH_JEQ, "if r[a] == op2, skip the next c instructions")                                   \
  X(23, ASH_JNE, "if r[a] != op2, skip the next c instructions")                                   \
  X(24, ASH_JLT, "if r[a] < op2 (unsigned), skip the next c instructions")                         \
  X(25, ASH_JGE, "if r[a] >= op2 (unsigned), skip the next c instructions")                        \
  X(26, ASH_RET, "end with verdict k (a = b = c = 0)")
#define ASH_OP_NUMBER(n, name, text) name = n,
enum { ASH_OP_LIST(ASH_OP_NUMBER) };
#undef ASH_OP_NUMBER
#define ASH_NOPS 27  // one more than the largest opcode

struct ash_insn {
  unsigned char op;    // ASH_*
  unsigned char a, b;  // registers
  unsigned char c;     // a register (COPY, CSUM, CSUMF, SEND) or a jump's skip, a signed byte
  unsigned int k;      // the constant in op2, or RET's verdict
};

// Verdicts (RET's k). ASH_DELIVER: put the frame in the ring and wake the
// owner as if there were no handler. ASH_CONSUME: the handler dealt with
// it: the ring and the owner see nothing.
#define ASH_DELIVER 0
#define ASH_CONSUME 1

// Why a handler was stopped (sysinfo.ash[f].stopped; 0: it runs).
#define ASH_STOP_LIST(X)                                                                           \
  X(1, ASH_STOP_FRAME, "read past the frame's end")                                                \
  X(2, ASH_STOP_PAGES, "address outside its pages (or a range across a page boundary)")            \
  X(3, ASH_STOP_LOST, "its owner no longer owns one of its pages")                                 \
  X(4, ASH_STOP_SEND, "a send refused (quota, no free slot, or a bad length)")
#define ASH_STOP_NUMBER(n, name, text) name = n,
enum { ASH_STOP_LIST(ASH_STOP_NUMBER) };
#undef ASH_STOP_NUMBER

// A ring page: the kernel puts one accepted frame in each page of a
// filter's ring in turn, when the page's `full` word is 0; it writes the
// frame and its length first, then sets full to 1. The owner clears full
// when it has taken the frame. A frame for a page still full is dropped.
struct net_slot {
  volatile unsigned int full;
  unsigned int len;
  unsigned char frame[NET_FRAME_MAX];
};

// Revocation (sys_revoke kinds): give back `arg` pages, or page `arg`, or
// time slice `arg`, within `ticks` timer ticks (timebase units).
enum { REVOKE_PAGES, REVOKE_PAGE, REVOKE_SLICE };
#define GUARANTEED_PAGES 16  // user pages never repossessed from an environment
#define NREPOSSESSED     64  // repossession vector size

// The u-area: one page per environment that the kernel writes and the
// environment may map read-only (ExOS maps its own at UAREA). On a
// synchronous exception the kernel stores the cause, pc and address here
// and enters the exception entry with every register as it was.
struct uarea {
  unsigned int envid;
  unsigned int parent_id;
  unsigned long x_cause;  // scause of the last exception
  unsigned long x_pc;     // where it happened (offset UAREA_X_PC)
  unsigned long x_addr;   // stval: the faulting address, if any
  unsigned long x_count;  // exceptions delivered so far
  unsigned long entry[NENTRIES];
  unsigned long xstack_lo, xstack_hi;  // a fault on [lo - 4096, hi) is fatal
  unsigned long slice_pc;              // pc when a prologue/epilogue upcall came
  unsigned long pct_pc;                // pc when a PCT arrived
  unsigned long overruns;              // epilogues that overran the grace period
  // Visible revocation: what the kernel asks for, by when (rdtime).
  unsigned int revoke_kind;        // REVOKE_*, valid while revoke_deadline != 0
  unsigned int repossessed_count;  // entries used in repossessed[]
  unsigned long revoke_arg;
  unsigned long revoke_deadline;            // 0: nothing asked
  unsigned long revoke_pc;                  // pc when the revocation upcall came
  unsigned long repossessed[NREPOSSESSED];  // what was taken by force (ppn or slice)
};

struct page_info {
  unsigned int owner;     // id of the owning environment, 0 if none
  unsigned int mapcount;  // number of PTEs that map this page (never overflows:
                          // every PTE is a slot of a level-0 table in RAM)
  unsigned char type;     // enum page_type
  unsigned char flags;
};
#endif

// Offsets in struct uarea, for assembly code (checked against the struct).
#define UAREA_X_CAUSE   8
#define UAREA_X_PC      16
#define UAREA_X_ADDR    24
#define UAREA_X_COUNT   32
#define UAREA_ENTRY     40  // entry[0], the exception entry
#define UAREA_XSTACK_LO 104
#define UAREA_XSTACK_HI 112
#define UAREA_SLICE_PC  120
#define UAREA_PCT_PC    128
#define UAREA_REVOKE_PC 168
#ifndef __ASSEMBLER__
_Static_assert(__builtin_offsetof(struct uarea, x_cause) == UAREA_X_CAUSE, "UAREA_X_CAUSE");
_Static_assert(__builtin_offsetof(struct uarea, x_pc) == UAREA_X_PC, "UAREA_X_PC");
_Static_assert(__builtin_offsetof(struct uarea, x_addr) == UAREA_X_ADDR, "UAREA_X_ADDR");
_Static_assert(__builtin_offsetof(struct uarea, x_count) == UAREA_X_COUNT, "UAREA_X_COUNT");
_Static_assert(__builtin_offsetof(struct uarea, entry) == UAREA_ENTRY, "UAREA_ENTRY");
_Static_assert(__builtin_offsetof(struct uarea, xstack_lo) == UAREA_XSTACK_LO, "UAREA_XSTACK_LO");
_Static_assert(__builtin_offsetof(struct uarea, xstack_hi) == UAREA_XSTACK_HI, "UAREA_XSTACK_HI");
_Static_assert(__builtin_offsetof(struct uarea, slice_pc) == UAREA_SLICE_PC, "UAREA_SLICE_PC");
_Static_assert(__builtin_offsetof(struct uarea, pct_pc) == UAREA_PCT_PC, "UAREA_PCT_PC");
_Static_assert(__builtin_offsetof(struct uarea, revoke_pc) == UAREA_REVOKE_PC, "UAREA_REVOKE_PC");
#endif

#define CPUTS_MAX 65536  // bytes one cputs call may print

// User address-space layout the kernel relies on. Everything else in the user
// half (0 .. 2^38-1) is the library OS's to arrange.
#define UTOP 0x4000000000UL  // first address above the user half

// The first environment (init) is loaded by the kernel itself, with
// INIT_STACKPAGES of stack just below INIT_STACKTOP and its u-area mapped
// (read-only) at UAREA.
#define INIT_STACKTOP   0x3F00000000UL
#define INIT_STACKPAGES 8
#define UAREA           0x3FFFFFF000UL  // where ExOS maps the u-area

// The kernel's exported tables, readable (not writable) by every
// environment, in the kernel's half of every address space.
#define USYSINFO 0xFFFFFFFF00000000UL  // struct sysinfo
#define UENVS    0xFFFFFFFF00010000UL  // struct env_info[nenv]
#define USLICES  0xFFFFFFFF00020000UL  // unsigned int owner[NSLICES]
#define UPAGES   0xFFFFFFFF00100000UL  // struct page_info[npages]

#endif
