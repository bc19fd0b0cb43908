"""The official MCP Python SDK's client driving a weather example (examples/mcp-weather-*), over
stdio (a command) or Streamable HTTP (a URL): prints one JSON object with what each step
returned, for test/integration/mcp-examples.test.ts to check.

    python mcp_weather_client.py stdio <command> [args...]
    python mcp_weather_client.py http <url>
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def session_steps(session: ClientSession) -> dict:
    out: dict = {}
    out["initialize"] = dump(await session.initialize())
    out["tools"] = [t["name"] for t in dump(await session.list_tools())["tools"]]
    out["forecast"] = dump(await session.call_tool("get_forecast", {"latitude": 38.9, "longitude": -77.0}))
    out["alerts"] = dump(await session.call_tool("get_alerts", {"state": "CA"}))
    out["bad"] = dump(await session.call_tool("get_forecast", {"latitude": "north", "longitude": 0}))
    out["resource"] = dump(await session.read_resource("weather://states"))
    out["prompt"] = dump(await session.get_prompt("weather_report", {"location": "Boston"}))
    return out


async def main() -> None:
    if sys.argv[1] == "stdio":
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
