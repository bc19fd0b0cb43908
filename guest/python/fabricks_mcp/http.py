"""MCP's Streamable HTTP transport as an ASGI 3 app (what mcp.streamable_http_app() returns).

POST carries JSON-RPC messages; the answer is one JSON body, or (the official SDK's default) an
event stream holding the notifications sent while the request ran and then the response. The
server never opens a stream of its own, so GET is 405. Sessions are named by the Mcp-Session-Id
header the initialize answer carries (none with stateless_http=True); DELETE ends one.

Inside fabricks, requests of one session may reach different instances (`fabricks run` serves
with several workers, `wasmtime serve` with an instance per request), so a session id this
instance does not know is taken on as a new session instead of refused with 404: what a session
holds here (the log level) is per instance."""

import json
import uuid

from . import errors as E
from .protocol import SUPPORTED_VERSIONS, Dispatcher, Session, dump, error_response

SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"


class StreamableHTTPApp:
    def __init__(self, server) -> None:
        self.server = server
        self.path = server.settings.streamable_http_path.rstrip("/") or "/"
        self.stateless = server.settings.stateless_http
        self.json_response = server.settings.json_response
        self.dispatcher = Dispatcher(server)
        self.sessions: dict = {}
        from .serve import in_fabricks

        self.adopt = in_fabricks()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if (scope.get("path", "").rstrip("/") or "/") != self.path:
            await _send(send, 404, {"error": f"Not Found: MCP is served at {self.path}"})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "GET")
        if method == "POST":
            await self._post(headers, await _body(receive), send)
        elif method == "DELETE":
            await self._delete(headers, send)
        else:
            await _send(send, 405, _rpc_error(E.INVALID_REQUEST, "Method Not Allowed: this server opens no event stream of its own (GET); use POST"), [(b"allow", b"POST, DELETE")])

    async def _post(self, headers: dict, body: bytes, send) -> None:
        accept = headers.get("accept", "*/*")
        content_type = headers.get("content-type", "")
        if "application/json" not in content_type:
            await _send(send, 415, _rpc_error(E.INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json"))
            return
        try:
            message = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            await _send(send, 400, error_response(None, E.PARSE_ERROR, f"Parse error: {e}"))
            return
        messages = message if isinstance(message, list) else [message]
        initializing = any(isinstance(m, dict) and m.get("method") == "initialize" for m in messages)
        session, refusal = self._session(headers, initializing)
        if refusal is not None:
            await _send(send, *refusal)
            return
        version = headers.get(VERSION_HEADER)
        if version is not None and not initializing and version not in SUPPORTED_VERSIONS:
            await _send(send, 400, _rpc_error(E.INVALID_REQUEST, f"Bad Request: Unsupported protocol version: {version} (supported: {', '.join(SUPPORTED_VERSIONS)})"))
            return
        extra = [(SESSION_HEADER.encode(), session.id.encode())] if session.id else []
        has_requests = any(isinstance(m, dict) and "method" in m and "id" in m for m in messages)
        if not has_requests:
            await self.dispatcher.handle(message, session)
            await send({"type": "http.response.start", "status": 202, "headers": extra})
            await send({"type": "http.response.body", "body": b""})
            return
        stream = not self.json_response and "text/event-stream" in accept
        notifications: list = []
        response = await self.dispatcher.handle(message, session, notifications.append if stream else None)
        if initializing and session.id and isinstance(response, dict) and "result" in response:
            self.sessions[session.id] = session
        if not stream:
            await _send(send, 200, response, extra)
            return
        events = b"".join(b"event: message\ndata: " + dump(m).encode("utf-8") + b"\n\n" for m in notifications + [response])
        headers_out = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache, no-transform")] + extra
        await send({"type": "http.response.start", "status": 200, "headers": headers_out})
        await send({"type": "http.response.body", "body": events})

    def _session(self, headers: dict, initializing: bool):
        """(session, None) or (None, (status, body)) for a request that names no live session."""
        if self.stateless:
            return Session(), None
        given = headers.get(SESSION_HEADER)
        if initializing:
            if given:
                return None, (400, _rpc_error(E.INVALID_REQUEST, "Bad Request: initialize starts a session and must come without Mcp-Session-Id"))
            return Session(uuid.uuid4().hex), None
        if not given:
            return None, (400, _rpc_error(E.INVALID_REQUEST, "Bad Request: Missing session ID (the Mcp-Session-Id header from the initialize response)"))
        session = self.sessions.get(given)
        if session is None and self.adopt:
            session = self.sessions[given] = Session(given)
        if session is None:
            return None, (404, _rpc_error(E.INVALID_REQUEST, "Session not found: initialize again"))
        return session, None

    async def _delete(self, headers: dict, send) -> None:
        if self.stateless:
            await _send(send, 405, _rpc_error(E.INVALID_REQUEST, "Method Not Allowed: this server keeps no sessions"), [(b"allow", b"POST")])
            return
        given = headers.get(SESSION_HEADER)
        if not given or (self.sessions.pop(given, None) is None and not self.adopt):
            await _send(send, 404 if given else 400, _rpc_error(E.INVALID_REQUEST, "Session not found" if given else "Bad Request: Missing session ID"))
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _rpc_error(code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": "server-error", "error": {"code": code, "message": message}}


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send, status: int, body, extra=()) -> None:
    data = dump(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())] + list(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
