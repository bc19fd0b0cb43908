"""The official MCP Python SDK's client timing a stdio server (used by bench-mcp-python.mjs):
python mcp_bench_client.py <runs> <calls> <seconds> <command> [args...] prints JSON: per run,
seconds from spawn to the first tool result, and tool calls per second over up to <calls> calls
(at most <seconds> s) after it."""

import asyncio
import json
import os
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def once(command: list, calls: int, seconds: float) -> dict:
    started = time.perf_counter()
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await session.call_tool("add", {"a": 1})
                first = time.perf_counter() - started
                t = time.perf_counter()
                n = 0
                while n < calls and time.perf_counter() - t < seconds:
                    await session.call_tool("add", {"a": n})
                    n += 1
                rate = n / (time.perf_counter() - t)
    return {"first_s": first, "calls_per_s": rate}


async def main() -> None:
    runs, calls, seconds, command = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
    print(json.dumps([await once(command, calls, seconds) for _ in range(runs)]))


asyncio.run(main())
