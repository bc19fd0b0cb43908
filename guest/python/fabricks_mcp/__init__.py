"""fabricks' FastMCP: MCP servers written against the official Python SDK's high-level API
(`from mcp.server.fastmcp import FastMCP`, mcp 1.x) in plain Python, so that they pack into a
WebAssembly component (the official SDK needs pydantic-core, which has no WASI build).
docs/mcp.md lists what is supported and what differs."""

from .content import AudioContent, EmbeddedResource, Image, ImageContent, ResourceLink, TextContent
from .context import Context
from .errors import FastMCPError, McpError, ResourceError, ToolError, ValidationError
from .prompts import AssistantMessage, Message, UserMessage
from .server import FastMCP


class Field:
    """Annotated[str, Field(description="...")]: the description (pydantic's Field is not
    available here; an object with a `description` attribute or a plain string also works)."""

    def __init__(self, default=Ellipsis, *, description=None, title=None, **kw) -> None:
        self.default = default
        self.description = description
        self.title = title


__all__ = [
    "FastMCP", "Context", "Image", "Field", "ToolError", "ResourceError", "ValidationError", "FastMCPError", "McpError",
    "TextContent", "ImageContent", "AudioContent", "EmbeddedResource", "ResourceLink", "Message", "UserMessage", "AssistantMessage",
]
