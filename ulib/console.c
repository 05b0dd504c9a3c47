// ExOS's console line discipline: what a terminal user expects of typing.
// The kernel only passes characters (cgetc, cputs); ExOS echoes them and
// edits the line: backspace (or DEL) erases a character, ^U the whole
// line, Enter ends it, ^D on an empty line is the end of the input, and ^C
// ends the program that is reading (the shell: cancels the line). A read
// returns at most one line. (A ^C typed for a program that reads nothing
// is the shell's to see: console_take_interrupt.) Output is printf.c's
// console_write, at the bottom of ExOS.

#include "ulib.h"

#define CTRL(c) ((c) - '@')
#define LINE    256

static char line[LINE];
static unsigned long line_len, line_pos;  // the line read, and how much was returned

static int interrupt_cancels;  // ^C cancels the line instead of ending the program

// Wait for the next character typed (the kernel lets this process sleep
// until one arrives).
static int getc_wait(void)
{
  long c;
  while ((c = sys_cgetc_wait()) < 0)
    ;  // woken, but another reader took the character
  return c;
}

// What ^C does: end the program reading (the default), or, if cancel is
// nonzero (the shell), cancel the line being typed.
void console_interrupt_cancels(int cancel)
{
  interrupt_cancels = cancel;
}

// Read a line into line[], echoing and editing it. Returns its length
// (with its newline), 0 for ^D at the start of a line.
static unsigned long read_line(void)
{
  unsigned long len = 0;
  for (;;) {
    int c = getc_wait();
    if (c == '\r')
      c = '\n';
    if (c == CTRL('D') && len == 0)
      return 0;
    if (c == CTRL('C')) {
      sys_cputs("^C\n", 3);
      if (!interrupt_cancels)
        exit(-1);
      line[0] = '\n';  // the shell gets an empty line
      return 1;
    }
    if (c == '\b' || c == 0x7f) {
      if (len > 0) {
        len--;
        sys_cputs("\b \b", 3);
      }
    } else if (c == CTRL('U')) {
      for (; len > 0; len--)
        sys_cputs("\b \b", 3);
    } else if (c == '\n' || (c >= ' ' && c < 0x7f) || c == '\t') {
      if (len < LINE - 1 || c == '\n') {
        line[len++] = c;
        sys_cputs(&line[len - 1], 1);
      }
      if (c == '\n')
        return len;
    }
  }
}

// Is a ^C among the bytes typed and not yet read (sysinfo's console ring)?
// If so, take the input up to and including it (it was typed for the
// program ^C ends) and return 1; else leave the input alone and return 0.
int console_take_interrupt(void)
{
  const volatile struct sysinfo *si = (const volatile struct sysinfo *)USYSINFO;
  unsigned long end = si->console_write, at = si->console_read;
  while (at != end && si->console_in[at % CONSOLE_IN] != CTRL('C'))
    at++;
  if (at == end)
    return 0;
  while (sys_cgetc() != CTRL('C'))
    ;
  return 1;
}

// Read up to n bytes of typed input: the rest of the current line, or a
// new line once one is typed. Returns the number read (0: ^D, the end), or
// -E_FAULT if buf is bad (the bytes stay for the next read).
long console_read(void *buf, unsigned long n)
{
  if (line_pos == line_len) {
    line_pos = 0;
    line_len = read_line();
    if (line_len == 0)
      return 0;
  }
  unsigned long k = line_len - line_pos < n ? line_len - line_pos : n;
  if (exos_copy(buf, line + line_pos, k) < 0)
    return -E_FAULT;
  line_pos += k;
  return k;
}
