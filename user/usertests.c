// usertests: the file system, descriptors and pipes as programs use them,
// test by test. `usertests` runs the quick set (labs/fs runs it in every
// grading run); `usertests -f` the full set, with bigger files, more files
// and a disk filled to the last block; `usertests NAME...` only the tests
// named (an unknown name or option is an error). After each test the file
// system must have as many free blocks and inodes as before it: nothing may
// leak.

#include "ulib/ulib.h"
#include "kernel/riscv.h"
#include "ulib/exos.h"  // the file server's calls, for the hostile test

static int full;      // -f: the full set
static int failures;  // checks failed in the current test

// Report a failed check (and carry on: a test reports all it finds).
#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("usertests: FAIL at line %d: ", __LINE__);                                            \
      printf(__VA_ARGS__);                                                                         \
      printf("\n");                                                                                \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static char buf[8192], buf2[8192];

// The byte a test writes at offset i of a file made with seed.
static char byte_at(unsigned long i, int seed)
{
  return 'a' + (i * 7 + i / 4093 + seed) % 26;
}

// Write n bytes of the pattern (seed) to fd from offset off, in pieces of
// up to chunk bytes. Returns the count written.
static long write_pattern(int fd, unsigned long off, unsigned long n, int seed, unsigned long chunk)
{
  unsigned long done = 0;
  while (done < n) {
    unsigned long k = n - done < chunk ? n - done : chunk;
    for (unsigned long i = 0; i < k; i++)
      buf[i] = byte_at(off + done + i, seed);
    long r = write(fd, buf, k);
    if (r <= 0)
      return done;
    done += r;
    if ((unsigned long)r < k)
      break;
  }
  return done;
}

// Does fd hold the pattern (seed) for n bytes from offset off?
static int has_pattern(int fd, unsigned long off, unsigned long n, int seed)
{
  for (unsigned long done = 0; done < n;) {
    unsigned long k = n - done < sizeof(buf) ? n - done : sizeof(buf);
    if (read(fd, buf, k) != (long)k)
      return 0;
    for (unsigned long i = 0; i < k; i++)
      if (buf[i] != byte_at(off + done + i, seed))
        return 0;
    done += k;
  }
  return 1;
}

// Does the disk itself hold the pattern (seed) for n bytes (at most
// sizeof(buf2)) of the file at path from offset off, read through the
// disk's format (diskfs, as fsck and mkfs read it) instead of the server?
// -1 if this program cannot read the disk (only the first program holds
// the binding).
static int pattern_on_disk(const char *path, unsigned long off, unsigned long n, int seed)
{
  struct diskfs_file f;
  long r = diskfs_open(path, &f);
  if (r == -E_NOBINDING)
    return -1;
  if (r < 0 || diskfs_read(&f, buf2, off, n) != (long)n)
    return 0;
  for (unsigned long i = 0; i < n; i++)
    if (buf2[i] != byte_at(off + i, seed))
      return 0;
  return 1;
}

// ---------------------------------------------------------------- the tests

// Create, write, read back, stat, truncate, append, seek, holes.
static void files(void)
{
  struct stat st;
  int fd = open("f1", O_CREAT | O_RDWR);
  CHECK(fd >= 0, "create f1: %s", exos_strerror(fd));
  CHECK(write_pattern(fd, 0, 10000, 1, 3000) == 10000, "write 10000 bytes");
  CHECK(fstat(fd, &st) == 0 && st.size == 10000 && st.type == T_FILE && st.nlink == 1,
        "fstat after writing");
  CHECK(lseek(fd, 0, SEEK_SET) == 0 && has_pattern(fd, 0, 10000, 1), "read it back");
  CHECK(read(fd, buf, 10) == 0, "read at the end gives 0");
  CHECK(lseek(fd, 5000, SEEK_SET) == 5000 && has_pattern(fd, 5000, 100, 1), "seek and read");
  CHECK(lseek(fd, -1, SEEK_SET) == -E_INVAL && lseek(fd, 0, 7) == -E_INVAL, "bad seeks refused");
  close(fd);
  fd = open("f1", O_WRONLY | O_APPEND);
  CHECK(write(fd, "tail", 4) == 4, "append");
  CHECK(read(fd, buf, 1) == -E_BADF, "reading a write-only descriptor refused");
  close(fd);
  CHECK(stat("f1", &st) == 0 && st.size == 10004, "appended at the end");
  fd = open("f1", O_RDWR | O_TRUNC);
  CHECK(fstat(fd, &st) == 0 && st.size == 0, "O_TRUNC empties it");
  CHECK(lseek(fd, 300000, SEEK_SET) == 300000 && write(fd, "x", 1) == 1, "write past the end");
  CHECK(lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, 4096) == 4096, "read the hole");
  int zeros = 1;
  for (int i = 0; i < 4096; i++)
    zeros &= buf[i] == 0;
  CHECK(zeros, "a hole reads as zeros");
  CHECK(lseek(fd, 0, SEEK_END) == 300001, "SEEK_END");
  close(fd);
  fd = open("f1", O_RDONLY);
  CHECK(write(fd, "x", 1) == -E_BADF, "writing a read-only descriptor refused");
  close(fd);
  CHECK(open("nosuch", O_RDONLY) == -E_NOTFOUND, "open a missing file: E_NOTFOUND");
  CHECK(open("f1", 3) == -E_INVAL, "bad open mode refused");
  CHECK(unlink("f1") == 0 && open("f1", O_RDONLY) == -E_NOTFOUND, "unlink");
}

