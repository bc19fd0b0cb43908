"""The official MCP Python SDK's client driving a server, over stdio (a command) or Streamable
HTTP (a URL): prints one JSON object with what each step returned, for the tests to check. The
steps are those of the test fixtures' server (fixture), of the weather examples
(examples/mcp-weather-*, weather), or a large result and a call after it (large: a server with
tools `blob(size) -> str` and `add(a, b) -> int`).

    python mcp_client.py fixture|weather|large stdio <command> [args...]
    python mcp_client.py fixture|weather|large http <url>
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


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def fixture_steps(session: ClientSession) -> dict:
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


async def weather_steps(session: ClientSession) -> dict:
    out: dict = {}
    out["initialize"] = dump(await session.initialize())
    out["tools"] = [t["name"] for t in dump(await session.list_tools())["tools"]]
    out["forecast"] = dump(await session.call_tool("get_forecast", {"latitude": 38.9, "longitude": -77.0}))
    out["alerts"] = dump(await session.call_tool("get_alerts", {"state": "CA"}))
    out["bad"] = dump(await session.call_tool("get_forecast", {"latitude": "north", "longitude": 0}))
    out["resource"] = dump(await session.read_resource("weather://states"))
    out["prompt"] = dump(await session.get_prompt("weather_report", {"location": "Boston"}))
    return out


async def large_steps(session: ClientSession) -> dict:
    # a response that never arrives fails its step here rather than hanging the test
    wait = timedelta(seconds=60)
    out: dict = {}
    await session.initialize()
    out["blob"] = dump(await session.call_tool("blob", {"size": 300_000}, read_timeout_seconds=wait))
    out["after"] = dump(await session.call_tool("add", {"a": 40, "b": 2}, read_timeout_seconds=wait))
    return out


STEPS = {"fixture": fixture_steps, "weather": weather_steps, "large": large_steps}


async def main() -> None:
    session_steps = STEPS[sys.argv[1]]
    mode = sys.argv[2]
    if mode == "stdio":
        params = StdioServerParameters(command=sys.argv[3], args=sys.argv[4:], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                out = await session_steps(session)
    else:
        async with streamablehttp_client(sys.argv[3]) as (read, write, _):
            async with ClientSession(read, write) as session:
                out = await session_steps(session)
    print(json.dumps(out))


asyncio.run(main())
