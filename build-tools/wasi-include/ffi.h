/*
 * ffi.h for C extensions built for wasm32-wasi by fabricks (src/tools/clang-wasm.ts): libffi's
 * types and the layout half of its API, without calls.
 *
 * libffi has no WASI port (its wasm32 code is for Emscripten and calls through JavaScript), and
 * WebAssembly cannot make one whole: a call whose signature is known only at run time, or a new
 * function pointer made at run time (a closure), needs code generated at run time. So this
 * header describes types (ffi_type, ffi_cif) and prepares cifs as libffi's generic code does,
 * which is all cffi's API mode needs (out-of-line modules, such as cryptography's, call C
 * directly and never call libffi), and refuses the rest: ffi_call makes no call and, in a Python
 * extension, raises NotImplementedError saying why (CPython reports it as the cause of a
 * SystemError, as the call returns a value with an error set), and ffi_prep_closure fails
 * (cffi's ffi.callback raises SystemError). Both are catchable; neither traps.
 *
 * Header-only: its functions are static, for one translation unit (cffi's _cffi_backend.c
 * includes all its parts into one); the libffi.a the build links is empty.
 */
#ifndef LIBFFI_H
#define LIBFFI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FFI_TYPE_VOID 0
#define FFI_TYPE_INT 1
#define FFI_TYPE_FLOAT 2
#define FFI_TYPE_DOUBLE 3
#define FFI_TYPE_LONGDOUBLE 4
#define FFI_TYPE_UINT8 5
#define FFI_TYPE_SINT8 6
#define FFI_TYPE_UINT16 7
#define FFI_TYPE_SINT16 8
#define FFI_TYPE_UINT32 9
#define FFI_TYPE_SINT32 10
#define FFI_TYPE_UINT64 11
#define FFI_TYPE_SINT64 12
#define FFI_TYPE_STRUCT 13
#define FFI_TYPE_POINTER 14
#define FFI_TYPE_COMPLEX 15
#define FFI_TYPE_LAST FFI_TYPE_COMPLEX

#define FFI_CLOSURES 0
#define FFI_GO_CLOSURES 0
#define FFI_NATIVE_RAW_API 0
#define FFI_TRAMPOLINE_SIZE 4
#define FFI_SIZEOF_ARG 4

typedef unsigned long ffi_arg;
typedef signed long ffi_sarg;

typedef enum ffi_abi { FFI_FIRST_ABI = 0, FFI_WASM32 = 1, FFI_LAST_ABI, FFI_DEFAULT_ABI = FFI_WASM32 } ffi_abi;

typedef enum { FFI_OK = 0, FFI_BAD_TYPEDEF, FFI_BAD_ABI, FFI_BAD_ARGTYPE } ffi_status;

typedef struct _ffi_type {
  size_t size;
  unsigned short alignment;
  unsigned short type;
  struct _ffi_type **elements;
} ffi_type;

typedef struct {
  ffi_abi abi;
  unsigned nargs;
  ffi_type **arg_types;
  ffi_type *rtype;
  unsigned bytes;
  unsigned flags;
} ffi_cif;

typedef struct {
  char tramp[FFI_TRAMPOLINE_SIZE];
  ffi_cif *cif;
  void (*fun)(ffi_cif *, void *, void **, void *);
  void *user_data;
} ffi_closure;

#define FFI_UNUSED __attribute__((unused))
#define FFI_SCALAR(name, ctype, code) static ffi_type name FFI_UNUSED = {sizeof(ctype), _Alignof(ctype), code, NULL}

static ffi_type ffi_type_void FFI_UNUSED = {1, 1, FFI_TYPE_VOID, NULL};
FFI_SCALAR(ffi_type_uint8, unsigned char, FFI_TYPE_UINT8);
FFI_SCALAR(ffi_type_sint8, signed char, FFI_TYPE_SINT8);
FFI_SCALAR(ffi_type_uint16, unsigned short, FFI_TYPE_UINT16);
FFI_SCALAR(ffi_type_sint16, short, FFI_TYPE_SINT16);
FFI_SCALAR(ffi_type_uint32, unsigned int, FFI_TYPE_UINT32);
FFI_SCALAR(ffi_type_sint32, int, FFI_TYPE_SINT32);
FFI_SCALAR(ffi_type_uint64, unsigned long long, FFI_TYPE_UINT64);
FFI_SCALAR(ffi_type_sint64, long long, FFI_TYPE_SINT64);
FFI_SCALAR(ffi_type_float, float, FFI_TYPE_FLOAT);
FFI_SCALAR(ffi_type_double, double, FFI_TYPE_DOUBLE);
FFI_SCALAR(ffi_type_longdouble, long double, FFI_TYPE_LONGDOUBLE);
FFI_SCALAR(ffi_type_pointer, void *, FFI_TYPE_POINTER);
#define ffi_type_uchar ffi_type_uint8
#define ffi_type_schar ffi_type_sint8
#define ffi_type_ushort ffi_type_uint16
#define ffi_type_sshort ffi_type_sint16
#define ffi_type_uint ffi_type_uint32
#define ffi_type_sint ffi_type_sint32
#define ffi_type_ulong ffi_type_uint32
#define ffi_type_slong ffi_type_sint32

