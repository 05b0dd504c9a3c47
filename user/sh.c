// sh: the shell. Reads commands from the console (with a "$ " prompt), or
// from the file named by its argument, and runs them:
//
//   cmd arg 'quoted arg' "another"     a program from / with arguments
//   cmd < in > out   cmd >> out        redirection (writing needs the file server)
//   a | b | c                          a pipeline of any length
//   a ; b      a &                     one after the other; in the background
//   cd DIR   exit [N]   $?             built in; $? is the last status
//
// Each command runs by spawn (ulib/spawn.c): the shell points descriptors
// 0 and 1 at the pipe ends and files first, which spawn hands over.

#include "ulib/ulib.h"

#define MAXTOK  64
#define MAXLINE 512

enum { WORD, PIPE, IN, OUT, APPEND, SEMI, AMP, END };

struct token {
  int kind;
  char *text;  // WORD only
};

static int last_status;
static char dollar_q[16];

// Split line into tokens; words (quotes removed) go into words[]. Returns
// the number of tokens, or -1 with a message (an unterminated quote, too
// many words).
static int tokenize(const char *line, struct token *tok, char *words)
{
  int n = 0;
  const char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\n')
      p++;
    if (*p == 0 || *p == '#')
      break;
    if (n == MAXTOK - 1) {
      fprintf(2, "sh: too many words\n");
      return -1;
    }
    struct token *t = &tok[n++];
    if (strchr("|<>;&", *p) != NULL) {
      t->kind = *p == '|' ? PIPE : *p == '<' ? IN : *p == ';' ? SEMI : *p == '&' ? AMP : OUT;
      if (p[0] == '>' && p[1] == '>') {
        t->kind = APPEND;
        p++;
      }
      p++;
      continue;
    }
    t->kind = WORD;
    t->text = words;
    while (*p != 0 && strchr(" \t\n|<>;&", *p) == NULL) {
      if (*p == '\'' || *p == '"') {  // quoted: taken as it is, spaces and all
        char q = *p++;
        while (*p != 0 && *p != q)
          *words++ = *p++;
        if (*p++ != q) {
          fprintf(2, "sh: missing %c\n", q);
          return -1;
        }
      } else {
        *words++ = *p++;
      }
    }
    *words++ = 0;
    if (strcmp(t->text, "$?") == 0)
      t->text = dollar_q;
  }
  tok[n].kind = END;
  return n;
}

// The path to run for command name: itself if it has a '/', else /name.
static const char *command_path(const char *name, char *buf, unsigned long size)
{
  if (strchr(name, '/') != NULL)
    return name;
  snprintf(buf, size, "/%s", name);
  return buf;
}

// Open a redirection target on descriptor fd. Returns 0, or -1 with a message.
static int redirect(int kind, const char *path, int fd)
{
  int flags = kind == IN ? O_RDONLY : O_WRONLY | O_CREATE | (kind == APPEND ? O_APPEND : O_TRUNC);
  int f = open(path, flags);
  if (f < 0) {
    fprintf(2, "sh: %s: %s\n", path, exos_strerror(f));
    return -1;
  }
  dup2(f, fd);
  close(f);
  return 0;
}

// Built-in commands. Returns 1 if argv was one (and ran it), else 0.
static int builtin(int argc, char **argv)
{
  if (strcmp(argv[0], "cd") == 0) {
    if (exos_args(&argc, &argv, 0, 1, "usage: cd [DIR]") < 0) {
      last_status = 2;
      return 1;
    }
    long err = chdir(argc > 1 ? argv[1] : "/");
    if (err < 0)
      fprintf(2, "sh: cd: %s: %s\n", argc > 1 ? argv[1] : "/", exos_strerror(err));
    last_status = err < 0;
    return 1;
  }
  if (strcmp(argv[0], "exit") == 0) {
    if (exos_args(&argc, &argv, 0, 1, "usage: exit [STATUS]") < 0) {
      last_status = 2;
      return 1;
    }
    int status = 0;
    const char *s = argc > 1 ? argv[1] : "";
    for (; *s >= '0' && *s <= '9' && status < 100000000; s++)
      status = status * 10 + *s - '0';
    if (*s != 0) {
      fprintf(2, "sh: exit: %s: not a number\n", argv[1]);
      last_status = 2;
      return 1;
    }
    exit(status);
  }
  return 0;
}

