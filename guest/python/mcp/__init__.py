"""The `mcp` package fabricks' Python runtime provides: the parts of the official MCP Python SDK
(mcp 1.x) that FastMCP servers import, backed by fabricks_mcp. A service whose own source holds
an `mcp` package or module imports that one instead."""
