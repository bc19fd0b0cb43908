"""The official MCP Python SDK's client running a list of steps against a server, over stdio
(a command) or Streamable HTTP (a URL); prints one JSON array with what each step returned (an
MCP error as {"error": {code, message}}), for the tests to check.

    python mcp_steps.py '<steps>' stdio <command> [args...]
    python mcp_steps.py '<steps>' http <url>

steps is a JSON array of ["initialize"], ["tools"], ["call", name, arguments],
["resource", uri], ["templates"], ["prompt", name, arguments].
"""

import asyncio
import json
import os
import sys
from datetime import timedelta

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError

WAIT = timedelta(seconds=60)


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def step(session: ClientSession, s: list):
    kind = s[0]
    if kind == "initialize":
        return dump(await session.initialize())
    if kind == "tools":
        return dump(await session.list_tools())["tools"]
    if kind == "call":
        return dump(await session.call_tool(s[1], s[2], read_timeout_seconds=WAIT))
    if kind == "resource":
        return dump(await session.read_resource(s[1]))
    if kind == "templates":
        return dump(await session.list_resource_templates())["resourceTemplates"]
    if kind == "prompt":
        return dump(await session.get_prompt(s[1], s[2]))
    raise ValueError(f"unknown step {kind}")


async def run(session: ClientSession, steps: list) -> list:
    out = []
    for s in steps:
        try:
            out.append(await step(session, s))
        except McpError as e:
            out.append({"error": {"code": e.error.code, "message": e.error.message}})
    return out


async def main() -> None:
    steps = json.loads(sys.argv[1])
    if sys.argv[2] == "stdio":
        params = StdioServerParameters(command=sys.argv[3], args=sys.argv[4:], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                out = await run(session, steps)
    else:
        async with streamablehttp_client(sys.argv[3]) as (read, write, _):
            async with ClientSession(read, write) as session:
                out = await run(session, steps)
    print(json.dumps(out))


asyncio.run(main())
