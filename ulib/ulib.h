// ExOS: the library operating system every rvexo program links.
// This header is what a program includes.
#ifndef EXOS_ULIB_H
#define EXOS_ULIB_H

#include <stdarg.h>
#include "kernel/types.h"
#include "kernel/fmt.h"
#include "kernel/string.h"
#include "syscall.h"
#include "ulib/fsformat.h"

// Errors of ExOS's own, numbered after the kernel's (ERROR_LIST in
// kernel/abi.h); functions return them negated, like the kernel's.
#define EXOS_ERROR_LIST(X)                                                                         \
  X(64, E_NOTFOUND, "no such file or directory")                                                   \
  X(65, E_NOTDIR, "not a directory")                                                               \
  X(66, E_BADFS, "no rvexo file system on the disk")                                               \
  X(67, E_NOEXEC, "not an rvexo program")                                                          \
  X(68, E_2BIG, "argument list too long")                                                          \
  X(69, E_BADF, "bad file descriptor")                                                             \
  X(70, E_MFILE, "too many open file descriptors")                                                 \
  X(71, E_NFILE, "too many open files")                                                            \
  X(72, E_PIPE, "broken pipe: nobody reads it")                                                    \
  X(73, E_EXIST, "file exists")                                                                    \
  X(74, E_ISDIR, "is a directory")                                                                 \
  X(75, E_NOTEMPTY, "directory not empty")                                                         \
  X(76, E_NOSPC, "no space left on the file system")                                               \
  X(77, E_NAMETOOLONG, "file name too long")                                                       \
  X(78, E_FBIG, "file too large")                                                                  \
  X(79, E_MLINK, "too many links")                                                                 \
  X(80, E_NODEV, "no such device")                                                                \
  X(81, E_LOOP, "too many symbolic links")                                                         \
  X(82, E_CONNREFUSED, "connection refused")                                                       \
  X(83, E_CONNRESET, "connection reset by the peer")                                               \
  X(84, E_NOTCONN, "socket not connected")                                                         \
  X(85, E_HOSTUNREACH, "no answer to ARP: host unreachable")                                       \
  X(86, E_NOTSOCK, "not a socket of that kind")
#define EXOS_ERROR_NUMBER(n, name, text) name = n,
enum { EXOS_ERROR_LIST(EXOS_ERROR_NUMBER) };
#undef EXOS_ERROR_NUMBER

struct xframe;
typedef int (*exos_handler)(struct xframe *f);  // returns 1 if it handled the exception

// printf.c: the bottom of ExOS's output (console_write, the console's)
long console_write(const void *buf, unsigned long n);
void printf_set_output(long (*fn)(int fd, const void *buf, unsigned long n));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(int fd, const char *fmt, va_list ap);
const char *exos_strerror(long err);

// hooks.c: how lower layers let higher ones act, and exit, which runs its hooks
void exos_on_fork_skip(int (*fn)(unsigned long va));
void exos_on_fork_share(void (*fn)(unsigned int child, int undo));
void exos_on_fork_child(void (*fn)(void));
void exos_on_exit(void (*fn)(int status));
int exos_fork_skip(unsigned long va);
void exos_fork_share(unsigned int child, int undo);
void exos_fork_child(void);
void exit(int status) __attribute__((noreturn));
void exos_set_backtrace(void (*fn)(unsigned long pc, unsigned long ra, unsigned long fp));
void exos_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
// (ExOS's panic is the symbol exos_panic, so that a program may define a
// panic of its own, as programs written for xv6 do.)
void panic(const char *fmt, ...) __asm__("exos_panic")
    __attribute__((noreturn, format(printf, 1, 2)));
#define assert(e) ((e) ? (void)0 : exos_assert_fail(#e, __FILE__, __LINE__))

// libmain.c: the start-up, at the top
int exos_args(int *argc, char ***argv, int min, int max, const char *usage);

// exception.c, xentry.S
void exos_xentry(void);
exos_handler exos_set_handler(int cause, exos_handler fn);
void exos_backtrace(unsigned long pc, unsigned long ra, unsigned long fp);
const char *exos_progname(void);
long exos_exceptions_init(void);
int exos_fault_is_guarded(const struct xframe *f);

