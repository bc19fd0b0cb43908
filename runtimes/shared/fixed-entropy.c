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
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

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
