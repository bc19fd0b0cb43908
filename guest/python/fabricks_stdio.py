"""Standard output and error that write everything they are given, in order.

componentize-py pre-initializes CPython with PYTHONUNBUFFERED=1, which leaves sys.stdout.buffer
a raw FileIO; and a WASI write takes only what the host's stream accepts at once (64 KiB on
wasmtime, 16 KiB on jco), returning the count. TextIOWrapper ignores a short count from a raw
file, so longer output was silently cut. Here each stream is rebuilt as CPython makes it for a
terminal: a BufferedWriter over the descriptor (it writes again until all is taken) under a
line-buffered text layer. A line goes out when it ends, input() flushes its prompt first, text
and bytes written to .buffer keep their order (write_through), and the runtime flushes both
streams when the program ends or a request is served. os.write on 1 and 2 writes everything
too, as a blocking write to a pipe does on Linux.
"""

import functools
import io
import os
import sys

_STREAMS = (("stdout", 1), ("stderr", 2))


def _stream(name: str, fd: int, old):
    raw = io.FileIO(fd, "wb", closefd=False)
    raw.name = f"<{name}>"
    text = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=old.encoding,
        errors=old.errors,
        newline="\n",
        line_buffering=True,
        write_through=True,
    )
    text.mode = "w"
    return text


_os_write = os.write


@functools.wraps(_os_write)
def _write_all(fd, data, /):
    written = _os_write(fd, data)
    if fd not in (1, 2):
        return written
    view = memoryview(data).cast("B")
    # a WASI write blocks until the host takes at least a byte: 0 means nothing more will go
    while 0 < written < len(view):
        more = _os_write(fd, view[written:])
        if more == 0:
            break
        written += more
    return written


def install() -> None:
    """Replaces sys.stdout and sys.stderr (and their __dunder__ originals); at build time,
    before anything is imported that could keep a reference to the old ones."""
    for name, fd in _STREAMS:
        stream = _stream(name, fd, getattr(sys, name))
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    os.write = _write_all


def flush() -> None:
    """What CPython does at exit: flushes the streams in use and the original ones (a program
    that pointed sys.stdout elsewhere may have left a line unfinished in the original)."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 - a closed or broken stream has nothing left to give
            pass
