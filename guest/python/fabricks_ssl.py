"""The `ssl` module of the fabricks runtime: its names, without TLS of its own.

componentize-py's CPython has no `_ssl` (no OpenSSL), and in a component the host makes every
connection and does TLS (wasi:http). But libraries import ssl at the top to name its types and
constants (anyio, uvicorn, httpx, the official MCP SDK through them), and configure a context
before they ever connect. So `import ssl` works: the constants, enums and exceptions are
CPython's, an SSLContext takes any configuration, and only what would do TLS here (wrapping a
socket or a memory BIO) raises, saying why. Registered as sys.modules["ssl"] after the standard
library is pre-imported, so modules that test for ssl at import (http.client, asyncio) behave as
they did without it.
"""

import enum
import os
import socket
from collections import namedtuple

OPENSSL_VERSION = "none (the fabricks runtime: TLS is done by the host)"
OPENSSL_VERSION_INFO = (0, 0, 0, 0, 0)
OPENSSL_VERSION_NUMBER = 0
HAS_SNI = HAS_ALPN = HAS_ECDH = HAS_NPN = True
HAS_NEVER_CHECK_COMMON_NAME = True
HAS_SSLv2 = HAS_SSLv3 = HAS_TLSv1 = HAS_TLSv1_1 = False
HAS_TLSv1_2 = HAS_TLSv1_3 = True
CHANNEL_BINDING_TYPES = []

_WHY = (
    "the fabricks runtime has no TLS of its own: the host makes each connection and does TLS, "
    "for HTTP(S) requests made with urllib, http.client, httpx or requests (through wasi:http); "
    "a TLS socket or memory BIO cannot be made here"
)


class _SSLMethod(enum.IntEnum):
    PROTOCOL_TLS = 2
    PROTOCOL_TLS_CLIENT = 16
    PROTOCOL_TLS_SERVER = 17


PROTOCOL_SSLv23 = PROTOCOL_TLS = _SSLMethod.PROTOCOL_TLS
PROTOCOL_TLS_CLIENT = _SSLMethod.PROTOCOL_TLS_CLIENT
PROTOCOL_TLS_SERVER = _SSLMethod.PROTOCOL_TLS_SERVER


class VerifyMode(enum.IntEnum):
    CERT_NONE = 0
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2


CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED = VerifyMode


class VerifyFlags(enum.IntFlag):
    VERIFY_DEFAULT = 0
    VERIFY_CRL_CHECK_LEAF = 4
    VERIFY_CRL_CHECK_CHAIN = 12
    VERIFY_X509_STRICT = 32
    VERIFY_ALLOW_PROXY_CERTS = 64
    VERIFY_X509_TRUSTED_FIRST = 32768
    VERIFY_X509_PARTIAL_CHAIN = 524288


globals().update(VerifyFlags.__members__)


class Options(enum.IntFlag):
    OP_ALL = 2147483728
    OP_NO_SSLv2 = 0
    OP_NO_SSLv3 = 33554432
    OP_NO_TLSv1 = 67108864
    OP_NO_TLSv1_1 = 268435456
    OP_NO_TLSv1_2 = 134217728
    OP_NO_TLSv1_3 = 536870912
    OP_NO_COMPRESSION = 131072
    OP_IGNORE_UNEXPECTED_EOF = 128
    OP_NO_TICKET = 16384
    OP_CIPHER_SERVER_PREFERENCE = 4194304
    OP_SINGLE_DH_USE = 0
    OP_SINGLE_ECDH_USE = 0
    OP_NO_RENEGOTIATION = 1073741824
    OP_ENABLE_MIDDLEBOX_COMPAT = 1048576


globals().update(Options.__members__)


class SSLErrorNumber(enum.IntEnum):
    SSL_ERROR_SSL = 1
    SSL_ERROR_WANT_READ = 2
    SSL_ERROR_WANT_WRITE = 3
    SSL_ERROR_WANT_X509_LOOKUP = 4
    SSL_ERROR_SYSCALL = 5
    SSL_ERROR_ZERO_RETURN = 6
    SSL_ERROR_WANT_CONNECT = 7
    SSL_ERROR_EOF = 8
    SSL_ERROR_INVALID_ERROR_CODE = 10


globals().update(SSLErrorNumber.__members__)


class TLSVersion(enum.IntEnum):
    MINIMUM_SUPPORTED = -2
    MAXIMUM_SUPPORTED = -1
    SSLv3 = 768
    TLSv1 = 769
    TLSv1_1 = 770
    TLSv1_2 = 771
    TLSv1_3 = 772


class AlertDescription(enum.IntEnum):
    ALERT_DESCRIPTION_HANDSHAKE_FAILURE = 40
    ALERT_DESCRIPTION_INTERNAL_ERROR = 80


