"""mcp.run(transport="streamable-http"): hands the ASGI app to whatever serves HTTP here.

Inside fabricks the runtime serves the entrypoint's ASGI `app` through
wasi:http/incoming-handler when the service is granted [capabilities.network] listen, importing
the entrypoint as a module (its `if __name__ == "__main__":` block does not run). So the runtime
asks app_in() for a module without `app`: the app mcp.run(transport="streamable-http") registered
while the module was imported, or that of the module's FastMCP server. Run as a command instead
(no listen), there is no HTTP to serve: run() says what to add. On a host Python (tests, local
use) run() starts uvicorn, as the official SDK does."""

import sys

_registered = None


def in_fabricks() -> bool:
    return "fabricks_runtime" in sys.modules


def app_in(module):
    """The Streamable HTTP app of a module that defines a FastMCP server, or None."""
    if _registered is not None:
        return _registered
    from .server import FastMCP

    servers = [v for v in vars(module).values() if isinstance(v, FastMCP)]
    return servers[0].streamable_http_app() if len(servers) == 1 else None


def serve(app, settings, caller: str) -> None:
    global _registered
    if in_fabricks():
        if caller == "__main__":
            raise RuntimeError(
                'transport "streamable-http" is served by fabricks through [capabilities.network] listen: '
                "add listen = [<port>] to fabricks.toml (or run with --listen <port>); without it the service runs as a command, "
                'for which mcp.run() (stdio) is the transport'
            )
        _registered = app
        return
    try:
        import uvicorn  # type: ignore[import-not-found]
    except ImportError:
        raise RuntimeError('transport "streamable-http" outside fabricks needs uvicorn (pip install uvicorn), or serve mcp.streamable_http_app() with any ASGI server') from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=str(settings.log_level).lower())
