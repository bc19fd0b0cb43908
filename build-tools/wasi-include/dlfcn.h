/*
 * dlfcn.h for C extensions built for wasm32-wasi by fabricks (src/tools/clang-wasm.ts).
 *
 * The wasi-libc whose headers the build uses (Debian's, of 2022) has no dlfcn.h, but the libc the
 * runtime links (wasi-sdk 30's, inside componentize-py) has dlopen and friends in its libdl.so:
 * they look up the libraries componentize-py linked into the component. These are the
 * declarations and the flag values of that libc (musl's); the symbols stay dynamic imports of the
 * extension, which the runtime's libdl.so resolves.
 */
#ifndef _DLFCN_H
#define _DLFCN_H

#ifdef __cplusplus
extern "C" {
#endif

#define RTLD_LAZY 1
#define RTLD_NOW 2
#define RTLD_NOLOAD 4
#define RTLD_NODELETE 4096
#define RTLD_GLOBAL 256
#define RTLD_LOCAL 0

#define RTLD_NEXT ((void *)-1)
#define RTLD_DEFAULT ((void *)0)

int dlclose(void *);
char *dlerror(void);
void *dlopen(const char *, int);
void *dlsym(void *__restrict, const char *__restrict);

#ifdef __cplusplus
}
#endif

#endif
