// The C source of the process starter: a small long-lived process that starts commands for a
// Node.js process. Node's spawn forks the whole Node.js process (page tables of a 100+ MB heap,
// copied and then torn down again by exec) for each child: with `sluice make` starting one process
// per recipe that was half of all the CPU a recipe cost. This starts them with vfork (nothing is
// copied) from a process of a few hundred KB, and reports their exits.
//
// A process's stdout and stderr are pipes to the starter, which copies what comes into the two
// files, each created (or truncated) when its first byte arrives: most recipes of a build print
// nothing, and two files created and removed per recipe were a third of all the CPU of a no-op
// build (ext4 looks for a free inode that was not freed recently, and the spool directory is full
// of recently freed ones).
//
// Input (stdin), one request per frame: u32 length (big-endian), then NUL-terminated fields:
//   "S" id cwd stdout-path stderr-path argc argv... NAME=VALUE...   start a process: in its own
//        process group, in cwd, stdin /dev/null, stdout and stderr to the two files (created on
//        the first byte); argv[0] without a slash is looked up in the request's PATH
//   "K" pgid signo                                                  signal a process group
// Output (stdout), one line per event:
//   "P id pid"            started
//   "E id errno"          not started (the directory, the program): nothing runs
//   "X id code signo out err"  exited: code (-1 when killed), signo (0 when it exited), and the
//                         bytes its stdout and stderr files hold (what it wrote before it exited;
//                         what a process it left running writes later still goes to the files)
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

/* A started process: the read ends of its two pipes (-1 once at end of file), the files they go
   to (-1 until the first byte), and whether its exit was reported (then only the pipes remain). */
struct kid {
  pid_t pid; unsigned long id; int exited;
  int pipe[2]; int file[2]; char *path[2]; unsigned long long bytes[2];
};
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

static void oom(void) { fputs("process-starter: out of memory\n", stderr); exit(3); }

static void add_kid(pid_t pid, unsigned long id, const int pipes[2], char *const paths[2]) {
  if (n_kids == cap_kids) {
    cap_kids = cap_kids ? cap_kids * 2 : 64;
    kids = realloc(kids, cap_kids * sizeof *kids);
    if (!kids) oom();
  }
  struct kid *k = &kids[n_kids++];
  memset(k, 0, sizeof *k);
  k->pid = pid; k->id = id;
  for (int s = 0; s < 2; s++) {
    k->pipe[s] = pipes[s]; k->file[s] = -1;
    k->path[s] = strdup(paths[s]);
    if (!k->path[s]) oom();
  }
}

/* Drops a kid whose exit was reported and whose pipes are both at end of file. */
static void drop_if_done(size_t i) {
  struct kid *k = &kids[i];
  if (!k->exited || k->pipe[0] >= 0 || k->pipe[1] >= 0) return;
  for (int s = 0; s < 2; s++) { if (k->file[s] >= 0) close(k->file[s]); free(k->path[s]); }
  kids[i] = kids[--n_kids];
}

