"""The Context a tool, resource or prompt asks for by annotating a parameter with it."""

import typing

_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


class Context:
    """What a handler may do while it runs: log to the client, report progress, read resources.

    Log messages go to the client as notifications/message when it asked for them
    (logging/setLevel) and the transport can carry them (stdio, or Streamable HTTP answering
    with an event stream); otherwise they are dropped, never written to stdout."""

    def __init__(self, server=None, session=None, request_id=None, meta=None, notify=None) -> None:
        self._server = server
        self._session = session
        self._request_id = request_id
        self._meta = meta or {}
        self._notify = notify

    @property
    def fastmcp(self):
        return self._server

    @property
    def request_id(self) -> str:
        return str(self._request_id)

    @property
    def client_id(self) -> typing.Optional[str]:
        return self._meta.get("client_id")

    @property
    def session(self):
        return self._session

    def _send(self, method: str, params: dict) -> None:
        if self._notify is not None:
            self._notify({"jsonrpc": "2.0", "method": method, "params": params})

    async def log(self, level: str, message: str, logger_name: typing.Optional[str] = None, extra=None) -> None:
        wanted = getattr(self._session, "log_level", None)
        if wanted is None or level not in _LEVELS or _LEVELS.index(level) < _LEVELS.index(wanted):
            return
        params: dict = {"level": level, "data": message if extra is None else {"message": message, **extra}}
        if logger_name:
            params["logger"] = logger_name
        self._send("notifications/message", params)

    async def debug(self, message: str, **kw) -> None:
        await self.log("debug", message, **kw)

    async def info(self, message: str, **kw) -> None:
        await self.log("info", message, **kw)

    async def warning(self, message: str, **kw) -> None:
        await self.log("warning", message, **kw)

    async def error(self, message: str, **kw) -> None:
        await self.log("error", message, **kw)

    async def report_progress(self, progress: float, total: typing.Optional[float] = None, message: typing.Optional[str] = None) -> None:
        token = self._meta.get("progressToken")
        if token is None:
            return
        params: dict = {"progressToken": token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        self._send("notifications/progress", params)

    async def read_resource(self, uri: str) -> list:
        """The contents of one of this server's resources, as [{"content", "mime_type"}]-like
        objects (official SDK: ReadResourceContents)."""
        contents = await self._server._read(str(uri), self)
        return [_ResourceContents(c.get("text", c.get("blob")), c.get("mimeType")) for c in contents]


class _ResourceContents:
    def __init__(self, content, mime_type) -> None:
        self.content = content
        self.mime_type = mime_type


def is_context(annotation) -> bool:
    if isinstance(annotation, str):
        return annotation.rpartition(".")[2] == "Context"
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return isinstance(annotation, type) and issubclass(annotation, Context)