// ucopy.S: touching memory a caller names, which may be bad (-E_FAULT)
long exos_copy(void *dst, const void *src, unsigned long n);
long exos_strnlen(const char *s, unsigned long max);
long exos_probe(const void *p, unsigned long n, int write);

// vm.c
long vm_init(void);
long vm_page_alloc(int type);
const struct page_info *vm_page_info(unsigned long ppn);
unsigned long vm_pte(unsigned long va);
long vm_map(unsigned long va, unsigned long ppn, unsigned long bits);
long vm_map_ad(unsigned long va, unsigned long ppn, unsigned long bits);
long vm_table(unsigned long va);
void vm_window(unsigned long keys[3]);
void vm_adopt(const unsigned long keys[3]);
long vm_unmap(unsigned long va);
long vm_protect(unsigned long va, unsigned long bits);
long vm_protect_range(unsigned long va, unsigned long npages, unsigned long bits);
long vm_alloc(unsigned long va, unsigned long bits);

// diskfs.c: the file system on the disk, read-only, for programs holding a disk binding
struct diskfs_file {
  unsigned int inum;
  struct dinode di;
};
long diskfs_open(const char *path, struct diskfs_file *f);
long diskfs_read(const struct diskfs_file *f, void *dst, unsigned long off, unsigned long n);
unsigned int diskfs_cwd(unsigned int inum);

// fsclient.c: the file system, through the file-system server (fs.c)
struct stat;
#define FS_MAXPATH 256  // the longest path, its NUL included
struct fs_file {        // an open file, as the server knows it
  unsigned long file;   // its number at the server
  long hold;            // the server's record of this process holding it (a hint)
  short type, nlink, major;
  unsigned long size;  // when opened
};
unsigned int fs_server(unsigned int id);
unsigned int fs_server_known(void);
unsigned int fs_server_oldest(void);
void fs_set_starter(int (*start)(const char *path, char *const argv[], int with_disk));
long fs_open(const char *path, int flags, struct fs_file *f);
long fs_read(struct fs_file *f, void *dst, unsigned long n);
long fs_pread(struct fs_file *f, void *dst, unsigned long off, unsigned long n);
long fs_write(struct fs_file *f, const void *src, unsigned long n, int append);
long fs_seek(struct fs_file *f, long off, int whence);
long fs_fstat(struct fs_file *f, struct stat *st);
void fs_close(struct fs_file *f);
long fs_share(struct fs_file *f, unsigned int env);
long fs_bind(struct fs_file *f, unsigned long first, unsigned long n, unsigned int *blocks);
struct fs_statfs {
  unsigned long free_blocks, blocks;  // data blocks
  unsigned long free_inodes, inodes;  // inodes a file could have (not 0 or the root)
};
long fs_statfs(struct fs_statfs *s);
long chdir(const char *path);
int rename(const char *old, const char *new);
int rmdir(const char *path);

// fs.c: the server's side (user/fsd.c)
struct rpc_req;
void fs_handle(struct rpc_req *r);

// spawn.c
#define MAXARGS 256  // arguments spawn and exec pass
int spawn(const char *path, char *const argv[]);
int spawn_server(const char *path, char *const argv[], int with_disk);
int exec(const char *path, char *const argv[]);
void exec_finish(void);


