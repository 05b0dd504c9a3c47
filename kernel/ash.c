// Application-specific safe handlers (ASHs): code an environment
// downloads with a packet filter, that the kernel runs on each frame the
// filter accepts, at once, without scheduling its owner. The language and
// its rules are in abi.h (ASH_OP_LIST); this file is the kernel's check
// of a handler at download (verify) and the interpreter that runs it
// (ash_run).
//
// What the kernel guarantees:
//  - Bounded: jumps go forward only and the code is at most ASH_INSNS
//    long, so each instruction runs at most once per frame; no
//    instruction loops either (COPY, CSUM, CSUMF, SEND touch at most a
//    page or a frame). A run costs at most ASH_INSNS steps.
//  - Checked once at download (verify): every field of every
//    instruction, every jump, every constant address, and that the
//    caller owns the pages. A handler the kernel accepted cannot hold an
//    opcode the interpreter does not know, or jump outside its code.
//  - Checked at each run, before it starts: that its owner still owns
//    every page (nothing is pinned: the owner may free them at any time);
//    and at each access: that the range lies in the frame, or in one
//    page. A handler that breaks a rule is stopped: sysinfo.ash[f] says
//    why and at which instruction, the frame goes to its owner's ring as
//    if there were no handler, and the handler never runs again until its
//    owner installs one anew.
//  - Memory: a handler reads the frame (the kernel's receive buffer,
//    never written) and reads and writes its owner's designated pages
//    (through the kernel's direct map): nothing else.
//  - Sends go the way of net_send (net_send_frame): the owner's share of
//    send requests, the length rules; at most ASH_SENDS_PER_RUN per run.
//    Its sends are freed when the device is done with them.
//
// Handlers are kept by filter number (0..NET_FILTERS-1); net.c owns the
// filters and calls ash_install, ash_remove and ash_run.

#include "defs.h"
#include "memlayout.h"
#include "riscv.h"

struct handler {
  uint32 owner;  // 0: the filter has no handler
  uint32 ninsns;
  uint32 npages;
  uint64 page[ASH_PAGES];
  struct ash_insn code[ASH_INSNS];
};

static struct handler handlers[NET_FILTERS];

// What an opcode uses: its fields a, b (op2's register), c as a register
// or as a jump's skip; whether it writes r[a]; and the memory op2 addresses
// (with how many bytes at least).
enum { USE_A = 1, USE_B = 2, USE_C = 4, SKIP_C = 8, WRITE_A = 16 };
enum { MEM_NONE, MEM_FRAME, MEM_PAGES };

struct opinfo {
  uint8 use;
  uint8 mem;
  uint8 size;
};

static const struct opinfo ops[ASH_NOPS] = {
    [ASH_MOV] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_ADD] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_SUB] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_AND] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_OR] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_XOR] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_SHL] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_SHR] = {USE_A | USE_B | WRITE_A, MEM_NONE, 0},
    [ASH_LDF1] = {USE_A | USE_B | WRITE_A, MEM_FRAME, 1},
    [ASH_LDF2] = {USE_A | USE_B | WRITE_A, MEM_FRAME, 2},
    [ASH_LDF4] = {USE_A | USE_B | WRITE_A, MEM_FRAME, 4},
    [ASH_LDP1] = {USE_A | USE_B | WRITE_A, MEM_PAGES, 1},
    [ASH_LDP2] = {USE_A | USE_B | WRITE_A, MEM_PAGES, 2},
    [ASH_LDP4] = {USE_A | USE_B | WRITE_A, MEM_PAGES, 4},
    [ASH_STP1] = {USE_A | USE_B, MEM_PAGES, 1},
    [ASH_STP2] = {USE_A | USE_B, MEM_PAGES, 2},
    [ASH_STP4] = {USE_A | USE_B, MEM_PAGES, 4},
    [ASH_COPY] = {USE_A | USE_B | USE_C, MEM_FRAME, 0},
    [ASH_CSUM] = {USE_A | USE_B | USE_C | WRITE_A, MEM_PAGES, 0},
    [ASH_CSUMF] = {USE_A | USE_B | USE_C | WRITE_A, MEM_FRAME, 0},
    [ASH_SEND] = {USE_B | USE_C, MEM_PAGES, 0},
    [ASH_JEQ] = {USE_A | USE_B | SKIP_C, MEM_NONE, 0},
    [ASH_JNE] = {USE_A | USE_B | SKIP_C, MEM_NONE, 0},
    [ASH_JLT] = {USE_A | USE_B | SKIP_C, MEM_NONE, 0},
    [ASH_JGE] = {USE_A | USE_B | SKIP_C, MEM_NONE, 0},
    [ASH_RET] = {0, MEM_NONE, 0},
};

