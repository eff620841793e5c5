"""Group commit: the saves of concurrent commands recorded in one transaction, each with its own outcome.

Each command hands its pending events to `GroupCommit.record` and waits. The first thread
to arrive leads: it takes every save queued at that moment (its own among them) and
records their events in one transaction (the library records the events of several
aggregates in one call), then passes the lead to the next thread waiting, which takes what
queued meanwhile. No thread waits on a timer and none is added: a save alone is recorded at
once, and saves that arrive while a transaction runs go together in the next one.

A refusal stays with the command it belongs to. When the store refuses the batch (an
IntegrityError: a version already taken, an NHS number or a reference already claimed),
nothing of it was recorded, so each save in it is recorded again in a transaction of its
own: the refused one gets the IntegrityError (its command then retries or refuses as it
would alone), the others their recordings. Any other failure (the database unreachable,
the commit lost) is given to every save of the batch, as each would have met it alone, and
is never retried here: nothing of the batch is acknowledged, and a command that retries
loads the family again first. Each thread returns only after its transaction committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording

Record = Callable[[ProcessingEvent[Any]], list[Recording[Any]]]


class _Save:
    """One command's save: its events, and how it ended."""

    def __init__(self, processing: ProcessingEvent[Any]):
        self.processing = processing
        self.turn = threading.Event()  # set when done, or when this thread is to lead
        self.done = False
        self.recordings: list[Recording[Any]] = []
        self.error: BaseException | None = None

    def finish(self, recordings: list[Recording[Any]] | None = None, error: BaseException | None = None) -> None:
        """Keep the outcome and wake the command's thread."""
        self.recordings = recordings or []
        self.error = error
        self.done = True
        self.turn.set()

    def outcome(self) -> list[Recording[Any]]:
        """The recordings of this save's events, or the error that stopped it."""
        if self.error is not None:
            raise self.error
        return self.recordings


class GroupCommit:
    """Records concurrent saves in shared transactions; `record` is one transaction of the store."""

    def __init__(self, record: Record, most_at_once: int = 64):
        self._record = record
        self._most_at_once = most_at_once
        self._guard = threading.Lock()
        self._queue: list[_Save] = []
        self._leading = False
        self.transactions = 0  # transactions committed or tried, for tests and benches
        self.saves = 0  # saves recorded in them

    def record(self, processing: ProcessingEvent[Any]) -> list[Recording[Any]]:
        """Record these events (with whatever other saves are waiting); their recordings, once committed."""
        save = _Save(processing)
        with self._guard:
            self._queue.append(save)
            if not self._leading:
                self._leading = True
                save.turn.set()
        save.turn.wait()
        if not save.done:  # woken to lead: record what is queued, this save among it
            self._lead()
        return save.outcome()

    def waiting(self) -> int:
        """How many saves wait for the transaction under way (they go together in the next one)."""
        with self._guard:
            return len(self._queue)

    @property
    def leading(self) -> bool:
        """Whether a thread is recording a batch now."""
        return self._leading

    def _lead(self) -> None:
        """Record the queued saves, then pass the lead to the next save waiting (or give it up)."""
        with self._guard:
            batch, self._queue = self._queue[: self._most_at_once], self._queue[self._most_at_once :]
        try:
            self._commit(batch)
        finally:
            for save in batch:  # only when something escaped _commit (an interrupt): nobody waits forever
                if not save.done:
                    save.finish(error=RuntimeError("the save was interrupted"))
            with self._guard:
                if self._queue:
                    self._queue[0].turn.set()
                else:
                    self._leading = False

    def _commit(self, batch: list[_Save]) -> None:
        """One transaction for the batch; each save in one of its own when the store refuses the batch."""
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        together = ProcessingEvent[Any]()
        for save in batch:
            together.events.extend(save.processing.events)
            together.aggregates.update(save.processing.aggregates)
        try:
            self.transactions += 1
            recordings = self._record(together)
        except IntegrityError:
            for save in batch:
                self._commit_alone(save)
            return
        except Exception as error:  # noqa: BLE001 - each save gets what stopped the transaction
            for save in batch:
                save.finish(error=error)
            return
        self.saves += len(batch)
        start = 0
        for save in batch:  # one recording per event, in the order the events were given
            end = start + len(save.processing.events)
            save.finish(recordings[start:end])
            start = end

    def _commit_alone(self, save: _Save) -> None:
        """Record one save in a transaction of its own."""
        try:
            self.transactions += 1
            recordings = self._record(save.processing)
        except Exception as error:  # noqa: BLE001 - the command's own refusal or failure
            save.finish(error=error)
            return
        self.saves += 1
        save.finish(recordings)