// The network (ether.c, ip.c, udp.c, tcp.c; socket.c for descriptors).
// The design: the kernel hands each program the frames its own packet
// filters accept, so each program carries its own stack. What belongs to
// no single program -- ARP requests for our address and ICMP echo
// requests -- belongs to the daemon netd, which init starts: it answers
// them and nothing else. A program that needs a neighbour's Ethernet
// address asks for it itself: for the moment of the question it installs
// a filter for ARP replies from that address (the last term: the sender's
// IP, so such filters merge), sends the request, records the answer in its
// own cache (entries expire) and removes the filter; it also learns the
// addresses of those who send it IP. Each UDP socket owns its port, each
// TCP listener or connection its local port, through a filter of its own;
// a ping owns the ICMP echo replies that carry its identifier. A port
// another program holds is refused by the kernel (-E_CLAIMED).
// Addresses are in host byte order here; on the wire, network order.
#define NET_IP       0x0A00020FU  // 10.0.2.15: QEMU's user network gives the machine this
#define NET_GATEWAY  0x0A000202U  // 10.0.2.2: its gateway (and the host, seen from here)
#define NET_NETMASK  0xFFFFFF00U  // a /24
#define NET_MAC      {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}  // QEMU's first NIC
#define NET_MTU      1500
#define ETH_HDR      14
#define IP_HDR       20
#define UDP_MAX      (NET_MTU - IP_HDR - 8)  // 1472: the largest UDP payload
#define ETH_IP       0x0800
#define ETH_ARP      0x0806
#define IP_ICMP      1
#define IP_TCP       6
#define IP_UDP       17
#define NET_SECOND   (((const struct sysinfo *)USYSINFO)->timebase_hz)  // rdtime ticks a second

// Big-endian fields of a frame.
static inline unsigned int net_get16(const volatile unsigned char *p)
{
  return p[0] << 8 | p[1];
}
static inline unsigned int net_get32(const volatile unsigned char *p)
{
  return (unsigned int)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}
static inline void net_put16(unsigned char *p, unsigned int v)
{
  p[0] = v >> 8;
  p[1] = v;
}
static inline void net_put32(unsigned char *p, unsigned int v)
{
  net_put16(p, v >> 16);
  net_put16(p + 2, v);
}
struct net_piece {  // part of a frame to send (eth_send)
  const void *p;
  unsigned long n;
};
struct net_stats {  // what the stack dropped, and why
  unsigned long ip_bad, ip_fragments, udp_bad, udp_full, tcp_bad, tcp_unordered,
      tcp_retransmits, tcp_dropped_on_purpose, tcp_resets;
};
extern struct net_stats net_stats;
// ether.c: frames in and out, and ARP
typedef void (*eth_input)(void *arg, const unsigned char *frame, unsigned long len);
long eth_listen(const struct dpf_term *t, int n, int npages, eth_input fn, void *arg);
void eth_unlisten(long h);
long eth_poll(unsigned long deadline);
long eth_send(const unsigned char *dst, unsigned int type, const struct net_piece *p, int n);
long arp_resolve(unsigned int ip, unsigned char mac[6]);
void arp_learn(unsigned int ip, const unsigned char *mac);
long arp_answer(const unsigned char *frame, unsigned long len);
extern const unsigned char net_mac[6];
// ip.c: IPv4 and ICMP
struct ip_packet {  // a packet ip_check accepted
  unsigned int src, dst, proto;
  const unsigned char *data;  // its payload
  unsigned long len;
};
long ip_check(const unsigned char *frame, unsigned long len, struct ip_packet *p);
long ip_send(unsigned int dst, unsigned int proto, const struct net_piece *p, int n);
unsigned long net_sum(unsigned long sum, const void *p, unsigned long n);
unsigned int net_fold(unsigned long sum);
unsigned long ip_pseudo_sum(unsigned int src, unsigned int dst, unsigned int proto, unsigned long n);
long icmp_answer(const unsigned char *frame, unsigned long len);
int net_parse_ip(const char *s, unsigned int *ip);
// udp.c: datagram sockets
struct udp_sock;
struct udp_sock *udp_open(void);
long udp_bind(struct udp_sock *u, unsigned int port);
long udp_sendto(struct udp_sock *u, const void *buf, unsigned long n, unsigned int ip,
                unsigned int port);
long udp_recvfrom(struct udp_sock *u, void *buf, unsigned long n, unsigned int *ip,
                  unsigned int *port);
void udp_close(struct udp_sock *u);
// tcp.c: stream sockets
struct tcp_sock;
extern unsigned int tcp_drop_every;  // a test's knob: drop every Nth segment in and out (0: none)
struct tcp_sock *tcp_open(void);
long tcp_connect(struct tcp_sock *t, unsigned int ip, unsigned int port);
long tcp_listen(struct tcp_sock *t, unsigned int port);
struct tcp_sock *tcp_accept(struct tcp_sock *l, long *err);
long tcp_read(struct tcp_sock *t, void *buf, unsigned long n);
long tcp_write(struct tcp_sock *t, const void *buf, unsigned long n);
void tcp_close(struct tcp_sock *t);
void tcp_peer(const struct tcp_sock *t, unsigned int *ip, unsigned int *port);