#define FFI_ALIGN(v, a) (((((size_t)(v)) - 1) | ((a) - 1)) + 1)

/* A struct's size and alignment from its members, as libffi's initialize_aggregate does. */
static FFI_UNUSED ffi_status ffi_layout_(ffi_type *t) {
  if (t == NULL) return FFI_BAD_TYPEDEF;
  if (t->type != FFI_TYPE_STRUCT) return t->size == 0 ? FFI_BAD_TYPEDEF : FFI_OK;
  if (t->size != 0 && t->alignment != 0) return FFI_OK;
  if (t->elements == NULL) return FFI_BAD_TYPEDEF;
  size_t size = 0;
  unsigned short align = 1;
  for (ffi_type **e = t->elements; *e != NULL; e++) {
    if (ffi_layout_(*e) != FFI_OK) return FFI_BAD_TYPEDEF;
    size = FFI_ALIGN(size, (*e)->alignment) + (*e)->size;
    if ((*e)->alignment > align) align = (*e)->alignment;
  }
  t->alignment = align;
  t->size = size == 0 ? 0 : FFI_ALIGN(size, align);
  return t->size == 0 ? FFI_BAD_TYPEDEF : FFI_OK;
}

#if defined(Py_PYTHON_H)
/* Called with or without the GIL (cffi releases it around ffi_call). */
#define FFI_REFUSE_(what)                                                                                                          \
  do {                                                                                                                             \
    PyGILState_STATE gil_ = PyGILState_Ensure();                                                                                   \
    PyErr_SetString(PyExc_NotImplementedError, what " are not available in WebAssembly (wasm32-wasi has no libffi: a call or a " \
                    "callback whose C signature is only known at run time needs code made at run time); use cffi's API mode "     \
                    "(ffi.set_source, compiled ahead of time), whose calls are plain C");                                        \
    PyGILState_Release(gil_);                                                                                                      \
  } while (0)
#else
#define FFI_REFUSE_(what) ((void)0)
#endif

/* Lays the cif out as libffi's generic code does (prep_cif.c). */
static FFI_UNUSED ffi_status ffi_prep_cif(ffi_cif *cif, ffi_abi abi, unsigned nargs, ffi_type *rtype, ffi_type **atypes) {
  if (abi <= FFI_FIRST_ABI || abi >= FFI_LAST_ABI) return FFI_BAD_ABI;
  cif->abi = abi;
  cif->nargs = nargs;
  cif->arg_types = atypes;
  cif->rtype = rtype;
  cif->flags = 0;
  if (rtype == NULL || (rtype->type != FFI_TYPE_VOID && ffi_layout_(rtype) != FFI_OK)) return FFI_BAD_TYPEDEF;
  size_t bytes = 0;
  for (unsigned i = 0; i < nargs; i++) {
    if (ffi_layout_(atypes[i]) != FFI_OK) return FFI_BAD_TYPEDEF;
    size_t a = atypes[i]->alignment < FFI_SIZEOF_ARG ? FFI_SIZEOF_ARG : atypes[i]->alignment;
    bytes = FFI_ALIGN(bytes, a) + FFI_ALIGN(atypes[i]->size, FFI_SIZEOF_ARG);
  }
  cif->bytes = (unsigned)bytes;
  return FFI_OK;
}

static FFI_UNUSED ffi_status ffi_prep_cif_var(ffi_cif *cif, ffi_abi abi, unsigned nfixedargs, unsigned ntotalargs, ffi_type *rtype, ffi_type **atypes) {
  (void)nfixedargs;
  return ffi_prep_cif(cif, abi, ntotalargs, rtype, atypes);
}

/* Makes no call: the result is zeros, and a Python extension gets NotImplementedError. */
static FFI_UNUSED void ffi_call(ffi_cif *cif, void (*fn)(void), void *rvalue, void **avalue) {
  (void)fn; (void)avalue;
  if (rvalue != NULL && cif->rtype->type != FFI_TYPE_VOID) {
    size_t n = cif->rtype->size < sizeof(ffi_arg) ? sizeof(ffi_arg) : cif->rtype->size;
    __builtin_memset(rvalue, 0, n);
  }
  FFI_REFUSE_("cffi's ABI-mode calls (a C function called through ffi.dlopen or a function pointer)");
}

static FFI_UNUSED ffi_status ffi_prep_closure_loc(ffi_closure *closure, ffi_cif *cif, void (*fun)(ffi_cif *, void *, void **, void *), void *user_data, void *codeloc) {
  (void)closure; (void)cif; (void)fun; (void)user_data; (void)codeloc;
  FFI_REFUSE_("cffi's callbacks (ffi.callback)");
  return FFI_BAD_ABI;
}

static FFI_UNUSED ffi_status ffi_prep_closure(ffi_closure *closure, ffi_cif *cif, void (*fun)(ffi_cif *, void *, void **, void *), void *user_data) {
  return ffi_prep_closure_loc(closure, cif, fun, user_data, closure);
}

static FFI_UNUSED void *ffi_closure_alloc(size_t size, void **code) {
  (void)size;
  *code = NULL;
  return NULL;
}

static FFI_UNUSED void ffi_closure_free(void *closure) { (void)closure; }

#ifdef __cplusplus
}
#endif

#endif
