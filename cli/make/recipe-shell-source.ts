// The recipe shell's C source. GNU make starts one shell per recipe line, so the shell `sluice make`
// gives it must start in well under a millisecond: a Node.js client would spend ~40 ms per recipe
// before sending it. This client runs the line in place when it is local ($(shell ...), a line
// that calls $(MAKE), a target in SLUICE_LOCAL), else sends it to the `sluice make` process over
// a unix socket and relays what comes back: stdout and stderr as they are written, then the exit
// status. On SIGINT/SIGTERM/SIGHUP it asks for the run to be stopped and waits until the recipe
// has ended, so make deletes an interrupted target only once nothing writes it any more.
//
// Built without the C library where it can be (SLUICE_NOLIBC: Linux on x86-64 or arm64, its own
// _start and system calls): a static glibc program spends ~0.3 ms of every start detecting the CPU
// (cpuid, which traps on a virtual machine) and relocating itself, as much as the rest of the
// recipe's round trip. Elsewhere the same code runs on the C library (see RECIPE_SHELL_FLAGS).
//
// Request:  u32 length (big-endian), then NUL-terminated strings: "SLM1", cwd, argc, argv[1..],
//           then the environment's NAME=VALUE strings. A later single byte 'C' asks for a stop.
// Answer:   frames of 1 type byte ('1' stdout, '2' stderr, 'x' exit status as decimal text),
//           u32 length (big-endian), payload.
export const RECIPE_SHELL_VERSION = 2;

/** Compiler flags tried in order: without the C library, then static, then as the system links. */
export const RECIPE_SHELL_FLAGS = [
  [
    '-DSLUICE_NOLIBC',
    '-static',
    '-nostdlib',
    '-ffreestanding',
    '-fno-builtin',
    '-fno-stack-protector',
    '-fno-tree-loop-distribute-patterns',
    '-fno-asynchronous-unwind-tables',
  ],
  ['-static'],
  [],
];

