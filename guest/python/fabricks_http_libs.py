"""httpx and requests over wasi:http, as packed dependencies of a service.

Both open sockets and do TLS themselves (httpcore, urllib3), and a component has neither: the
host makes the connection, does TLS and enforces [capabilities.network] connect. So when either
library is imported, its transport is replaced by one that goes through http.client, which
fabricks_http_client already runs over wasi:http. A denied host is the same clear error as for
urllib (the message names the capability to add), raised as the library's own connection error.
The libraries themselves are the user's (requirements.txt); nothing here imports them first.
"""

import http.client
import socket
import urllib.parse

import fabricks_after_import

_CHUNK = 64 * 1024


def _connection(scheme: str, host: str, port, timeout):
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    return cls(host, port, timeout=timeout)


def _send(method: str, url: str, headers, body: bytes, timeout):
    """One request through http.client; returns the connection and its response."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    conn = _connection(parts.scheme, parts.hostname, parts.port, timeout)
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    sent_host = False
    for name, value in headers:
        sent_host = sent_host or name.lower() == "host"
        conn.putheader(name, value)
    if not sent_host:
        conn.putheader("Host", parts.netloc.rpartition("@")[2])
    if body and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers):
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body or None)
    return conn, conn.getresponse()


# --- httpx ------------------------------------------------------------------------------------


def _patch_httpx_transports(module) -> None:
    # httpx itself is still being imported: take what is needed from the submodules it has loaded
    from httpx._exceptions import ConnectError, ReadTimeout
    from httpx._models import Response
    from httpx._transports.base import AsyncBaseTransport, BaseTransport
    from httpx._types import AsyncByteStream, SyncByteStream

    def timeout_of(request):
        t = request.extensions.get("timeout") or {}
        return t.get("read") or t.get("connect")

    def raise_as_httpx(e: BaseException, request):
        if isinstance(e, socket.timeout):
            raise ReadTimeout(str(e), request=request) from e
        raise ConnectError(str(e), request=request) from e

    class _Stream(SyncByteStream):
        def __init__(self, conn, response) -> None:
            self._conn, self._response = conn, response

        def __iter__(self):
            while True:
                chunk = self._response.read(_CHUNK)
                if not chunk:
                    return
                yield chunk

        def close(self) -> None:
            self._response.close()
            self._conn.close()

    class _AsyncStream(AsyncByteStream):
        def __init__(self, stream: _Stream) -> None:
            self._stream = stream

        async def __aiter__(self):
            for chunk in self._stream:
                yield chunk

        async def aclose(self) -> None:
            self._stream.close()

    def handle(request):
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            conn, response = _send(request.method, str(request.url), headers, request.read(), timeout_of(request))
        except OSError as e:
            raise_as_httpx(e, request)
        return Response(
            status_code=response.status,
            headers=response.getheaders(),
            stream=_Stream(conn, response),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode("latin-1")},
        )

    class HTTPTransport(BaseTransport):
        """httpx's default transport, over wasi:http (verify, cert, proxies and pool limits are the host's)."""

        def __init__(self, *args, **kwargs) -> None:
            pass

        def handle_request(self, request):
            return handle(request)

    class AsyncHTTPTransport(AsyncBaseTransport):
        """The same for AsyncClient; each request blocks the event loop while it is sent, as a component has one thread."""

        def __init__(self, *args, **kwargs) -> None:
            pass

        async def handle_async_request(self, request):
            await request.aread()
            response = handle(request)
            return Response(
                status_code=response.status_code,
                headers=response.headers.raw,
                stream=_AsyncStream(response.stream),
                extensions=response.extensions,
            )

    module.HTTPTransport = HTTPTransport
    module.AsyncHTTPTransport = AsyncHTTPTransport


# --- requests ---------------------------------------------------------------------------------


def _patch_requests_adapters(module) -> None:
    import requests.exceptions
    import urllib3

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        if isinstance(timeout, tuple):
            timeout = timeout[1] if timeout[1] is not None else timeout[0]
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, (bytes, bytearray)):
            body = b"".join(body)  # a generator or file: wasi:http gets the whole body
        try:
            conn, response = _send(request.method, request.url, list(request.headers.items()), body or b"", timeout)
        except socket.timeout as e:
            raise requests.exceptions.ReadTimeout(e, request=request) from e
        except OSError as e:
            raise requests.exceptions.ConnectionError(e, request=request) from e
        raw = urllib3.HTTPResponse(
            body=response,
            headers=response.getheaders(),
            status=response.status,
            reason=response.reason,
            preload_content=False,
            decode_content=False,
            original_response=response,
            request_method=request.method,
            request_url=request.url,
        )
        r = self.build_response(request, raw)
        if not stream:
            r.content  # noqa: B018  (reads the body now, as requests does without stream=True)
        return r

    module.HTTPAdapter.send = send


# --- certifi ----------------------------------------------------------------------------------


def _patch_certifi(module) -> None:
    # where() copies the bundle to a temporary file, and a component has no temporary folder;
    # requests asks for it at import. TLS is the host's, so the path is only ever reported.
    path = ".fabricks/site-packages/certifi/cacert.pem"
    module.where = lambda: path


# --- wiring -----------------------------------------------------------------------------------

_PATCHES = {
    "httpx._transports.default": _patch_httpx_transports,
    "requests.adapters": _patch_requests_adapters,
    "certifi.core": _patch_certifi,
}


def install() -> None:
    for name, patch in _PATCHES.items():
        fabricks_after_import.register(name, patch)
