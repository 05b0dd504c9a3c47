// ExOS threads: several threads of control inside one program (one
// environment), preempted at the ends of the program's time slices through
// the kernel's prologue and epilogue upcalls. The kernel knows nothing of
// threads: to it this is one environment that saves its own context.
//
// Threads. Each has a record in threads[] (a slot) holding its saved
// registers (the frame: pc, x1..x31, its exos_critical count, how often it
// was preempted; layout in ulib/exos.h) and its state: runnable, blocked
// (in thread_join, mutex_lock or cond_wait) or done (finished, not yet
// joined). The program's first thread, on the program's own stack, is
// thread 1 in slot 0. A new thread gets a 16 KiB stack of its own at the top of its slot's
// 64 KiB span above EXOS_TSTACKS, mapped at once; the rest of the span stays
// unmapped, so running off the stack faults, and the fault is reported as a
// stack overflow of that thread. Thread ids grow and are never reused. A
// finished thread's stack is freed when it is joined.
//
// Preemption. The first thread_create registers two entries (xentry.S):
//   - the epilogue, entered when a slice ends with every register as the
//     running thread left it and its pc in u-area slice_pc: it stores them
//     all in the running thread's record, sets exos_thread_saved and calls
//     yield(0) at once (a few dozen instructions, far below GRACE_US);
//   - the prologue, entered when a slice of ours begins: unless the
//     epilogue has saved the running thread (a slice that ended in a system
//     call, a yield or a blocking one, does not pass through the epilogue),
//     it stores the live registers with slice_pc as the pc. Then
//     exos_thread_pick() chooses the next runnable thread round-robin and
//     the prologue resumes it register-exactly, the way xentry.S resumes
//     after an exception (the last jump goes through gp, which ExOS keeps).
// After the epilogue's yield the kernel resumes the program right after the
// ecall (the pc is in the upcall-free range, so it makes no prologue upcall)
// and the epilogue goes on into the prologue's choice itself.
// thread_yield, thread_join, thread_exit, mutex_lock and cond_wait switch threads
// directly from C (exos_thread_switch): only what a call keeps is saved (ra,
// sp, tp, s0..s11) and the thread resumes by returning from that call.
// Either kind of saved thread can be resumed by either path.
//
// The windows, and how they are closed:
//   - An upcall in the middle of saving or restoring a frame: all the code
//     that does so lies in xentry.S's upcall-free pc range
//     (exos_upcall_code_start..end), so the kernel makes no upcall there
//     and simply saves and restores the registers itself.
//   - An upcall in the middle of the bookkeeping in C (the current thread,
//     states, the mutex's owner): every function here changes them with
//     exos_critical held, and the prologue's C runs with it set too, so no
//     epilogue comes. A slice that ends meanwhile is not lost for the
//     program: the kernel saves its registers and resumes it where it was,
//     and this thread simply runs on into its next slice.
//   - Each thread has its own exos_critical count: a thread that switches
//     away from C holds it (it is saved in its frame) and a preempted
//     thread had 0. The resume path stores the resumed thread's count while
//     still in the upcall-free range, so a thread resumed with 0 becomes
//     preemptible only once it is back at its own pc.
//   - Lost wake-ups: a thread marks itself blocked and switches in one
//     critical section; thread_exit and mutex_unlock wake waiters in one
//     too. mutex_unlock hands the mutex straight to the longest waiter, so
//     a woken thread owns it when it runs and a busy thread cannot take it
//     from under a waiter again and again. cond_wait marks the thread as
//     sleeping on the condition and releases the mutex in one critical
//     section, so a signal sent once the mutex is free finds it asleep.
//   - The exception stack is shared by all threads. That is safe because an
//     exception handler runs with exos_critical set: no preemption happens
//     inside one, and its frames are gone before any other thread runs. For
//     the same reason a handler must not block: mutex_lock or thread_join
//     that would have to wait inside a handler (or any critical section)
//     ends the program with a message, and thread_yield there does nothing.
//     The prologue's C itself runs at the top of the exception stack, which
//     is free whenever a prologue comes.
//   - ExOS's own state shared between threads is changed only in critical
//     sections: malloc/free/sbrk and the vm_ calls that write page tables
//     hold exos_critical, so threads may use them (and fault on the lazy
//     heap) freely. fork, wait and the paged regions are not thread-safe:
//     call them from one thread at a time. fork copies a snapshot taken
//     while other threads may run; the child has one thread, the caller.
//
// A blocked thread waits for another thread (one that exits, unlocks a
// mutex or signals a condition), so when no thread is runnable nothing inside the program can ever
// wake one: that is a deadlock, and it ends the program with a report of who
// waits for whom (yielding the processor would only wait forever). The
// program ends when its last thread exits, or when any thread calls exit()
// or thread 1 returns from main().