class SSLError(OSError):
    library = None
    reason = None


class SSLZeroReturnError(SSLError):
    pass


class SSLWantReadError(SSLError):
    pass


class SSLWantWriteError(SSLError):
    pass


class SSLSyscallError(SSLError):
    pass


class SSLEOFError(SSLError):
    pass


class SSLCertVerificationError(SSLError, ValueError):
    verify_code = None
    verify_message = None


CertificateError = SSLCertVerificationError

_ASN1Object = namedtuple("_ASN1Object", "nid shortname longname oid")


class Purpose(_ASN1Object, enum.Enum):
    SERVER_AUTH = (129, "serverAuth", "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1")
    CLIENT_AUTH = (130, "clientAuth", "TLS Web Client Authentication", "1.3.6.1.5.5.7.3.2")


DefaultVerifyPaths = namedtuple("DefaultVerifyPaths", "cafile capath openssl_cafile_env openssl_cafile openssl_capath_env openssl_capath")


def get_default_verify_paths():
    return DefaultVerifyPaths(None, None, "SSL_CERT_FILE", "", "SSL_CERT_DIR", "")


def _unavailable(what: str):
    return SSLError(f"{what}: {_WHY}")


class SSLContext:
    """Takes what a library configures (the host's own TLS settings are what apply)."""

    sslsocket_class = None
    sslobject_class = None

    def __init__(self, protocol=PROTOCOL_TLS_CLIENT, *args, **kwargs):
        self.protocol = _SSLMethod(protocol)
        client = self.protocol != PROTOCOL_TLS_SERVER
        self.check_hostname = client
        self.verify_mode = CERT_REQUIRED if client else CERT_NONE
        self.verify_flags = VerifyFlags.VERIFY_X509_TRUSTED_FIRST
        self.options = Options.OP_ALL | Options.OP_NO_SSLv3
        self.minimum_version = TLSVersion.MINIMUM_SUPPORTED
        self.maximum_version = TLSVersion.MAXIMUM_SUPPORTED
        self.post_handshake_auth = False
        self.keylog_filename = None
        self.hostname_checks_common_name = False
        self.security_level = 2
        self.sni_callback = None
        self.num_tickets = 2

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        pass

    def load_default_certs(self, purpose=Purpose.SERVER_AUTH):
        pass

    def set_default_verify_paths(self):
        pass

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        pass

    def set_ciphers(self, ciphers):
        pass

    def set_alpn_protocols(self, protocols):
        pass

    def set_npn_protocols(self, protocols):
        pass

    def set_servername_callback(self, callback):
        self.sni_callback = callback

    def set_ecdh_curve(self, name):
        pass

    def load_dh_params(self, path):
        pass

    def get_ciphers(self):
        return []

    def get_ca_certs(self, binary_form=False):
        return []

    def cert_store_stats(self):
        return {"x509": 0, "crl": 0, "x509_ca": 0}

    def session_stats(self):
        return {}

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True, suppress_ragged_eofs=True, server_hostname=None, session=None):
        raise _unavailable("SSLContext.wrap_socket")

    def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, session=None):
        raise _unavailable("SSLContext.wrap_bio")


class SSLObject:
    def __init__(self, *args, **kwargs):
        raise TypeError(f"SSLObject does not have a public constructor (and {_WHY})")


class SSLSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise TypeError(f"SSLSocket does not have a public constructor (and {_WHY})")


class SSLSession:
    pass


class MemoryBIO:
    def __init__(self):
        raise _unavailable("MemoryBIO")


def create_default_context(purpose=Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
    return SSLContext(PROTOCOL_TLS_CLIENT if purpose == Purpose.SERVER_AUTH else PROTOCOL_TLS_SERVER)


_create_default_https_context = create_default_context
_create_unverified_context = create_default_context


def wrap_socket(*args, **kwargs):
    raise _unavailable("ssl.wrap_socket")


def RAND_bytes(n):
    return os.urandom(n)


def RAND_status():
    return True


def cert_time_to_seconds(cert_time):
    import calendar
    import time

    return calendar.timegm(time.strptime(cert_time, "%b %d %H:%M:%S %Y GMT"))


def DER_cert_to_PEM_cert(der_cert_bytes):
    import base64
    import textwrap

    f = str(base64.standard_b64encode(der_cert_bytes), "ASCII", "strict")
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(textwrap.wrap(f, 64)) + "\n-----END CERTIFICATE-----\n"


def PEM_cert_to_DER_cert(pem_cert_string):
    import base64

    d = pem_cert_string.strip()[len("-----BEGIN CERTIFICATE-----") : -len("-----END CERTIFICATE-----")]
    return base64.decodebytes(d.encode("ASCII", "strict"))
