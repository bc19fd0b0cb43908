"""FastMCP: the server object of the official Python SDK's high-level API (mcp 1.x), in plain
Python. Decorators register tools, resources and prompts; run() serves them."""

from . import errors as E
from .prompts import Prompt
from .resources import Resource, check_function
from .tools import Tool

TRANSPORTS = ("stdio", "streamable-http")


class Settings:
    def __init__(self, **kw) -> None:
        self.host = kw.pop("host", "127.0.0.1")
        self.port = kw.pop("port", 8000)
        self.streamable_http_path = kw.pop("streamable_http_path", "/mcp")
        self.json_response = kw.pop("json_response", False)
        self.stateless_http = kw.pop("stateless_http", False)
        self.log_level = kw.pop("log_level", "INFO")
        self.debug = kw.pop("debug", False)
        # the official SDK's other settings (auth, sse paths, dependencies...) are accepted and unused
        self.other = kw


class FastMCP:
    def __init__(self, name=None, instructions=None, website_url=None, icons=None, version=None, **settings) -> None:
        self.name = name or "FastMCP"
        self.instructions = instructions
        self.website_url = website_url
        self.icons = icons
        self.version = version or "1.0.0"
        self.settings = Settings(**settings)
        self._tools: dict = {}
        self._resources: dict = {}
        self._prompts: dict = {}

    # -- registration ---------------------------------------------------------------------

    def add_tool(self, fn, name=None, title=None, description=None, annotations=None, icons=None, meta=None, structured_output=None) -> None:
        check_function(fn)
        tool = Tool(fn, name, title, description, annotations, meta, structured_output)
        self._tools[tool.name] = tool

    def tool(self, name=None, title=None, description=None, annotations=None, icons=None, meta=None, structured_output=None):
        """@mcp.tool() or @mcp.tool(name=..., description=...)."""
        if callable(name):
            raise TypeError("The @tool decorator was used incorrectly. Did you forget to call it? Use @tool() instead of @tool")

        def decorator(fn):
            self.add_tool(fn, name, title, description, annotations, icons, meta, structured_output)
            return fn

        return decorator

    def add_resource(self, resource: Resource) -> None:
        self._resources[resource.uri] = resource

    def resource(self, uri: str, name=None, title=None, description=None, mime_type=None, icons=None, annotations=None, meta=None):
        """@mcp.resource("data://config") or a template: @mcp.resource("users://{user_id}/profile")."""
        if callable(uri):
            raise TypeError("The @resource decorator was used incorrectly. Did you forget to call it? Use @resource('uri') instead of @resource")

        def decorator(fn):
            check_function(fn)
            self.add_resource(Resource(fn, uri, name, title, description, mime_type, meta))
            return fn

        return decorator

    def add_prompt(self, prompt: Prompt) -> None:
        self._prompts[prompt.name] = prompt

    def prompt(self, name=None, title=None, description=None, icons=None):
        """@mcp.prompt() or @mcp.prompt(name=..., description=...)."""
        if callable(name):
            raise TypeError("The @prompt decorator was used incorrectly. Did you forget to call it? Use @prompt() instead of @prompt")

        def decorator(fn):
            check_function(fn)
            self.add_prompt(Prompt(fn, name, title, description))
            return fn

        return decorator

    # -- direct use (tests, composition) --------------------------------------------------

    def _list_tools_result(self) -> dict:
        return {"tools": [t.to_dict() for t in self._tools.values()]}

    async def list_tools(self) -> list:
        """The tools as MCP Tool objects (dicts here; pydantic models in the official SDK)."""
        return self._list_tools_result()["tools"]

    async def call_tool(self, name: str, arguments: dict) -> dict:
        """A CallToolResult dict (the official SDK returns content blocks or a tuple)."""
        from .context import Context

        tool = self._tools.get(name)
        if tool is None:
            raise E.ToolError(f"Unknown tool: {name}")
        return await tool.run(arguments, Context(self))

    async def list_resources(self) -> list:
        return [r.to_dict() for r in self._resources.values() if not r.is_template]

    async def list_resource_templates(self) -> list:
        return [r.to_dict() for r in self._resources.values() if r.is_template]

    async def read_resource(self, uri: str) -> list:
        from .context import Context

        return await self._read(str(uri), Context(self))

    async def list_prompts(self) -> list:
        return [p.to_dict() for p in self._prompts.values()]

    async def get_prompt(self, name: str, arguments=None) -> dict:
        from .context import Context

        prompt = self._prompts.get(name)
        if prompt is None:
            raise ValueError(f"Unknown prompt: {name}")
        return await prompt.render(arguments or {}, Context(self))

    async def _read(self, uri: str, context) -> list:
        resource = self._resources.get(uri)
        params = None
        if resource is not None and not resource.is_template:
            params = {}
        else:
            for r in self._resources.values():
                params = r.match(uri) if r.is_template else None
                if params is not None:
                    resource = r
                    break
        if params is None:
            raise E.McpError(E.RESOURCE_NOT_FOUND, f"Resource not found: {uri}", {"uri": uri})
        try:
            return await resource.read(uri, params, context)
        except E.McpError:
            raise
        except Exception as e:  # noqa: BLE001
            raise E.McpError(E.INTERNAL_ERROR, f"Error reading resource {uri}: {e}") from e

    # -- serving --------------------------------------------------------------------------

    def run(self, transport: str = "stdio", mount_path=None) -> None:
        """Serves until the client goes: over stdin/stdout, or (streamable-http) as an ASGI app
        through the runtime's HTTP serving ([capabilities.network] listen)."""
        if transport == "stdio":
            from .stdio import run_stdio

            run_stdio(self)
        elif transport == "streamable-http":
            import sys

            from .serve import serve

            serve(self.streamable_http_app(), self.settings, sys._getframe(1).f_globals.get("__name__", ""))
        elif transport == "sse":
            raise ValueError('transport "sse" (the deprecated HTTP+SSE transport) is not supported by fabricks; use "streamable-http"')
        else:
            raise ValueError(f"Unknown transport: {transport} (one of {', '.join(TRANSPORTS)})")

    async def run_stdio_async(self) -> None:
        from .stdio import serve_stdio

        await serve_stdio(self)

    def streamable_http_app(self):
        """An ASGI 3 app serving MCP's Streamable HTTP transport at settings.streamable_http_path
        (one per server: its sessions live in it)."""
        from .http import StreamableHTTPApp

        if getattr(self, "_http_app", None) is None:
            self._http_app = StreamableHTTPApp(self)
        return self._http_app

    def sse_app(self, mount_path=None):
        raise NotImplementedError('the deprecated HTTP+SSE transport is not supported by fabricks; use streamable_http_app()')
