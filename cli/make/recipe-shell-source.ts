// The recipe shell's C source. GNU make starts one shell per recipe line, so the shell `sluice make`
// gives it must start in about a millisecond: a Node.js client would spend ~40 ms per recipe
// before sending it. This client runs the line in place when it is local ($(shell ...), a line
// that calls $(MAKE), a target in SLUICE_LOCAL), else sends it to the `sluice make` process over
// a unix socket and relays what comes back: stdout and stderr as they are written, then the exit
// status. On SIGINT/SIGTERM/SIGHUP it asks for the run to be stopped and waits until the recipe
// has ended, so make deletes an interrupted target only once nothing writes it any more.
//
// Request:  u32 length (big-endian), then NUL-terminated strings: "SLM1", cwd, argc, argv[1..],
//           then the environment's NAME=VALUE strings. A later single byte 'C' asks for a stop.
// Answer:   frames of 1 type byte ('1' stdout, '2' stderr, 'x' exit status as decimal text),
//           u32 length (big-endian), payload.
export const RECIPE_SHELL_VERSION = 1;

export const RECIPE_SHELL_C = String.raw`
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t interrupted = 0;
static void on_signal(int sig) { (void)sig; interrupted = 1; }

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static int run_locally(char **argv) {
  const char *shell = env_or("SLUICE_MAKE_REAL_SHELL", "/bin/sh");
  argv[0] = (char *)shell;
  execv(shell, argv);
  fprintf(stderr, "sluice make: cannot run %s: %s\n", shell, strerror(errno));
  return 127;
}

static char *buf;
static size_t len, cap;
static void put(const char *s) {
  size_t n = strlen(s) + 1;
  if (len + n > cap) {
    cap = (len + n) * 2;
    buf = realloc(buf, cap);
    if (!buf) { fputs("sluice make: out of memory\n", stderr); exit(123); }
  }
  memcpy(buf + len, s, n);
  len += n;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
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

int main(int argc, char **argv) {
  const char *target = getenv("SLUICE_MAKE_TARGET");
  const char *local = getenv("SLUICE_MAKE_LOCAL");
  const char *sock = getenv("SLUICE_MAKE_SOCKET");
  const char *make = getenv("SLUICE_MAKE_PROGRAM");
  if (!sock || !*sock || !target || !*target || (local && *local)) return run_locally(argv);
  if (make && *make && argc > 1 && strstr(argv[argc - 1], make)) return run_locally(argv);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  char cwd[8192];
  if (!getcwd(cwd, sizeof cwd)) { perror("sluice make: getcwd"); return 123; }
  char num[32];
  put("SLM1"); put(cwd);
  snprintf(num, sizeof num, "%d", argc - 1); put(num);
  for (int i = 1; i < argc; i++) put(argv[i]);
  for (char **e = environ; *e; e++) put(*e);

  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(sock) >= sizeof addr.sun_path) { fprintf(stderr, "sluice make: socket path too long: %s\n", sock); return 123; }
  strcpy(addr.sun_path, sock);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "sluice make: cannot reach the sluice make process at %s: %s\n", sock, strerror(errno));
    return 123;
  }
  unsigned char hdr[5];
  hdr[0] = (unsigned char)(len >> 24); hdr[1] = (unsigned char)(len >> 16);
  hdr[2] = (unsigned char)(len >> 8); hdr[3] = (unsigned char)len;
  if (write_all(fd, (char *)hdr, 4) < 0 || write_all(fd, buf, len) < 0) {
    fprintf(stderr, "sluice make: lost the sluice make process while sending the recipe\n");
    return 123;
  }
  int cancelled = 0;
  char *data = NULL;
  size_t data_cap = 0;
  for (;;) {
    if (read_all(fd, (char *)hdr, 5, &cancelled) < 0) {
      fprintf(stderr, "sluice make: lost the sluice make process while the recipe ran\n");
      return interrupted ? 122 : 123;
    }
    size_t n = ((size_t)hdr[1] << 24) | ((size_t)hdr[2] << 16) | ((size_t)hdr[3] << 8) | hdr[4];
    if (n + 1 > data_cap) { data_cap = n + 1; data = realloc(data, data_cap); if (!data) return 123; }
    if (read_all(fd, data, n, &cancelled) < 0) {
      fprintf(stderr, "sluice make: lost the sluice make process while the recipe ran\n");
      return interrupted ? 122 : 123;
    }
    if (hdr[0] == '1') (void)write_all(1, data, n);
    else if (hdr[0] == '2') (void)write_all(2, data, n);
    else if (hdr[0] == 'x') { data[n] = 0; return atoi(data); }
  }
}
`;