#include "ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"

enum { T_FREE, T_RUNNABLE, T_BLOCKED, T_DONE };

struct thread {
  unsigned long frame[TFRAME_SLOTS];  // saved registers: must come first (xentry.S)
  int tid;                            // 0 in a free slot
  int state;                          // T_*
  int join_tid;                       // blocked in thread_join: the thread it waits for
  struct mutex *waiting;              // blocked in mutex_lock: the mutex it waits for
  struct cond *cond;                  // blocked in cond_wait: the condition it waits on
  unsigned long wait_since;  // ... since this tick of wait_clock (first come, first served)
  unsigned int vp_env;       // a hart thread: the environment it runs in alone (else 0)
};

_Static_assert(__builtin_offsetof(struct thread, frame) == 0, "xentry.S finds the frame first");
_Static_assert(EXOS_SYS_YIELD == SYS_yield, "EXOS_SYS_YIELD");

#define PC      0
#define SP      2
#define A0      10
#define A1      11
#define RUNNING (running())

static EXOS_STATE_THREADS struct thread threads[EXOS_MAXTHREADS];  // xentry.S saves frames here
static int next_tid = 2;
static unsigned long wait_clock;  // orders the waiters of mutexes and conditions
static exos_handler next_fault_handler[16];

// Shared with xentry.S, which defines them (it is a lower layer): the
// running thread's record (NULL until threads are first used), and the
// epilogue's note that it has saved it.
extern struct thread *volatile exos_thread_cur;
extern volatile unsigned long exos_thread_saved;
static volatile int parked;  // the program's own processor waits in park(), on no thread's stack
#define PAUSE_SPINS 2000     // how long a waiting processor spins before it yields its hart
// Counters for tests and curious students: epilogues (preemptions, counted
// by xentry.S), prologues, and switches from one thread to another (by any path).
volatile unsigned long exos_thread_prologues, exos_thread_switches;

void exos_thread_epilogue(void), exos_thread_prologue(void);
void exos_thread_switch(struct thread *from, struct thread *to);
struct thread *exos_thread_pick(void);
void exos_thread_park(struct thread *(*idle)(void)) __attribute__((noreturn));
struct thread *exos_thread_idle(void);
extern char exos_hart_xentries[];  // xentry.S: slot k's hart thread's exception entry at + 16 * k
static struct thread *running(void);
static struct thread *wait_for_a_thread(void);
static void leave_to_other_harts(struct thread *me);
static void wait_off_its_stack(struct thread *t);

// Where slot's stack ends (its first byte above).
static unsigned long stack_top(int slot)
{
  return EXOS_TSTACKS + (slot + 1UL) * EXOS_TSTACK_SPAN;
}

// Unmap slot's stack pages (a hart thread's exception stack too), freeing
// them too if free_pages is set.
static void unmap_stack(int slot, int free_pages)
{
  unsigned long span = stack_top(slot) - EXOS_TSTACK_SPAN;
  for (unsigned long va = span + EXOS_HT_XSTACK_LO; va < stack_top(slot); va += PGSIZE) {
    unsigned long pte = vm_pte(va);
    if ((pte & PTE_V) && va != span + EXOS_HT_UAREA) {  // (the u-area goes with its environment)
      vm_unmap(va);
      if (free_pages)
        sys_page_free(PTE_PPN(pte));
    }
  }
}

// Map fresh pages for slot's stack. Returns 0 or an error (nothing mapped).
static long map_stack(int slot)
{
  for (unsigned long va = stack_top(slot) - EXOS_TSTACK_SIZE; va < stack_top(slot); va += PGSIZE) {
    long err = vm_alloc(va, PTE_R | PTE_W);
    if (err < 0) {
      unmap_stack(slot, 1);
      return err;
    }
  }
  return 0;
}

