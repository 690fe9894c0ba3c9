/*
 * latfs: a FUSE passthrough of one directory that answers every request only after a fixed delay,
 * like a network file system whose server is that many milliseconds away (NFS or EFS in another
 * zone, a FUSE client of an object store). The delay is a sleep, so it costs no CPU: a client that
 * keeps N requests in flight gets about N times the throughput, as it would on a real network
 * volume. Built at bench time by bench/rig/volume.ts:
 *
 *   cc -O2 -Wall latfs.c $(pkg-config fuse3 --cflags --libs) -o latfs
 *   latfs SRC MOUNTPOINT MS [STATS_FILE] [fuse options, e.g. -f]
 *
 * On unmount it writes one line per operation (name, count) and the most requests seen in flight
 * at once to STATS_FILE, so a benchmark can say how many round trips a tool made.
 */
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int root_fd = -1;
static struct timespec delay;
static const char *stats_file;

/* Request accounting: one counter per operation, and the peak of concurrent requests. */
enum op { OP_GETATTR, OP_READDIR, OP_OPEN, OP_CREATE, OP_READ, OP_WRITE, OP_RELEASE, OP_FLUSH,
          OP_MKDIR, OP_UNLINK, OP_RMDIR, OP_RENAME, OP_LINK, OP_SYMLINK, OP_READLINK, OP_CHMOD,
          OP_CHOWN, OP_TRUNCATE, OP_UTIMENS, OP_FSYNC, OP_STATFS, OP_ACCESS, OP_COUNT };
static const char *op_names[OP_COUNT] = {
  "getattr", "readdir", "open", "create", "read", "write", "release", "flush", "mkdir", "unlink",
  "rmdir", "rename", "link", "symlink", "readlink", "chmod", "chown", "truncate", "utimens",
  "fsync", "statfs", "access"};
static atomic_ulong op_count[OP_COUNT];
static atomic_int in_flight, peak_in_flight;

/* Every operation starts here: count it, then wait out the simulated round trip. */
static void round_trip(enum op op) {
  atomic_fetch_add(&op_count[op], 1);
  int now = atomic_fetch_add(&in_flight, 1) + 1;
  int peak = atomic_load(&peak_in_flight);
  while (now > peak && !atomic_compare_exchange_weak(&peak_in_flight, &peak, now)) {
  }
  struct timespec left = delay;
  while (nanosleep(&left, &left) == -1 && errno == EINTR) {
  }
  atomic_fetch_sub(&in_flight, 1);
}

/* FUSE paths start with '/'; the *at() calls want them relative to the source directory. */
static const char *rel(const char *path) {
  return path[1] ? path + 1 : ".";
}

/*
 * The kernel runs lookups of different names in one directory concurrently only when the INIT
 * reply carries FUSE_PARALLEL_DIROPS. libfuse before 3.16 (Debian 12 ships 3.14) never sets it,
 * whatever the file system asks for, so every lookup in a directory would wait for the previous
 * one: a limit no network file system client has. libfuse writes its replies with writev(), and
 * the INIT reply is the first reply of a session (the kernel sends nothing else until it has it),
 * so this program's own writev() sets the flag in that one reply and passes everything through.
 */
static atomic_int init_reply_seen;

ssize_t writev(int fd, const struct iovec *iov, int count) {
  if (count >= 2 && !atomic_exchange(&init_reply_seen, 1) &&
      iov[0].iov_len == sizeof(struct fuse_out_header) &&
      iov[1].iov_len >= offsetof(struct fuse_init_out, flags) + sizeof(uint32_t)) {
    const struct fuse_out_header *head = iov[0].iov_base;
    if (head->error == 0) ((struct fuse_init_out *)iov[1].iov_base)->flags |= FUSE_PARALLEL_DIROPS;
  }
  return syscall(SYS_writev, fd, iov, count);
}

static int result(int rc) {
  return rc == -1 ? -errno : 0;
}

