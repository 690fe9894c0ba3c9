// The C source of the process starter: a small long-lived process that starts commands for a
// Node.js process. Node's spawn forks the whole Node process (page tables of a 100+ MB heap,
// copied and then torn down again by exec) for each child: with `sluice make` starting one process
// per recipe that was half of all the CPU a recipe cost. This starts them with vfork (nothing is
// copied) from a process of a few hundred KB, and reports their exits.
//
// Input (stdin), one request per frame: u32 length (big-endian), then NUL-terminated fields:
//   "S" id cwd stdout-path stderr-path argc argv... NAME=VALUE...   start a process: in its own
//        process group, in cwd, stdin /dev/null, stdout and stderr to the two files (created or
//        truncated); argv[0] without a slash is looked up in the request's PATH
//   "K" pgid signo                                                  signal a process group
// Output (stdout), one line per event:
//   "P id pid"            started
//   "E id errno"          not started (a spool file, the directory, the program): nothing runs
//   "X id code signo"     exited: code (-1 when killed), signo (0 when it exited)
// On end of input every process group still running gets SIGTERM, SIGKILL 2 s later; then it exits.
export const PROCESS_STARTER_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct kid { pid_t pid; unsigned long id; };
static struct kid *kids;
static size_t n_kids, cap_kids;
static int wake[2];
static int devnull;
static volatile int child_errno;

static void on_chld(int sig) { (void)sig; int e = errno; (void)!write(wake[1], "c", 1); errno = e; }

static void out(const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(1, s, n);
    if (w < 0) { if (errno == EINTR) continue; exit(0); }
    s += w; n -= (size_t)w;
  }
}

static void add_kid(pid_t pid, unsigned long id) {
  if (n_kids == cap_kids) {
    cap_kids = cap_kids ? cap_kids * 2 : 64;
    kids = realloc(kids, cap_kids * sizeof *kids);
    if (!kids) { fputs("process-starter: out of memory\n", stderr); exit(3); }
  }
  kids[n_kids].pid = pid; kids[n_kids].id = id; n_kids++;
}

static void reap(void) {
  int st; pid_t pid; char line[96];
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (size_t i = 0; i < n_kids; i++) {
      if (kids[i].pid != pid) continue;
      int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
      snprintf(line, sizeof line, "X %lu %d %d\n", kids[i].id, code, sig);
      out(line);
      kids[i] = kids[--n_kids];
      break;
    }
  }
}

/* argv[0] as execve needs it: a name without a slash is searched in the request's PATH. */
static const char *resolve(const char *name, char **envp, char *buf, size_t cap) {
  if (strchr(name, '/')) return name;
  const char *path = "/usr/local/bin:/usr/bin:/bin";
  for (char **e = envp; *e; e++) if (strncmp(*e, "PATH=", 5) == 0) { path = *e + 5; break; }
  for (const char *p = path;; ) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 0) { buf[0] = '.'; len = 1; } else if (len < cap) memcpy(buf, p, len);
    if (len + strlen(name) + 2 <= cap) {
      buf[len] = '/'; strcpy(buf + len + 1, name);
      struct stat sb;
      if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0) return buf;
    }
    if (!end) return NULL;
    p = end + 1;
  }
}

static int start(unsigned long id, char *cwd, char *outp, char *errp, char **argv, char **envp) {
  static char exe[4096];
  const char *file = resolve(argv[0], envp, exe, sizeof exe);
  if (!file) return ENOENT;
  int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (o < 0) return errno;
  int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (e < 0) { int err = errno; close(o); return err; }
  sigset_t none; sigemptyset(&none);
  child_errno = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (chdir(cwd) < 0 || dup2(devnull, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) {
      child_errno = errno; _exit(127);
    }
    execve(file, argv, envp);
    child_errno = errno;
    _exit(127);
  }
  int err = pid < 0 ? errno : child_errno;
  close(o); close(e);
  if (pid < 0) return err;
  if (err) { int st; while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {} return err; }
  setpgid(pid, pid);
  add_kid(pid, id);
  char line[64];
  snprintf(line, sizeof line, "P %lu %d\n", id, (int)pid);
  out(line);
  return 0;
}

static void handle(char *f, size_t n) {
  char *fields[8]; size_t k = 0; char *p = f, *end = f + n;
  while (k < 6 && p < end) { fields[k++] = p; p += strlen(p) + 1; }
  if (k < 3) return;
  unsigned long id = strtoul(fields[1], NULL, 10);
  if (fields[0][0] == 'K') {
    /* by group id, like kill(-pid): the group outlives its leader while what it started runs */
    long pg = strtol(fields[1], NULL, 10);
    if (pg > 1) kill(-(pid_t)pg, atoi(fields[2]));
    return;
  }
  if (fields[0][0] != 'S' || k < 6) return;
  int argc = atoi(fields[5]);
  size_t nenv = 0;
  for (char *q = p; q < end; q += strlen(q) + 1) nenv++;
  char **argv = calloc((size_t)argc + 1, sizeof *argv);
  char **envp = calloc(nenv + 1, sizeof *envp);
  if (!argv || !envp) { fputs("process-starter: out of memory\n", stderr); exit(3); }
  int i = 0;
  for (; i < argc && p < end; i++) { argv[i] = p; p += strlen(p) + 1; }
  size_t j = 0;
  for (; p < end; p += strlen(p) + 1) envp[j++] = p;
  int err = i == argc && argc > 0 ? start(id, fields[2], fields[3], fields[4], argv, envp) : EINVAL;
  if (err) { char line[64]; snprintf(line, sizeof line, "E %lu %d\n", id, err); out(line); }
  free(argv); free(envp);
}

static void finish(void) {
  for (size_t i = 0; i < n_kids; i++) kill(-kids[i].pid, SIGTERM);
  struct timespec t0; clock_gettime(CLOCK_MONOTONIC, &t0);
  while (n_kids > 0) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
    if (ms >= 2000) { for (size_t i = 0; i < n_kids; i++) kill(-kids[i].pid, SIGKILL); ms = 1900; }
    struct pollfd w = { wake[0], POLLIN, 0 };
    if (poll(&w, 1, (int)(2000 - ms)) > 0) { char b[64]; (void)!read(wake[0], b, sizeof b); }
    reap();
  }
  exit(0);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) { perror("process-starter"); return 3; }
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_chld; sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  if (!buf) return 3;
  for (;;) {
    struct pollfd fds[2] = { { 0, POLLIN, 0 }, { wake[0], POLLIN, 0 } };
    if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; perror("process-starter: poll"); return 3; }
    if (fds[1].revents) { char b[256]; while (read(wake[0], b, sizeof b) > 0) {} reap(); }
    if (!fds[0].revents) continue;
    if (len == cap) { cap *= 2; buf = realloc(buf, cap); if (!buf) return 3; }
    ssize_t r = read(0, buf + len, cap - len);
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue; finish(); }
    if (r == 0) finish();
    len += (size_t)r;
    size_t at = 0;
    while (len - at >= 4) {
      unsigned char *h = (unsigned char *)buf + at;
      size_t n = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
      if (len - at - 4 < n) {
        if (n + 4 > cap) { cap = n + 4; buf = realloc(buf, cap); if (!buf) return 3; }
        break;
      }
      handle(buf + at + 4, n);
      at += 4 + n;
    }
    memmove(buf, buf + at, len - at);
    len -= at;
  }
}
`;
