/*
 * Included first in every C extension that fabricks builds for wasm32-wasi (-include, by
 * src/tools/clang-wasm.ts): POSIX functions WASI lacks, declared as POSIX declares them, so code
 * that calls them compiles. build-tools/wasi-compat.c defines them to fail as POSIX lets them
 * fail, and is linked into the module.
 */
#ifndef FABRICKS_WASI_H
#define FABRICKS_WASI_H

#ifdef __cplusplus
extern "C" {
#endif

/* WASI has no way to duplicate a file descriptor: -1 with errno ENOTSUP. */
int dup(int);

#ifdef __cplusplus
}
#endif

#endif