// fd.c, pipe.c: file descriptors (the console and pipes, for now)
#define NFD   32       // descriptors a process may have open
#define NFILE 32       // open files (what descriptors name; dup shares one)
struct fd_handed {     // an open file, as spawn and exec hand it over
  unsigned char type;  // 0: not handed over
  unsigned char readable, writable, append;
  unsigned long pipe;        // a pipe's address
  unsigned long file, hold;  // a file's open file and hold at the server
  short ftype;               // the file's type (T_FILE, T_DIR)
};
#include "kernel/stat.h"   // struct stat (ulib/xv6/kernel/stat.h)
#include "kernel/fcntl.h"  // O_RDONLY, ... (ulib/xv6/kernel/fcntl.h)
#define O_CREAT       O_CREATE
#define CONSOLE_MAJOR 1  // a device file of this major is the console (as in xv6)
#define SEEK_SET      0
#define SEEK_CUR      1
#define SEEK_END      2
int open(const char *path, int flags);
long lseek(int fd, long off, int whence);
int fstat(int fd, struct stat *st);
long console_read(void *buf, unsigned long n);
void console_interrupt_cancels(int cancel);
int console_take_interrupt(void);
struct fd_handoff {  // a process's descriptors, for the program it starts
  unsigned long magic;
  unsigned long cwd;  // and its current directory's inode
  unsigned long fsd;  // and its file-system server
  struct fd_handed files[NFILE];
  signed char fds[NFD];
};
#define FD_HANDOFF_MAGIC 0x66646861UL
int close(int fd);
long read(int fd, void *buf, unsigned long n);
long write(int fd, const void *buf, unsigned long n);
int dup(int fd);
int dup2(int fd, int nfd);
int pipe(int pfd[2]);
void fd_close_all(int status);
void fd_share(const struct fd_handoff *h, unsigned int child, int undo);
long fd_handoff(struct fd_handoff *h, int all,
                long (*map)(unsigned long va, unsigned long ppn, void *arg), void *arg);
void fd_init(const struct fd_handoff *h);
struct pipe;
struct pipe *pipe_new(void);
void pipe_hold(struct pipe *p, int writing, unsigned int env, int n);
void pipe_close(struct pipe *p, int writing, int last_here);
long pipe_take(struct pipe *p, void *buf, unsigned long n);
long pipe_write(struct pipe *p, const void *buf, unsigned long n);
void pipe_pages(struct pipe *p, unsigned long *header, unsigned long *data);
extern void (*exos_pipe_looking)(void);  // a test's hook (pipe.c)
extern void (*exos_pipe_retiring)(void);  // a test's hook (pipe.c)

// socket.c: sockets as descriptors (read, write and close work on them)
#define SOCK_DGRAM  1  // UDP
#define SOCK_STREAM 2  // TCP
struct sock;
int socket(int type);
int bind(int fd, unsigned int port);
int connect(int fd, unsigned int ip, unsigned int port);
int listen(int fd, unsigned int port);
int accept(int fd, unsigned int *ip, unsigned int *port);
long sendto(int fd, const void *buf, unsigned long n, unsigned int ip, unsigned int port);
long recvfrom(int fd, void *buf, unsigned long n, unsigned int *ip, unsigned int *port);
struct sock_ops {  // what fd.c calls for a socket descriptor
  long (*read)(struct sock *s, void *buf, unsigned long n);
  long (*write)(struct sock *s, const void *buf, unsigned long n);
  void (*close)(struct sock *s);
};
int fd_socket(struct sock *s, const struct sock_ops *ops);
struct sock *fd_sock(int fd);

// fork.c, context.S
void fork_init(void);
void fork_record_exit(int status);
void disown(int pid);
int fork(void);
int wait(int *status);
int waitpid(int pid, int *status);
int wait_poll(int *status);
int waitpid_or_input(int pid, int *status);
int kill(int pid);
int getpid(void);
extern volatile unsigned long exos_cow_copies;
long exos_save_context(long *ctx);
void exos_resume_context(long *ctx, long value) __attribute__((noreturn));

