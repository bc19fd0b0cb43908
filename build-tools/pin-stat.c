/*
 * Runs componentize-py (argv[1..]) under ptrace and pins what stat calls report for files
 * under FABRICKS_FIXED_TIME_ROOT: fixed times, device 1, and an inode number made from the path.
 *
 * Why: CPython's snapshot keeps the st_ino of every file it imported, in the padding and stale
 * bytes of objects freed since (os.stat results). componentize-py's wasmtime hands the guest
 * st_ino = hash(st_dev, st_ino) of the real files, which it unpacks afresh on every build, so
 * every build got new inode numbers and differed in some 80 bytes; on another machine st_dev
 * differs too. wasmtime's file system layer (cap-std on rustix's linux_raw backend) makes these
 * calls with inline syscall instructions, out of reach of reproducible-host.c's LD_PRELOAD, so
 * only a tracer can see them. A seccomp filter stops only statx, newfstatat, fstat, stat and
 * lstat; all else runs at full speed. x86_64 Linux only.
 *
 * Directory listings too: CPython caches each folder's listing in a set, whose layout follows
 * the order the entries came in, and that order is the file system's (hash order on ext4, with a
 * seed of its own per file system; creation order on tmpfs). Under the root, getdents64 answers
 * with the folder's entries sorted by name, and folders report size 0 and one link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#define FIXED 1577836800
static const char *root;
static size_t rootlen;

static unsigned long long ino_of(const char *p) {
  unsigned long long h = 1469598103934665603ULL;
  for (; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return h >> 1;
}

/* Absolute path of (dirfd, path) in thread tid; 0 when it is not under root. */
static int resolve(pid_t tid, long dirfd, unsigned long pathp, char *out, size_t outlen) {
  char path[PATH_MAX] = "";
  if (pathp) {
    struct iovec l = {path, sizeof path - 1}, r = {(void *)pathp, sizeof path - 1};
    ssize_t n = process_vm_readv(tid, &l, 1, &r, 1, 0);
    if (n <= 0) { /* may cross into an unmapped page: read byte by byte */
      size_t i = 0;
      for (; i < sizeof path - 1; i++) {
        struct iovec l1 = {path + i, 1}, r1 = {(void *)(pathp + i), 1};
        if (process_vm_readv(tid, &l1, 1, &r1, 1, 0) != 1) break;
        if (!path[i]) break;
      }
      path[i] = 0;
    }
    path[sizeof path - 1] = 0;
  }
  char buf[PATH_MAX * 2];
  if (path[0] == '/') snprintf(buf, sizeof buf, "%s", path);
  else {
    char link[64], base[PATH_MAX];
    if ((int)dirfd == AT_FDCWD) snprintf(link, sizeof link, "/proc/%d/cwd", tid);
    else snprintf(link, sizeof link, "/proc/%d/fd/%d", tid, (int)dirfd);
    ssize_t n = readlink(link, base, sizeof base - 1);
    if (n < 0) return 0;
    base[n] = 0;
    snprintf(buf, sizeof buf, "%s/%s", base, path);
  }
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  if (strncmp(buf, root, rootlen) != 0 || (buf[rootlen] != '/' && buf[rootlen] != 0)) return 0;
  snprintf(out, outlen, "%s", buf);
  return 1;
}

static void poke(pid_t tid, unsigned long addr, void *data, size_t len) {
  struct iovec l = {data, len}, r = {(void *)addr, len};
  process_vm_writev(tid, &l, 1, &r, 1, 0);
}
static int peek(pid_t tid, unsigned long addr, void *data, size_t len) {
  struct iovec l = {data, len}, r = {(void *)addr, len};
  return process_vm_readv(tid, &l, 1, &r, 1, 0) == (ssize_t)len;
}

