// t_env: environments and exceptions, used properly and attacked.

#include "user/tsupport.h"

// Exception entry for these tests: skip the faulting 4-byte instruction.
// It may change only gp (the register ExOS reserves for this path): it
// loads the faulting pc from the u-area, adds 4 and jumps there.
void skip_handler(void);
asm(".globl skip_handler\n"
    "skip_handler:\n"
    "  li gp, " XSTR(UAREA) "\n"
                            "  ld gp, " XSTR(UAREA_X_PC) "(gp)\n"
                                                         "  addi gp, gp, 4\n"
                                                         "  jr gp\n");

// An exception entry that pushes onto an exception stack that is not mapped.
void stack_handler(void);
asm(".globl stack_handler\n"
    "stack_handler:\n"
    "  li gp, 0x2800000000\n"
    "  sd zero, -8(gp)\n"
    "  j stack_handler\n");

#define XUAREA ((const volatile struct uarea *)UAREA)

static void run_illegal(void)
{
  asm volatile(".4byte 0");
}

static void run_bad_xstack(void)
{
  sys_env_set_entry(0, ENTRY_EXCEPTION, (unsigned long)stack_handler);
  sys_env_set_xstack(0, 0x2800000000UL - 4 * PGSIZE, 0x2800000000UL);
  asm volatile("ebreak");
}

static void run_unmapped_entry(void)
{
  sys_env_set_entry(0, ENTRY_EXCEPTION, 0x5000);  // nothing is mapped there
  asm volatile("ebreak");
}

static void run_hello(void)
{
  printf("child %lx says hello\n", sys_getenvid());
}

int main(int argc, char **argv)
{
  unsigned int me = sys_getenvid();
  aspace_init(&self, me);

  // Exceptions delivered to our own entry, resumed with registers intact.
  check("set exception entry", sys_env_set_entry(0, ENTRY_EXCEPTION, (unsigned long)skip_handler),
        0);
  check("bad entry index refused", sys_env_set_entry(0, NENTRIES, 0x10000), -E_INVAL);
  check("kernel-half entry refused", sys_env_set_entry(0, ENTRY_EXCEPTION, 0xffffffc080200000UL),
        -E_INVAL);
  unsigned long before = XUAREA->x_count;
  register unsigned long s5 asm("s5") = 0x5555;
  register unsigned long a3 asm("a3") = 0xa3a3;
  asm volatile(".4byte 0x00100073" : "+r"(s5), "+r"(a3));  // ebreak, 4 bytes
  unsigned long s5_after = s5, a3_after = a3;              // before any call clobbers a3
  check("breakpoint delivered", XUAREA->x_cause, 3);
  check("registers survive", s5_after == 0x5555 && a3_after == 0xa3a3, 1);
  asm volatile(".4byte 0x00003283" ::: "t0");  // ld t0, 0(zero)
  check("load page fault delivered", XUAREA->x_cause, 13);
  check("fault address recorded", XUAREA->x_addr, 0);
  asm volatile(".4byte 0");  // illegal
  check("illegal instruction delivered", XUAREA->x_cause, 2);
  check("three exceptions counted", XUAREA->x_count - before, 3);
  check("clear exception entry", sys_env_set_entry(0, ENTRY_EXCEPTION, 0), 0);
  kcheck("exceptions");

  // Children.
  long c = sys_env_create("idle");
  check("create", c > 0, 1);
  check("child is not runnable", ENVINFO(c)->status, ENV_NOT_RUNNABLE);
  check("child's parent is me", ENVINFO(c)->parent_id, me);
  check("start without registers refused", sys_env_start(c), -E_NOENTRY);
  check("set registers from a bad pointer refused", sys_env_set_regs(c, (void *)8), -E_FAULT);
  check("start myself refused", sys_env_start(0), -E_RUNNING);
  check("destroy a child that never ran", sys_env_destroy(c), 0);
  check("destroyed child is gone", ENVINFO(c)->id == (unsigned int)c, 0);
  check("destroy it again refused", sys_env_destroy(c), -E_BADENV);
  check("name from a bad pointer refused", sys_env_create((char *)0x1000), -E_FAULT);
  check("overlong name refused", sys_env_create("abcdefghijklmnopqrstuvwxyz"), -E_INVAL);
  check("bad exception stack refused", sys_env_set_xstack(0, 0x3000, 0x2000), -E_INVAL);

  long h = spawn_child("hello", run_hello);
  check("spawn a child", h > 0, 1);
  run_child(h);
  long k = spawn_child("illegal", run_illegal);
  check("spawn a child that executes an illegal instruction", k > 0, 1);
  run_child(k);
  check("it was destroyed", ENVINFO(k)->id == (unsigned int)k, 0);
  long x = spawn_child("badstack", run_bad_xstack);
  check("spawn a child whose exception stack is unusable", x > 0, 1);
  run_child(x);
  check("it was destroyed", ENVINFO(x)->id == (unsigned int)x, 0);
  long u = spawn_child("badentry", run_unmapped_entry);
  check("spawn a child whose exception entry is unmapped", u > 0, 1);
  run_child(u);
  check("it was destroyed", ENVINFO(u)->id == (unsigned int)u, 0);
  kcheck("children");

  // Use up this environment's share of the table, then give every slot back.
  unsigned long free0 = SYSINFO->nfree;
  long ids[256], n = 0, id;
  while ((id = sys_env_create("filler")) > 0)
    ids[n++] = id;
  check("a parent's share of the table used up gives E_QUOTA", id, -E_QUOTA);
  check("... after ENV_CHILDREN_MAX children", n, ENV_CHILDREN_MAX);
  for (long i = 0; i < n; i++)
    sys_env_destroy(ids[i]);
  check("pages back after emptying the table", SYSINFO->nfree, free0);
  kcheck("exhausting environments");

  // Leak test: 1000 create/destroy cycles, with tables, pages and grants.
  long mine = sys_page_alloc(0, 0, PG_USER);
  free0 = SYSINFO->nfree;
  for (int i = 0; i < 1000; i++) {
    long e = sys_env_create("cycle");
    struct aspace as;
    aspace_init(&as, e);
    long p = sys_page_alloc(e, 0, PG_USER);
    if (e < 0 || p < 0 || aspace_map(&as, 0x10000, p, PTE_R | PTE_W) < 0 ||
        sys_page_grant(mine, e, GRANT_R) < 0 || aspace_map(&as, 0x11000, mine, PTE_R) < 0 ||
        sys_env_destroy(e) < 0) {
      check("create/destroy cycle", i, 1000);
      break;
    }
  }
  check("free pages after 1000 create/destroy cycles", SYSINFO->nfree, free0);
  check("my granted page is no longer mapped", PAGEINFO(mine)->mapcount, 0);
  sys_page_free(mine);
  kcheck("1000 cycles");
  check("tear down scratch tables", aspace_teardown(&self), 0);
  finish("t_env");
}