// Directories: ".", "..", relative paths, errors.
static void dirs(void)
{
  struct stat st;
  CHECK(mkdir("dd") == 0 && mkdir("dd/ee") == 0, "mkdir dd dd/ee");
  CHECK(mkdir("dd") == -E_EXIST, "mkdir an existing name: E_EXIST");
  CHECK(chdir("dd/ee") == 0, "chdir dd/ee");
  int fd = open("../ff", O_CREAT | O_WRONLY);
  CHECK(fd >= 0 && write(fd, "hi", 2) == 2, "create ../ff");
  close(fd);
  CHECK(chdir("../..") == 0 && stat("dd/ff", &st) == 0 && st.size == 2, "chdir ../.. and find it");
  CHECK(stat("dd", &st) == 0 && st.type == T_DIR && st.nlink == 2, "dd has 2 links (ee's ..)");
  CHECK(stat("dd/ee/../ee/./..", &st) == 0 && st.type == T_DIR, "paths through . and ..");
  CHECK(stat("/", &st) == 0 && st.ino == ROOTINO && stat("/..", &st) == 0 && st.ino == ROOTINO,
        "the root's .. is the root");
  CHECK(open("dd", O_WRONLY) == -E_ISDIR, "open a directory for writing: E_ISDIR");
  CHECK(open("dd/ff/x", O_RDONLY) == -E_NOTDIR, "a file as a directory: E_NOTDIR");
  CHECK(chdir("dd/ff") == -E_NOTDIR, "chdir to a file: E_NOTDIR");
  fd = open("dd/aaaaaaaaaaaaaaaaaaaa", O_CREAT | O_RDWR);
  close(fd);
  CHECK(fd >= 0 && stat("dd/aaaaaaaaaaaaaa", &st) == 0 && unlink("dd/aaaaaaaaaaaaaaXY") == 0,
        "a name longer than DIRSIZ means its first DIRSIZ characters, as in xv6");
  CHECK(unlink("dd") == -E_NOTEMPTY, "unlink a non-empty directory: E_NOTEMPTY");
  CHECK(unlink("dd/.") == -E_INVAL && unlink("dd/..") == -E_INVAL, "unlink . or .. refused");
  CHECK(rename("dd", "dd/ee/x") == -E_INVAL, "rename a directory into itself refused");
  CHECK(mkdir("dd/gg") == 0 && rename("dd/gg", "dd/ee") == 0 && stat("dd/gg", &st) < 0,
        "rename a directory over an empty one");
  CHECK(rename("dd/ee", "ee2") == 0 && stat("ee2/..", &st) == 0 && st.ino == ROOTINO,
        "a directory moved to the root: its .. follows");
  CHECK(stat("dd", &st) == 0 && st.nlink == 1, "dd lost the link of the moved directory");
  CHECK(rmdir("dd/ff") == -E_NOTDIR && rmdir("dd") == -E_NOTEMPTY,
        "rmdir refuses a file, a full one");
  CHECK(unlink("dd/ff") == 0 && rmdir("dd") == 0 && unlink("ee2") == 0, "remove them all");
}

// Hard links.
static void links(void)
{
  struct stat st, st2;
  int fd = open("l1", O_CREAT | O_RDWR);
  write(fd, "linked", 6);
  close(fd);
  CHECK(link("l1", "l2") == 0, "link l1 l2");
  CHECK(stat("l1", &st) == 0 && stat("l2", &st2) == 0 && st.ino == st2.ino && st.nlink == 2,
        "both names, one inode, 2 links");
  CHECK(link("l1", "l2") == -E_EXIST, "link to an existing name: E_EXIST");
  CHECK(link(".", "dotlink") == -E_ISDIR, "link a directory: E_ISDIR");
  CHECK(rename("l1", "l2") == 0 && stat("l1", &st) == 0, "rename onto another link: no change");
  CHECK(unlink("l1") == 0 && stat("l2", &st) == 0 && st.nlink == 1, "unlink one name");
  fd = open("l2", O_RDONLY);
  CHECK(read(fd, buf, 10) == 6 && memcmp(buf, "linked", 6) == 0, "the other still reads");
  close(fd);
  CHECK(unlink("l2") == 0, "unlink the last");
}

