/*
 * pthread.h for C extensions built for wasm32-wasi by fabricks (src/tools/clang-wasm.ts): thread-
 * specific data only.
 *
 * The wasi-libc whose headers the build uses (Debian's, of 2022) has no pthread.h. The runtime is
 * single-threaded, and both its libc (wasi-sdk 30's) and its CPython (pthread stubs) have
 * pthread_key_create and friends, which a module that keeps per-thread state (cffi) calls. Only
 * these are declared: a module that starts threads or takes locks does not build, rather than
 * build and fail at run time.
 */
#ifndef _PTHREAD_H
#define _PTHREAD_H

#define __NEED_pthread_key_t
#include <bits/alltypes.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PTHREAD_KEYS_MAX 128

int pthread_key_create(pthread_key_t *, void (*)(void *));
int pthread_key_delete(pthread_key_t);
void *pthread_getspecific(pthread_key_t);
int pthread_setspecific(pthread_key_t, const void *);

#ifdef __cplusplus
}
#endif

#endif
