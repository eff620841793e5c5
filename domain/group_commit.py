"""Group commit: the saves of concurrent commands recorded together, each with its own outcome.

Each command thread hands its aggregates to `GroupCommit.save` and waits. One thread at a
time leads: it takes every save queued at that moment and records their events in one
transaction (the library records several aggregates in one call), then passes the lead
to the next thread waiting, which takes what queued meanwhile. Nobody waits on a timer: a
save alone is recorded at once, and saves that arrive while another transaction runs are
recorded together in the next one, which is where the throughput comes from.

A refusal stays with the command it belongs to. When the store refuses the batch (an
IntegrityError: a version already taken, an NHS number already claimed), nothing of it was
recorded, so each save in it is recorded again on its own: the refused one gets the
IntegrityError (its command then retries or refuses as it would alone), the others their
recordings. Any other failure (the database unreachable) is given to every save of the
batch, as each would have met it alone; it is never retried, since a transaction that
failed on commit may have been recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording

Record = Callable[[ProcessingEvent[Any]], list[Recording[Any]]]
AfterRecord = Callable[[ProcessingEvent[Any], list[Recording[Any]]], None]


class _Save:
    """One command's save: its events, the aggregates they came from, and how it ended."""

    def __init__(self, objects: Sequence[Any]):
        self.processing = ProcessingEvent[Any]()
        self.processing.collect_events(*objects)
        self.turn = threading.Event()  # set when done, or when this thread is to lead
        self.done = False
        self.recordings: list[Recording[Any]] = []
        self.error: BaseException | None = None

    def finish(self, recordings: list[Recording[Any]] | None = None, error: BaseException | None = None) -> None:
        """Record the outcome and wake the command's thread."""
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
    """Records concurrent saves in shared transactions; `record` is the transaction, `after` runs once it committed."""

    def __init__(self, record: Record, after: AfterRecord):
        self._record = record
        self._after = after
        self._guard = threading.Lock()
        self._queue: list[_Save] = []
        self._leading = False

    def save(self, *objects: Any) -> list[Recording[Any]]:
        """Record these aggregates' pending events (with whatever other saves are waiting); their recordings."""
        save = _Save(objects)
        if not save.processing.events:
            return []
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

    def _lead(self) -> None:
        """Record the queued saves, then pass the lead to the next save waiting (or give it up)."""
        with self._guard:
            batch, self._queue = self._queue, []
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
        """One transaction for the batch; each save alone when the store refuses it."""
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        together = ProcessingEvent[Any]()
        for save in batch:
            together.events.extend(save.processing.events)
            together.aggregates.update(save.processing.aggregates)
        try:
            recordings = self._record(together)
        except IntegrityError:
            for save in batch:
                self._commit_alone(save)
            return
        except Exception as error:  # noqa: BLE001 - each save gets what stopped the transaction
            for save in batch:
                save.finish(error=error)
            return
        self._finish_after(batch, together, recordings)

    def _commit_alone(self, save: _Save) -> None:
        """Record one save in a transaction of its own."""
        try:
            recordings = self._record(save.processing)
        except Exception as error:  # noqa: BLE001 - the command's own refusal or failure
            save.finish(error=error)
            return
        self._finish_after([save], save.processing, recordings)

    def _finish_after(
        self, batch: list[_Save], processing: ProcessingEvent[Any], recordings: list[Recording[Any]]
    ) -> None:
        """Run what follows a committed transaction (snapshots, notifying) and give each save its recordings."""
        try:
            self._after(processing, recordings)
        except Exception as error:  # noqa: BLE001 - recorded, but the save did not end as it should
            for save in batch:
                save.finish(error=error)
            return
        start = 0
        for save in batch:  # one recording per event, in the order the events were given
            end = start + len(save.processing.events)
            save.finish(recordings[start:end])
            start = end