// Check the n instructions of code against the rules in abi.h, for a
// handler with npages pages. Returns 0 or the refusal (-E_ASH*).
static long verify(const struct ash_insn *code, uint64 n, uint64 npages)
{
  if (n > ASH_INSNS)
    return -E_ASHLONG;
  for (uint64 pc = 0; pc < n; pc++) {
    const struct ash_insn *in = &code[pc];
    if (in->op == 0 || in->op >= ASH_NOPS)
      return -E_ASHOP;
    struct opinfo o = ops[in->op];
    int skip = (signed char)in->c;
    if (in->a >= ASH_REGS || in->b >= ASH_REGS || (!(o.use & SKIP_C) && in->c >= ASH_REGS))
      return -E_ASHOP;
    if ((!(o.use & USE_A) && in->a != 0) || (!(o.use & USE_B) && in->b != 0) ||
        (!(o.use & (USE_C | SKIP_C)) && in->c != 0))
      return -E_ASHOP;
    if ((o.use & WRITE_A) && in->a == 0)
      return -E_ASHOP;  // r0 is always 0
    if (in->op == ASH_RET && in->k != ASH_DELIVER && in->k != ASH_CONSUME)
      return -E_ASHOP;
    if ((o.use & SKIP_C) && (skip < 0 || pc + 1 + skip >= n))
      return -E_ASHJUMP;  // backward, or past the end
    uint64 limit = o.mem == MEM_FRAME ? NET_FRAME_MAX : npages * PGSIZE;
    if (o.mem != MEM_NONE && in->b == 0 && (uint64)in->k + o.size > limit)
      return -E_ASHBOUNDS;
  }
  if (n > 0 && code[n - 1].op != ASH_RET)
    return -E_ASHJUMP;  // it would run off its end
  return 0;
}

// Does h's owner still own every page of h (as user pages)?
static int pages_owned(const struct handler *h)
{
  for (uint32 i = 0; i < h->npages; i++) {
    struct page_info *pi = ppn2page(h->page[i]);
    if (pi->owner != h->owner || pi->type != PG_USER)
      return 0;
  }
  return 1;
}

// Install the handler of n instructions (code, already copied from the
// user) with the npages pages (1..ASH_PAGES, owner's user pages: net.c
// checked them) on filter f, owned by environment owner, replacing any;
// n = 0 removes it. Returns 0 or the refusal (verify's).
long ash_install(int f, uint32 owner, const struct ash_insn *code, uint64 n, const uint64 *pages,
                 uint64 npages)
{
  if (n == 0) {
    ash_remove(f);
    return 0;
  }
  long err = verify(code, n, npages);
  if (err < 0)
    return err;
  struct handler *h = &handlers[f];
  h->owner = owner;
  h->ninsns = n;
  h->npages = npages;
  memmove(h->page, pages, npages * sizeof(pages[0]));
  memmove(h->code, code, n * sizeof(code[0]));
  sysinfo->ash[f] = (struct ash_info){1, 0, 0, 0, 0, 0, 0};
  return 0;
}

// Remove filter f's handler, if it has one.
void ash_remove(int f)
{
  handlers[f].owner = 0;
  sysinfo->ash[f] = (struct ash_info){0, 0, 0, 0, 0, 0, 0};
}

// The kernel address of the n bytes at offset off of h's pages, or NULL
// unless they lie within one page.
static uint8 *page_range(const struct handler *h, uint64 off, uint64 n)
{
  uint64 i = off / PGSIZE;
  if (i >= h->npages || off % PGSIZE + n > PGSIZE)
    return NULL;
  return (uint8 *)KADDR(h->page[i] << PGSHIFT) + off % PGSIZE;
}