static void fix(pid_t tid, struct user_regs_struct *regs) {
  long nr = regs->orig_rax;
  if ((long)regs->rax != 0) return;
  char p[PATH_MAX * 2];
  if (nr == SYS_statx) {
    if (!resolve(tid, regs->rdi, regs->rsi, p, sizeof p)) return;
    struct statx st;
    if (!peek(tid, regs->r8, &st, sizeof st)) return;
    st.stx_atime.tv_sec = st.stx_mtime.tv_sec = st.stx_ctime.tv_sec = st.stx_btime.tv_sec = FIXED;
    st.stx_atime.tv_nsec = st.stx_mtime.tv_nsec = st.stx_ctime.tv_nsec = st.stx_btime.tv_nsec = 0;
    st.stx_ino = ino_of(p);
    st.stx_dev_major = 0;
    st.stx_dev_minor = 1;
    if (S_ISDIR(st.stx_mode)) { st.stx_size = 0; st.stx_nlink = 1; st.stx_blocks = 0; }
    poke(tid, regs->r8, &st, sizeof st);
  } else {
    unsigned long bufp;
    if (nr == SYS_newfstatat) { if (!resolve(tid, regs->rdi, regs->rsi, p, sizeof p)) return; bufp = regs->rdx; }
    else if (nr == SYS_fstat) { if (!resolve(tid, regs->rdi, 0, p, sizeof p)) return; bufp = regs->rsi; }
    else if (nr == SYS_stat || nr == SYS_lstat) { if (!resolve(tid, AT_FDCWD, regs->rdi, p, sizeof p)) return; bufp = regs->rsi; }
    else return;
    struct stat st;
    if (!peek(tid, bufp, &st, sizeof st)) return;
    st.st_atim.tv_sec = st.st_mtim.tv_sec = st.st_ctim.tv_sec = FIXED;
    st.st_atim.tv_nsec = st.st_mtim.tv_nsec = st.st_ctim.tv_nsec = 0;
    st.st_ino = ino_of(p);
    st.st_dev = 1;
    if (S_ISDIR(st.st_mode)) { st.st_size = 0; st.st_nlink = 1; st.st_blocks = 0; }
    poke(tid, bufp, &st, sizeof st);
  }
}


/* Sorted listings being read: one per (process, fd), restarted when the fd's offset is 0. */
struct entry { char *name; unsigned char type; };
struct listing { pid_t tgid; int fd; struct entry *e; size_t n, next; };
static struct listing lists[256];
/* getdents64 calls under way: the offset their fd had on entry, by thread. */
struct pending { pid_t tid; long long pos; };
static struct pending pend[256];

static pid_t tgid_of(pid_t tid) {
  char p[64], line[256];
  snprintf(p, sizeof p, "/proc/%d/status", tid);
  FILE *f = fopen(p, "r");
  pid_t t = tid;
  if (!f) return t;
  while (fgets(line, sizeof line, f)) if (sscanf(line, "Tgid: %d", &t) == 1) break;
  fclose(f);
  return t;
}

static long long fd_pos(pid_t tid, int fd) {
  char p[64], line[256];
  long long pos = -1;
  snprintf(p, sizeof p, "/proc/%d/fdinfo/%d", tid, fd);
  FILE *f = fopen(p, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) if (sscanf(line, "pos: %lld", &pos) == 1) break;
  fclose(f);
  return pos;
}

static int by_name(const void *a, const void *b) { return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name); }

static void drop(struct listing *l) {
  for (size_t i = 0; i < l->n; i++) free(l->e[i].name);
  free(l->e);
  memset(l, 0, sizeof *l);
}

static struct listing *load(pid_t tgid, int fd, const char *dir) {
  struct listing *l = 0;
  for (int i = 0; i < 256; i++) if (lists[i].e && lists[i].tgid == tgid && lists[i].fd == fd) { l = &lists[i]; break; }
  if (l) drop(l);
  else for (int i = 0; i < 256; i++) if (!lists[i].e) { l = &lists[i]; break; }
  if (!l) { drop(&lists[0]); l = &lists[0]; }
  DIR *d = opendir(dir);
  if (!d) return 0;
  size_t cap = 64;
  l->e = malloc(cap * sizeof *l->e);
  struct dirent *de;
  while ((de = readdir(d))) {
    if (l->n == cap) l->e = realloc(l->e, (cap *= 2) * sizeof *l->e);
    l->e[l->n].name = strdup(de->d_name);
    l->e[l->n].type = de->d_type;
    l->n++;
  }
  closedir(d);
  qsort(l->e, l->n, sizeof *l->e, by_name);
  l->tgid = tgid;
  l->fd = fd;
  return l;
}

static void on_getdents_entry(pid_t tid, struct user_regs_struct *regs) {
  for (int i = 0; i < 256; i++) if (!pend[i].tid || pend[i].tid == tid) { pend[i].tid = tid; pend[i].pos = fd_pos(tid, (int)regs->rdi); return; }
}