static void *lat_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  /* The kernel allows 12 background requests (reads, releases) by default; a network file system
   * client allows far more. Lookups in one directory may run in parallel. */
  conn->max_background = 256;
  conn->congestion_threshold = 192;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  cfg->use_ino = 1;
  cfg->entry_timeout = 1;
  cfg->attr_timeout = 1;
  cfg->negative_timeout = 0;
  return NULL;
}

static void lat_destroy(void *data) {
  (void)data;
  if (!stats_file) return;
  FILE *f = fopen(stats_file, "a");
  if (!f) return;
  for (int i = 0; i < OP_COUNT; i++)
    if (atomic_load(&op_count[i])) fprintf(f, "%s %lu\n", op_names[i], atomic_load(&op_count[i]));
  fprintf(f, "max_in_flight %d\n", atomic_load(&peak_in_flight));
  fclose(f);
}

static int lat_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  round_trip(OP_GETATTR);
  if (fi) return result(fstat((int)fi->fh, st));
  return result(fstatat(root_fd, rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int lat_access(const char *path, int mask) {
  round_trip(OP_ACCESS);
  return result(faccessat(root_fd, rel(path), mask, 0));
}

static int lat_readlink(const char *path, char *buf, size_t size) {
  round_trip(OP_READLINK);
  ssize_t n = readlinkat(root_fd, rel(path), buf, size - 1);
  if (n == -1) return -errno;
  buf[n] = '\0';
  return 0;
}

/* One round trip lists the whole directory (as one READDIRPLUS reply would on NFS). */
static int lat_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t offset,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)offset, (void)fi, (void)flags;
  round_trip(OP_READDIR);
  int fd = openat(root_fd, rel(path), O_RDONLY | O_DIRECTORY);
  if (fd == -1) return -errno;
  DIR *dir = fdopendir(fd);
  if (!dir) {
    int e = errno;
    close(fd);
    return -e;
  }
  struct dirent *d;
  while ((d = readdir(dir)) != NULL) {
    struct stat st = {0};
    st.st_ino = d->d_ino;
    st.st_mode = (mode_t)DTTOIF(d->d_type);
    if (fill(buf, d->d_name, &st, 0, 0)) break;
  }
  closedir(dir);
  return 0;
}

static int lat_mkdir(const char *path, mode_t mode) {
  round_trip(OP_MKDIR);
  return result(mkdirat(root_fd, rel(path), mode));
}

static int lat_unlink(const char *path) {
  round_trip(OP_UNLINK);
  return result(unlinkat(root_fd, rel(path), 0));
}

static int lat_rmdir(const char *path) {
  round_trip(OP_RMDIR);
  return result(unlinkat(root_fd, rel(path), AT_REMOVEDIR));
}

static int lat_symlink(const char *target, const char *path) {
  round_trip(OP_SYMLINK);
  return result(symlinkat(target, root_fd, rel(path)));
}

static int lat_rename(const char *from, const char *to, unsigned int flags) {
  round_trip(OP_RENAME);
  return result(renameat2(root_fd, rel(from), root_fd, rel(to), flags));
}

static int lat_link(const char *from, const char *to) {
  round_trip(OP_LINK);
  return result(linkat(root_fd, rel(from), root_fd, rel(to), 0));
}

static int lat_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  round_trip(OP_CHMOD);
  if (fi) return result(fchmod((int)fi->fh, mode));
  return result(fchmodat(root_fd, rel(path), mode, 0));
}

