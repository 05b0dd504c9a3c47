// demo_stride: the stride scheduler's shares as live bars (demo stride).
// ExOS's stride scheduler (ulib/stride.c) is a library: the program owns
// the time slices and hands them out by directed yield, to each client in
// proportion to its tickets. Three CPU-bound children hold 3, 2 and 1
// tickets; halfway through, the tickets become 1, 2 and 3 while the
// scheduler runs on. Every FRAME_MS (frame_ms) of machine time the bars are redrawn
// (ANSI cursor-up) with each child's share of that frame; at the end, each
// half's shares against its tickets. Each child counts its loop's turns
// (its work: the processor it got) in a page shared with the parent.
// Runs from the shell or first. Under the view pace (demo_stride -v,
// user/demo.h) each half lasts the pace's seconds, its frames longer.

#include "ulib/ulib.h"
#include "ulib/exos.h"
#include "kernel/riscv.h"
#include "user/demo.h"

#define SHARED   0x2500000000UL
#define RAN      ((volatile unsigned long *)SHARED)
#define NKIDS    3
#define FRAMES   6  // frames a half
#define FRAME_MS 40  // without the view pace
#define WIDTH    40  // a bar's characters at 100%

static const unsigned long tickets[2][NKIDS] = {{3, 2, 1}, {1, 2, 3}};
static unsigned long frame_ms = FRAME_MS;

// Count this child's work in RAN[slot], forever: a loop of a fixed number
// of instructions, so the count measures the processor it was given.
static void spin(int slot)
{
  for (;;)
    RAN[slot]++;
}

// Draw one bar a child: its share (per mille) of the time ran[] sums to.
// With redraw, over the bars drawn last.
static void draw(const unsigned long *ran, const unsigned long *tix, int redraw)
{
  unsigned long total = 0;
  for (int i = 0; i < NKIDS; i++)
    total += ran[i];
  if (redraw)
    printf("\033[%dA", NKIDS);
  for (int i = 0; i < NKIDS; i++) {
    unsigned long permille = total ? ran[i] * 1000 / total : 0;
    char bar[WIDTH + 1];
    int n = permille * WIDTH / 1000;
    memset(bar, '#', n);
    memset(bar + n, '.', WIDTH - n);
    bar[WIDTH] = 0;
    printf("  child %d, %lu tickets |%s| %2lu.%lu%%\033[K\n", i + 1, tix[i], bar, permille / 10,
           permille % 10);
  }
}

// Hand out one half's frames with tickets tix, drawing each; sum[] gets
// the time each child ran. Returns 0, or -1 (reported).
static int half(const unsigned long *tix, unsigned long *sum, int redraw)
{
  for (int f = 0; f < FRAMES; f++) {
    unsigned long before[NKIDS], ran[NKIDS];
    for (int i = 0; i < NKIDS; i++)
      before[i] = RAN[i];
    long slices = stride_run(pace_ticks(frame_ms));
    if (slices < 0) {
      printf("stride: stride_run: %s\n", exos_strerror(slices));
      return -1;
    }
    for (int i = 0; i < NKIDS; i++) {
      ran[i] = RAN[i] - before[i];
      sum[i] += ran[i];
    }
    draw(ran, tix, redraw || f > 0);
  }
  return 0;
}

// Print a half's shares against its tickets; 1 if each is within 10%.
static int verdict(int h, const unsigned long *sum)
{
  unsigned long total = 0, all = 0;
  for (int i = 0; i < NKIDS; i++) {
    total += sum[i];
    all += tickets[h][i];
  }
  int ok = total > 0;
  printf("stride: tickets %lu:%lu:%lu, shares", tickets[h][0], tickets[h][1], tickets[h][2]);
  for (int i = 0; i < NKIDS; i++) {
    unsigned long permille = total ? sum[i] * 1000 / total : 0, want = tickets[h][i] * 1000 / all;
    printf(" %lu.%lu%% (ideal %lu.%lu%%)", permille / 10, permille % 10, want / 10, want % 10);
    ok &= permille * 10 >= want * 9 && permille * 10 <= want * 11;
  }
  printf(": %s\n", ok ? "within 10%" : "NOT within 10%");
  return ok;
}

// Fork the children, run both halves, print the verdict. Exits 0 if each
// half's shares are within 10% of its tickets.
int main(int argc, char **argv)
{
  int pids[NKIDS], started = 0, ok = 0;
  unsigned long sum[2][NKIDS] = {{0}};
  pace_args(&argc, &argv);
  frame_ms = pace ? pace * 1000 / FRAMES : FRAME_MS;
  printf("stride: the stride scheduler is a library: this program owns the time slices and\n"
         "stride: hands them out, to three busy children in proportion to their tickets.\n"
         "stride: each child's share of every %lu ms, live; the tickets change halfway:\n",
         frame_ms);
  pace_say("stride", "each half of the run lasts that long, the bars live");
  if (vm_alloc(SHARED, PTE_R | PTE_W | PTE_SHARE) < 0) {
    printf("stride: verdict: FAILED: cannot map the shared page\n");
    return 1;
  }
  for (; started < NKIDS; started++) {
    if ((pids[started] = fork()) == 0)
      spin(started);
    if (pids[started] < 0 || stride_add(pids[started], tickets[0][started]) < 0)
      break;
  }
  if (started == NKIDS && half(tickets[0], sum[0], 0) == 0) {
    int refused = 0;
    for (int i = 0; i < NKIDS; i++)
      refused |= stride_set_tickets(pids[i], tickets[1][i]) < 0;
    if (!refused && half(tickets[1], sum[1], 1) == 0)
      ok = verdict(0, sum[0]) & verdict(1, sum[1]);
  }
  for (int i = 0; i < started + (started < NKIDS && pids[started] > 0); i++) {
    kill(pids[i]);
    waitpid(pids[i], 0);
  }
  printf("stride: verdict: %s\n", ok ? "the shares follow the tickets, before and after the change"
                                     : "FAILED: the shares do not follow the tickets");
  return ok ? 0 : 1;
}
