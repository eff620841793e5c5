"""Waking the relay when events are recorded, with polling only as a slow fallback.

Saves made in this process wake it through the ledger's save listeners; on PostgreSQL,
saves made by any process wake it through LISTEN on the event table's channel, which
eventsourcing's recorder NOTIFYs in the saving transaction. eventsourcing 9.5 offers
LISTEN only inside `PostgresSubscription`, which also pulls the notifications; the relay
reads from its own tracked position, so it listens here on a connection of its own.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain.application import TafLedger

log = logging.getLogger("taf.workers.wakeup")

STOP_CHECK = 0.5  # how often a waiting follower notices that it was asked to stop


class Wakeup:
    """Set when events may have been recorded: by this process's saves and, on PostgreSQL, by NOTIFY."""

    def __init__(self, ledger: TafLedger, stop: threading.Event):
        self._ledger = ledger
        self._stop = stop
        self._event = threading.Event()
        ledger.saves.add(self._saved)
        self._listener: threading.Thread | None = None
        if isinstance(ledger.recorder, PostgresApplicationRecorder):
            self._listener = threading.Thread(target=self._listen, name="taf-relay-listen", daemon=True)
            self._listener.start()

    def _saved(self, _position: int) -> None:
        self._event.set()

    def clear(self) -> None:
        """Forget earlier wake-ups: call before reading the log, so a save after the read wakes the next wait."""
        self._event.clear()

    def wait(self, fallback_seconds: float) -> None:
        """Return when woken, when asked to stop, or after `fallback_seconds` (the polling fallback)."""
        remaining = fallback_seconds
        while remaining > 0 and not self._stop.is_set():
            if self._event.wait(min(STOP_CHECK, remaining)):
                return
            remaining -= STOP_CHECK

    def close(self) -> None:
        """Stop listening (the stop event ends the LISTEN thread)."""
        self._ledger.saves.remove(self._saved)
        if self._listener is not None:
            self._listener.join(5)

    def _listen(self) -> None:
        recorder: Any = self._ledger.recorder
        while not self._stop.is_set():
            try:
                with recorder.datastore.get_connection() as conn:
                    conn.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=STOP_CHECK, stop_after=1):
                            self._event.set()
            except Exception as error:  # noqa: BLE001 - the polling fallback carries on meanwhile
                log.warning("cannot listen for new events (%s); polling only until it can", error)
                self._event.set()  # look at the log now: events may have been missed while not listening
                self._stop.wait(1.0)