static int lat_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  round_trip(OP_CHOWN);
  if (fi) return result(fchown((int)fi->fh, uid, gid));
  return result(fchownat(root_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int lat_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  round_trip(OP_TRUNCATE);
  if (fi) return result(ftruncate((int)fi->fh, size));
  int fd = openat(root_fd, rel(path), O_WRONLY);
  if (fd == -1) return -errno;
  int rc = result(ftruncate(fd, size));
  close(fd);
  return rc;
}

static int lat_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  round_trip(OP_UTIMENS);
  if (fi) return result(futimens((int)fi->fh, tv));
  return result(utimensat(root_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int lat_open(const char *path, struct fuse_file_info *fi) {
  round_trip(OP_OPEN);
  int fd = openat(root_fd, rel(path), fi->flags & ~O_NOFOLLOW);
  if (fd == -1) return -errno;
  fi->fh = (uint64_t)fd;
  return 0;
}

static int lat_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  round_trip(OP_CREATE);
  int fd = openat(root_fd, rel(path), fi->flags | O_CREAT, mode);
  if (fd == -1) return -errno;
  fi->fh = (uint64_t)fd;
  return 0;
}

static int lat_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  round_trip(OP_READ);
  ssize_t n = pread((int)fi->fh, buf, size, off);
  return n == -1 ? -errno : (int)n;
}

static int lat_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  (void)path;
  round_trip(OP_WRITE);
  ssize_t n = pwrite((int)fi->fh, buf, size, off);
  return n == -1 ? -errno : (int)n;
}

static int lat_flush(const char *path, struct fuse_file_info *fi) {
  (void)path, (void)fi;
  round_trip(OP_FLUSH);
  return 0;
}

static int lat_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  round_trip(OP_RELEASE);
  close((int)fi->fh);
  return 0;
}

static int lat_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  round_trip(OP_FSYNC);
  return result(datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh));
}

static int lat_statfs(const char *path, struct statvfs *st) {
  (void)path;
  round_trip(OP_STATFS);
  return result(fstatvfs(root_fd, st));
}

static const struct fuse_operations lat_ops = {
  .init = lat_init,
  .destroy = lat_destroy,
  .getattr = lat_getattr,
  .access = lat_access,
  .readlink = lat_readlink,
  .readdir = lat_readdir,
  .mkdir = lat_mkdir,
  .unlink = lat_unlink,
  .rmdir = lat_rmdir,
  .symlink = lat_symlink,
  .rename = lat_rename,
  .link = lat_link,
  .chmod = lat_chmod,
  .chown = lat_chown,
  .truncate = lat_truncate,
  .utimens = lat_utimens,
  .open = lat_open,
  .create = lat_create,
  .read = lat_read,
  .write = lat_write,
  .flush = lat_flush,
  .release = lat_release,
  .fsync = lat_fsync,
  .statfs = lat_statfs,
};

static const char *absolute(const char *path) {
  static char buf[4096];
  if (path[0] == '/' || !getcwd(buf, sizeof buf - 1 - strlen(path))) return path;
  strcat(buf, "/");
  return strcat(buf, path);
}

int main(int argc, char *argv[]) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s SRC MOUNTPOINT MS [STATS_FILE] [fuse options]\n", argv[0]);
    return 2;
  }
  root_fd = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (root_fd == -1) {
    perror(argv[1]);
    return 1;
  }
  double ms = atof(argv[3]);
  delay.tv_sec = (time_t)(ms / 1000);
  delay.tv_nsec = (long)((ms - (double)delay.tv_sec * 1000) * 1e6);
  int rest = 4;
  /* fuse_main changes to / before serving: keep an absolute name for the stats file. */
  if (argc > 4 && argv[4][0] != '-') stats_file = absolute(argv[rest++]);
  /* fuse_main gets: prog MOUNTPOINT, enough threads for hundreds of requests in flight (libfuse
   * starts 10 by default), then the caller's options. */
  char **args = calloc((size_t)(argc - rest + 5), sizeof *args);
  int n = 0;
  args[n++] = argv[0];
  args[n++] = argv[2];
  args[n++] = "-o";
  args[n++] = "max_threads=512,max_idle_threads=64,default_permissions,fsname=latfs";
  for (int i = rest; i < argc; i++) args[n++] = argv[i];
  return fuse_main(n, args, &lat_ops, NULL);
}
