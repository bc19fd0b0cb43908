"""Work handed to a thread, in a component that has one thread and cannot start another.

anyio runs blocking calls in worker threads (`to_thread.run_sync`: its async files, Starlette's
sync endpoints, the official MCP SDK's stdio transport reading stdin and writing stdout). Here
such a call runs on the event loop's own thread. Most return soon (a write, a file read) and run
at once. A read of stdin may wait for the other side as long as it likes: it runs only once
every other task has run as far as it can (nothing is ready on the loop), so that the answer to
the line read before is written before the program waits for the next one. A timer that falls
due while it waits fires after the read returns.
"""

import asyncio

import fabricks_after_import

# Rounds of the event loop a read of stdin waits for the others at most (work that keeps the
# loop busy for ever would otherwise never let it read).
_ROUNDS = 10_000


def _reads_stdin(func) -> bool:
    owner = getattr(func, "__self__", None)
    try:
        return owner is not None and getattr(func, "__name__", "").startswith("read") and owner.fileno() == 0
    except Exception:  # noqa: BLE001 - not a file, or a closed one
        return False


async def when_idle() -> None:
    """Returns once no other callback is ready to run on this loop (or after _ROUNDS rounds)."""
    loop = asyncio.get_running_loop()
    for _ in range(_ROUNDS):
        await asyncio.sleep(0)
        if not loop._ready:  # noqa: SLF001 - the loop's run queue: asyncio has no public "idle"
            return


def _patch_anyio(module) -> None:
    backend = module.AsyncIOBackend

    async def run_sync_in_worker_thread(cls, func, args, abandon_on_cancel=False, limiter=None):
        if _reads_stdin(func):
            await when_idle()
        else:
            await asyncio.sleep(0)
        return func(*args)

    backend.run_sync_in_worker_thread = classmethod(run_sync_in_worker_thread)


def install() -> None:
    fabricks_after_import.register("anyio._backends._asyncio", _patch_anyio)