// A file unlinked while open lives until its last close.
static void unlink_open(void)
{
  int fd = open("uo", O_CREAT | O_RDWR);
  CHECK(write_pattern(fd, 0, 50000, 3, 4096) == 50000, "write 50000 bytes");
  CHECK(unlink("uo") == 0 && open("uo", O_RDONLY) == -E_NOTFOUND, "unlink: the name is gone");
  CHECK(lseek(fd, 0, SEEK_SET) == 0 && has_pattern(fd, 0, 50000, 3), "still readable");
  CHECK(write(fd, "more", 4) == 4, "still writable");
  int pid = fork();
  if (pid == 0) {
    close(fd);  // the parent still holds it
    exit(0);
  }
  waitpid(pid, NULL);
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.nlink == 0 && st.size == 50004, "a child's close keeps it");
  close(fd);  // now it goes: the leak check after the test sees its blocks back
}

// Files in each block range: direct, single- and double-indirect.
static void bigfile(void)
{
  int fd = open("big", O_CREAT | O_RDWR);
  unsigned long size = full ? 6UL << 20 : 600 << 10;
  CHECK(write_pattern(fd, 0, size, 4, sizeof(buf)) == (long)size, "write %lu bytes", size);
  // Past the file, in the double-indirect range (its third indirect block).
  unsigned long dbl = (NDIRECT + NINDIRECT + 2 * NINDIRECT + 5) * 4096UL;
  CHECK(lseek(fd, dbl, SEEK_SET) == (long)dbl && write_pattern(fd, dbl, 9000, 5, 4096) == 9000,
        "write in the double-indirect range");
  // Then in its first indirect block: an operation after the one that made
  // the double-indirect block adds an indirect block to it.
  unsigned long dbl0 = (NDIRECT + NINDIRECT + 7) * 4096UL;
  CHECK(lseek(fd, dbl0, SEEK_SET) == (long)dbl0 && write_pattern(fd, dbl0, 4096, 6, 4096) == 4096,
        "write in another indirect block of the double-indirect range");
  // Across the boundary: the last single-indirect block and the first
  // double-indirect one.
  unsigned long edge = (NDIRECT + NINDIRECT - 1) * 4096UL;
  CHECK(lseek(fd, edge, SEEK_SET) == (long)edge && write_pattern(fd, edge, 8192, 7, 8192) == 8192,
        "write across the single- to double-indirect boundary");
  CHECK(lseek(fd, 0, SEEK_SET) == 0 && has_pattern(fd, 0, size, 4), "read it all back");
  CHECK(lseek(fd, edge, SEEK_SET) == (long)edge && has_pattern(fd, edge, 8192, 7),
        "and the blocks at the boundary");
  CHECK(pattern_on_disk("big", edge, 8192, 7) != 0,
        "the boundary's blocks are where the disk's format puts them (read from the disk)");
  CHECK(lseek(fd, dbl, SEEK_SET) == (long)dbl && has_pattern(fd, dbl, 9000, 5), "and the far end");
  CHECK(lseek(fd, dbl0, SEEK_SET) == (long)dbl0 && has_pattern(fd, dbl0, 4096, 6),
        "and the other block");
  CHECK(pattern_on_disk("big", dbl, 4096, 5) != 0 && pattern_on_disk("big", dbl0, 4096, 6) != 0,
        "both are where the disk's format puts them (read from the disk, not the server)");
  close(fd);
  CHECK(unlink("big") == 0, "unlink it");
}

// Many files in one directory.
static void manyfiles(void)
{
  int n = full ? 600 : 150, made = 0, found = 0;
  CHECK(mkdir("many") == 0, "mkdir many");
  for (int i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof(name), "many/f%d", i);
    int fd = open(name, O_CREAT | O_WRONLY);
    made += fd >= 0 && write(fd, name, strlen(name)) == (long)strlen(name);
    close(fd);
  }
  CHECK(made == n, "made %d of %d files", made, n);
  int fd = open("many", O_RDONLY);
  struct dirent de;
  while (read(fd, &de, sizeof(de)) == sizeof(de))
    found += de.inum != 0 && de.name[0] == 'f';
  close(fd);
  CHECK(found == n, "the directory lists %d of %d", found, n);
  for (int i = 0; i < n; i++) {
    snprintf(buf2, sizeof(buf2), "many/f%d", i);
    unlink(buf2);
  }
  CHECK(unlink("many") == 0, "and the emptied directory goes");
}

