// Kernel-internal interfaces, one block per file.
#ifndef RVEXO_DEFS_H
#define RVEXO_DEFS_H

#include "types.h"
#include "fmt.h"
#include "string.h"
#include "abi.h"

struct env;
struct trapframe;

// main.c
struct bootinfo {
  uint64 ram_base, ram_size;  // usable RAM (capped at MAXRAM)
  uint64 fdt_pa, fdt_size;    // the device tree blob, kept reserved
  uint64 timebase_hz;         // rdtime ticks per second
  int nharts;                 // harts in the device tree
  int sstc;                   // every hart may use stimecmp (stimecmp_usable)
  uint64 sswi_pa;             // an ACLINT SSWI device's registers (0: none)
  int boot_hart;
  char bootargs[1024];  // /chosen/bootargs, e.g. from QEMU -append
};
extern struct bootinfo bootinfo;
const char *bootarg(const char *key, char *buf, size_t size);

// fdt.c
void fdt_parse(uint64 fdt_pa, struct bootinfo *bi);

// printf.c
void console_write(const char *s, size_t n);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void backtrace(uint64 pc, uint64 ra, uint64 fp);
const char *symbolize(uint64 pc, uint64 *offset);

// uart.c
void uart_init(void);
void uart_putc(int c);
void uart_intr(void);
int console_getc(void);
long console_getc_wait(struct env *e);
void console_forget(struct env *e);
void console_wake_on_input(struct env *e);

// plic.c
void plic_init(int hart);
void plic_enable(int hart, int irq);
int plic_claim(int hart);
void plic_complete(int hart, int irq);

// sbi.c
int stimecmp_usable(void);
void set_timer(uint64 when);
void send_ipi(uint64 mask);
void poweroff(int status) __attribute__((noreturn));
long sbi_hart_start(uint64 hart, uint64 start, uint64 opaque);

// smp.c (and smp.h: the kernel lock, noting shootdowns)
uint64 kstack_top(void);
void tlb_fence_remote(void);
void smp_start(void);

// pmap.c
extern struct sysinfo *sysinfo;
extern struct page_info *pages;
extern uint64 base_ppn, npages;

// Kernel-private facts about each page, beside its exported page_info.
struct page_priv {
  uint32 next, prev;  // on the free list or its owner's list (page index; 0 ends)
  uint32 rmap;        // first reverse-map record (0: none)
  uint32 grants;      // first grant record (0: none)
  uint32 shadow;      // a level-0 table: page index of its reverse-map links (pmap.c)
  uint32 nvalid;      // a page-table page: how many of its entries are valid (pte.c)
  uint64 link_pte;    // a page-table page: physical address of the PTE linking it, or 0
  uint64 table_va;    // a page-table page linked up to a root: the first address it
                      // translates, | 1; 0 if not linked up to a root (pte.c)
};
extern struct page_priv *priv;

// Is ppn a page of RAM? (Inline: on every page-table write's path.)
static inline int ppn_valid(uint64 ppn)
{
  return ppn - base_ppn < npages;
}

// The page_info of a RAM page (the caller has checked ppn_valid).
static inline struct page_info *ppn2page(uint64 ppn)
{
  return &pages[ppn - base_ppn];
}

// The kernel-private facts of the RAM page at pa.
static inline struct page_priv *page_priv_of(uint64 pa)
{
  return &priv[(pa >> 12) - base_ppn];
}

// The table_va of page-table page pa (see struct page_priv).
static inline uint64 *table_va_of(uint64 pa)
{
  return &priv[(pa >> 12) - base_ppn].table_va;
}

// The PTE that links page-table page pa into its parent table (0 if none).
static inline uint64 *link_pte_of(uint64 pa)
{
  return &priv[(pa >> 12) - base_ppn].link_pte;
}
void pmap_init(void);
uint64 page_alloc_at(uint64 pa, uint32 owner, int type);
uint64 page_alloc(uint32 owner, int type);
void page_free(uint64 pa);
uint64 pages_free(void);
uint64 kernel_root(void);
uint64 owner_first_page(uint32 owner);
uint64 owner_next_page(uint64 pa);
void page_disown(uint64 pa);
uint32 grant_rights(uint64 pa, uint32 envid);
int grant_set(uint64 pa, uint32 envid, uint32 rights, struct env *maker);
void grants_lower_below(uint64 pa, uint32 envid, uint32 rights);
void grants_keep_descendants(uint64 pa, uint32 envid);
int has_grants(uint64 pa);
void grants_clear(uint64 pa);
void grants_drop_env(struct env *e);
const char *grants_check(uint64 *where);

// pte.c
void rmap_each(uint64 pa, void (*fn)(uint64 pte_pa));
long pte_write(struct env *caller, uint64 pt_ppn, uint64 index, uint64 pte);
long pte_write_many(struct env *caller, const struct pte_write *w, uint64 n);
void pt_root_init(uint64 root_pa);
void pte_unmap(uint64 pte_pa);
void unmap_in_env(uint64 pa, uint32 envid);
void pt_clear(uint64 pt_pa);
int pt_empty(uint64 pt_pa);
long kcheck(void);

