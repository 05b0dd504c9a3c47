// t_crashfs: the file system's crash test, in two halves (labs/fs runs
// them, with the kernel's diskcrash=N stopping the machine at the Nth disk
// write).
//
//   t_crashfs run       does the workload below, one file-system update per
//                       step, printing "t_crashfs: op K done" after each,
//                       holding all along a file /orphan unlinked while open
//                       (after a crash, the reboot must free it)
//   t_crashfs check K   after a reboot on the same disk (the server has
//                       replayed its log): the tree under /cr must be what
//                       the first K steps make, or the first K + 1 (the step
//                       under way when the machine stopped may have
//                       committed), file by file, byte by byte
//
// The expected trees come from a model of the workload kept here.

#include "ulib/ulib.h"

enum { MKDIR, CREATE, WRITE, TRUNC, LINK, UNLINK, RENAME };

struct step {
  int op;
  const char *a, *b;             // paths
  unsigned long off, len, seed;  // WRITE
};

#define BIG (11UL + 1024 + 3) * 4096  // in the double-indirect range
#define ONE(op, a)                                                                                 \
  {                                                                                                \
    op, a, NULL, 0, 0, 0                                                                           \
  }
#define TWO(op, a, b)                                                                              \
  {                                                                                                \
    op, a, b, 0, 0, 0                                                                              \
  }
#define WR(a, off, len, seed)                                                                      \
  {                                                                                                \
    WRITE, a, NULL, off, len, seed                                                                 \
  }

static const struct step workload[] = {
    ONE(MKDIR, "/cr"),
    ONE(CREATE, "/cr/a"),
    WR("/cr/a", 0, 4096, 1),
    WR("/cr/a", 4096, 4096, 2),
    ONE(CREATE, "/cr/b"),
    WR("/cr/b", 0, 100, 3),
    TWO(RENAME, "/cr/a", "/cr/c"),
    TWO(LINK, "/cr/c", "/cr/d"),
    ONE(UNLINK, "/cr/b"),
    ONE(MKDIR, "/cr/sub"),
    TWO(RENAME, "/cr/d", "/cr/sub/d"),
    ONE(CREATE, "/cr/e"),
    WR("/cr/e", 50000, 3000, 4),
    WR("/cr/c", 2000, 4096, 5),
    TWO(RENAME, "/cr/e", "/cr/sub/d"),
    ONE(UNLINK, "/cr/c"),
    TWO(RENAME, "/cr/sub", "/cr/sub2"),
    ONE(CREATE, "/cr/f"),
    WR("/cr/f", BIG, 4096, 6),
    WR("/cr/f", 0, 4096, 7),
    ONE(UNLINK, "/cr/sub2/d"),
    ONE(UNLINK, "/cr/sub2"),
    ONE(TRUNC, "/cr/f"),
    WR("/cr/f", 10, 20, 8),
    TWO(RENAME, "/cr/f", "/cr/g"),
};
#define NSTEPS (int)(sizeof(workload) / sizeof(workload[0]))

// ---------------------------------------------------------------- the model

#define MAXNAMES  8
#define MAXFILES  8
#define MAXWRITES 4

struct mfile {
  unsigned long size;
  int nwrites;
  const struct step *writes[MAXWRITES];
};

struct model {
  struct mfile files[MAXFILES];
  int nfiles;
  struct {
    char path[32];
    int file;  // -1: a directory
  } names[MAXNAMES];
  int nnames;
};

// The byte of write step s at file offset pos.
static unsigned char pattern(const struct step *s, unsigned long pos)
{
  unsigned long i = pos - s->off;
  return (s->seed * 31 + i * 7 + i / 251) & 0xFF;
}

// The name slot of path in m, or -1.
static int find(const struct model *m, const char *path)
{
  for (int i = 0; i < m->nnames; i++)
    if (strcmp(m->names[i].path, path) == 0)
      return i;
  return -1;
}

// Add path naming file (-1: a directory).
static void add_name(struct model *m, const char *path, int file)
{
  strlcpy(m->names[m->nnames].path, path, sizeof(m->names[0].path));
  m->names[m->nnames++].file = file;
}

// Remove name slot i.
static void drop_name(struct model *m, int i)
{
  m->names[i] = m->names[--m->nnames];
}

// The model after the first k steps.
static void model_after(struct model *m, int k)
{
  memset(m, 0, sizeof(*m));
  for (int i = 0; i < k; i++) {
    const struct step *s = &workload[i];
    int n = find(m, s->a), len = strlen(s->a);
    switch (s->op) {
    case MKDIR:
      add_name(m, s->a, -1);
      break;
    case CREATE:
      add_name(m, s->a, m->nfiles++);
      break;
    case WRITE: {
      struct mfile *f = &m->files[m->names[n].file];
      f->writes[f->nwrites++] = s;
      if (s->off + s->len > f->size)
        f->size = s->off + s->len;
      break;
    }
    case TRUNC:
      m->files[m->names[n].file] = (struct mfile){0};
      break;
    case LINK:
      add_name(m, s->b, m->names[n].file);
      break;
    case UNLINK:
      drop_name(m, n);
      break;
    case RENAME: {
      int t = find(m, s->b);
      if (t >= 0) {
        drop_name(m, t);
        n = find(m, s->a);
      }
      char old[32];
      strlcpy(old, s->a, sizeof(old));
      for (int j = 0; j < m->nnames; j++)  // the name and everything under it
        if (strncmp(m->names[j].path, old, len) == 0 &&
            (m->names[j].path[len] == 0 || m->names[j].path[len] == '/')) {
          char moved[32];
          snprintf(moved, sizeof(moved), "%s%s", s->b, m->names[j].path + len);
          strlcpy(m->names[j].path, moved, sizeof(moved));
        }
      break;
    }
    }
  }
}

