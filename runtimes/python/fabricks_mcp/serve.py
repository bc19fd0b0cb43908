"""mcp.run(transport="streamable-http"): hands the ASGI app to whatever serves HTTP here.

Inside fabricks the runtime serves an ASGI app through wasi:http/incoming-handler when the
service is granted [capabilities.network] listen; run() registers the app as the entrypoint's
`app` (what the runtime serves) and returns. On a host Python (tests, local use) it runs uvicorn
when that is installed, as the official SDK does."""

import sys

_registered = None


def registered():
    """The app mcp.run(transport="streamable-http") registered, if any."""
    return _registered


def _in_fabricks() -> bool:
    return "fabricks_runtime" in sys.modules


def serve(app, settings) -> None:
    global _registered
    _registered = app
    if _in_fabricks():
        main = sys.modules.get("__main__")
        if main is not None and getattr(main, "app", None) is None:
            main.app = app
        return
    try:
        import uvicorn  # type: ignore[import-not-found]
    except ImportError:
        raise RuntimeError('transport "streamable-http" outside fabricks needs uvicorn (pip install uvicorn), or serve mcp.streamable_http_app() with any ASGI server') from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=str(settings.log_level).lower())