// rpc.c, rpc_entry.S: remote procedure call over PCT
struct rpc_msg {
  long w[6];  // w[0]: the operation in, the result (or -E_...) out
};
struct rpc_req {
  unsigned int caller;  // written by the kernel: cannot be forged
  struct rpc_msg msg;   // the call; the handler leaves the reply here
  void *buf;            // the page the caller shares with this server, or NULL
};
typedef void (*rpc_handler)(struct rpc_req *r);
void rpc_serve(rpc_handler h) __attribute__((noreturn));
long rpc_call(unsigned int server, struct rpc_msg *m);
void *rpc_buffer(unsigned int server);
void rpc_forget(void);
extern unsigned long exos_rpc_retries;
long exos_pct_call(struct rpc_msg *m, unsigned int server);
void exos_rpc_entry(void);

// compat.c: the rest of xv6's user interface (ulib/xv6/README.md)
int sleep(int ticks);
int uptime(void);
int stat(const char *path, struct stat *st);
char *strcpy(char *dst, const char *src);
char *gets(char *buf, int max);
int atoi(const char *s);
int mknod(const char *path, short major, short minor);
int unlink(const char *path);
int link(const char *old, const char *new);
int symlink(const char *target, const char *path);
int lstat(const char *path, struct stat *st);
long readlink(const char *path, char *buf, unsigned long n);
int mkdir(const char *path);

// stride.c
int stride_add(int pid, unsigned long tickets);
int stride_set_tickets(int pid, unsigned long tickets);
int stride_remove(int pid);
long stride_run(unsigned long ticks);

// vm.c (more)
long vm_for_each_leaf(long (*fn)(unsigned long va, unsigned long pte, void *arg), void *arg);

// revoke.c: paged regions and the replacement policy that answers revocation
struct exos_resident {
  unsigned long va, ppn;
  unsigned long loaded;  // when it was read in (1, 2, 3, ...)
};
typedef int (*exos_policy)(const struct exos_resident *pages, int n);  // returns a victim's index
long region_map(unsigned long va, unsigned long npages, const unsigned int *blocks);
int region_contains(unsigned long va);
int region_resident(void);
void region_set_allowance(unsigned long npages);
void region_sync(void);
exos_policy exos_set_policy(exos_policy p);
// A higher layer's pages it can do without and rebuild (a cache): give(n)
// frees up to n of them and returns how many; taken(ppn) forgets page ppn,
// which the kernel took, and returns 1 if it was one of them.
struct exos_reclaimer {
  unsigned long (*give)(unsigned long n);
  int (*taken)(unsigned long ppn);
};
void exos_set_reclaimer(const struct exos_reclaimer *r);
int exos_policy_clock(const struct exos_resident *pages, int n);
void revoke_init(void);
void exos_revoke_entry(void);
extern void (*exos_revoke_hook)(struct xframe *f);  // xentry.S calls it for revocation
extern volatile unsigned long exos_pageins, exos_pageouts;
extern volatile unsigned long exos_pages_lost;                // vm.c
extern volatile unsigned long exos_critical;  // lock.c, below those who use it
extern volatile int exos_hart_threads;        // lock.c: set once a hart thread has been made
void exos_shared_enter(void), exos_shared_leave(void);
int exos_upcall_lock(void);
void exos_upcall_unlock(int took);

// Enter and leave a section of ExOS code that no asynchronous upcall may
// interrupt, and so no other thread (thread.c). Sections nest. (The count
// is changed by a plain load and store: an upcall or a thread switch comes
// only while it is 0 and leaves it as it found it.) Once the program has
// hart threads, which run beside it on other harts, a section also holds
// ExOS's lock (thread.c, exos_shared_enter), so that it excludes them too.
static inline void exos_critical_enter(void)
{
  if (exos_hart_threads) {
    exos_shared_enter();
    return;
  }
  exos_critical++;
  asm volatile("" ::: "memory");
}
// Leave the section exos_critical_enter() began.
static inline void exos_critical_leave(void)
{
  if (exos_hart_threads) {
    exos_shared_leave();
    return;
  }
  asm volatile("" ::: "memory");
  exos_critical--;
}

