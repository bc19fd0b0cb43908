"""Resources: fixed URIs and URI templates ("weather://{city}/current") served by functions."""

import base64
import inspect
import re
import urllib.parse

from .content import to_json_text
from .context import is_context
from .tools import FuncInfo

_PARAM = re.compile(r"{(\w+)}")


class Resource:
    def __init__(self, fn, uri: str, name=None, title=None, description=None, mime_type=None, meta=None) -> None:
        self.fn = fn
        self.uri = uri
        self.name = name or fn.__name__
        self.title = title
        self.description = description if description is not None else (fn.__doc__ or None)
        self.mime_type = mime_type or "text/plain"
        self.meta = meta
        self.info = FuncInfo(fn, self.name)
        self.params = _PARAM.findall(uri)
        fn_params = {n for n, _, _ in self.info.params}
        self.is_template = bool(self.params) or bool(fn_params)
        if self.is_template and set(self.params) != fn_params:
            raise ValueError(f"Mismatch between URI parameters {sorted(self.params)} and function parameters {sorted(fn_params)} of resource {uri}")
        pattern = "".join(f"(?P<{p}>[^/]+)" if i % 2 else re.escape(p) for i, p in enumerate(_PARAM.split(uri)))
        self._regex = re.compile("^" + pattern + "$")

    def _describe(self, key: str, value: str) -> dict:
        out: dict = {key: value, "name": self.name}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        out["mimeType"] = self.mime_type
        if self.meta:
            out["_meta"] = self.meta
        return out

    def to_dict(self) -> dict:
        return self._describe("uriTemplate" if self.is_template else "uri", self.uri)

    def match(self, uri: str):
        if not self.is_template:
            return {} if uri == self.uri else None
        m = self._regex.match(uri)
        return {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()} if m else None

    async def read(self, uri: str, params: dict, context) -> list:
        result = await self.info.call(params, context)
        if isinstance(result, (bytes, bytearray)):
            mime = self.mime_type if self.mime_type != "text/plain" else "application/octet-stream"
            return [{"uri": uri, "mimeType": mime, "blob": base64.b64encode(bytes(result)).decode()}]
        text = result if isinstance(result, str) else to_json_text(result)
        return [{"uri": uri, "mimeType": self.mime_type, "text": text}]


def check_function(fn) -> None:
    if not callable(fn) or inspect.isclass(fn):
        raise ValueError("a resource, tool or prompt decorates a function")
    for p in inspect.signature(fn).parameters.values():
        if p.kind == p.VAR_POSITIONAL and not is_context(p.annotation):
            raise ValueError(f"{fn.__name__}: *args cannot be filled from MCP arguments")
