"""Tamper evidence across the store: find every family and recompute its hash chain.

Family ids are found by scanning the notification log (the global, ordered event log) for
the topic of the family's created event, `FamilyRegistered` (today's and any it was
stored under before a move, `domain.evolution.STORED_TOPICS`), a page at a time. The topic
column is never encrypted, so this works with a cipher key too, and it needs no extra
table or index: one pass over the log, filtered in the database. Verification itself reads
each family's stored events (never snapshots) through `TafLedger.verify_chain`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.application import ChainCheck, TafLedger
from domain.evolution import STORED_TOPICS
from domain.family import Family

FAMILY_CREATED_TOPIC = get_topic(Family.FamilyRegistered)  # type: ignore[attr-defined]
# Families registered before a move of the Family class carry the topic it had then.
FAMILY_CREATED_TOPICS = sorted(
    {FAMILY_CREATED_TOPIC} | {f"{topic}.FamilyRegistered" for topic, cls in STORED_TOPICS.items() if cls is Family}
)
SCAN_PAGE = 1000


@dataclass(frozen=True)
class FamilyCheck:
    """The chain check of one family."""

    family_id: UUID
    check: ChainCheck

    @property
    def valid(self) -> bool:
        """Whether the family's chain verified end to end."""
        return self.check.valid


def family_ids(ledger: TafLedger, page_size: int = SCAN_PAGE) -> Iterator[UUID]:
    """Every family id, in the order the families were registered."""
    start: int | None = None
    while True:
        page = ledger.recorder.select_notifications(
            start, page_size, topics=FAMILY_CREATED_TOPICS, inclusive_of_start=False
        )
        for notification in page:
            yield UUID(str(notification.originator_id))
        if len(page) < page_size:
            return
        start = page[-1].id


def verify_family(ledger: TafLedger, family_id: UUID) -> FamilyCheck:
    """Recompute one family's chain (UnknownEntityError when there is no such family)."""
    return FamilyCheck(family_id, ledger.verify_chain(family_id))


def verify_families(
    ledger: TafLedger,
    ids: Iterable[UUID],
    on_checked: Callable[[FamilyCheck], None] | None = None,
) -> list[FamilyCheck]:
    """Recompute the chain of each family; report each result to `on_checked` as it comes."""
    results: list[FamilyCheck] = []
    for family_id in ids:
        result = verify_family(ledger, family_id)
        results.append(result)
        if on_checked is not None:
            on_checked(result)
    return results


__all__ = [
    "FAMILY_CREATED_TOPIC",
    "FAMILY_CREATED_TOPICS",
    "FamilyCheck",
    "family_ids",
    "verify_families",
    "verify_family",
]
