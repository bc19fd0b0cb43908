"""The official MCP Python SDK's client driving a server, over stdio (a command) or Streamable
HTTP (a URL): prints one JSON object with what each step returned, for the tests to check.

    python mcp_client.py stdio <command> [args...]
    python mcp_client.py http <url>
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def session_steps(session: ClientSession) -> dict:
    out: dict = {}
    init = await session.initialize()
    out["initialize"] = dump(init)
    out["tools"] = dump(await session.list_tools())["tools"]
    out["add"] = dump(await session.call_tool("add", {"a": 40}))
    out["point"] = dump(await session.call_tool("point", {"x": 1, "y": 2}))
    out["greet"] = dump(await session.call_tool("greet", {"name": "Ada"}))
    out["fail"] = dump(await session.call_tool("fail", {"reason": "testing"}))
    out["resource"] = dump(await session.read_resource("shapes://square/area"))
    out["templates"] = dump(await session.list_resource_templates())["resourceTemplates"]
    out["prompt"] = dump(await session.get_prompt("review", {"code": "x = 1"}))
    try:
        await session.call_tool("no_such_tool", {})
        out["unknown"] = None
    except McpError as e:
        out["unknown"] = {"code": e.error.code, "message": e.error.message}
    return out


async def main() -> None:
    mode = sys.argv[1]
    if mode == "stdio":
        params = StdioServerParameters(command=sys.argv[2], args=sys.argv[3:], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                out = await session_steps(session)
    else:
        async with streamablehttp_client(sys.argv[2]) as (read, write, _):
            async with ClientSession(read, write) as session:
                out = await session_steps(session)
    print(json.dumps(out))


asyncio.run(main())
