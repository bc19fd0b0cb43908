"""Serves a WSGI (PEP 3333) or ASGI 3 app through wasi:http/incoming-handler.

The host owns the listener and calls the component once per request; one instance serves
requests one after another, so the app, its module state and the ASGI event loop are kept
between requests. The request body is read whole before the app runs; the response body is
streamed to the host as the app produces it.
"""

import asyncio
import inspect
import io
import sys
import traceback
import urllib.parse

from componentize_py_types import Err, Ok
from wit_world.imports import streams
from wit_world.imports import types as ht

from fabricks_http_client import FORBIDDEN, write_all


def find_app(module):
    for name in ("app", "application"):
        app = getattr(module, name, None)
        if app is not None:
            if not callable(app):
                raise TypeError(f"{module.__name__}.{name} is not callable: a WSGI or ASGI app is")
            return app
    import fabricks_mcp.serve

    app = fabricks_mcp.serve.app_in(module)  # a FastMCP server's Streamable HTTP app
    if app is not None:
        return app
    app = _official_mcp_app(module)
    if app is not None:
        return app
    raise LookupError(
        f"the entrypoint {module.__file__} defines no `app` or `application` to serve: "
        "[capabilities.network] listen serves a WSGI callable or an ASGI 3 app by one of these names"
    )


def _official_mcp_app(module):
    """The Streamable HTTP app of the one server of the official MCP SDK (its FastMCP, or
    MCPServer in mcp 2) that a module defines, as `mcp.run(transport="streamable-http")` would
    serve it, but stateless: the instances that serve a service's requests share nothing, so a
    session made by one would be unknown (404) to the next; stateless, each request stands alone
    and any instance answers it. None when there is not exactly one."""
    servers = [
        v
        for v in vars(module).values()
        if type(v).__module__.startswith(("mcp.server.", "fastmcp.")) and callable(getattr(v, "streamable_http_app", None)) and not isinstance(v, type)
    ]
    if len(servers) != 1:
        return None
    server = servers[0]
    settings = getattr(server, "settings", None)
    if hasattr(settings, "stateless_http"):  # mcp 1.x: the app is made from the settings
        settings.stateless_http = True
        return server.streamable_http_app()
    return server.streamable_http_app(stateless_http=True)  # mcp 2.x: from the arguments


def is_asgi(app) -> bool:
    """ASGI 3: a coroutine function of (scope, receive, send); WSGI: a callable of (environ, start_response)."""
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(getattr(app, "__call__", None)):
        return True
    try:
        params = inspect.signature(app).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3


def _method_name(m) -> str:
    return m.value if isinstance(m, ht.Method_Other) else type(m).__name__.removeprefix("Method_").upper()


def _read_body(request) -> bytes:
    body = request.consume()
    stream = body.stream()
    chunks = []
    while True:
        try:
            chunks.append(stream.blocking_read(65536))
        except Err as e:
            if isinstance(e.value, streams.StreamError_Closed):
                break
            # the child stream before its body, now: left to the collector, the body may go
            # first, which traps ("resource has children") in a later request
            stream.__exit__(None, None, None)
            body.__exit__(None, None, None)
            raise ConnectionResetError("reading the request body failed") from None
    stream.__exit__(None, None, None)
    ht.IncomingBody.finish(body).__exit__(None, None, None)
    return b"".join(chunks)