// The n-byte number at p, in network byte order.
static uint32 get(const uint8 *p, int n)
{
  uint32 v = 0;
  for (int i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

// Store the low n bytes of v at p, in network byte order.
static void put(uint8 *p, int n, uint32 v)
{
  for (int i = n - 1; i >= 0; i--, v >>= 8)
    p[i] = v;
}

// The Internet checksum of the n bytes at p (an odd last byte is padded
// with a zero), ready to store: the complement of the folded sum.
static uint32 checksum(const uint8 *p, uint64 n)
{
  uint64 sum = 0;
  for (uint64 i = 0; i + 1 < n; i += 2)
    sum += p[i] << 8 | p[i + 1];
  if (n % 2)
    sum += p[n - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return ~sum & 0xFFFF;
}

// Is branch op taken with r[a] = x and op2 = y?
static int taken(int op, uint32 x, uint32 y)
{
  switch (op) {
  case ASH_JEQ:
    return x == y;
  case ASH_JNE:
    return x != y;
  case ASH_JLT:
    return x < y;
  default:
    return x >= y;
  }
}

// The n bytes at offset off of the frame (len bytes), or NULL unless
// they lie within it.
static const uint8 *frame_range(const uint8 *frame, uint64 len, uint64 off, uint64 n)
{
  return off + n <= len ? frame + off : NULL;
}

// Run handler h on the frame (len bytes). Returns its verdict, or 0 with
// *stop set to the reason (ASH_STOP_*) and *at to where it stopped.
static int interpret(const struct handler *h, const uint8 *frame, uint64 len, uint32 *at, int *stop)
{
  uint32 r[ASH_REGS] = {0};
  int sends = 0;
  const uint8 *src;
  uint8 *dst;
  r[1] = len;
  for (uint32 pc = 0;; pc++) {
    const struct ash_insn *in = &h->code[pc];
    uint32 op2 = r[in->b] + in->k;
    int size = ops[in->op].size;  // of a load or a store
    *at = pc;
    switch (in->op) {
    case ASH_MOV:
      r[in->a] = op2;
      break;
    case ASH_ADD:
      r[in->a] += op2;
      break;
    case ASH_SUB:
      r[in->a] -= op2;
      break;
    case ASH_AND:
      r[in->a] &= op2;
      break;
    case ASH_OR:
      r[in->a] |= op2;
      break;
    case ASH_XOR:
      r[in->a] ^= op2;
      break;
    case ASH_SHL:
      r[in->a] <<= op2 % 32;
      break;
    case ASH_SHR:
      r[in->a] >>= op2 % 32;
      break;
    case ASH_LDF1:
    case ASH_LDF2:
    case ASH_LDF4:
      if ((src = frame_range(frame, len, op2, size)) == NULL)
        goto outside_frame;
      r[in->a] = get(src, size);
      break;
    case ASH_LDP1:
    case ASH_LDP2:
    case ASH_LDP4:
      if ((dst = page_range(h, op2, size)) == NULL)
        goto outside_pages;
      r[in->a] = get(dst, size);
      break;
    case ASH_STP1:
    case ASH_STP2:
    case ASH_STP4:
      if ((dst = page_range(h, op2, size)) == NULL)
        goto outside_pages;
      put(dst, size, r[in->a]);
      break;
    case ASH_COPY:
      if ((src = frame_range(frame, len, op2, r[in->c])) == NULL)
        goto outside_frame;
      if ((dst = page_range(h, r[in->a], r[in->c])) == NULL)
        goto outside_pages;
      memmove(dst, src, r[in->c]);
      break;
    case ASH_CSUM:
      if ((dst = page_range(h, op2, r[in->c])) == NULL)
        goto outside_pages;
      r[in->a] = checksum(dst, r[in->c]);
      break;
    case ASH_CSUMF:
      if ((src = frame_range(frame, len, op2, r[in->c])) == NULL)
        goto outside_frame;
      r[in->a] = checksum(src, r[in->c]);
      break;
    case ASH_SEND:
      if ((dst = page_range(h, op2, r[in->c])) == NULL)
        goto outside_pages;
      if (++sends > ASH_SENDS_PER_RUN || net_send_frame(h->owner, dst, r[in->c], 1) < 0) {
        *stop = ASH_STOP_SEND;
        return 0;
      }
      sysinfo->ash[h - handlers].sent++;
      break;
    case ASH_RET:
      return in->k;
    default:  // a branch
      if (taken(in->op, r[in->a], op2))
        pc += in->c;
      break;
    }
  }
outside_frame:
  *stop = ASH_STOP_FRAME;
  return 0;
outside_pages:
  *stop = ASH_STOP_PAGES;
  return 0;
}

// Filter f accepted a frame (len bytes): run its handler, if it has one
// that is not stopped. Returns ASH_CONSUME if the handler took the
// frame; ASH_DELIVER if the frame goes to the ring (no handler, its
// verdict, or it was stopped just now).
int ash_run(int f, const uint8 *frame, uint64 len)
{
  struct handler *h = &handlers[f];
  struct ash_info *info = &sysinfo->ash[f];
  if (h->owner == 0 || info->stopped)
    return ASH_DELIVER;
  uint64 start = rdinstret();
  uint32 pc = 0;
  int stop = 0, verdict = ASH_DELIVER;
  if (!pages_owned(h))
    stop = ASH_STOP_LOST;
  else
    verdict = interpret(h, frame, len, &pc, &stop);
  info->runs++;
  if (stop) {
    info->stopped = stop;
    info->pc = pc;
    verdict = ASH_DELIVER;
  }
  info->last = rdinstret() - start;
  info->instret += info->last;
  return verdict;
}

// For kcheck: installed[f] is the owner of net.c's filter f (0: free).
// Every handler sits on an installed filter of the same owner, its code
// still passes verify, its pages are pages of RAM, and what sysinfo
// exports agrees. (A handler whose owner gave up one of its pages is
// legal until its next frame, which stops it: ownership is checked before
// each run, as nothing is pinned.) Returns NULL or the violation.
const char *ash_check(const uint32 *installed, uint64 *where)
{
  for (int f = 0; f < NET_FILTERS; f++) {
    struct handler *h = &handlers[f];
    *where = f;
    if ((h->owner != 0) != sysinfo->ash[f].installed)
      return "handler installed, but sysinfo says not (or the reverse)";
    if (h->owner == 0)
      continue;
    if (h->owner != installed[f])
      return "handler on a filter that is not its owner's";
    if (h->ninsns == 0 || verify(h->code, h->ninsns, h->npages) < 0)
      return "installed handler fails the download check";
    if (h->npages == 0 || h->npages > ASH_PAGES)
      return "handler with a bad number of pages";
    for (uint32 i = 0; i < h->npages; i++)
      if (!ppn_valid(h->page[i]))
        return "handler's page is not a page of RAM";
  }
  return NULL;
}