// The page-fault handler for the guard below each thread's stack: report
// the overflow and end the program (a guarded access, ucopy.S, fails
// instead). Other faults go to the handler that was installed before it.
static int stack_guard_fault(struct xframe *f)
{
  unsigned long off = f->addr - EXOS_TSTACKS;
  if (f->addr >= EXOS_TSTACKS && off < EXOS_MAXTHREADS * EXOS_TSTACK_SPAN &&
      off % EXOS_TSTACK_SPAN < EXOS_TSTACK_SPAN - EXOS_TSTACK_SIZE && !exos_fault_is_guarded(f)) {
    printf("%s: thread %d: stack overflow: guard page hit at address 0x%lx (pc 0x%lx)\n",
           exos_progname(), threads[off / EXOS_TSTACK_SPAN].tid, f->addr, f->pc);
    exos_backtrace(f->pc, f->ra, f->s0);
    exit(-1);
  }
  exos_handler next = next_fault_handler[f->cause];
  return next != NULL && next(f);
}

// Make the running code thread 1 (slot 0), once, before any thread exists.
static void threads_init(void)
{
  if (RUNNING != NULL)
    return;
  threads[0].tid = 1;
  threads[0].state = T_RUNNABLE;
  next_fault_handler[EXC_LOAD_PAGE_FAULT] =
      exos_set_handler(EXC_LOAD_PAGE_FAULT, stack_guard_fault);
  next_fault_handler[EXC_STORE_PAGE_FAULT] =
      exos_set_handler(EXC_STORE_PAGE_FAULT, stack_guard_fault);
  exos_thread_cur = &threads[0];
  exos_prologue_hook = exos_thread_pick;  // xentry.S's prologue asks it which thread runs
}

// Register the prologue and epilogue entries with the kernel unless they
// are registered already (after fork the child has none). Returns 0 or an
// error.
static long install_upcalls(void)
{
  const volatile struct uarea *u = (const volatile struct uarea *)UAREA;
  long err;
  if (u->entry[ENTRY_EPILOGUE] == (unsigned long)exos_thread_epilogue)
    return 0;
  if ((err = sys_env_set_entry(0, ENTRY_PROLOGUE, (unsigned long)exos_thread_prologue)) < 0)
    return err;
  return sys_env_set_entry(0, ENTRY_EPILOGUE, (unsigned long)exos_thread_epilogue);
}

// The live thread with id tid (runnable, blocked or done), or NULL.
static struct thread *find(int tid)
{
  for (int i = 0; tid > 0 && i < EXOS_MAXTHREADS; i++)
    if (threads[i].tid == tid && threads[i].state != T_FREE)
      return &threads[i];
  return NULL;
}

// The first runnable thread after `from` in slot order, wrapping around
// and ending with `from` itself, of those the program's own processor runs
// (no hart thread); NULL if none is runnable, or if `from` is a hart thread.
static struct thread *next_runnable(struct thread *from)
{
  struct thread *found = NULL;
  if (from->vp_env)
    return NULL;  // (a hart thread is alone on its processor)
  // LAB threads: search the slots round-robin, from the one after from's to from's own
  int first = from - threads;
  for (int k = 1; k <= EXOS_MAXTHREADS && found == NULL; k++) {
    struct thread *t = &threads[(first + k) % EXOS_MAXTHREADS];
    if (t->state == T_RUNNABLE && t->vp_env == 0)
      found = t;
  }
  // END LAB threads
  return found;
}

// Called by the prologue (xentry.S) on the exception stack with
// exos_critical set, once the running thread's registers are saved:
// choose the thread to run now, round-robin, and make it the running one.
// Returns its record, which the prologue resumes.
struct thread *exos_thread_pick(void)
{
  if (exos_hart_threads)
    exos_lock_take();  // (the resume lets it go if the thread chosen is in no critical section)
  struct thread *prev = RUNNING;
  exos_thread_saved = 0;
  exos_thread_prologues++;
  struct thread *next = next_runnable(prev);
  if (next == NULL)
    next = prev;  // not reached: prev was running, so it is runnable
  exos_thread_cur = next;
  if (next != prev)
    exos_thread_switches++;
  return next;
}