// Fill the disk: a write comes back short, then E_NOSPC; removing the
// file gives every block back.
static void fulldisk(void)
{
  struct fs_statfs s;
  fs_statfs(&s);
  int fd = open("fill", O_CREAT | O_WRONLY);
  unsigned long total = 0;
  long r;
  memset(buf, 'F', sizeof(buf));
  while ((r = write(fd, buf, sizeof(buf))) == sizeof(buf))
    total += r;
  if (r > 0)
    total += r;
  CHECK(write(fd, buf, 1) == -E_NOSPC, "a write to a full disk: E_NOSPC");
  CHECK(total / 4096 + NINDIRECT > s.free_blocks && total / 4096 <= s.free_blocks,
        "%lu bytes fitted in %lu free blocks", total, s.free_blocks);
  close(fd);
  CHECK(unlink("fill") == 0, "remove the filler");
}

// Several processes write at once: appends are atomic and none is lost.
static void concurrent(void)
{
  enum { NPROC = 4, RECLEN = 32 };
  const unsigned long NREC = full ? 100 : 30;
  int fd = open("shared", O_CREAT | O_RDWR | O_TRUNC);
  close(fd);
  for (int p = 0; p < NPROC; p++) {
    if (fork() == 0) {
      int afd = open("shared", O_WRONLY | O_APPEND);
      char own[16];
      snprintf(own, sizeof(own), "own%d", p);
      for (unsigned long i = 0; i < NREC; i++) {
        char rec[RECLEN + 1];
        snprintf(rec, sizeof(rec), "proc %d record %4lu ............\n", p, i);
        write(afd, rec, RECLEN);
        int ofd = open(own, O_CREAT | O_RDWR | O_TRUNC);  // churn: create, write, unlink
        write(ofd, rec, RECLEN);
        close(ofd);
        unlink(own);
      }
      exit(0);
    }
  }
  for (int p = 0; p < NPROC; p++)
    wait(NULL);
  struct stat st;
  CHECK(stat("shared", &st) == 0 && st.size == NPROC * NREC * RECLEN, "size %lu, want %lu", st.size,
        NPROC * NREC * RECLEN);
  unsigned long next[NPROC] = {0};
  int good = 1;
  fd = open("shared", O_RDONLY);
  char rec[RECLEN];
  while (read(fd, rec, RECLEN) == RECLEN) {
    const char *num = rec + 14;  // "proc P record NNNN ...."
    while (*num == ' ')
      num++;
    int p = rec[5] - '0';
    unsigned long i = atoi(num);
    if (p < 0 || p >= NPROC || i != next[p]++ || rec[RECLEN - 1] != '\n')
      good = 0;
  }
  close(fd);
  CHECK(good, "every record whole and in its writer's order");
  unlink("shared");
}

// Descriptors across fork share the offset; spawn hands them over too;
// a file written here runs as a program.
static void fds_fork(void)
{
  int fd = open("ff", O_CREAT | O_RDWR | O_TRUNC);
  int pid = fork();
  if (pid == 0) {
    write(fd, "child,", 6);
    exit(0);
  }
  waitpid(pid, NULL);
  write(fd, "parent", 6);
  lseek(fd, 0, SEEK_SET);
  CHECK(read(fd, buf, 100) == 12 && memcmp(buf, "child,parent", 12) == 0,
        "parent and child share the offset");
  close(fd);
  unlink("ff");

  // Copy /echo to a new file and run the copy, its output to a file.
  int in = open("/echo", O_RDONLY), out = open("echo2", O_CREAT | O_WRONLY | O_TRUNC);
  long n, copied = 0;
  while ((n = read(in, buf, sizeof(buf))) > 0)
    copied += write(out, buf, n);
  close(in);
  close(out);
  out = open("echo.out", O_CREAT | O_WRONLY | O_TRUNC);
  int saved = dup(1);
  dup2(out, 1);
  char *argv[] = {"echo2", "ran", "the", "copy", NULL};
  pid = spawn("echo2", argv);
  dup2(saved, 1);
  close(saved);
  close(out);
  int status = -1;
  CHECK(pid > 0 && waitpid(pid, &status) == pid && status == 0, "spawn the copied program");
  in = open("echo.out", O_RDONLY);
  CHECK(read(in, buf, 100) == 13 && memcmp(buf, "ran the copy\n", 13) == 0,
        "its output went to the file");
  close(in);
  unlink("echo.out");
  unlink("echo2");
}

