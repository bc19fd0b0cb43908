"""Content blocks (text, image, audio, embedded resource) and the conversion of handler results
into them, as the official FastMCP does it."""

import base64
import json

from .schema import jsonable


class _Block:
    type = ""

    def __init__(self, **fields) -> None:
        fields.pop("type", None)
        self.__dict__.update(fields)

    def to_dict(self) -> dict:
        out = {"type": self.type}
        for k, v in self.__dict__.items():
            if v is None:
                continue
            out["mimeType" if k == "mimeType" or k == "mime_type" else k] = jsonable(v) if k != "resource" else _resource(v)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__!r})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__


def _resource(v):
    return v.to_dict() if hasattr(v, "to_dict") else jsonable(v)


class TextContent(_Block):
    type = "text"


class ImageContent(_Block):
    type = "image"


class AudioContent(_Block):
    type = "audio"


class EmbeddedResource(_Block):
    type = "resource"


class ResourceLink(_Block):
    type = "resource_link"


class Image:
    """An image a tool returns: Image(path=...) or Image(data=..., format="png")."""

    def __init__(self, path=None, data: bytes = None, format: str = None) -> None:  # noqa: A002
        if (path is None) == (data is None):
            raise ValueError("Image takes either path or data")
        self.path = path
        self.data = data
        self._format = format

    def _mime(self) -> str:
        if self._format:
            return f"image/{self._format.lower()}"
        suffix = str(self.path).rpartition(".")[2].lower() if self.path else ""
        return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}.get(suffix, "application/octet-stream")

    def to_image_content(self) -> ImageContent:
        data = self.data
        if data is None:
            with open(self.path, "rb") as f:
                data = f.read()
        return ImageContent(data=base64.b64encode(data).decode(), mimeType=self._mime())


def to_json_text(value) -> str:
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)


def to_content(result) -> list:
    """A tool's result as content blocks: text as is, content blocks as they are, sequences
    flattened, anything else as JSON text."""
    if result is None:
        return []
    if isinstance(result, _Block):
        return [result.to_dict()]
    if isinstance(result, Image):
        return [result.to_image_content().to_dict()]
    if isinstance(result, str):
        return [{"type": "text", "text": result}]
    if isinstance(result, (list, tuple)):
        out = []
        for item in result:
            out.extend(to_content(item))
        return out
    return [{"type": "text", "text": to_json_text(result)}]
