/*
 * Functions of OpenSSL's API that its no-sock build (the only one for wasm32-wasi: WASI has no
 * BSD sockets) leaves out, declared for bindings that name them unconditionally, such as
 * cryptography's cffi module (for pyOpenSSL). no-sock.c defines them to fail as their API allows.
 * src/tools/openssl-wasm.ts installs this beside OpenSSL's headers and links no-sock.c into
 * libssl.a; a Rust build that links this OpenSSL compiles its C with -include of this header.
 */
#ifndef FABRICKS_OPENSSL_NO_SOCK_H
#define FABRICKS_OPENSSL_NO_SOCK_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssl_st SSL;
typedef union bio_addr_st BIO_ADDR;

/* 0 (failure): there is no socket to attach. */
int SSL_set_fd(SSL *s, int fd);
int SSL_set_rfd(SSL *s, int fd);
int SSL_set_wfd(SSL *s, int fd);
/* NULL (failure). */
BIO_ADDR *BIO_ADDR_new(void);
void BIO_ADDR_free(BIO_ADDR *ap);
/* -1 (a fatal error). */
int DTLSv1_listen(SSL *s, BIO_ADDR *client);

#ifdef __cplusplus
}
#endif

#endif
