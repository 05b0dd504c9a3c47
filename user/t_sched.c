// t_sched: the time-slice vector, prologue/epilogue upcalls, overruns and
// directed yield.

#include "user/tsupport.h"

#define SLICES   ((const volatile unsigned int *)USLICES)
#define SHARED   0x2200000000UL  // a page of counters shared with the children
#define COUNTERS ((volatile unsigned long *)SHARED)

static int which;  // which counter a spinner child increments (set before spawning)

// Spin, counting, until destroyed.
static void spinner(void)
{
  volatile unsigned long *c = &COUNTERS[which];
  for (;;)
    (*c)++;
}

// A child with prologue and epilogue entries written in assembly. Its loop
// runs until 20 prologues have come, then reports. Register use: s9 counts
// prologues, s10 epilogues, s11 holds the pc the epilogue interrupted, and
// s7/s8 keep a7/a0 across the epilogue's yield system call.
void upcall_loop(void);
void upcall_report(long prologues, long epilogues);
_Static_assert(SYS_yield == 16 && SYS_env_set_entry == 9 && ENTRY_PROLOGUE == 1 &&
                   ENTRY_EPILOGUE == 2,
               "constants used in upcall_loop");
asm(".globl upcall_loop, upcall_prologue, upcall_epilogue\n"
    "upcall_loop:\n"
    "  li s9, 0\n"
    "  li s10, 0\n"
    "1:li t0, 20\n"
    "  blt s9, t0, 1b\n"
    "  li a0, 0\n"  // env_set_entry(0, ENTRY_EPILOGUE, 0)
    "  li a1, 2\n"
    "  li a2, 0\n"
    "  li a7, 9\n"
    "  ecall\n"
    "  li a0, 0\n"  // env_set_entry(0, ENTRY_PROLOGUE, 0)
    "  li a1, 1\n"
    "  li a2, 0\n"
    "  li a7, 9\n"
    "  ecall\n"
    "  mv a0, s9\n"
    "  mv a1, s10\n"
    "  j upcall_report\n"
    "upcall_epilogue:\n"
    "  li gp, " XSTR(UAREA) "\n"
                            "  ld s11, " XSTR(UAREA_SLICE_PC) "(gp)\n"
                                                              "  addi s10, s10, 1\n"
                                                              "  mv s8, a0\n"
                                                              "  mv s7, a7\n"
                                                              "  li a0, 0\n"
                                                              "  li a7, 16\n"
                                                              "  ecall\n"
                                                              "upcall_prologue:\n"
                                                              "  addi s9, s9, 1\n"
                                                              "  mv a0, s8\n"
                                                              "  mv a7, s7\n"
                                                              "  jr s11\n");
void upcall_prologue(void), upcall_epilogue(void);

void upcall_report(long prologues, long epilogues)
{
  check("child: 20 prologue upcalls", prologues, 20);
  check("child: an epilogue before each prologue", epilogues >= prologues, 1);
  child_exit();
}

static void upcall_child(void)
{
  sys_env_set_entry(0, ENTRY_EPILOGUE, (unsigned long)upcall_epilogue);
  sys_env_set_entry(0, ENTRY_PROLOGUE, (unsigned long)upcall_prologue);
  upcall_loop();
}

// An epilogue that never yields.
void stubborn_epilogue(void);
asm("stubborn_epilogue: j stubborn_epilogue\n");

static void stubborn_child(void)
{
  sys_env_set_entry(0, ENTRY_EPILOGUE, (unsigned long)stubborn_epilogue);
  for (;;)
    ;
}

// An epilogue that overruns every other time: odd entries spin until the
// kernel takes the processor back, even ones yield in time and go back to
// the child's loop.
void erratic_epilogue(void);
void erratic_loop(void);
static unsigned long erratic_count __attribute__((used));
asm("erratic_loop: j erratic_loop\n"
    "erratic_epilogue:\n"
    "  la gp, erratic_count\n"
    "  ld t0, 0(gp)\n"
    "  addi t0, t0, 1\n"
    "  sd t0, 0(gp)\n"
    "  andi t0, t0, 1\n"
    "1:bnez t0, 1b\n"
    "  li a0, 0\n"
    "  li a7, 16\n"  // SYS_yield
    "  ecall\n"
    "  j erratic_loop\n");

static void erratic_child(void)
{
  sys_env_set_entry(0, ENTRY_EPILOGUE, (unsigned long)erratic_epilogue);
  erratic_loop();
}

