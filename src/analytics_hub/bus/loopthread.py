"""A private asyncio event loop in a background thread, for asyncio-only clients.

The bus port is synchronous and called from many threads; nats-py is asyncio-only. The
client lives on this loop, and threads hand it coroutines: ``call`` waits for the
result, ``call_soon`` does not. Tasks started on the loop are referenced until they end
(a bare ``create_task`` may be garbage-collected mid-flight) and are cancelled, then
awaited, when the loop stops, so that nothing is left half-closed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """One event loop running in one daemon thread."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait up to ``timeout`` s for its result.

        On timeout the coroutine is cancelled and ``TimeoutError`` raised.
        """
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def call_soon(self, coro: Coroutine[Any, Any, Any], group: set[asyncio.Task[Any]]) -> None:
        """Start ``coro`` on the loop without waiting; its task is kept in ``group``."""
        if self._loop.is_closed():
            coro.close()
            return
        self._loop.call_soon_threadsafe(spawn, coro, group)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel what still runs, stop the loop and join the thread."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            # Callbacks handed over just before the stop start their tasks here, so that
            # their coroutines are cancelled like the rest rather than never awaited.
            loop.run_until_complete(asyncio.sleep(0))
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def spawn(coro: Coroutine[Any, Any, Any], group: set[asyncio.Task[Any]]) -> None:
    """Start ``coro`` as a task of the running loop, referenced by ``group`` until it ends."""
    task = asyncio.get_running_loop().create_task(coro)
    group.add(task)
    task.add_done_callback(group.discard)


__all__ = ["LoopThread", "spawn"]
