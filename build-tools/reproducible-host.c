/*
 * Preloaded (LD_PRELOAD) into wizer while it pre-initializes the JavaScript runtime, and into
 * componentize-py while it pre-initializes the Python runtime.
 *
 * SpiderMonkey seeds internal hash tables from WASI randomness during that step (CPython seeds
 * its string hashes) and the seeds are kept in the snapshot, so two builds of the same sources
 * differ. wizer's (and componentize-py's wasmtime's) WASI randomness
 * comes from the getrandom system call (through syscall(2) or glibc's getrandom); here it gets
 * bytes that depend only on their position in the buffer, whichever thread asks and in whatever
 * order, so every build gives the same snapshot. Nothing random is lost at run time: the
 * runtimes reseed Math.random, crypto and Python's random from the host when they run.
 *
 * Clock readings taken during initialization (start-up timings) are kept in the snapshot too,
 * so clocks stand still here: wall time at 2020-01-01T00:00:00Z, monotonic time at 1 s.
 *
 * File metadata, when FABRICKS_FIXED_TIME_ROOT names a folder: CPython stats every file and
 * folder it imports from (componentize-py's freshly unpacked standard library, the bootstrap)
 * and the results stay in the snapshot, in import caches and in memory freed since. Under that
 * folder, stat and readdir answer with fixed times and with inode numbers made from the path,
 * so these too are the same on every build. (wasmtime makes some of these calls without libc,
 * out of reach of a preload: build-tools/pin-stat.c pins those.)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <limits.h>
#include <fcntl.h>

static void fill(void *buf, size_t len) {
  unsigned char *p = buf;
  for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(i * 37u + 11u);
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
  (void)flags;
  fill(buf, len);
  return (ssize_t)len;
}

long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_getrandom) {
    fill((void *)a[0], (size_t)a[1]);
    return a[1];
  }
  static long (*real)(long, ...) = 0;
  if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int clock_gettime(clockid_t clock, struct timespec *tp) {
  if (!tp) return 0;
  if (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE) {
    tp->tv_sec = 1577836800;
  } else {
    tp->tv_sec = 1;
  }
  tp->tv_nsec = 0;
  return 0;
}

#define FIXED 1577836800

static const char *root(void) {
  static const char *r = 0;
  static int done = 0;
  if (!done) { r = getenv("FABRICKS_FIXED_TIME_ROOT"); done = 1; }
  return r;
}

static unsigned long long ino_of(const char *p) {
  unsigned long long h = 1469598103934665603ULL;
  for (; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return h >> 1;
}

/* per thread: wasmtime stats files from several threads at once */
static __thread unsigned long long last_ino;

static int under_root(int dirfd, const char *path) {
  const char *r = root();
  if (!r) return 0;
  char buf[PATH_MAX * 2];
  if (path && path[0] == '/') {
    snprintf(buf, sizeof buf, "%s", path);
  } else {
    char link[64], base[PATH_MAX];
    if (dirfd == AT_FDCWD) {
      if (!getcwd(base, sizeof base)) return 0;
    } else {
      snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
      ssize_t n = readlink(link, base, sizeof base - 1);
      if (n < 0) return 0;
      base[n] = 0;
    }
    snprintf(buf, sizeof buf, "%s/%s", base, path ? path : "");
  }
  size_t len = strlen(r);
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  last_ino = ino_of(buf);
  return strncmp(buf, r, len) == 0 && (buf[len] == '/' || buf[len] == 0);
}

static void fix_stat(struct stat64 *st) {
  st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = FIXED;
  st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = 0;
  st->st_ino = last_ino;
  st->st_dev = 1; /* the guest sees hash(st_dev, st_ino): st_dev differs between machines */
}

static void fix_statx(struct statx *st) {
  st->stx_atime.tv_sec = st->stx_mtime.tv_sec = st->stx_ctime.tv_sec = st->stx_btime.tv_sec = FIXED;
  st->stx_atime.tv_nsec = st->stx_mtime.tv_nsec = st->stx_ctime.tv_nsec = st->stx_btime.tv_nsec = 0;
  st->stx_ino = last_ino;
  st->stx_dev_major = 0;
  st->stx_dev_minor = 1;
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  static int (*real)(int, const char *, int, unsigned int, struct statx *) = 0;
  if (!real) real = dlsym(RTLD_NEXT, "statx");
  int rc = real(dirfd, path, flags, mask, buf);
  if (rc == 0 && under_root(dirfd, path)) fix_statx(buf);
  return rc;
}

int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *buf, int flags) {
  static int (*real)(int, int, const char *, struct stat64 *, int) = 0;
  if (!real) real = dlsym(RTLD_NEXT, "__fxstatat64");
  int rc = real(ver, dirfd, path, buf, flags);
  if (rc == 0 && under_root(dirfd, path)) fix_stat(buf);
  return rc;
}

int __fxstat64(int ver, int fd, struct stat64 *buf) {
  static int (*real)(int, int, struct stat64 *) = 0;
  if (!real) real = dlsym(RTLD_NEXT, "__fxstat64");
  int rc = real(ver, fd, buf);
  if (rc == 0 && under_root(fd, "")) fix_stat(buf);
  return rc;
}

struct dirent64 *readdir64(DIR *d) {
  static struct dirent64 *(*real)(DIR *) = 0;
  if (!real) real = dlsym(RTLD_NEXT, "readdir64");
  struct dirent64 *e = real(d);
  if (e && under_root(dirfd(d), e->d_name)) e->d_ino = last_ino;
  return e;
}