static void on_getdents_exit(pid_t tid, struct user_regs_struct *regs) {
  long long pos = -1;
  for (int i = 0; i < 256; i++) if (pend[i].tid == tid) { pos = pend[i].pos; pend[i].tid = 0; break; }
  if ((long)regs->rax < 0) return;
  char dir[PATH_MAX * 2];
  int fd = (int)regs->rdi;
  if (!resolve(tid, fd, 0, dir, sizeof dir)) return;
  pid_t tgid = tgid_of(tid);
  struct listing *l = 0;
  for (int i = 0; i < 256; i++) if (lists[i].e && lists[i].tgid == tgid && lists[i].fd == fd) { l = &lists[i]; break; }
  if (!l || pos == 0) l = load(tgid, fd, dir);
  if (!l) return;
  size_t count = regs->rdx, used = 0;
  char *out = malloc(count ? count : 1);
  while (l->next < l->n) {
    struct entry *e = &l->e[l->next];
    size_t len = (offsetof(struct dirent64, d_name) + strlen(e->name) + 1 + 7) & ~(size_t)7;
    if (used + len > count) break;
    struct dirent64 *d = (struct dirent64 *)(out + used);
    memset(d, 0, len);
    char full[PATH_MAX * 3];
    snprintf(full, sizeof full, "%s/%s", dir, e->name);
    d->d_ino = ino_of(full);
    d->d_off = (long long)l->next + 1;
    d->d_reclen = (unsigned short)len;
    d->d_type = e->type;
    strcpy(d->d_name, e->name);
    used += len;
    l->next++;
  }
  if (used == 0 && l->next < l->n) { free(out); regs->rax = -EINVAL; ptrace(PTRACE_SETREGS, tid, 0, regs); return; }
  if (used) poke(tid, regs->rsi, out, used);
  free(out);
  regs->rax = used;
  ptrace(PTRACE_SETREGS, tid, 0, regs);
}

int main(int argc, char **argv) {
  root = getenv("FABRICKS_FIXED_TIME_ROOT");
  if (argc < 2 || !root) { fprintf(stderr, "usage: FABRICKS_FIXED_TIME_ROOT=dir pin-stat cmd...\n"); return 2; }
  rootlen = strlen(root);
  pid_t child = fork();
  if (child == 0) {
    struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_statx, 6, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 5, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fstat, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_stat, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_lstat, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getdents64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    /* Without ptrace or seccomp (some sandboxes) the build still runs, only unpinned. */
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) fprintf(stderr, "pin-stat: no ptrace (%s): file metadata is not pinned, the build will not be byte-reproducible\n", strerror(errno));
    else {
      raise(SIGSTOP);
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) fprintf(stderr, "pin-stat: no seccomp (%s): file metadata is not pinned, the build will not be byte-reproducible\n", strerror(errno));
    }
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  int status;
  if (child < 0) { perror("fork"); return 127; }
  if (waitpid(child, &status, 0) < 0) return 127;
  if (WIFEXITED(status)) return WEXITSTATUS(status); /* it ran untraced */
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
  ptrace(PTRACE_CONT, child, 0, 0);
  for (;;) {
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) { if (errno == EINTR) continue; break; }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      /* done when the command ends: the tracer may have children of its own that it never
         started (a shell's helpers forked before it exec'd this program) */
      if (tid == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status), ev = status >> 16, deliver = 0;
    if (sig == SIGTRAP && ev == PTRACE_EVENT_SECCOMP) {
      struct user_regs_struct regs;
      if (ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0 && regs.orig_rax == SYS_getdents64) on_getdents_entry(tid, &regs);
      ptrace(PTRACE_SYSCALL, tid, 0, 0); /* run the call, stop at its exit */
      continue;
    }
    if (sig == (SIGTRAP | 0x80)) { /* syscall exit */
      struct user_regs_struct regs;
      if (ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0) {
        if (regs.orig_rax == SYS_getdents64) on_getdents_exit(tid, &regs);
        else fix(tid, &regs);
      }
    } else if (sig == SIGTRAP && ev) {
      /* clone, fork, exec events: nothing to do */
    } else if (sig == SIGSTOP && ev == PTRACE_EVENT_STOP) {
    } else if (sig == SIGSTOP) {
      /* new threads and children start with SIGSTOP: swallow it */
    } else deliver = sig;
    ptrace(PTRACE_CONT, tid, 0, deliver);
  }
  return 1;
}