// env.c
extern struct env *hart_env[MAXHARTS];
// The environment this hart runs (NULL: none, the hart idles). While an
// environment runs, sscratch holds its trapframe, the first thing in its
// struct env; the trap path keeps it there while the kernel runs.
static inline struct env *this_env(void)
{
  uint64 x;
  asm volatile("csrr %0, sscratch" : "=r"(x));
  return (struct env *)x;
}
void env_init(void);
struct env *env_alloc(uint32 parent_id, const char *name, struct env *space);
struct env *env_create_bootstrap(const char *name, const uint8 *elf, size_t size,
                                 const char *bootargs);
void env_destroy(struct env *e);
void env_await_death(struct env *e, struct env *t) __attribute__((noreturn));
long env_wait(struct env *e, uint32 id, uint64 flags);
void env_run(struct env *e) __attribute__((noreturn));
void curenv_clear(void);
int env_any_alive(void);
const char *env_check(uint64 *where);
const void *user_view(struct env *e, uint64 va, size_t len);
int copy_from_user(struct env *e, void *dst, uint64 va, size_t len);
int copy_to_user(struct env *e, uint64 va, const void *src, size_t len);
int copy_string_from_user(struct env *e, char *dst, uint64 va, size_t size);

// revoke.c
long revoke_request(struct env *e, int kind, uint64 arg, uint64 ticks);
void revoke_check_deadlines(void);
void revoke_upcall_if_due(struct env *e);
int revoke_under_pressure(struct env *asker);
void revoke_forget(struct env *e);

// disk.c
void disk_init(void);
void disk_bind_boot(struct env *e);
long disk_bind(struct env *caller, uint64 envid, uint64 start, uint64 count);
long disk_unbind(struct env *caller, uint64 envid, uint64 start, uint64 count);
long disk_io(struct env *caller, uint64 block, uint64 ppn, uint64 write);
long disk_status(struct env *caller, uint64 req);
long disk_wait(struct env *caller, uint64 req);
void disk_intr(void);
int disk_irq_number(void);
int disk_page_busy(uint64 pa);
int disk_in_flight(void);
void disk_release(struct env *e);
const char *disk_check(uint64 *where);

// net.c
void net_init(void);
int net_irq_number(void);
void net_intr(void);
long net_filter(struct env *caller, uint64 terms_va, uint64 n, uint64 ring_va, uint64 npages);
long net_unfilter(struct env *caller, uint64 f);
long net_wait(struct env *caller, uint64 f, uint64 seen, uint64 deadline);
void net_check_deadlines(void);
extern int net_deadlines;
long net_send(struct env *caller, uint64 ppn, uint64 off, uint64 len);
long net_status(struct env *caller, uint64 req, uint64 wait);
long net_send_frame(uint32 owner, const uint8 *frame, uint64 len, int by_handler);
long net_handler(struct env *caller, uint64 f, uint64 code_va, uint64 ninsns, uint64 pages_va,
                 uint64 npages);
void net_release(struct env *e);
const char *net_check(uint64 *where);

// ash.c
long ash_install(int f, uint32 owner, const struct ash_insn *code, uint64 n, const uint64 *pages,
                 uint64 npages);
void ash_remove(int f);
int ash_run(int f, const uint8 *frame, uint64 len);
const char *ash_check(const uint32 *installed, uint64 *where);

// dpf.c
long dpf_insert(int f, uint32 owner, struct dpf_term *t, uint64 n);
void dpf_remove(int f);
int dpf_match(const uint8 *frame, uint64 len);
const char *dpf_check(const uint32 *installed, uint64 *where);

// pct.c
long pct_transfer(struct env *e, uint64 callee_id, int kind);
long pct_reply(struct env *e, uint64 caller_id);
long pct_accept(struct env *e, uint64 how);
void pct_callee_gone(struct env *e);
void pct_take_queued(struct env *c);
struct env *pct_donee(struct env *e);

// trap.c
void trap_init(void);
void trap_user(struct trapframe *tf) __attribute__((noreturn));
void trap_return(struct env *e) __attribute__((noreturn));
void handle_interrupt(uint64 cause);

// sched.c
extern uint32 *slice_owner;
void sched_init(void);
void sched_start(void) __attribute__((noreturn));
void sched_timer(void);
int upcall_blocked(struct env *e, int which);
void schedule(void) __attribute__((noreturn));
long sched_yield(struct env *e, uint32 id);
long slice_alloc(struct env *e, long name);
void slice_free(long name);
void slices_release(struct env *e);

// syscall.c
long syscall(uint64 a0, uint64 a1, uint64 a2, uint64 a3, uint64 a4, uint64 a5, uint64 num);

// ktest.c
void ktest_run(void);
void ktest_run_hart(void);

#endif
