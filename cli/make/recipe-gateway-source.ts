// The C source of the recipe gateway: a small process that holds the recipe shells' connections for
// the `sluice make` process (cli/make/recipe-gateway.ts). Each recipe is one connection: accepted,
// read and answered here, with the requests and answers of many recipes passed to and from Node.js
// over one pipe each way. In Node.js each connection was a socket object with its streams, events
// and close callbacks: ~100 µs of its main thread per recipe, on the path every recipe takes.
//
// The socket protocol is the recipe shell's (recipe-shell-source.ts): a u32-length-prefixed request,
// then an optional 'C' byte (a stop request); the answer is its frames, then the connection closes.
//
// Messages, both ways: 1 type byte, u32 connection id, u32 length (big-endian), then the payload.
//   out (stdout): 'L' listening; 'F' could not listen (payload: why); 'R' a request (its body);
//                 'C' that connection's recipe shell asks for a stop
//   in (stdin):   'W' write the payload to the connection; 'E' write it, then close the connection
// End of input (the Node.js process closed the pipe or died): every connection is closed, the
// socket file removed, and the gateway exits.
export const RECIPE_GATEWAY_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct { char *p; size_t len, cap; } buf_t;

static void add(buf_t *b, const void *d, size_t n) {
  if (b->len + n > b->cap) {
    size_t c = b->cap ? b->cap : 4096;
    while (c < b->len + n) c *= 2;
    if (!(b->p = realloc(b->p, c))) abort();
    b->cap = c;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
}

static void drop_front(buf_t *b, size_t n) {
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

typedef struct { uint32_t id; int fd, requested, closing, writable_watch; buf_t in, out; } conn_t;

static conn_t **conns;
static size_t nconns;
static int ep, lsock;
static uint32_t seq;
static buf_t to_node, from_node;
static const char *sock_path;

static void put32(unsigned char *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get32(const void *q) {
  const unsigned char *p = q;
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void event(char type, uint32_t id, const void *body, uint32_t len) {
  unsigned char h[9];
  h[0] = type;
  put32(h + 1, id);
  put32(h + 5, len);
  add(&to_node, h, 9);
  if (len) add(&to_node, body, len);
}

static void flush_node(void) {
  size_t off = 0;
  while (off < to_node.len) {
    ssize_t n = write(1, to_node.p + off, to_node.len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) _exit(0); /* the Node.js process is gone */
    off += (size_t)n;
  }
  to_node.len = 0;
}

static void drop(conn_t *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  conns[c->fd] = NULL;
  free(c->in.p);
  free(c->out.p);
  free(c);
}

static void quit(void) {
  for (size_t i = 0; i < nconns; i++) if (conns[i]) drop(conns[i]);
  unlink(sock_path);
  _exit(0);
}

static void watch(conn_t *c, int writable) {
  struct epoll_event e = { .events = EPOLLIN | (writable ? EPOLLOUT : 0), .data.fd = c->fd };
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
  c->writable_watch = writable;
}

/* Writes what is queued for the connection; closes it once an 'E' answer is out. */
static void conn_flush(conn_t *c) {
  while (c->out.len) {
    ssize_t n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
    if (n > 0) { drop_front(&c->out, (size_t)n); continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->writable_watch) watch(c, 1);
      return;
    }
    drop(c); /* the recipe shell is gone */
    return;
  }
  if (c->writable_watch) watch(c, 0);
  if (c->closing) drop(c);
}

static void conn_read(conn_t *c) {
  static char tmp[65536];
  for (;;) {
    ssize_t n = read(c->fd, tmp, sizeof tmp);
    if (n > 0) {
      if (c->requested) {
        if (memchr(tmp, 'C', (size_t)n)) event('C', c->id, NULL, 0);
        continue;
      }
      add(&c->in, tmp, (size_t)n);
      if (c->in.len < 4) continue;
      uint32_t need = get32(c->in.p);
      if (need > (64u << 20)) { drop(c); return; }
      if (c->in.len < 4 + (size_t)need) continue;
      event('R', c->id, c->in.p + 4, need);
      if (memchr(c->in.p + 4 + need, 'C', c->in.len - 4 - need)) event('C', c->id, NULL, 0);
      c->requested = 1;
      free(c->in.p);
      c->in = (buf_t){0};
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    drop(c); /* end of file or an error: the recipe shell is gone, nothing to answer */
    return;
  }
}

static void accept_all(void) {
  for (;;) {
    int fd = accept4(lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return; /* EAGAIN; or out of descriptors: the rest wait in the backlog */
    }
    if (fd >= 65536) { close(fd); continue; }
    if ((size_t)fd >= nconns) {
      size_t n = nconns ? nconns : 256;
      while (n <= (size_t)fd) n *= 2;
      if (!(conns = realloc(conns, n * sizeof *conns))) abort();
      memset(conns + nconns, 0, (n - nconns) * sizeof *conns);
      nconns = n;
    }
    conn_t *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->fd = fd;
    c->id = (++seq & 0xffffu) << 16 | (uint32_t)fd; /* the fd says where, the rest which */
    conns[fd] = c;
    struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  }
}

static void node_read(void) {
  static char tmp[65536];
  for (;;) {
    ssize_t n = read(0, tmp, sizeof tmp);
    if (n > 0) { add(&from_node, tmp, (size_t)n); continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    quit(); /* end of input */
  }
  size_t off = 0;
  while (from_node.len - off >= 9) {
    const char *h = from_node.p + off;
    uint32_t id = get32(h + 1), len = get32(h + 5);
    if (from_node.len - off - 9 < len) break;
    uint32_t fd = id & 0xffffu;
    conn_t *c = fd < nconns ? conns[fd] : NULL;
    if (c && c->id == id) {
      add(&c->out, h + 9, len);
      if (h[0] == 'E') c->closing = 1;
      conn_flush(c);
    }
    off += 9 + (size_t)len;
  }
  drop_front(&from_node, off);
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  sock_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (strlen(sock_path) >= sizeof a.sun_path) errno = ENAMETOOLONG;
  else strcpy(a.sun_path, sock_path);
  if (lsock < 0 || !a.sun_path[0] || bind(lsock, (struct sockaddr *)&a, sizeof a) || listen(lsock, 4096)) {
    const char *why = strerror(errno);
    event('F', 0, why, (uint32_t)strlen(why));
    flush_node();
    return 1;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event e = { .events = EPOLLIN, .data.fd = lsock };
  epoll_ctl(ep, EPOLL_CTL_ADD, lsock, &e);
  e.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e);
  event('L', 0, NULL, 0);
  flush_node();
  static struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lsock) { accept_all(); continue; }
      if (fd == 0) { node_read(); continue; }
      conn_t *c = (size_t)fd < nconns ? conns[fd] : NULL;
      if (c && (evs[i].events & EPOLLOUT)) conn_flush(c);
      c = (size_t)fd < nconns ? conns[fd] : NULL;
      if (c && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) conn_read(c);
    }
    flush_node();
  }
}
`;