// A pipe between two processes carries more than its buffer.
static void pipes(void)
{
  int p[2], total = 0, ok = 1;
  CHECK(pipe(p) == 0, "pipe");
  int pid = fork();
  if (pid == 0) {
    close(p[0]);
    for (int i = 0; i < 20; i++) {
      memset(buf, 'a' + i, 1000);
      write(p[1], buf, 1000);
    }
    exit(0);
  }
  close(p[1]);
  long n;
  while ((n = read(p[0], buf2, sizeof(buf2))) > 0) {
    for (long i = 0; i < n; i++)
      ok &= buf2[i] == 'a' + (total + i) / 1000;
    total += n;
  }
  close(p[0]);
  waitpid(pid, NULL);
  CHECK(total == 20000 && ok, "20000 bytes through the pipe, in order (%d)", total);
}

// The file server trusts no client: another process's open files,
// unterminated paths, oversized reads and unknown calls are refused, and a
// process killed while holding an unlinked file does not leak it.
static void hostile(void)
{
  int p[2];
  char c;
  pipe(p);
  int pid = fork();
  if (pid == 0) {
    int fd = open("secret", O_CREAT | O_RDWR);
    write(fd, "secret", 6);
    unlink("secret");  // only the open keeps it now
    write(p[1], "x", 1);
    for (;;)
      sys_yield(0);
  }
  read(p[0], &c, 1);
  unsigned int fsd = fs_server(0);
  int refused = 0;
  for (long f = 0; f < 1024; f++) {
    struct rpc_msg m = {{FS_READ, f, 0, 6, 0}};
    refused += rpc_call(fsd, &m) == -E_BADF;
  }
  CHECK(refused == 1024, "reads of open files this process does not hold refused (%d)", refused);
  char *page = rpc_buffer(fsd);
  memset(page, 'a', PGSIZE);
  struct rpc_msg m = {{FS_OPEN, ROOTINO, 0}};
  CHECK(rpc_call(fsd, &m) == -E_NAMETOOLONG, "a path with no end refused");
  m = (struct rpc_msg){{99}};
  CHECK(rpc_call(fsd, &m) == -E_INVAL, "an unknown call refused");
  int fd = open("mine", O_CREAT | O_RDWR);
  struct fs_file ff;
  CHECK(fs_open("mine", O_RDONLY, &ff) == 0, "open it at the server");
  m = (struct rpc_msg){{FS_READ, ff.file, 0, PGSIZE + 1, ff.hold}};
  CHECK(rpc_call(fsd, &m) == -E_INVAL, "a read bigger than the page refused");
  fs_close(&ff);
  close(fd);
  unlink("mine");
  kill(pid);
  waitpid(pid, NULL);
  close(p[0]);
  close(p[1]);

  // Only the file server may touch the disk: a spawned program gets no
  // binding (this program, the first, has the whole disk from the kernel).
  char *argv[] = {"usertests", "--write-superblock", NULL};
  int status = -1;
  pid = spawn("/usertests", argv);
  CHECK(pid > 0 && waitpid(pid, &status) == pid && status == 0,
        "a spawned program's disk write refused (status %d)", status);
}

// A program that holds no disk binding has the file server bind it its
// file's blocks (fs_bind, as paged regions do): it reads and writes them
// itself, and loses them when the file is truncated.
static void bind_blocks(void)
{
  int fd = open("/bound", O_CREAT | O_RDWR | O_TRUNC);
  CHECK(write_pattern(fd, 0, 3 * PGSIZE, 6, PGSIZE) == 3 * PGSIZE, "write three pages");
  CHECK(lseek(fd, 5 * PGSIZE, SEEK_SET) == 5 * PGSIZE && write(fd, "end", 3) == 3,
        "write a sixth page after a hole");
  close(fd);
  char *argv[] = {"usertests", "--bound", NULL};
  int status = -1, pid = spawn("/usertests", argv);
  CHECK(pid > 0 && waitpid(pid, &status) == pid && status == 0,
        "a spawned program used its bound blocks (status %d)", status);
  unlink("/bound");
}