// Run one pipeline, tokens [from, to), in the background if bg. Returns 0,
// or -1 after a syntax error (reported).
static int run_pipeline(struct token *tok, int from, int to, int bg)
{
  int pids[MAXTOK], npids = 0, in = -1, status = 0;
  for (int start = from; start < to;) {
    int end = start;
    while (end < to && tok[end].kind != PIPE)
      end++;
    char *argv[MAXTOK];
    int argc = 0, save0 = dup(0), save1 = dup(1), ok = 1, p[2] = {-1, -1};
    if (in >= 0) {
      dup2(in, 0);
      close(in);
      in = -1;
    }
    if (end < to) {  // a pipe to the next command
      if (pipe(p) < 0) {
        fprintf(2, "sh: cannot make a pipe\n");
        ok = 0;
      } else {
        dup2(p[1], 1);
        close(p[1]);
        in = p[0];
      }
    }
    for (int i = start; i < end && ok; i++) {
      if (tok[i].kind == WORD) {
        argv[argc++] = tok[i].text;
      } else if (i + 1 < end && tok[i + 1].kind == WORD) {
        ok = redirect(tok[i].kind, tok[i + 1].text, tok[i].kind == IN ? 0 : 1) == 0;
        i++;
      } else {
        fprintf(2, "sh: a redirection needs a file name\n");
        ok = 0;
        status = -1;
      }
    }
    argv[argc] = NULL;
    if (ok && argc > 0 && !builtin(argc, argv)) {
      char path[64];
      int pid = spawn(command_path(argv[0], path, sizeof(path)), argv);
      if (pid >= 0)
        pids[npids++] = pid;
      else if (pid == -E_NOTFOUND)
        fprintf(2, "sh: %s: command not found\n", argv[0]);
      else
        fprintf(2, "sh: %s: %s\n", argv[0], exos_strerror(pid));
      last_status = pid == -E_NOTFOUND ? 127 : pid < 0 ? 126 : last_status;
    } else if (ok && argc == 0 && start == end) {
      fprintf(2, "sh: a pipe needs a command on each side\n");
      status = -1;
    }
    dup2(save0, 0);
    dup2(save1, 1);
    close(save0);
    close(save1);
    start = end + 1;
    if (end == to - 1 && tok[end].kind == PIPE)
      start = end;  // "a |" at the end: nothing after it
    if (end >= to)
      break;
  }
  if (in >= 0)
    close(in);
  for (int i = 0; i < npids; i++) {
    if (bg) {
      printf("[%d]\n", pids[i]);
    } else {
      // A ^C typed meanwhile ends the job, even a program that reads no
      // input (one that does sees the ^C itself, and ends).
      int s = 0;
      do {
        if (console_take_interrupt()) {
          printf("^C\n");
          for (int j = i; j < npids; j++)
            kill(pids[j]);
        }
      } while (waitpid_or_input(pids[i], &s) == 0);
      last_status = s;
    }
  }
  return status;
}

// Run one command line.
static void run_line(char *line)
{
  struct token tok[MAXTOK];
  static char words[MAXLINE];
  int n = tokenize(line, tok, words);
  for (int start = 0; n > 0 && start < n;) {
    int end = start;
    while (end < n && tok[end].kind != SEMI && tok[end].kind != AMP)
      end++;
    if (end > start && run_pipeline(tok, start, end, end < n && tok[end].kind == AMP) < 0)
      return;
    start = end + 1;
  }
  if (n < 0)
    last_status = 2;
}

// Collect background children that have finished.
static void reap(void)
{
  int pid, status;
  while ((pid = wait_poll(&status)) > 0)
    printf("[%d] done, status %d\n", pid, status);
}

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 0, 1, "usage: sh [SCRIPT]") < 0)
    return 2;
  int input = 0, interactive = argc < 2;
  if (!interactive && (input = open(argv[1], O_RDONLY)) < 0) {
    fprintf(2, "sh: %s: %s\n", argv[1], exos_strerror(input));
    return 1;
  }
  static char line[MAXLINE];
  console_interrupt_cancels(1);  // ^C at the prompt cancels the line
  for (;;) {
    reap();
    snprintf(dollar_q, sizeof(dollar_q), "%d", last_status);
    if (interactive)
      printf("$ ");
    // A line: read until a newline (pipes and files may give less at a time).
    unsigned long len = 0;
    long r = 0;
    while (len < sizeof(line) - 1 && (r = read(input, line + len, 1)) == 1 && line[len] != '\n')
      len++;
    if (r <= 0 && len == 0)
      break;  // the end of the input
    line[len] = 0;
    run_line(line);
  }
  return 0;
}
