// How a lower layer of ExOS lets higher ones act, so that every call
// points down the layers (README, "ExOS, the library OS"): the higher
// layers register hooks when they start, and the lower one runs them.
//   - fork runs the fork hooks: in the parent, which pages to leave out of
//     the child (exos_on_fork_skip) and what to share with it before it
//     starts (exos_on_fork_share); in the child, what to fix up before
//     fork returns there (exos_on_fork_child). They run in the order they
//     were registered, lower layers' first.
//   - exit runs the exit hooks, the last registered first (descriptors are
//     closed before the parent learns the status), then ends the process.
// Registering a hook that is already registered does nothing (a forked
// child may start a layer again); at most NHOOKS of each kind.
// panic and assert are here too, so that any layer may use them: they print
// a backtrace with the function the start-up gives exos_set_backtrace (the
// exceptions layer's), once it has.

#include "ulib.h"

#define NHOOKS 8

typedef void (*hook)(void);  // any hook, cast back to its own type to be called

struct hooks {
  int n;
  hook fn[NHOOKS];
};

static struct hooks fork_skip, fork_share, fork_child, at_exit;

// Add fn to h unless it is there. Too many is ExOS's own bug: say so.
static void add(struct hooks *h, hook fn)
{
  for (int i = 0; i < h->n; i++)
    if (h->fn[i] == fn)
      return;
  if (h->n == NHOOKS) {
    sys_cputs("exos: too many hooks\n", 21);
    sys_env_exit(-1);
  }
  h->fn[h->n++] = fn;
}

// Register fn(va): nonzero if fork must leave the page at va out of the child.
void exos_on_fork_skip(int (*fn)(unsigned long va))
{
  add(&fork_skip, (hook)fn);
}

// Register fn(child, undo): share what the child inherits before it
// starts; called again with undo = 1 if the child could not start.
void exos_on_fork_share(void (*fn)(unsigned int child, int undo))
{
  add(&fork_share, (hook)fn);
}

// Register fn(): run in a forked child before fork returns 0 there.
void exos_on_fork_child(void (*fn)(void))
{
  add(&fork_child, fn);
}

// Register fn(status): run by exit, the last registered first.
void exos_on_exit(void (*fn)(int status))
{
  add(&at_exit, (hook)fn);
}

// Should fork leave the page at va out of the child? (Any skip hook says so.)
int exos_fork_skip(unsigned long va)
{
  for (int i = 0; i < fork_skip.n; i++)
    if (((int (*)(unsigned long))fork_skip.fn[i])(va))
      return 1;
  return 0;
}

// Run the share hooks for a child about to start (undo: it did not start).
void exos_fork_share(unsigned int child, int undo)
{
  for (int i = 0; i < fork_share.n; i++)
    ((void (*)(unsigned int, int))fork_share.fn[i])(child, undo);
}

// Run the child hooks, in the new child.
void exos_fork_child(void)
{
  for (int i = 0; i < fork_child.n; i++)
    fork_child.fn[i]();
}

// End this program with the given status, after the exit hooks.
void exit(int status)
{
  for (int i = at_exit.n - 1; i >= 0; i--)
    ((void (*)(int))at_exit.fn[i])(status);
  // In a hart thread (thread.c) this is a sibling of the program's
  // environment: the program ends with the one that owns the address space
  // (the owner of the u-area at UAREA), which takes its siblings with it.
  unsigned int owner = ((const volatile struct uarea *)UAREA)->envid;
  if (sys_getenvid() != owner)
    sys_env_destroy(owner);
  sys_env_exit(status);
  for (;;)
    ;  // not reached: the kernel does not return from env_exit
}

static void (*backtrace)(unsigned long pc, unsigned long ra, unsigned long fp);

// Make fn(pc, ra, fp) how panic and assert print where the program is.
void exos_set_backtrace(void (*fn)(unsigned long pc, unsigned long ra, unsigned long fp))
{
  backtrace = fn;
}

// Print where the program is (a backtrace from the caller of the caller).
static void backtrace_here(void)
{
  unsigned long *fp = __builtin_frame_address(0);
  if (backtrace != NULL)
    backtrace(fp[-1] - 4, 0, fp[-2]);
}

// This program's name, from the kernel's environment table.
static const char *name(void)
{
  return ((const struct env_info *)UENVS)[sys_getenvid() & 255].name;
}

// Report a failed assert() with a backtrace, then exit.
void exos_assert_fail(const char *expr, const char *file, int line)
{
  printf("%s: assertion failed: %s at %s:%d\n", name(), expr, file, line);
  backtrace_here();
  exit(-1);
}

// End the program with a message (printf's format) and a backtrace.
void panic(const char *fmt, ...)
{
  va_list ap;
  printf("%s: panic: ", name());
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  backtrace_here();
  exit(-1);
}