// No thread can run and none ever will: report who waits for whom and end
// the program.
static void __attribute__((noreturn)) deadlock(void)
{
  printf("%s: deadlock: every thread is blocked\n", exos_progname());
  for (int i = 0; i < EXOS_MAXTHREADS; i++) {
    struct thread *t = &threads[i];
    if (t->state == T_BLOCKED && t->waiting != NULL)
      printf("  thread %d waits for a mutex held by thread %d\n", t->tid, t->waiting->owner);
    else if (t->state == T_BLOCKED && t->cond != NULL)
      printf("  thread %d waits on a condition variable\n", t->tid);
    else if (t->state == T_BLOCKED)
      printf("  thread %d waits for thread %d to finish\n", t->tid, t->join_tid);
  }
  exit(-1);
}

// LAB threads: switch_to and block (and exos_thread_switch in ulib/xentry.S)
// Run `next` instead of the running thread, which continues (this returns)
// when it is chosen again. The caller holds exos_critical.
static void switch_to(struct thread *next)
{
  struct thread *prev = RUNNING;
  if (next == prev)
    return;
  exos_thread_switches++;
  exos_thread_cur = next;
  exos_thread_switch(prev, next);
}

// The running thread has marked itself blocked: run another thread until
// someone makes this one runnable again and it is chosen. The caller holds
// exos_critical exactly once (not inside a handler or another critical
// section, where the thread cannot be switched away).
static void block(void)
{
  if (*exos_critical_count() != 1) {
    printf("%s: thread %d would block inside an exception handler or critical section\n",
           exos_progname(), RUNNING->tid);
    exit(-1);
  }
  struct thread *next = next_runnable(RUNNING);
  if (next == NULL)
    next = wait_for_a_thread();
  if (next == NULL)
    deadlock();
  switch_to(next);
}
// END LAB threads

// A new thread's first code: run fn(arg), then end the thread.
static void thread_start(void (*fn)(void *), void *arg)
{
  fn(arg);
  thread_exit();
}

// Start a thread running fn(arg) on a stack of its own; it runs when the
// scheduler chooses it (the caller goes on). Returns its id (> 0), or
// -E_INVAL (no fn), -E_NOMEM (no free slot) or the error that stopped
// mapping its stack or registering the upcalls.
int thread_create(void (*fn)(void *), void *arg)
{
  if (fn == NULL)
    return -E_INVAL;
  // LAB threads: register the upcalls; find a free slot, map its stack, and give the new thread a first context that runs thread_start(fn, arg)
  // HANDOUT: (void)arg;
  // HANDOUT: return -E_NOSYS;
  threads_init();
  long err = install_upcalls();
  if (err < 0)
    return err;
  exos_critical_enter();
  int slot = 0;
  while (slot < EXOS_MAXTHREADS && threads[slot].state != T_FREE)
    slot++;
  if (slot == EXOS_MAXTHREADS) {
    err = -E_NOMEM;
  } else if ((err = map_stack(slot)) == 0) {
    struct thread *t = &threads[slot];
    memset(t, 0, sizeof(*t));
    t->frame[PC] = (unsigned long)thread_start;
    t->frame[SP] = stack_top(slot);
    t->frame[A0] = (unsigned long)fn;
    t->frame[A1] = (unsigned long)arg;
    t->tid = err = next_tid++;
    t->state = T_RUNNABLE;
  }
  exos_critical_leave();
  return err;
  // END LAB threads
}

// Let the next runnable thread run; return when this one is chosen again.
// Returns at once if no other thread is runnable, or when called inside an
// exception handler or critical section (no switch is possible there).
void thread_yield(void)
{
  if (RUNNING == NULL || *exos_critical_count() != 0 || RUNNING->vp_env != 0)
    return;  // (a hart thread is alone on its processor)
  // LAB threads: switch to the next runnable thread
  exos_critical_enter();
  switch_to(next_runnable(RUNNING));
  exos_critical_leave();
  // END LAB threads
}