/* Copies what is in one pipe now into its file (opened on the first byte); closes it at EOF. */
static void drain(struct kid *k, int s) {
  static char buf[1 << 16];
  while (k->pipe[s] >= 0) {
    ssize_t r = read(k->pipe[s], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return;
    if (r <= 0) { close(k->pipe[s]); k->pipe[s] = -1; return; }
    if (k->file[s] < 0) {
      k->file[s] = open(k->path[s], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (k->file[s] < 0) { /* nowhere to put it (its spool went away): read on, drop it */
        k->file[s] = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (k->file[s] < 0) continue;
        k->bytes[s] = 0;
      }
    }
    for (char *p = buf; r > 0;) {
      ssize_t w = write(k->file[s], p, (size_t)r);
      if (w < 0) { if (errno == EINTR) continue; break; }
      p += w; r -= w; k->bytes[s] += (unsigned long long)w;
    }
  }
}

static void reap(void) {
  int st; pid_t pid; char line[128];
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (size_t i = 0; i < n_kids; i++) {
      struct kid *k = &kids[i];
      if (k->pid != pid || k->exited) continue;
      /* everything it wrote is in its pipes now: the sizes reported are final for it */
      drain(k, 0); drain(k, 1);
      int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
      snprintf(line, sizeof line, "X %lu %d %d %llu %llu\n", k->id, code, sig, k->bytes[0], k->bytes[1]);
      out(line);
      k->exited = 1;
      drop_if_done(i);
      break;
    }
  }
}

static size_t running(void) {
  size_t n = 0;
  for (size_t i = 0; i < n_kids; i++) n += !kids[i].exited;
  return n;
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
  int po[2], pe[2];
  if (pipe2(po, O_CLOEXEC) < 0) return errno;
  if (pipe2(pe, O_CLOEXEC) < 0) { int err = errno; close(po[0]); close(po[1]); return err; }
  int o = po[1], e = pe[1];
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
  if (pid < 0 || err) { close(po[0]); close(pe[0]); }
  if (pid < 0) return err;
  if (err) { int st; while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {} return err; }
  setpgid(pid, pid);
  fcntl(po[0], F_SETFL, O_NONBLOCK);
  fcntl(pe[0], F_SETFL, O_NONBLOCK);
  int pipes[2] = { po[0], pe[0] };
  char *paths[2] = { outp, errp };
  add_kid(pid, id, pipes, paths);
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
  if (!argv || !envp) oom();
  int i = 0;
  for (; i < argc && p < end; i++) { argv[i] = p; p += strlen(p) + 1; }
  size_t j = 0;
  for (; p < end; p += strlen(p) + 1) envp[j++] = p;
  int err = i == argc && argc > 0 ? start(id, fields[2], fields[3], fields[4], argv, envp) : EINVAL;
  if (err) { char line[64]; snprintf(line, sizeof line, "E %lu %d\n", id, err); out(line); }
  free(argv); free(envp);
}

static void finish(void) {
  for (size_t i = 0; i < n_kids; i++) if (!kids[i].exited) kill(-kids[i].pid, SIGTERM);
  struct timespec t0; clock_gettime(CLOCK_MONOTONIC, &t0);
  while (running() > 0) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
    if (ms >= 2000) {
      for (size_t i = 0; i < n_kids; i++) if (!kids[i].exited) kill(-kids[i].pid, SIGKILL);
      ms = 1900;
    }
    /* what the processes still write goes to their files meanwhile (a full pipe would hold them) */
    for (size_t i = 0; i < n_kids; i++) { drain(&kids[i], 0); drain(&kids[i], 1); }
    struct pollfd w = { wake[0], POLLIN, 0 };
    int wait_ms = (int)(2000 - ms) < 50 ? (int)(2000 - ms) : 50;
    if (poll(&w, 1, wait_ms) > 0) { char b[64]; (void)!read(wake[0], b, sizeof b); }
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
  struct pollfd *fds = NULL; size_t cap_fds = 0;
  for (;;) {
    /* stdin, the SIGCHLD pipe, and the two output pipes of every kid */
    if (cap_fds < 2 + 2 * n_kids) {
      cap_fds = 2 + 2 * (n_kids + 64);
      fds = realloc(fds, cap_fds * sizeof *fds);
      if (!fds) oom();
    }
    size_t nfds = 2;
    fds[0] = (struct pollfd){ 0, POLLIN, 0 };
    fds[1] = (struct pollfd){ wake[0], POLLIN, 0 };
    for (size_t i = 0; i < n_kids; i++)
      for (int s = 0; s < 2; s++)
        if (kids[i].pipe[s] >= 0) fds[nfds++] = (struct pollfd){ kids[i].pipe[s], POLLIN, 0 };
    if (poll(fds, nfds, -1) < 0) { if (errno == EINTR) continue; perror("process-starter: poll"); return 3; }
    if (fds[1].revents) { char b[256]; while (read(wake[0], b, sizeof b) > 0) {} reap(); }
    if (nfds > 2) {
      /* output that came in (a kid reaped above may be gone: match by fd) */
      for (size_t f = 2; f < nfds; f++) {
        if (!fds[f].revents) continue;
        for (size_t i = 0; i < n_kids; i++) {
          int s = kids[i].pipe[0] == fds[f].fd ? 0 : kids[i].pipe[1] == fds[f].fd ? 1 : -1;
          if (s < 0) continue;
          drain(&kids[i], s);
          drop_if_done(i);
          break;
        }
      }
    }
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