// bind_blocks()'s spawned half: bind /bound's blocks, read and write them
// straight on the disk, then truncate the file. Returns 0 if all went as
// it should.
static int bound(void)
{
  struct fs_file f;
  unsigned int blocks[3], b;
  long ppn = vm_alloc(0x2000000000UL - PGSIZE, PTE_R | PTE_W), r;
  char *page = (char *)(0x2000000000UL - PGSIZE);
  CHECK(ppn > 0 && fs_open("/bound", O_RDWR, &f) == 0, "open /bound");
  CHECK((r = fs_bind(&f, 0, 3, blocks)) == 0, "bind its three pages: %s", exos_strerror(r));
  CHECK(fs_bind(&f, 3, 1, &b) == -E_INVAL, "binding a hole refused");
  CHECK(fs_bind(&f, 6, 1, &b) == -E_INVAL, "binding past the end refused");
  r = sys_disk_io(blocks[1], ppn, 0);
  CHECK(r >= 0 && sys_disk_wait(r) == 0 && page[7] == byte_at(PGSIZE + 7, 6),
        "read the second page's block: %s", exos_strerror(r));
  memmove(page, "written on the disk", 19);
  r = sys_disk_io(blocks[1], ppn, 1);
  CHECK(r >= 0 && sys_disk_wait(r) == 0, "write it: %s", exos_strerror(r));
  CHECK(fs_pread(&f, buf, PGSIZE, 19) == 19 && memcmp(buf, "written on the disk", 19) == 0,
        "the server reads what was written on the disk");
  int fd = open("/bound", O_RDWR | O_TRUNC);
  close(fd);
  CHECK(sys_disk_io(blocks[0], ppn, 0) == -E_NOBINDING, "truncating the file took the blocks back");
  fs_close(&f);
  return failures != 0;
}

// Bad pointers get an error, not death: every call handed memory the
// program may not use (unmapped, past the heap, read-only, the kernel's)
// returns -E_FAULT, changes nothing, and the program goes on.
static void bad_pointers(void)
{
  char *const wild[] = {(char *)0x80000000UL, (char *)-1UL, (char *)1, (char *)bad_pointers};
  char *heap_end = (char *)sbrk(0) - 1;  // one good byte, then no heap
  *heap_end = 'x';
  int fd = open("bp", O_CREAT | O_RDWR | O_TRUNC), p[2];
  CHECK(write(fd, "0123456789", 10) == 10 && lseek(fd, 0, SEEK_SET) == 0, "a file to read");
  for (int i = 0; i < 3; i++) {
    CHECK(write(fd, wild[i], 8) == -E_FAULT, "a file write from %p fails", wild[i]);
    CHECK(read(fd, wild[i], 8) == -E_FAULT, "a file read into %p fails", wild[i]);
    CHECK(open(wild[i], O_CREAT | O_RDWR) == -E_FAULT && unlink(wild[i]) == -E_FAULT &&
              mkdir(wild[i]) == -E_FAULT && link("bp", wild[i]) == -E_FAULT,
          "a path at %p fails", wild[i]);
    char *argv[] = {"echo", wild[i], NULL}, *good[] = {"echo", NULL};
    CHECK(spawn(wild[i], good) == -E_FAULT && exec(wild[i], good) == -E_FAULT &&
              spawn("echo", argv) == -E_FAULT && exec("echo", argv) == -E_FAULT &&
              spawn("echo", (char **)wild[i]) == -E_FAULT,
          "spawn and exec with a path, argument or argv at %p fail", wild[i]);
  }
  CHECK(read(fd, wild[3], 8) == -E_FAULT, "a read into the program's text fails");
  CHECK(read(fd, heap_end, -1UL) == -E_FAULT, "a read running past the heap fails");
  CHECK(open(heap_end, O_RDONLY) == -E_FAULT, "a path running past the heap fails");
  CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "0123", 4) == 0, "the failed reads moved nothing");
  char *fresh = (char *)sbrk(2 * PGSIZE) + PGSIZE - 2;
  CHECK(read(fd, fresh, 4) == 4 && memcmp(fresh, "4567", 4) == 0,
        "a read into heap pages not yet touched maps them");
  sbrk(-2 * PGSIZE);
  CHECK(write(fd, fresh, 2) == -E_FAULT, "a write from memory given back fails");
  close(fd);
  unlink("bp");

  pipe(p);
  CHECK(write(p[1], wild[0], 1) == -E_FAULT && write(p[1], "ab", 2) == 2,
        "a pipe write from a bad pointer fails; a good one goes on");
  CHECK(read(p[0], wild[1], 2) == -E_FAULT && read(p[0], buf, 2) == 2 && memcmp(buf, "ab", 2) == 0,
        "a pipe read into a bad pointer fails and leaves the bytes");
  close(p[0]);
  close(p[1]);
  CHECK(write(1, wild[0], 8) == -E_FAULT, "a console write from a bad pointer fails");
  struct stat st;
  fd = open("/README.md", O_RDONLY);
  CHECK(fstat(fd, (struct stat *)wild[0]) == -E_FAULT &&
            stat("/", (struct stat *)wild[3]) == -E_FAULT,
        "fstat and stat into a bad pointer fail");
  CHECK(stat(wild[1], &st) == -E_FAULT, "stat of a bad path fails");
  int pid = fork(), status = 5;
  if (pid == 0)  // buf is shared copy-on-write now: the read copies its page
    exit(read(fd, buf, 7) == 7 && memcmp(buf, "# rvexo", 7) == 0 ? 0 : 1);
  CHECK(waitpid(pid, &status) == pid && status == 0, "a read into a copy-on-write page copies it");
  close(fd);
  CHECK(pipe((int *)(fresh + 2)) == -E_FAULT, "pipe into memory given back fails");
  pid = fork();
  if (pid == 0)
    exit(3);
  CHECK(waitpid(pid, (int *)wild[0]) == -E_FAULT && waitpid(pid, &status) == pid && status == 3,
        "a wait that stores into a bad pointer fails, and the child stays to be waited for");
}

