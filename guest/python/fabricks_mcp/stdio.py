"""The stdio transport: newline-delimited JSON-RPC on stdin and stdout.

stdout carries protocol messages only: while the server runs, sys.stdout is pointed at stderr,
so a print() in a tool shows up as a log line instead of breaking the client's parser."""

import asyncio
import sys

from .protocol import Dispatcher, Session, dump, parse


def run_stdio(server) -> None:
    asyncio.run(serve_stdio(server))


async def serve_stdio(server) -> None:
    out = sys.stdout
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    binary_out = getattr(out, "buffer", None)

    def send(message) -> None:
        line = dump(message) + "\n"
        if binary_out is not None:
            binary_out.write(line.encode("utf-8"))
            binary_out.flush()
        else:
            out.write(line)
            out.flush()

    dispatcher = Dispatcher(server)
    session = Session()
    sys.stdout = sys.stderr
    try:
        while True:
            line = stdin.readline()
            if not line:
                break  # the client closed stdin: the session is over
            if not line.strip():
                continue
            message, error = parse(line)
            response = error if error is not None else await dispatcher.handle(message, session, send)
            if response is not None:
                send(response)
    finally:
        sys.stdout = out