// Wait until thread tid has finished, then free what it held (its slot and
// stack). The waiting thread is blocked: other threads run meanwhile.
// Returns 0, or -E_INVAL if tid is this thread, unknown, or joined already
// (by another thread, perhaps while this one waited).
int thread_join(int tid)
{
  threads_init();
  // LAB threads: wait blocked until thread tid is done, then free its slot and stack
  // HANDOUT: (void)tid;
  // HANDOUT: return -E_NOSYS;
  exos_critical_enter();
  struct thread *me = RUNNING, *t = find(tid);
  int err = 0;
  if (t == NULL || t == me) {
    err = -E_INVAL;
  } else {
    while (t->tid == tid && t->state != T_DONE) {
      me->state = T_BLOCKED;
      me->join_tid = tid;
      me->waiting = NULL;
      block();
    }
    me->join_tid = 0;
    if (t->tid != tid) {
      err = -E_INVAL;
    } else {
      wait_off_its_stack(t);
      unmap_stack(t - threads, 1);
      memset(t, 0, sizeof(*t));
    }
  }
  exos_critical_leave();
  return err;
  // END LAB threads
}

// End the running thread (a thread's function returning ends it too) and
// wake the threads joining it. The last thread to end ends the program with
// status 0.
void thread_exit(void)
{
  threads_init();
  // LAB threads: mark this thread done, wake its joiners, and run another thread (or end the program)
  // HANDOUT: exit(0);
  exos_critical_enter();
  struct thread *me = RUNNING;
  me->state = T_DONE;
  int blocked = 0;
  for (int i = 0; i < EXOS_MAXTHREADS; i++) {
    struct thread *t = &threads[i];
    if (t->state == T_BLOCKED && t->waiting == NULL && t->join_tid == me->tid)
      t->state = T_RUNNABLE;
    blocked |= t->state == T_BLOCKED;
  }
  struct thread *next = next_runnable(me);
  if (next == NULL)
    leave_to_other_harts(me);  // returns only if no thread anywhere can run
  if (next == NULL && blocked)
    deadlock();
  if (next == NULL)
    exit(0);
  switch_to(next);
  for (;;)
    ;  // not reached: nobody resumes a finished thread
  // END LAB threads
}

// The running thread's id (1 for the program's first thread).
int thread_self(void)
{
  return RUNNING != NULL ? RUNNING->tid : 1;
}

// How many times the epilogue has preempted thread tid (0 if unknown).
unsigned long thread_preemptions(int tid)
{
  struct thread *t = find(tid);
  return t != NULL ? t->frame[TFRAME_PREEMPTED] : 0;
}

// LAB threads: acquire and release, the mutex's hand-over; the condition variables
// HANDOUT: static void acquire(struct mutex *m) { m->owner = RUNNING->tid; }
// HANDOUT: static void release(struct mutex *m) { m->owner = 0; }
// HANDOUT: int cond_wait(struct cond *c, struct mutex *m) { (void)c; (void)m; return -E_NOSYS; }
// HANDOUT: void cond_signal(struct cond *c) { (void)c; }
// HANDOUT: void cond_broadcast(struct cond *c) { (void)c; }
// Make the running thread the owner of m: at once if m is free, else
// blocked, in line with m's other waiters, until release hands m over. The
// caller holds exos_critical once and does not own m.
static void acquire(struct mutex *m)
{
  struct thread *me = RUNNING;
  if (m->owner == 0) {
    m->owner = me->tid;
    return;
  }
  me->state = T_BLOCKED;
  me->waiting = m;
  me->wait_since = ++wait_clock;
  block();  // returns once release has made us the owner
}

// Hand m, which the running thread owns, to the thread that has waited
// longest for it, and make that thread runnable; free m if none waits.
// The caller holds exos_critical.
static void release(struct mutex *m)
{
  struct thread *next = NULL;
  for (int i = 0; i < EXOS_MAXTHREADS; i++) {
    struct thread *t = &threads[i];
    if (t->state == T_BLOCKED && t->waiting == m &&
        (next == NULL || t->wait_since < next->wait_since))
      next = t;
  }
  if (next != NULL) {
    next->waiting = NULL;
    next->state = T_RUNNABLE;
    m->owner = next->tid;
  } else {
    m->owner = 0;
  }
}