// Try to overwrite the superblock straight on the disk (run spawned, by
// hostile()). Returns 0 if the kernel refuses.
static int write_superblock(void)
{
  long ppn = vm_alloc(0x2000000000UL - PGSIZE, PTE_R | PTE_W);
  long r = ppn < 0 ? ppn : sys_disk_io(FS_SUPERBLK, ppn, 1);
  if (r >= 0)
    sys_disk_wait(r);
  printf("usertests: a spawned program's disk write: %s\n", exos_strerror(r));
  return r == -E_NOBINDING ? 0 : 1;
}

// Open path and read it: does it hold exactly the text want?
static int reads(const char *path, const char *want)
{
  int fd = open(path, O_RDONLY);
  long n = fd < 0 ? fd : read(fd, buf, sizeof(buf));
  if (fd >= 0)
    close(fd);
  return n == (long)strlen(want) && memcmp(buf, want, n) == 0;
}

// Symbolic links: to a file, to a directory in the middle of a path,
// relative to the link's own directory, dangling, in a loop, in a chain up
// to the bound; unlink removes the link, not its target.
static void symlinks(void)
{
  struct stat st;
  char name[16], target[16];
  CHECK(mkdir("sl") == 0 && mkdir("sl/d") == 0, "mkdir sl sl/d");
  int fd = open("sl/f", O_CREAT | O_RDWR);
  CHECK(write(fd, "target", 6) == 6, "write sl/f");
  close(fd);
  CHECK(symlink("f", "sl/a") == 0, "symlink f sl/a");
  CHECK(reads("sl/a", "target"), "open sl/a reads sl/f (f is relative to the link's directory)");
  CHECK(lstat("sl/a", &st) == 0 && st.type == T_SYMLINK && st.size == 1,
        "lstat sl/a: a link of 1 byte (type %d, size %lu)", st.type, st.size);
  CHECK(stat("sl/a", &st) == 0 && st.type == T_FILE && st.size == 6, "stat sl/a: the file");
  CHECK(readlink("sl/a", name, sizeof(name)) == 1 && name[0] == 'f', "readlink sl/a: f");
  CHECK(symlink("x", "sl/a") == -E_EXIST && symlink("", "sl/e") == -E_INVAL,
        "symlink onto a name: E_EXIST; to the empty path: E_INVAL");
  CHECK(symlink("../f", "sl/d/up") == 0 && reads("sl/d/up", "target"),
        "sl/d/up -> ../f reads sl/f (from sl/d, not from the current directory)");
  CHECK(symlink("/sl/d", "sl/dl") == 0, "symlink /sl/d sl/dl");
  fd = open("sl/dl/g", O_CREAT | O_RDWR);
  CHECK(fd >= 0 && write(fd, "via", 3) == 3, "create sl/dl/g through the link to a directory");
  close(fd);
  CHECK(reads("sl/d/g", "via"), "sl/d/g is the file made through sl/dl");
  CHECK(chdir("sl/dl") == 0 && reads("g", "via") && chdir("/") == 0, "chdir through a link");
  fd = open("sl/a", O_WRONLY | O_TRUNC);
  CHECK(fd >= 0 && write(fd, "TARGET", 6) == 6, "write through the link");
  close(fd);
  CHECK(reads("sl/f", "TARGET"), "the write went to sl/f");
  CHECK(symlink("nothere", "sl/dang") == 0 && open("sl/dang", O_RDONLY) == -E_NOTFOUND &&
            lstat("sl/dang", &st) == 0,
        "a dangling link: open finds nothing, lstat finds the link");
  CHECK(symlink("self", "sl/self") == 0 && open("sl/self", O_RDONLY) == -E_LOOP,
        "a link to itself: E_LOOP, not a hang");
  CHECK(symlink("/sl/l2", "sl/l1") == 0 && symlink("l1/x", "sl/l2") == 0 &&
            open("sl/l1", O_RDONLY) == -E_LOOP && stat("sl/l2/y", &st) == -E_LOOP,
        "two links naming each other: E_LOOP");
  // A chain of 8 links (c1 -> c2 -> ... -> c8 -> f) is followed; 9 are too many.
  for (int i = 1; i <= 9; i++) {
    snprintf(name, sizeof(name), "sl/c%d", i);
    snprintf(target, sizeof(target), i < 9 ? "c%d" : "f", i + 1);
    CHECK(symlink(target, name) == 0, "symlink %s %s", target, name);
  }
  CHECK(reads("sl/c2", "TARGET"), "a chain of 8 links is followed");
  CHECK(open("sl/c1", O_RDONLY) == -E_LOOP, "a chain of 9 links: E_LOOP");
  CHECK(unlink("sl/a") == 0 && lstat("sl/a", &st) == -E_NOTFOUND && reads("sl/f", "TARGET"),
        "unlink sl/a removes the link, not sl/f");
  const char *gone[] = {"sl/d/up", "sl/dl", "sl/d/g", "sl/dang", "sl/self", "sl/l1", "sl/l2",
                        "sl/f"};
  for (unsigned long i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
    CHECK(unlink(gone[i]) == 0, "unlink %s", gone[i]);
  for (int i = 1; i <= 9; i++) {
    snprintf(name, sizeof(name), "sl/c%d", i);
    CHECK(unlink(name) == 0, "unlink %s", name);
  }
  CHECK(rmdir("sl/d") == 0 && rmdir("sl") == 0, "rmdir sl/d sl");
}

static const struct {
  const char *name;
  void (*fn)(void);
} tests[] = {
    {"files", files},           {"dirs", dirs},
    {"links", links},           {"unlinkopen", unlink_open},
    {"bigfile", bigfile},       {"manyfiles", manyfiles},
    {"concurrent", concurrent}, {"fdsfork", fds_fork},
    {"pipes", pipes},           {"hostile", hostile},
    {"badptr", bad_pointers},   {"bind", bind_blocks},
    {"fulldisk", fulldisk},     {"symlinks", symlinks},
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

// Is name a test's?
static int is_test(const char *name)
{
  for (unsigned long t = 0; t < NTESTS; t++)
    if (strcmp(tests[t].name, name) == 0)
      return 1;
  return 0;
}

int main(int argc, char **argv)
{
  int first = 1, ran = 0, failed = 0;
  if (argc == 2 && strcmp(argv[1], "--write-superblock") == 0)
    return write_superblock();
  if (argc == 2 && strcmp(argv[1], "--bound") == 0)
    return bound();
  if (argc > 1 && strcmp(argv[1], "-f") == 0) {
    full = 1;
    first = 2;
  }
  for (int i = first; i < argc; i++)
    if (!is_test(argv[i])) {
      fprintf(2, "usertests: unknown %s %s\nusage: usertests [-f] [TEST...]; the tests:",
              argv[i][0] == '-' ? "option" : "test", argv[i]);
      for (unsigned long t = 0; t < NTESTS; t++)
        fprintf(2, " %s", tests[t].name);
      fprintf(2, "\n");
      return 2;
    }
  for (unsigned long t = 0; t < NTESTS; t++) {
    int wanted = first == argc;
    for (int i = first; i < argc; i++)
      wanted |= strcmp(argv[i], tests[t].name) == 0;
    if (!wanted)
      continue;
    struct fs_statfs before, after;
    long err = fs_statfs(&before);
    if (err < 0) {
      printf("usertests: no file system: %s\n", exos_strerror(err));
      return 1;
    }
    failures = 0;
    tests[t].fn();
    fs_statfs(&after);
    CHECK(after.free_blocks == before.free_blocks && after.free_inodes == before.free_inodes,
          "leaked %ld blocks and %ld inodes", (long)(before.free_blocks - after.free_blocks),
          (long)(before.free_inodes - after.free_inodes));
    printf("usertests: %s: %s\n", tests[t].name, failures ? "FAILED" : "ok");
    ran++;
    failed += failures != 0;
  }
  if (failed)
    printf("usertests: %d of %d tests FAILED\n", failed, ran);
  else
    printf("usertests: all %d tests passed\n", ran);
  return failed != 0;
}