export const RECIPE_SHELL_C = String.raw`
#ifdef SLUICE_NOLIBC
/* ---- the few system calls and helpers it needs, without the C library ---- */
#if !defined(__linux__) || !(defined(__x86_64__) || defined(__aarch64__))
#error "SLUICE_NOLIBC: Linux on x86-64 or arm64 only"
#endif
typedef unsigned long size_t;
typedef long ssize_t;
#define NULL ((void *)0)
#define EINTR 4
#define SIGINT 2
#define SIGHUP 1
#define SIGTERM 15
#define AF_UNIX 1
#define SOCK_STREAM 1
#define SA_RESTORER 0x04000000UL
#if defined(__x86_64__)
enum { NR_read = 0, NR_write = 1, NR_mmap = 9, NR_munmap = 11, NR_rt_sigaction = 13, NR_socket = 41,
  NR_connect = 42, NR_execve = 59, NR_getcwd = 79, NR_exit_group = 231 };
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call start_c\n hlt\n"
        ".global sluice_restore\nsluice_restore:\n mov $15,%rax\n syscall\n hlt\n");
#else
enum { NR_read = 63, NR_write = 64, NR_mmap = 222, NR_munmap = 215, NR_rt_sigaction = 134,
  NR_socket = 198, NR_connect = 203, NR_execve = 221, NR_getcwd = 17, NR_exit_group = 94 };
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c,
    x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n and sp, x0, #-16\n bl start_c\n"
        ".global sluice_restore\nsluice_restore:\n mov x8, #139\n svc 0\n");
#endif
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
static int errno_;
#define errno errno_
static long checked(long r) {
  if (r < 0 && r > -4096) { errno_ = (int)-r; return -1; }
  return r;
}
/* The compiler may emit calls to these for struct copies and clears. */
void *memset(void *d, int c, size_t n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *p = d; const unsigned char *q = s; while (n--) *p++ = *q++; return d;
}
static size_t strlen(const char *s) { const char *p = s; while (*p) p++; return (size_t)(p - s); }
static ssize_t read(int fd, void *p, size_t n) { return checked(sys3(NR_read, fd, p, n)); }
static ssize_t write(int fd, const void *p, size_t n) { return checked(sys3(NR_write, fd, p, n)); }
static int socket(int d, int t, int p) { return (int)checked(sys3(NR_socket, d, t, p)); }
static int connect(int fd, const void *a, unsigned len) { return (int)checked(sys3(NR_connect, fd, a, len)); }
static char *getcwd(char *p, size_t n) { return checked(sys3(NR_getcwd, p, n, 0)) < 0 ? NULL : p; }
static int execve(const char *path, char **argv, char **envp) { return (int)checked(sys3(NR_execve, path, argv, envp)); }
static void exit_now(int code) { for (;;) sys3(NR_exit_group, code, 0, 0); }
/* Memory from mmap: a bigger block replaces the old one (the request is built once; frames are small). */
static void *grow(void *old, size_t old_n, size_t n) {
  long p = sys6(NR_mmap, 0, (long)n, 3 /* read|write */, 0x22 /* private|anonymous */, -1, 0);
  if (p < 0 && p > -4096) return NULL;
  if (old) { memcpy((void *)p, old, old_n); sys3(NR_munmap, old, old_n, 0); }
  return (void *)p;
}
struct ksigaction { void (*handler)(int); unsigned long flags; void (*restorer)(void); unsigned long mask; };
void sluice_restore(void);
static void on_signals(void (*h)(int)) {
  struct ksigaction sa = { h, SA_RESTORER, sluice_restore, 0 }; /* no SA_RESTART: reads return EINTR */
  int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  for (int i = 0; i < 3; i++) sys6(NR_rt_sigaction, sigs[i], (long)&sa, 0, 8, 0, 0);
}
static const char *error_text(int e) {
  switch (e) {
    case 2: return "No such file or directory";
    case 13: return "Permission denied";
    case 111: return "Connection refused";
    case 8: return "Exec format error";
    case 36: return "File name too long";
    default: return "system error";
  }
}
#else
/* ---- the same, on the C library ---- */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static void exit_now(int code) { exit(code); }
static void *grow(void *old, size_t old_n, size_t n) { (void)old_n; return realloc(old, n); }
static void on_signals(void (*h)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h; /* no SA_RESTART: a blocked read returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}
static const char *error_text(int e) { return strerror(e); }
#endif

/* ---- the recipe shell ---- */
struct sockaddr_unix { unsigned short family; char path[108]; };
static volatile int interrupted = 0;
static void on_signal(int sig) { (void)sig; interrupted = 1; }
static char **environment;

static const char *env_get(const char *name) {
  size_t n = strlen(name);
  for (char **e = environment; *e; e++) {
    const char *s = *e;
    size_t i = 0;
    while (i < n && s[i] == name[i]) i++;
    if (i == n && s[n] == '=') return s + n + 1;
  }
  return NULL;
}

static int contains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] == needle[i]) i++;
    if (i == n) return 1;
  }
  return 0;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
  return 0;
}

/* One line on stderr, from up to four pieces. */
static void say(const char *a, const char *b, const char *c, const char *d) {
  const char *parts[] = { "sluice make: ", a, b, c, d, "\n" };
  for (int i = 0; i < 6; i++) if (parts[i]) (void)write_all(2, parts[i], strlen(parts[i]));
}

static int run_locally(char **argv) {
  const char *shell = env_get("SLUICE_MAKE_REAL_SHELL");
  if (!shell || !*shell) shell = "/bin/sh";
  argv[0] = (char *)shell;
  execve(shell, argv, environment);
  say("cannot run ", shell, ": ", error_text(errno));
  return 127;
}

static char *buf;
static size_t len, cap;
static int put(const char *s) {
  size_t n = strlen(s) + 1;
  if (len + n > cap) {
    size_t more = (len + n) * 2 + 65536;
    char *b = grow(buf, len, more);
    if (!b) { say("out of memory", NULL, NULL, NULL); return -1; }
    buf = b; cap = more;
  }
  memcpy(buf + len, s, n);
  len += n;
  return 0;
}

/* Reads exactly n bytes; on a signal, sends the stop request once and goes on reading. */
static int read_all(int fd, char *p, size_t n, int *cancelled) {
  while (n > 0) {
    if (interrupted && !*cancelled) { *cancelled = 1; (void)write_all(fd, "C", 1); }
    ssize_t r = read(fd, p, n);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) return -1;
    p += r; n -= (size_t)r;
  }
  return 0;
}

static int run(int argc, char **argv) {
  const char *target = env_get("SLUICE_MAKE_TARGET");
  const char *local = env_get("SLUICE_MAKE_LOCAL");
  const char *sock = env_get("SLUICE_MAKE_SOCKET");
  const char *make = env_get("SLUICE_MAKE_PROGRAM");
  if (!sock || !*sock || !target || !*target || (local && *local)) return run_locally(argv);
  if (make && *make && argc > 1 && contains(argv[argc - 1], make)) return run_locally(argv);

  on_signals(on_signal);
  static char cwd[8192];
  if (!getcwd(cwd, sizeof cwd)) { say("getcwd: ", error_text(errno), NULL, NULL); return 123; }
  char num[24];
  int i = (int)sizeof num - 1, k = argc - 1;
  num[i] = 0;
  do { num[--i] = (char)('0' + k % 10); k /= 10; } while (k);
  if (put("SLM1") || put(cwd) || put(num + i)) return 123;
  for (int a = 1; a < argc; a++) if (put(argv[a])) return 123;
  for (char **e = environment; *e; e++) if (put(*e)) return 123;

  struct sockaddr_unix addr;
  memset(&addr, 0, sizeof addr);
  addr.family = AF_UNIX;
  size_t sl = strlen(sock);
  if (sl >= sizeof addr.path) { say("socket path too long: ", sock, NULL, NULL); return 123; }
  memcpy(addr.path, sock, sl);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (void *)&addr, sizeof addr) < 0) {
    say("cannot reach the sluice make process at ", sock, ": ", error_text(errno));
    return 123;
  }
  unsigned char hdr[5];
  hdr[0] = (unsigned char)(len >> 24); hdr[1] = (unsigned char)(len >> 16);
  hdr[2] = (unsigned char)(len >> 8); hdr[3] = (unsigned char)len;
  if (write_all(fd, (char *)hdr, 4) < 0 || write_all(fd, buf, len) < 0) {
    say("lost the sluice make process while sending the recipe", NULL, NULL, NULL);
    return 123;
  }
  int cancelled = 0;
  static char data[65536];
  for (;;) {
    if (read_all(fd, (char *)hdr, 5, &cancelled) < 0) break;
    size_t n = ((size_t)hdr[1] << 24) | ((size_t)hdr[2] << 16) | ((size_t)hdr[3] << 8) | hdr[4];
    if (hdr[0] == 'x') {
      if (n >= sizeof data || read_all(fd, data, n, &cancelled) < 0) break;
      int code = 0;
      for (size_t j = 0; j < n && data[j] >= '0' && data[j] <= '9'; j++) code = code * 10 + (data[j] - '0');
      return code;
    }
    /* Output is passed on in pieces as it arrives, whatever the frame's size. */
    while (n > 0) {
      size_t part = n < sizeof data ? n : sizeof data;
      if (read_all(fd, data, part, &cancelled) < 0) goto lost;
      if (hdr[0] == '1') (void)write_all(1, data, part);
      else if (hdr[0] == '2') (void)write_all(2, data, part);
      n -= part;
    }
  }
lost:
  say("lost the sluice make process while the recipe ran", NULL, NULL, NULL);
  return interrupted ? 122 : 123;
}

#ifdef SLUICE_NOLIBC
void start_c(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  environment = argv + argc + 1;
  exit_now(run(argc, argv));
}
#else
int main(int argc, char **argv, char **envp) {
  environment = envp;
  exit_now(run(argc, argv));
  return 0;
}
#endif
`;