// Release m and sleep on c, in one critical section (a signal between the
// two cannot be lost), until cond_signal or cond_broadcast wakes this
// thread; then take m again before returning. Returns 0, or -E_PERM if
// this thread does not hold m.
int cond_wait(struct cond *c, struct mutex *m)
{
  threads_init();
  exos_critical_enter();
  struct thread *me = RUNNING;
  int err = 0;
  if (m->owner != me->tid) {
    err = -E_PERM;
  } else {
    me->state = T_BLOCKED;
    me->cond = c;
    me->wait_since = ++wait_clock;
    release(m);
    block();  // returns once a signal has made us runnable
    acquire(m);
  }
  exos_critical_leave();
  return err;
}

// Wake the threads sleeping on c: the one that has slept longest, or all of
// them. The caller holds exos_critical.
static void wake(struct cond *c, int all)
{
  struct thread *first = NULL;
  for (int i = 0; i < EXOS_MAXTHREADS; i++) {
    struct thread *t = &threads[i];
    if (t->state != T_BLOCKED || t->cond != c)
      continue;
    if (all) {
      t->cond = NULL;
      t->state = T_RUNNABLE;
    } else if (first == NULL || t->wait_since < first->wait_since) {
      first = t;
    }
  }
  if (first != NULL) {
    first->cond = NULL;
    first->state = T_RUNNABLE;
  }
}

// Wake the thread that has slept longest on c, if any.
void cond_signal(struct cond *c)
{
  threads_init();
  exos_critical_enter();
  wake(c, 0);
  exos_critical_leave();
}

// Wake every thread sleeping on c.
void cond_broadcast(struct cond *c)
{
  threads_init();
  exos_critical_enter();
  wake(c, 1);
  exos_critical_leave();
}
// END LAB threads

// Make m an unlocked mutex.
void mutex_init(struct mutex *m)
{
  m->owner = 0;
}

// Take mutex m, waiting (blocked, while other threads run) until it is
// free. Returns 0, or -E_INVAL if this thread holds it already.
int mutex_lock(struct mutex *m)
{
  threads_init();
  exos_critical_enter();
  int err = 0;
  if (m->owner == RUNNING->tid)
    err = -E_INVAL;
  else
    acquire(m);
  exos_critical_leave();
  return err;
}

// Release mutex m, handing it to the thread that has waited longest for
// it, if any (which becomes runnable). Returns 0, or -E_PERM if this thread
// does not hold m.
int mutex_unlock(struct mutex *m)
{
  threads_init();
  exos_critical_enter();
  int err = 0;
  if (m->owner != RUNNING->tid)
    err = -E_PERM;
  else
    release(m);
  exos_critical_leave();
  return err;
}

// Make c a condition variable with no thread sleeping on it.
void cond_init(struct cond *c)
{
  c->unused = 0;
}

// In a child just made by fork: only the thread that called fork goes on.
// Forget the others and unmap their stacks (the parent's pages). The child
// has no prologue or epilogue entry until its next thread_create.
void thread_fork_child(void)
{
  if (RUNNING == NULL)
    return;
  for (int i = 0; i < EXOS_MAXTHREADS; i++) {
    if (&threads[i] != RUNNING && threads[i].state != T_FREE) {
      unmap_stack(i, 0);
      memset(&threads[i], 0, sizeof(threads[i]));
    }
  }
  exos_thread_saved = 0;
  exos_hart_threads = 0;  // (a child has none: hart threads may not fork)
  exos_lock_release();    // (one may have held it as fork copied the memory)
  memset(exos_harts, 0, sizeof(exos_harts));
}

// ---------------------------------------------------------------- hart threads
//
// A hart thread runs beside the program on a hart of its own choosing: it
// is alone in an environment of its own, a sibling of the program's (the
// same tables: kernel/abi.h, "Siblings"), which owns one time slice of that
// hart and so runs there only. Its record is in threads[] like any other
// (vp_env names its environment), so it joins, locks mutexes and waits on
// conditions like any other thread; but it is never switched: blocked, its
// processor waits (yielding the hart) until another thread wakes it. Its
// slot's span holds its exception stack and its environment's u-area too
// (ulib/exos.h); its exceptions come to xentry.S's hart_xentry.
//
// Once a hart thread exists, every critical section holds ExOS's lock
// (lock.c), which keeps the threads' records, mutexes and conditions, the
// heap and the tables consistent across harts as exos_critical alone did on
// one; a processor waiting for another thread lets it go (pause_for_others).
//
// What a hart thread may not do: fork, exec or wait (they are not
// thread-safe anyway), or talk to servers (the file system, pipes): a
// server knows the program's environment, not its siblings. It may
// compute, use memory (malloc, the lazy heap), the threads' calls, printf
// to the console, and exit() (which ends the whole program).

