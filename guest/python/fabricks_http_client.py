"""http.client and urllib.request over wasi:http/outgoing-handler (http and https).

A component has no sockets and no ssl module: the host makes the connection (and does TLS) and
decides which hosts and ports are allowed. http.client still writes and parses HTTP/1.1 as
usual; only its socket is replaced by one that collects the request, hands it to the host when
it is complete, and reads the host's response back as HTTP/1.1 bytes. urllib.request, and every
library built on http.client, goes through it unchanged. Installed once, at build time.
"""

import errno
import http.client
import io
import socket
import urllib.request

from componentize_py_types import Err
from wit_world.imports import outgoing_handler, streams
from wit_world.imports import types as ht

# wasi:io output streams take at most 4096 bytes per blocking write.
CHUNK = 4096
# Headers the host sets itself (wasmtime refuses them in a request it is given).
FORBIDDEN = frozenset({"host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "http2-settings"})
HINT = "add it to [capabilities.network] connect in fabricks.toml"


def denied_message(host: str, port: int) -> str:
    return f"network access to {authority_host(host)}:{port} is not granted; {HINT}"


def _denial(text: str):
    """The engine's denial in an internal-error's text, or None."""
    if not text.startswith('{"denied"'):
        return None
    try:
        import json

        denied = json.loads(text).get("denied")
    except ValueError:
        return None
    return denied if isinstance(denied, dict) else None


def authority_host(host: str) -> str:
    """A host as an authority writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def error_to_oserror(code, host: str, port: int) -> OSError:
    """The exception Python code expects for a wasi:http error-code."""
    name = type(code).__name__.removeprefix("ErrorCode_")
    value = getattr(code, "value", None)
    where = f"{authority_host(host)}:{port}"
    if name == "HttpRequestDenied":
        return PermissionError(errno.EACCES, denied_message(host, port))
    if name == "InternalError" and isinstance(value, str) and value:
        # fabricks' engine refuses a host outside [capabilities.network] connect this way, with a
        # structured denial (docs/host-protocol.md)
        denied = _denial(value)
        if denied is not None:
            return PermissionError(errno.EACCES, denied.get("message") or denied_message(host, port))
        return ConnectionError(f"{where}: {value}")
    if name in ("DnsError", "DnsTimeout", "DestinationNotFound"):
        detail = getattr(value, "rcode", None) if value is not None else None
        return socket.gaierror(socket.EAI_NONAME, f"cannot resolve {host}" + (f" ({detail})" if detail else ""))
    if name == "ConnectionRefused":
        return ConnectionRefusedError(errno.ECONNREFUSED, f"connection to {where} refused")
    if name in ("ConnectionTimeout", "ConnectionReadTimeout", "ConnectionWriteTimeout", "HttpResponseTimeout", "DnsTimeout"):
        return TimeoutError(errno.ETIMEDOUT, f"{where}: timed out")
    if name in ("DestinationUnavailable", "DestinationIpUnroutable", "DestinationIpProhibited"):
        return OSError(errno.EHOSTUNREACH, f"{where}: host unreachable ({name})")
    if name in ("ConnectionTerminated",):
        return ConnectionResetError(errno.ECONNRESET, f"{where}: connection reset")
    if name.startswith("Tls"):
        return ConnectionError(f"{where}: TLS failed ({name}{'' if value is None else ': ' + str(value)})")
    return ConnectionError(f"{where}: {name}{'' if value is None else ' ' + repr(value)}")


def method(name: str):
    cls = {
        "GET": ht.Method_Get, "HEAD": ht.Method_Head, "POST": ht.Method_Post, "PUT": ht.Method_Put,
        "DELETE": ht.Method_Delete, "CONNECT": ht.Method_Connect, "OPTIONS": ht.Method_Options,
        "TRACE": ht.Method_Trace, "PATCH": ht.Method_Patch,
    }.get(name.upper())
    return cls() if cls else ht.Method_Other(name)


def write_all(stream, data: bytes) -> None:
    for off in range(0, len(data), CHUNK):
        stream.blocking_write_and_flush(data[off:off + CHUNK])


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        line, _, data = data.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[:size]
        data = data[size + 2:]


class _ResponseReader(io.RawIOBase):
    """The response as HTTP/1.1 bytes for http.client.HTTPResponse: head, then the body streamed."""

    def __init__(self, head: bytes, body, owners) -> None:
        self._head = head
        self._body = body
        self._stream = body.stream()
        # A wasi resource is dropped before the one it came from (wasmtime traps otherwise):
        # stream, body, then response and future.
        self._owners = list(owners)

    def readable(self) -> bool:
        return True

    def _release(self, finish: bool) -> None:
        if self._stream is not None:
            self._stream.__exit__(None, None, None)
            self._stream = None
        if self._body is not None:
            if finish:
                ht.IncomingBody.finish(self._body).__exit__(None, None, None)
            else:
                self._body.__exit__(None, None, None)
            self._body = None
        for owner in self._owners:
            owner.__exit__(None, None, None)
        self._owners = []

    def close(self) -> None:
        self._release(False)
        super().close()

    def readinto(self, b) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._stream is None:
            return 0
        try:
            data = self._stream.blocking_read(len(b))
        except Err as e:
            if isinstance(e.value, streams.StreamError_Closed):
                self._release(True)
                return 0
            raise ConnectionResetError(errno.ECONNRESET, "reading the response failed") from None
        b[:len(data)] = data
        return len(data)


class WasiSocket:
    """Stands in for the TCP socket of an http.client connection (see the module's docstring)."""

    def __init__(self, scheme: str, host: str, port: int, timeout) -> None:
        self.scheme, self.host, self.port, self.timeout = scheme, host, port, timeout
        self._out = bytearray()
        self._response = None

    def setsockopt(self, *args) -> None:
        pass

    def settimeout(self, timeout) -> None:
        self.timeout = timeout

    def gettimeout(self):
        return self.timeout

    def sendall(self, data) -> None:
        if self._response is not None:
            raise OSError(errno.EPIPE, "the request was already sent")
        self._out += data
        self._send_when_complete()

    def send(self, data) -> int:
        self.sendall(data)
        return len(data)

    def _complete(self):
        head, sep, body = bytes(self._out).partition(b"\r\n\r\n")
        if not sep:
            return None
        lines = head.decode("latin-1").split("\r\n")
        verb, target, _ = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        lower = {k.lower(): v for k, v in headers}
        if "content-length" in lower:
            if len(body) < int(lower["content-length"]):
                return None
        elif lower.get("transfer-encoding", "").lower() == "chunked":
            if not body.endswith(b"0\r\n\r\n"):
                return None
            body = _dechunk(body)
            headers.append(("content-length", str(len(body))))
        return verb, target, headers, body

    def _send_when_complete(self) -> None:
        req = self._complete()
        if req is None:
            return
        verb, target, headers, body = req
        fields = ht.Fields.from_list([(k.lower(), v.encode("latin-1")) for k, v in headers if k.lower() not in FORBIDDEN])
        request = ht.OutgoingRequest(fields)
        request.set_method(method(verb))
        request.set_scheme(ht.Scheme_Https() if self.scheme == "https" else ht.Scheme_Http())
        default = 443 if self.scheme == "https" else 80
        host = authority_host(self.host)
        request.set_authority(host if self.port == default else f"{host}:{self.port}")
        request.set_path_with_query(target)
        out_body = request.body()
        options = None
        if isinstance(self.timeout, (int, float)) and self.timeout > 0:
            options = ht.RequestOptions()
            ns = int(self.timeout * 1e9)
            # Hosts may not support every timeout: each one is best effort.
            for setter in (options.set_connect_timeout, options.set_first_byte_timeout, options.set_between_bytes_timeout):
                try:
                    setter(ns)
                except Err:
                    pass
        try:
            future = outgoing_handler.handle(request, options)
        except Err as e:
            out_body.__exit__(None, None, None)
            raise error_to_oserror(e.value, self.host, self.port) from None
        body_failed = False
        if body:
            stream = out_body.write()
            try:
                write_all(stream, body)
            except Err:
                # The host closed the body: the request failed (refused, reset...), and the
                # future below says how.
                body_failed = True
            stream.__exit__(None, None, None)
        if body_failed:
            out_body.__exit__(None, None, None)
        else:
            ht.OutgoingBody.finish(out_body, None)
        while True:
            result = future.get()
            if result is not None:
                break
            pollable = future.subscribe()
            pollable.block()
            pollable.__exit__(None, None, None)
        inner = result.value
        if isinstance(result, Err) or isinstance(inner, Err):
            future.__exit__(None, None, None)
            if isinstance(result, Err):
                raise ConnectionError(f"{self.host}:{self.port}: the response was already taken")
            raise error_to_oserror(inner.value, self.host, self.port)
        response = inner.value
        if body_failed:
            response.__exit__(None, None, None)
            future.__exit__(None, None, None)
            raise ConnectionResetError(errno.ECONNRESET, f"{self.host}:{self.port}: the request body could not be sent")
        status = response.status()
        lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"]
        headers = response.headers()
        for k, v in headers.entries():
            # The host hands the body over already de-chunked, and this connection ends here.
            if k.lower() in ("transfer-encoding", "connection"):
                continue
            lines.append(f"{k}: {v.decode('latin-1')}")
        headers.__exit__(None, None, None)
        lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._response = _ResponseReader(head, response.consume(), (response, future))

    def makefile(self, mode="rb", *args, **kwargs):
        if self._response is None:
            self._send_when_complete()
        if self._response is None:
            raise OSError(errno.EPIPE, "the request was not complete")
        return io.BufferedReader(self._response)

    def close(self) -> None:
        pass


def _connect(self) -> None:
    timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
    self.sock = WasiSocket(getattr(self, "_fabricks_scheme", "http"), self.host, self.port, timeout)


class HTTPSConnection(http.client.HTTPConnection):
    """http.client.HTTPSConnection: the host does TLS (and checks certificates)."""

    _fabricks_scheme = "https"
    default_port = http.client.HTTPS_PORT

    def __init__(self, host, port=None, *, context=None, **kwargs) -> None:
        super().__init__(host, port, **kwargs)


class HTTPSHandler(urllib.request.AbstractHTTPHandler):
    def __init__(self, debuglevel=None, context=None, check_hostname=None) -> None:
        super().__init__(debuglevel)

    def https_open(self, req):
        return self.do_open(HTTPSConnection, req)

    https_request = urllib.request.AbstractHTTPHandler.do_request_


RAW_SOCKET_MESSAGE = (
    "raw sockets are not granted to a fabricks service; HTTP clients (urllib.request, "
    "http.client) reach the hosts in [capabilities.network] connect in fabricks.toml"
)


def _deny_raw_sockets() -> None:
    """A raw socket fails the way it always did (the host refuses it), with a message that says why."""
    base = socket.socket

    def explain(e: OSError) -> OSError:
        if e.errno in (errno.EACCES, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            return PermissionError(errno.EACCES, RAW_SOCKET_MESSAGE)
        return e

    init, connect, connect_ex, bind = base.__init__, base.connect, base.connect_ex, base.bind

    def __init__(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except OSError as e:
            raise explain(e) from None

    def _connect_raw(self, address):
        try:
            return connect(self, address)
        except OSError as e:
            raise explain(e) from None

    def _connect_ex(self, address):
        try:
            return connect_ex(self, address)
        except OSError as e:
            raise explain(e) from None

    def _bind(self, address):
        try:
            return bind(self, address)
        except OSError as e:
            raise explain(e) from None

    base.__init__, base.connect, base.connect_ex, base.bind = __init__, _connect_raw, _connect_ex, _bind
    getaddrinfo = socket.getaddrinfo

    def _getaddrinfo(*args, **kwargs):
        try:
            return getaddrinfo(*args, **kwargs)
        except socket.gaierror as e:
            raise socket.gaierror(e.errno, f"{e.strerror} (name lookups are not granted: {RAW_SOCKET_MESSAGE})") from None
        except OSError as e:
            raise explain(e) from None

    socket.getaddrinfo = _getaddrinfo


def install() -> None:
    http.client.HTTPConnection.connect = _connect
    http.client.HTTPSConnection = HTTPSConnection
    if "HTTPSConnection" not in http.client.__all__:
        http.client.__all__.append("HTTPSConnection")
    # build_opener adds HTTPSHandler when http.client has HTTPSConnection.
    urllib.request.HTTPSHandler = HTTPSHandler
    urllib.request._opener = None
    _deny_raw_sockets()
