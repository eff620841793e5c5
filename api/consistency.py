"""Read-your-writes without holding a thread: reads sent with `X-Consistent-With` wait on the event loop.

Every waiting read shares one check of how far the read models have got, made at most once
per `interval` on a worker thread for the moment the query takes, so sixty waiting reads
cost the database one query per interval and the server no threads while they wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool


class PositionWatch:
    """How far the read models have applied the log, shared by every read waiting for a position."""

    def __init__(self, applied: Callable[[], int], head: Callable[[], int], interval: float = 0.05):
        self._applied = applied
        self._head = head
        self.interval = interval
        self._known = 0
        self._checked_at = float("-inf")
        self._lock: asyncio.Lock | None = None

    async def beyond_log(self, position: int) -> bool:
        """Whether nothing has been written at `position` yet: it is past the end of the log."""
        return position > await run_in_threadpool(self._head)

    async def reached(self, position: int, timeout: float) -> bool:
        """Wait (up to `timeout` seconds) until the read models include `position`; False when they did not."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if await self._applied_position() >= position:
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(self.interval, remaining))

    async def _applied_position(self) -> int:
        """The position every read model has applied, checked again when the last check is older than `interval`."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = asyncio.get_running_loop().time()
            if now - self._checked_at >= self.interval:
                self._known = await run_in_threadpool(self._applied)
                self._checked_at = asyncio.get_running_loop().time()
            return self._known