// thread.c: preemptive threads inside one program
struct mutex {
  volatile int owner;  // the holder's thread id; 0: free
};
struct cond {
  int unused;  // its sleepers are found in the threads' records
};
int thread_create(void (*fn)(void *), void *arg);
int thread_create_on(void (*fn)(void *), void *arg, int hart);
void thread_yield(void);
int thread_join(int tid);
void thread_exit(void) __attribute__((noreturn));
int thread_self(void);
unsigned long thread_preemptions(int tid);
void mutex_init(struct mutex *m);
int mutex_lock(struct mutex *m);
int mutex_unlock(struct mutex *m);
void cond_init(struct cond *c);
int cond_wait(struct cond *c, struct mutex *m);
void cond_signal(struct cond *c);
void cond_broadcast(struct cond *c);
void thread_fork_child(void);
struct thread;
extern struct thread *(*exos_prologue_hook)(void);  // xentry.S's prologue: the thread to run
extern volatile unsigned long exos_thread_epilogues, exos_thread_prologues, exos_thread_switches;

// ash.c: writing application-specific safe handlers (kernel/abi.h's
// ASH_OP_LIST). One macro per instruction, for a table of struct
// ash_insn; op2 is r[b] + k (b = 0: the constant k). A jump skips the
// next `skip` instructions when taken: count them by hand (the kernel
// refuses a jump past the end, so a miscount is caught at download).
// clang-format off
#define ASH_INSN(op, a, b, c, k) {(op), (a), (b), (c), (k)}
// clang-format on
#define ash_mov(a, b, k)       ASH_INSN(ASH_MOV, a, b, 0, k)
#define ash_add(a, b, k)       ASH_INSN(ASH_ADD, a, b, 0, k)
#define ash_sub(a, b, k)       ASH_INSN(ASH_SUB, a, b, 0, k)
#define ash_and(a, b, k)       ASH_INSN(ASH_AND, a, b, 0, k)
#define ash_or(a, b, k)        ASH_INSN(ASH_OR, a, b, 0, k)
#define ash_xor(a, b, k)       ASH_INSN(ASH_XOR, a, b, 0, k)
#define ash_shl(a, b, k)       ASH_INSN(ASH_SHL, a, b, 0, k)
#define ash_shr(a, b, k)       ASH_INSN(ASH_SHR, a, b, 0, k)
#define ash_ldf(n, a, b, k)    ASH_INSN(ASH_LDF##n, a, b, 0, k)  // n: 1, 2 or 4 bytes
#define ash_ldp(n, a, b, k)    ASH_INSN(ASH_LDP##n, a, b, 0, k)
#define ash_stp(n, a, b, k)    ASH_INSN(ASH_STP##n, a, b, 0, k)
#define ash_copy(a, b, k, c)   ASH_INSN(ASH_COPY, a, b, c, k)  // r[c] bytes: frame op2 -> page r[a]
#define ash_csum(a, b, k, c)   ASH_INSN(ASH_CSUM, a, b, c, k)
#define ash_csumf(a, b, k, c)  ASH_INSN(ASH_CSUMF, a, b, c, k)
#define ash_send(b, k, c)      ASH_INSN(ASH_SEND, 0, b, c, k)
#define ash_jeq(a, b, k, skip) ASH_INSN(ASH_JEQ, a, b, skip, k)
#define ash_jne(a, b, k, skip) ASH_INSN(ASH_JNE, a, b, skip, k)
#define ash_jlt(a, b, k, skip) ASH_INSN(ASH_JLT, a, b, skip, k)
#define ash_jge(a, b, k, skip) ASH_INSN(ASH_JGE, a, b, skip, k)
#define ash_ret(verdict)       ASH_INSN(ASH_RET, 0, 0, 0, verdict)
long ash_udp_echo(long filter, unsigned long ppn);
const char *ash_stop_reason(unsigned int stopped);

// heap.c
void heap_init(void);
void *sbrk(long n);
void *malloc(size_t n);
void free(void *p);

#endif
