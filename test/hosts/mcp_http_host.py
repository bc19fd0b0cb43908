"""Serves a FastMCP module with fabricks' FastMCP (guest/python) on this host's Python, over
Streamable HTTP through uvicorn, as mcp.run(transport="streamable-http") does outside fabricks:
python mcp_http_host.py <guest/python> <folder> <module> <port> [json]."""

import sys

sys.path[:0] = [sys.argv[1], sys.argv[2]]  # fabricks' mcp before the installed official one

import importlib  # noqa: E402

import fabricks_provided  # noqa: E402

fabricks_provided.preimport()
server = importlib.import_module(sys.argv[3]).mcp
assert type(server).__module__ == "fabricks_mcp.server", type(server).__module__
server.settings.port = int(sys.argv[4])
server.settings.json_response = sys.argv[5:] == ["json"]
server.settings.log_level = "WARNING"
server.run(transport="streamable-http")
