"""Prints the tools/list result of a FastMCP module served by the official SDK (mcp 1.x) on
this host: python mcp_official_schemas.py <folder> <module> (the module defines `mcp`)."""

import asyncio
import importlib
import json
import sys


async def main() -> None:
    sys.path.insert(0, sys.argv[1])
    server = importlib.import_module(sys.argv[2]).mcp
    tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in await server.list_tools()]
    print(json.dumps({"tools": tools}))


asyncio.run(main())
