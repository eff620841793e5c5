"""Telling this process's followers of the log that a save has just succeeded.

The projections and the relay follow the notification log. Rather than poll it, they
register here and are told the last log position of each save made through this
process's `TafLedger`, so they wake at once. Other processes' saves reach them through
the store's own signal (LISTEN/NOTIFY on PostgreSQL) or their slow polling fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("taf.domain.saves")

SaveListener = Callable[[int], None]


class SaveListeners:
    """Callables told the last log position of every successful save, in the saving thread.

    A listener must return at once (set an event, not do the work): it runs inside the
    command that saved. One that raises is logged and the save still counts as done.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: tuple[SaveListener, ...] = ()

    def add(self, listener: SaveListener) -> None:
        """Tell `listener` about every save from now on."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def remove(self, listener: SaveListener) -> None:
        """Stop telling `listener` (nothing happens when it was not added)."""
        with self._lock:  # compared with != : a bound method is equal to, not identical with, the one added
            self._listeners = tuple(each for each in self._listeners if each != listener)

    def saved(self, position: int) -> None:
        """Tell every listener that the log now reaches `position`."""
        for listener in self._listeners:
            try:
                listener(position)
            except Exception:  # noqa: BLE001 - the save has happened; a follower's fault must not undo the answer
                log.exception("a save listener failed")