// ---------------------------------------------------------------- the run

// Do step s. Returns 0 or an error.
static long do_step(const struct step *s)
{
  long r = 0;
  int fd;
  switch (s->op) {
  case MKDIR:
    return mkdir(s->a);
  case CREATE:
  case TRUNC:
    fd = open(s->a, s->op == CREATE ? O_CREAT | O_RDWR : O_TRUNC | O_RDWR);
    if (fd >= 0)
      close(fd);
    return fd < 0 ? fd : 0;
  case WRITE: {
    static unsigned char buf[4096];
    for (unsigned long i = 0; i < s->len; i++)
      buf[i] = pattern(s, s->off + i);
    if ((fd = open(s->a, O_RDWR)) < 0)
      return fd;
    if ((r = lseek(fd, s->off, SEEK_SET)) >= 0)
      r = write(fd, buf, s->len) == (long)s->len ? 0 : -E_IO;
    close(fd);
    return r;
  }
  case LINK:
    return link(s->a, s->b);
  case UNLINK:
    return unlink(s->a);
  case RENAME:
    return rename(s->a, s->b);
  }
  return -E_INVAL;
}

// ---------------------------------------------------------------- the check

// Does the file open as fd hold what model file f holds?
static int same_contents(int fd, const struct mfile *f)
{
  static unsigned char buf[4096];
  unsigned long off = 0;
  long n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    for (long i = 0; i < n; i++, off++) {
      unsigned char want = 0;
      for (int w = f->nwrites - 1; w >= 0; w--)
        if (off >= f->writes[w]->off && off < f->writes[w]->off + f->writes[w]->len) {
          want = pattern(f->writes[w], off);
          break;
        }
      if (buf[i] != want)
        return 0;
    }
  }
  return n == 0 && off == f->size;
}

// Count the entries under directory path (recursively), except "." and "..".
static int count_tree(const char *path)
{
  int fd = open(path, O_RDONLY), n = 0;
  struct dirent de;
  while (fd >= 0 && read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0 || strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
      continue;
    char sub[64], name[DIRSIZ + 1];
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    snprintf(sub, sizeof(sub), "%s/%s", path, name);
    struct stat st;
    n++;
    if (stat(sub, &st) == 0 && st.type == T_DIR)
      n += count_tree(sub);
  }
  if (fd >= 0)
    close(fd);
  return n;
}

// Is the disk's tree what model m (after k steps) says, name by name?
// With say set, prints what differs.
static int matches(const struct model *m, int k, int say)
{
  struct stat st, st2;
  int ok = 1;
  for (int i = 0; i < m->nnames && ok; i++) {
    const char *path = m->names[i].path;
    int file = m->names[i].file, links = 0;
    if (stat(path, &st) < 0 || st.type != (file < 0 ? T_DIR : T_FILE)) {
      if (say)
        printf("t_crashfs: after op %d: %s is missing or of the wrong type\n", k, path);
      ok = 0;
      continue;
    }
    if (file < 0)
      continue;
    for (int j = 0; j < m->nnames; j++)
      if (m->names[j].file == file) {
        links++;
        if (stat(m->names[j].path, &st2) < 0 || st2.ino != st.ino)
          ok = 0;
      }
    int fd = open(path, O_RDONLY);
    if (st.nlink != links || fd < 0 || !same_contents(fd, &m->files[file])) {
      if (say)
        printf("t_crashfs: after op %d: %s has the wrong links or contents\n", k, path);
      ok = 0;
    }
    close(fd);
  }
  int entries = m->nnames > 0 ? count_tree("/cr") + 1 : (stat("/cr", &st) == 0);
  if (ok && entries != m->nnames) {
    if (say)
      printf("t_crashfs: after op %d: %d names on the disk, %d expected\n", k, entries, m->nnames);
    ok = 0;
  }
  return ok;
}

int main(int argc, char **argv)
{
  static struct model m;
  if (argc == 2 && strcmp(argv[1], "run") == 0) {
    static char data[8192];
    int orphan = open("/orphan", O_CREAT | O_RDWR);  // closed by exit
    if (orphan < 0 || write(orphan, data, sizeof(data)) != sizeof(data) || unlink("/orphan") < 0) {
      printf("t_crashfs: op 0 failed: an open file unlinked\n");
      return 1;
    }
    for (int i = 0; i < NSTEPS; i++) {
      long err = do_step(&workload[i]);
      if (err < 0) {
        printf("t_crashfs: op %d failed: %s\n", i + 1, exos_strerror(err));
        return 1;
      }
      printf("t_crashfs: op %d done\n", i + 1);
    }
    printf("t_crashfs: all %d ops done\n", NSTEPS);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "check") == 0) {
    int k = atoi(argv[2]);
    for (int j = k; j <= k + 1 && j <= NSTEPS; j++) {
      model_after(&m, j);
      if (matches(&m, j, 0)) {
        printf("t_crashfs: the disk holds the first %d ops (%d had completed)\n", j, k);
        return 0;
      }
    }
    model_after(&m, k);
    matches(&m, k, 1);
    printf("t_crashfs: FAIL: the disk holds neither the first %d ops nor %d\n", k, k + 1);
    return 1;
  }
  printf("usage: t_crashfs run | t_crashfs check K\n");
  return 2;
}