// Try to take the parent's slice 60.
static void slice_thief(void)
{
  check("child: free parent's slice refused", sys_slice_free(60), -E_PERM);
  check("child: give itself parent's slice refused", sys_slice_alloc(0, 60), -E_NOSLICE);
}

int main(int argc, char **argv)
{
  unsigned int me = sys_getenvid();
  aspace_init(&self, me);

  // Allocation by position, by "any", and attacks.
  check("allocate slice 5", sys_slice_alloc(0, 5), 5);
  check("exported vector shows me", SLICES[5], me);
  check("slice 5 again refused", sys_slice_alloc(0, 5), -E_NOSLICE);
  // (A name is hart * NSLICES + position; -1 - h asks for any of hart h's.)
  long harts = SYSINFO->harts_up;
  check("a slice of a hart that is not up refused", sys_slice_alloc(0, harts * NSLICES), -E_INVAL);
  check("any slice of a hart that is not up refused", sys_slice_alloc(0, -1 - harts), -E_INVAL);
  long any = sys_slice_alloc(0, -1);
  check("allocate any slice", any >= 0 && any != 5 && SLICES[any] == me, 1);
  check("free slice 5", sys_slice_free(5), 0);
  check("free a free slice refused", sys_slice_free(5), -E_INVAL);
  check("free slice 99 refused", sys_slice_free(99), -E_INVAL);
  long n = 1;
  while (sys_slice_alloc(0, -1) >= 0)
    n++;
  check("all 64 slices allocated before E_NOSLICE", n, NSLICES);
  for (int i = 0; i < NSLICES; i++)
    sys_slice_free(i);
  check("vector empty again", SLICES[0] == 0 && SLICES[63] == 0, 1);
  check("yield to nobody refused", sys_yield(0x7fffff), -E_BADENV);
  check("yield to self", sys_yield(me), 0);
  kcheck("slice allocation");

  // Upcalls at slice boundaries.
  long u = spawn_child("upcalls", upcall_child);
  check("spawn upcall child", u > 0, 1);
  run_child(u);

  // An epilogue that overruns is charged, then destroyed.
  long s = spawn_child("stubborn", stubborn_child);
  check("spawn stubborn child", s > 0, 1);
  run_child(s);
  check("stubborn child destroyed", ENVINFO(s)->id == (unsigned int)s, 0);
  s = spawn_child("erratic", erratic_child);
  sys_env_start(s);
  let_run(100);
  check("a child overrunning every other epilogue survives", ENVINFO(s)->id, s);
  sys_env_destroy(s);
  kcheck("overruns");

  // Slices are the processor: 42 slices against 14 give about 3:1.
  long pg = sys_page_alloc(0, 0, PG_USER);
  check("map the shared counters", aspace_map(&self, SHARED, pg, PTE_R | PTE_W), 0);
  long kids[2];
  for (which = 0; which < 2; which++) {
    kids[which] = spawn_child("spinner", spinner);
    struct aspace as;
    aspace_init(&as, kids[which]);
    check("share the counters with a spinner",
          sys_page_grant(pg, kids[which], GRANT_R | GRANT_W) == 0 &&
              aspace_map(&as, SHARED, pg, PTE_R | PTE_W) == 0,
          1);
  }
  for (int i = 0; i < NSLICES; i++)
    sys_slice_alloc(i < 42 ? kids[0] : i < 56 ? kids[1] : 0, i);
  long t = spawn_child("thief", slice_thief);
  run_child(t);
  check("parent's slice still mine", SLICES[60], me);
  sys_env_start(kids[0]);
  sys_env_start(kids[1]);
  let_run(600);
  unsigned long a = COUNTERS[0], b = COUNTERS[1];
  sys_env_destroy(kids[0]);
  sys_env_destroy(kids[1]);
  printf("spinners counted %lu and %lu (ratio %lu.%02lu)\n", a, b, a / (b ? b : 1),
         a * 100 / (b ? b : 1) % 100);
  check("42 slices against 14 give 3:1 within 15%", a * 100 >= b * 255 && a * 100 <= b * 345, 1);
  check("destroying the children returned their slices", SLICES[0] == 0 && SLICES[55] == 0, 1);
  for (int i = 56; i < NSLICES; i++)
    sys_slice_free(i);
  sys_page_free(pg);
  kcheck("slice shares");
  check("tear down scratch tables", aspace_teardown(&self), 0);
  finish("t_sched");
}
