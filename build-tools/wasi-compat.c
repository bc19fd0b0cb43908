/*
 * What build-tools/wasi-include/fabricks-wasi.h declares, for C extensions built for wasm32-wasi:
 * compiled by src/tools/clang-wasm.ts into a small archive linked into each module (hidden, so a
 * module's copy is its own).
 */
#include <errno.h>

__attribute__((visibility("hidden"))) int dup(int fd) {
  (void)fd;
  errno = ENOTSUP;
  return -1;
}