// The running thread's record: this hart thread's, or the one the
// program's own processor runs (NULL before threads are first used).
static struct thread *running(void)
{
  int slot = exos_hart_slot();
  return slot >= 0 ? &threads[slot] : exos_thread_cur;
}

// Is hart thread t's environment gone?
static int env_gone(const struct thread *t)
{
  return ((const struct env_info *)UENVS)[t->vp_env & 255].id != t->vp_env;
}

// Can any thread, on any processor, run? (A hart thread whose environment
// the kernel destroyed, for a fault it could not deliver, ends the program.)
// The caller holds ExOS's lock.
static int any_runnable(void)
{
  int any = 0;
  for (int i = 0; i < EXOS_MAXTHREADS; i++) {
    struct thread *t = &threads[i];
    if (t->vp_env && t->state != T_DONE && t->state != T_FREE && env_gone(t)) {
      printf("%s: hart thread %d died with its environment\n", exos_progname(), t->tid);
      exit(-1);
    }
    any |= t->state == T_RUNNABLE;
  }
  return any;
}

// Let ExOS's lock go for a moment, then take it again: a wait for a thread
// on another hart. With several harts, wait spinning until some processor
// ends a critical section (which may have woken the waiting thread) or
// PAUSE_SPINS looks; then, or with one hart, give the hart away once.
static void pause_for_others(void)
{
  unsigned long seen = exos_sections_done;
  exos_lock_release();
  int spins = ((const struct sysinfo *)USYSINFO)->harts_up > 1 ? PAUSE_SPINS : 0;
  for (int i = 0; i < spins && exos_sections_done == seen; i++)
    ;
  if (exos_sections_done == seen)
    sys_yield(0);
  exos_lock_take();
}

// block() found nothing this processor may run (the program's own: none of
// its threads; a hart thread: itself, blocked). With hart threads, one may
// yet wake one: wait until a thread this processor may run is runnable and
// return it (a hart thread: itself). Returns NULL if no thread anywhere
// can run, or ever will.
static struct thread *wait_for_a_thread(void)
{
  struct thread *me = RUNNING, *next = NULL;
  while (exos_hart_threads && next == NULL && any_runnable()) {
    pause_for_others();
    next = me->vp_env ? (me->state == T_RUNNABLE ? me : NULL) : next_runnable(me);
  }
  return next;
}

// thread_exit found no thread this processor may run after me. If another
// can run elsewhere, a hart thread's environment ends (its record stays
// until it is joined), and the program's own processor parks (below).
// Returns only if no thread anywhere can run.
static void leave_to_other_harts(struct thread *me)
{
  if (!exos_hart_threads || !any_runnable())
    return;
  if (me->vp_env) {
    exos_lock_release();
    sys_env_exit(0);
  }
  exos_thread_park(exos_thread_idle);
}

// Called by exos_thread_park (xentry.S) on the exception stack, which is
// free (the program's own processor is in a critical section: no upcall
// comes), once its thread has finished and only hart threads can run:
// wait until one of its threads can run, and return it for
// exos_thread_resume. Ends the program as thread_exit would if none ever
// will.
struct thread *exos_thread_idle(void)
{
  struct thread *next = NULL;
  parked = 1;
  while (next == NULL && any_runnable()) {
    pause_for_others();
    next = next_runnable(exos_thread_cur);
  }
  if (next == NULL) {
    for (int i = 0; i < EXOS_MAXTHREADS; i++)
      if (threads[i].state == T_BLOCKED)
        deadlock();
    exit(0);
  }
  parked = 0;
  exos_thread_switches++;
  exos_thread_cur = next;
  return next;
}

