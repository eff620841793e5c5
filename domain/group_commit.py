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
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
Record = Callable[[ProcessingEvent[Any]], list[Recording[Any]]]


class _Request(Generic[Item, Outcome]):
    """One thread's item, and what became of it."""

    def __init__(self, item: Item):
        self.item = item
        self.turn = threading.Event()  # set when done, or when this thread is to lead
        self.done = False
        self.outcome: Outcome | BaseException | None = None

    def finish(self, outcome: Outcome | BaseException) -> None:
        """Keep the outcome and wake the thread."""
        self.outcome = outcome
        self.done = True
        self.turn.set()


class Combiner(Generic[Item, Outcome]):
    """Hands the items of concurrent threads to `handle` together, each thread getting its own outcome back.

    Leader and followers: the first thread to arrive handles what has queued (its own item
    among it), then passes the lead to the first thread that queued meanwhile. `handle`
    returns one outcome per item, in order: a value, or an exception that thread raises.
    """

    def __init__(self, handle: Callable[[list[Item]], Sequence[Outcome | BaseException]], most_at_once: int = 64):
        self._handle = handle
        self._most_at_once = most_at_once
        self._guard = threading.Lock()
        self._queue: list[_Request[Item, Outcome]] = []
        self._leading = False

    def submit(self, item: Item) -> Outcome:
        """Handle this item (with whatever other items are waiting); its outcome."""
        request: _Request[Item, Outcome] = _Request(item)
        with self._guard:
            self._queue.append(request)
            if not self._leading:
                self._leading = True
                request.turn.set()
        request.turn.wait()
        if not request.done:  # woken to lead: handle what is queued, this item among it
            self._lead()
        if isinstance(request.outcome, BaseException):
            raise request.outcome
        return request.outcome  # type: ignore[return-value]

    def waiting(self) -> int:
        """How many items wait for the batch under way (they go together in the next one)."""
        with self._guard:
            return len(self._queue)

    @property
    def leading(self) -> bool:
        """Whether a thread is handling a batch now."""
        return self._leading

    def _lead(self) -> None:
        """Handle the queued items, then pass the lead to the next thread waiting (or give it up)."""
        with self._guard:
            batch, self._queue = self._queue[: self._most_at_once], self._queue[self._most_at_once :]
        try:
            outcomes = self._handle([request.item for request in batch])
            for request, outcome in zip(batch, outcomes, strict=True):
                request.finish(outcome)
        except Exception as error:  # noqa: BLE001 - each thread of the batch gets what stopped it
            for request in batch:
                request.finish(error)
        finally:
            for request in batch:  # only when something escaped (an interrupt): nobody waits forever
                if not request.done:
                    request.finish(RuntimeError("interrupted"))
            with self._guard:
                if self._queue:
                    self._queue[0].turn.set()
                else:
                    self._leading = False


class GroupCommit:
    """Records concurrent saves in shared transactions; `record` is one transaction of the store."""

    def __init__(self, record: Record, most_at_once: int = 64):
        self._record = record
        self._combiner: Combiner[ProcessingEvent[Any], list[Recording[Any]]] = Combiner(self._commit, most_at_once)
        self.transactions = 0  # transactions committed or tried, for tests and benches
        self.saves = 0  # saves recorded in them

    def record(self, processing: ProcessingEvent[Any]) -> list[Recording[Any]]:
        """Record these events (with whatever other saves are waiting); their recordings, once committed."""
        return self._combiner.submit(processing)

    def waiting(self) -> int:
        """How many saves wait for the transaction under way (they go together in the next one)."""
        return self._combiner.waiting()

    @property
    def leading(self) -> bool:
        """Whether a thread is recording a batch now."""
        return self._combiner.leading

    def _commit(self, batch: list[ProcessingEvent[Any]]) -> list[list[Recording[Any]] | BaseException]:
        """One transaction for the batch; each save in one of its own when the store refuses the batch."""
        if len(batch) == 1:
            return [self._commit_alone(batch[0])]
        together = ProcessingEvent[Any]()
        for processing in batch:
            together.events.extend(processing.events)
            together.aggregates.update(processing.aggregates)
        try:
            self.transactions += 1
            recordings = self._record(together)
        except IntegrityError:
            return [self._commit_alone(processing) for processing in batch]
        self.saves += len(batch)
        outcomes: list[list[Recording[Any]] | BaseException] = []
        start = 0
        for processing in batch:  # one recording per event, in the order the events were given
            end = start + len(processing.events)
            outcomes.append(recordings[start:end])
            start = end
        return outcomes

    def _commit_alone(self, processing: ProcessingEvent[Any]) -> list[Recording[Any]] | BaseException:
        """Record one save in a transaction of its own: its recordings, or what refused it."""
        try:
            self.transactions += 1
            recordings = self._record(processing)
        except Exception as error:  # noqa: BLE001 - the command's own refusal or failure
            return error
        self.saves += 1
        return recordings