def _latin1(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


class Responder:
    """One response: the head once, then body bytes, then the end (or an abandoned body)."""

    def __init__(self, response_out) -> None:
        self._out = response_out
        self._body = None
        self._stream = None
        self.started = False
        self.finished = False

    def start(self, status: int, headers) -> None:
        entries = []
        for name, value in headers:
            name = (name.decode("latin-1") if isinstance(name, bytes) else name).lower()
            # Hop-by-hop headers belong to the host's connection, not to the app's response.
            if name not in FORBIDDEN:
                entries.append((name, _latin1(value)))
        response = ht.OutgoingResponse(ht.Fields.from_list(entries))
        response.set_status_code(status)
        self._body = response.body()
        self.started = True
        ht.ResponseOutparam.set(self._out, Ok(response))
        self._stream = self._body.write()

    def write(self, data) -> None:
        if data:
            write_all(self._stream, bytes(data))

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self._stream.__exit__(None, None, None)
        ht.OutgoingBody.finish(self._body, None)

    def abandon(self) -> None:
        """Drops the body unfinished: the host sees an incomplete response, not a whole one."""
        if self.finished:
            return
        self.finished = True
        self._stream.__exit__(None, None, None)
        self._body.__exit__(None, None, None)


def report(e: BaseException) -> None:
    sys.stderr.write("".join(traceback.format_exception(e)))


def fail(responder: Responder, e: BaseException) -> None:
    """An exception in the app: its traceback on stderr; a 500 if nothing was sent yet."""
    report(e)
    if not responder.started:
        responder.start(500, [("content-type", "text/plain; charset=utf-8")])
        responder.write(b"Internal Server Error\n")
        responder.finish()
    else:
        responder.abandon()


def _split(request):
    target = request.path_with_query() or "/"
    path, _, query = target.partition("?")
    authority = request.authority() or "localhost"
    host, _, port = authority.rpartition(":") if authority.rsplit(":", 1)[-1].isdigit() else (authority, "", "")
    scheme = "https" if isinstance(request.scheme(), ht.Scheme_Https) else "http"
    return path, query, host, port or ("443" if scheme == "https" else "80"), scheme


def _with_host(entries, request):
    """The request's headers with Host, as the client sent it: wasi:http carries it as the
    request's authority, not among the headers (servers and frameworks check it: the official
    MCP SDK refuses a request without one, against DNS rebinding)."""
    if request.authority() and not any(name.lower() == "host" for name, _ in entries):
        return [("host", request.authority().encode("latin-1")), *entries]
    return entries


def serve_wsgi(app, request, response_out) -> None:
    path, query, host, port, scheme = _split(request)
    headers = request.headers()
    entries = _with_host(headers.entries(), request)
    headers.__exit__(None, None, None)
    responder = Responder(response_out)
    try:
        body = _read_body(request)
        environ = {
            "REQUEST_METHOD": _method_name(request.method()),
            "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": host,
            "SERVER_PORT": port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in entries:
            key = name.upper().replace("-", "_")
            text = value.decode("latin-1")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = text
            elif key != "CONTENT_LENGTH":
                key = "HTTP_" + key
                environ[key] = f"{environ[key]},{text}" if key in environ else text
        state = {}

        def start_response(status, response_headers, exc_info=None):
            if exc_info is not None:
                try:
                    if responder.started:
                        raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
            elif "status" in state:
                raise AssertionError("start_response was called twice without exc_info")
            state["status"] = int(str(status).split(" ", 1)[0])
            state["headers"] = list(response_headers)
            return write

        def write(data) -> None:
            if not responder.started:
                responder.start(state["status"], state["headers"])
            responder.write(data)

        result = app(environ, start_response)
        try:
            for chunk in result:
                if chunk:
                    write(chunk)
            if "status" not in state:
                raise RuntimeError("the WSGI app returned without calling start_response")
            if not responder.started:
                responder.start(state["status"], state["headers"])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        responder.finish()
    except BaseException as e:  # noqa: BLE001 - the app's failure is a 500, not a trap
        fail(responder, e)


class Asgi:
    """An ASGI 3 app with its event loop, kept for the instance's life; lifespan started once."""

    def __init__(self, app) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.state = {}
        self._lifespan_started = False

    def _start_lifespan(self) -> None:
        self._lifespan_started = True
        inbox = asyncio.Queue()
        inbox.put_nowait({"type": "lifespan.startup"})
        outcome = self.loop.create_future()

        async def receive():
            return await inbox.get()

        async def send(message):
            if not outcome.done() and message["type"] in ("lifespan.startup.complete", "lifespan.startup.failed"):
                outcome.set_result(message)

        async def run():
            try:
                await self.app({"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}, receive, send)
            except BaseException as e:  # noqa: BLE001 - an app without lifespan support raises here
                if not outcome.done():
                    outcome.set_result({"type": "unsupported", "error": e})

        # The task stays pending (waiting for a shutdown that never comes) between requests.
        self._lifespan = self.loop.create_task(run())
        message = self.loop.run_until_complete(outcome)
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the ASGI app's lifespan startup failed: {message.get('message', '')}")

    def serve(self, request, response_out) -> None:
        if not self._lifespan_started:
            self._start_lifespan()
        self.loop.run_until_complete(self._serve(request, response_out))

    async def _serve(self, request, response_out) -> None:
        path, query, host, port, scheme = _split(request)
        headers = request.headers()
        entries = _with_host(headers.entries(), request)
        headers.__exit__(None, None, None)
        responder = Responder(response_out)
        done = asyncio.Event()
        try:
            body = _read_body(request)
            scope = {
                "type": "http",
                "asgi": {"version": "3.0", "spec_version": "2.3"},
                "http_version": "1.1",
                "method": _method_name(request.method()),
                "scheme": scheme,
                "path": urllib.parse.unquote(path),
                "raw_path": path.encode("latin-1"),
                "query_string": query.encode("latin-1"),
                "root_path": "",
                "headers": [(name.lower().encode("latin-1"), value) for name, value in entries],
                "client": None,
                "server": (host, int(port)),
                "state": dict(self.state),
            }
            received = False

            async def receive():
                nonlocal received
                if not received:
                    received = True
                    return {"type": "http.request", "body": body, "more_body": False}
                # Nothing more comes from the client: the next event is the end of the exchange.
                await done.wait()
                return {"type": "http.disconnect"}

            async def send(message):
                kind = message["type"]
                if kind == "http.response.start":
                    if responder.started:
                        raise RuntimeError("http.response.start was sent twice")
                    responder.start(int(message["status"]), message.get("headers", []))
                elif kind == "http.response.body":
                    if not responder.started:
                        raise RuntimeError("http.response.body was sent before http.response.start")
                    if responder.finished:
                        return
                    responder.write(message.get("body", b""))
                    if not message.get("more_body", False):
                        responder.finish()
                        done.set()

            await self.app(scope, receive, send)
            if not responder.started:
                raise RuntimeError("the ASGI app returned without sending a response")
            responder.finish()
        except BaseException as e:  # noqa: BLE001 - the app's failure is a 500, not a trap
            fail(responder, e)
        finally:
            done.set()
