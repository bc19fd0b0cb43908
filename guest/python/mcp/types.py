"""The MCP types FastMCP servers commonly build results from (plain classes here; pydantic
models in the official SDK)."""

from fabricks_mcp.content import AudioContent, EmbeddedResource, ImageContent, ResourceLink, TextContent
from fabricks_mcp.protocol import LATEST as LATEST_PROTOCOL_VERSION


class ToolAnnotations:
    """Hints about a tool's behaviour: ToolAnnotations(readOnlyHint=True, ...)."""

    def __init__(self, **hints) -> None:
        self.__dict__.update(hints)


__all__ = ["TextContent", "ImageContent", "AudioContent", "EmbeddedResource", "ResourceLink", "ToolAnnotations", "LATEST_PROTOCOL_VERSION"]