// Before thread_join frees finished thread t's stacks: wait until nothing
// runs on them any more (a hart thread's environment is gone; the
// program's own processor has switched away from t, or parked); then the
// slot is no hart thread's any more.
static void wait_off_its_stack(struct thread *t)
{
  while ((t->vp_env && !env_gone(t)) || (t == exos_thread_cur && !parked && t != RUNNING))
    pause_for_others();
  exos_harts[t - threads].in_use = 0;
}

// Make the sibling environment for a hart thread in slot, to run on the
// given hart (-1: the one with the most free time slices), its exception
// stack and u-area mapped in the slot's span: the environment's id, not yet
// started, or an error (nothing left made but pages in the span, which
// unmap_stack frees).
static long make_processor(int slot, int hart)
{
  unsigned long span = stack_top(slot) - EXOS_TSTACK_SPAN;
  long err = 0, id;
  for (unsigned long va = span + EXOS_HT_XSTACK_LO; va < span + EXOS_HT_XSTACK_TOP && err >= 0;
       va += PGSIZE)
    err = vm_alloc(va, PTE_R | PTE_W);
  char name[16];
  memmove(name, exos_progname(), sizeof(name) - 1);  // (the kernel's table is no user memory)
  name[sizeof(name) - 1] = 0;
  if (err < 0 || (id = sys_env_create_sibling(name)) < 0)
    return err < 0 ? err : id;
  const struct env_info *env = &((const struct env_info *)UENVS)[id & 255];
  if ((err = vm_map(span + EXOS_HT_UAREA, env->uarea_ppn, PTE_R)) < 0 ||
      (err = sys_env_set_xstack(id, span + EXOS_HT_XSTACK_LO, span + EXOS_HT_XSTACK_TOP)) < 0 ||
      (err = sys_env_set_entry(id, ENTRY_EXCEPTION,
                               (unsigned long)exos_hart_xentries + 16 * slot)) < 0 ||
      (err = sys_slice_alloc(id, hart < 0 ? -1 - MAXHARTS : -1 - hart)) < 0) {
    sys_env_destroy(id);
    return err;
  }
  return id;
}

// Start a hart thread running fn(arg) on hart `hart` (-1: the hart with
// the most free time slices), beside the program: see above. Returns its
// id (> 0), or -E_INVAL (no fn, or no such hart; or called inside an
// exception handler or critical section), -E_NOMEM (no free slot), or the
// error that stopped making its environment (-E_NOSLICE: that hart has no
// free time slice).
int thread_create_on(void (*fn)(void *), void *arg, int hart)
{
  const struct sysinfo *si = (const struct sysinfo *)USYSINFO;
  if (fn == NULL || hart < -1 || hart >= (int)si->harts_up || *exos_critical_count() != 0)
    return -E_INVAL;
  threads_init();
  long err = install_upcalls();
  if (err < 0)
    return err;
  exos_hart_threads = 1;  // from here on critical sections take ExOS's lock
  exos_critical_enter();
  int slot = 0;
  while (slot < EXOS_MAXTHREADS && threads[slot].state != T_FREE)
    slot++;
  long id = -E_NOMEM;
  if (slot < EXOS_MAXTHREADS && (id = map_stack(slot)) == 0 &&
      (id = make_processor(slot, hart)) < 0)
    unmap_stack(slot, 1);
  if (id > 0) {
    struct thread *t = &threads[slot];
    memset(t, 0, sizeof(*t));
    struct user_regs r = {0};
    r.pc = (unsigned long)thread_start;
    r.sp = stack_top(slot);
    r.a0 = (unsigned long)fn;
    r.a1 = (unsigned long)arg;
    t->tid = next_tid++;
    t->vp_env = id;
    t->state = T_RUNNABLE;
    exos_harts[slot] = (struct exos_hart){.in_use = 1};
    if ((err = sys_env_set_regs(id, &r)) < 0 || (err = sys_env_start(id)) < 0) {
      sys_env_destroy(id);
      unmap_stack(slot, 1);
      memset(t, 0, sizeof(*t));
      exos_harts[slot].in_use = 0;
      id = err;
    } else {
      id = t->tid;
    }
  }
  exos_critical_leave();
  return id;
}
