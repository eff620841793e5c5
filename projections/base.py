"""The base of every read model: an eventsourcing Projection applying batches exactly once.

A batch of events is applied in one transaction that first takes the projection's
tracking row, skips what that row says is already applied, writes the view rows, and
moves the tracking row forward. Two projectors racing on the same view serialise on
that row (PostgreSQL `SELECT ... FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), so each
event changes a view once, whoever applies it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from projections.store import Tx, ViewRecorder

APPLICATION_NAME = "taf"

Handler = Callable[[Tx, Any, int], None]


def iso(value: date | datetime | None) -> str | None:
    """A date as ISO text, a time as UTC ISO text with microseconds (sortable as text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")  # as strftime("...%S.%f+00:00"), faster
    return value.isoformat()


def update_columns(tx: Tx, table: str, key: str, changes: dict[str, dict[str, Any]]) -> None:
    """Write each row's changed columns (row key -> column -> value): one UPDATE per set of columns changed."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row, columns in changes.items():
        groups.setdefault(tuple(columns), []).append((*columns.values(), row))
    for names, rows in groups.items():
        assignments = ", ".join(f"{name} = ?" for name in names)
        tx.executemany(f"UPDATE {table} SET {assignments} WHERE {key} = ?", rows)


@lru_cache(maxsize=1 << 16)
def sid(value: Any) -> str | None:
    """A UUID (or None) as text (remembered: the same ids recur on event after event)."""
    return None if value is None else str(value)


class TafProjection(Projection[ViewRecorder]):
    """A read model: its tables, and one handler per event class name it cares about."""

    name: str = ""
    cipher: Any = None  # the event store's cipher, when payloads are encrypted at rest
    tables: ClassVar[tuple[str, ...]] = ()
    table_names: ClassVar[tuple[str, ...]] = ()
    _handlers: ClassVar[dict[str, Handler | None]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}

    def _handler(self, event: Any) -> Handler | None:
        key = type(event).__qualname__
        try:
            return self._handlers[key]
        except KeyError:
            method = getattr(type(self), "on_" + key.replace(".", "_"), None)
            if method is None and key.startswith("Family."):
                method = getattr(type(self), "on_family_event", None)
            self._handlers[key] = method
            return method

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Apply one event (eventsourcing's Projection API)."""
        self.process_batch([(domain_event, tracking.notification_id)])

    def process_batch(self, items: Sequence[tuple[Any, int]]) -> int:
        """Apply events not yet applied, with the tracking record, in one transaction.

        Returns the projection's position afterwards.
        """
        if not items:
            return self.view.max_tracking_id(APPLICATION_NAME) or 0
        try:
            with self.view.write() as tx:
                position = self.view.lock_position(tx, APPLICATION_NAME)
                todo = items if items[0][1] > position else [(event, pos) for event, pos in items if pos > position]
                if not todo:
                    return position
                self.begin_batch(tx)
                for event, pos in todo:
                    handler = self._handler(event)
                    if handler is not None:
                        handler(self, tx, event, pos)  # type: ignore[call-arg,arg-type]
                self.end_batch(tx)
                last = todo[-1][1]
                self.view.set_position(tx, APPLICATION_NAME, last)
        except BaseException:
            self.abort_batch()
            raise
        return last

    def reset_batch(self) -> None:
        """Forget what the projection keeps of the batch under way (nothing unless it writes per batch)."""

    def begin_batch(self, tx: Tx) -> None:
        """Called before a batch's events are applied (in its transaction)."""
        self.reset_batch()

    def end_batch(self, tx: Tx) -> None:
        """Called after a batch's events are applied (in its transaction)."""

    def abort_batch(self) -> None:
        """Called when a batch's transaction fails (forget anything cached from it)."""
        self.reset_batch()

    def position(self) -> int:
        """The last log position applied to this view (0 before any)."""
        return self.view.max_tracking_id(APPLICATION_NAME) or 0
