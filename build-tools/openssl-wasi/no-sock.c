/* See no-sock.h. Each pushes ERR_R_UNSUPPORTED onto OpenSSL's error queue and fails. */
#include <openssl/err.h>
#include "no-sock.h"

int SSL_set_fd(SSL *s, int fd) {
  (void)s; (void)fd;
  ERR_raise(ERR_LIB_SSL, ERR_R_UNSUPPORTED);
  return 0;
}

int SSL_set_rfd(SSL *s, int fd) { return SSL_set_fd(s, fd); }

int SSL_set_wfd(SSL *s, int fd) { return SSL_set_fd(s, fd); }

BIO_ADDR *BIO_ADDR_new(void) {
  ERR_raise(ERR_LIB_BIO, ERR_R_UNSUPPORTED);
  return NULL;
}

void BIO_ADDR_free(BIO_ADDR *ap) { (void)ap; }

int DTLSv1_listen(SSL *s, BIO_ADDR *client) {
  (void)s; (void)client;
  ERR_raise(ERR_LIB_SSL, ERR_R_UNSUPPORTED);
  return -1;
}
