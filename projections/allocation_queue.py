"""One page of the allocation queue as coordinators see it, for the API's queue and the web's Needs a lead page.

The allocation read model (`projections.allocation`) gives the families without a lead;
this adds what the domain's rules say of each (`domain.lead_allocation`: why it needs a
lead, which agency is best placed) and the involved agencies' names and kinds, so both
surfaces show one computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.application import TafLedger
from domain.errors import UnknownEntityError
from domain.lead_allocation import InvolvedAgency, proposed_lead_agency, reasons_for_a_lead
from domain.signals import SignalThresholds
from domain.values import AgencyKind
from projections.allocation import QueuedFamily, QueuedProposal, QueuedRefusal
from projections.queries import ReadModels, decode_cursor, encode_cursor

UNDER_FIVE_DAYS = 5 * 365 + 1


@dataclass(frozen=True)
class AgencyInvolved:
    """An agency that recorded facts about the family in the involvement window."""

    agency_id: UUID
    agency_name: str
    agency_kind: str
    last_fact_on: date
    facts: int


@dataclass(frozen=True)
class QueueItem:
    """A family that needs a lead: why, who is involved, who might lead, and what was refused."""

    family_id: UUID
    reference: str
    reasons: list[str]
    agencies_involved: list[UUID]
    involvement: list[AgencyInvolved]
    proposed_agency_id: UUID | None
    pending_proposal: QueuedProposal | None
    refusals: list[QueuedRefusal]


@dataclass(frozen=True)
class QueuePage:
    """A page of the allocation queue, by family reference, and the cursor of the next (None on the last)."""

    items: list[QueueItem]
    next_cursor: str | None


class _Agencies:
    """The directory's agencies by id, read once per page."""

    def __init__(self, ledger: TafLedger):
        self.ledger = ledger
        self._found: dict[UUID, tuple[str, AgencyKind]] = {}

    def of(self, agency_id: UUID) -> tuple[str, AgencyKind]:
        if agency_id not in self._found:
            try:
                agency = self.ledger.get_agency(agency_id)
                self._found[agency_id] = (agency.name, agency.kind)
            except UnknownEntityError:
                self._found[agency_id] = (str(agency_id), AgencyKind.OTHER)
        return self._found[agency_id]


def _has_child_under_five(family: QueuedFamily, today: date) -> bool:
    """Whether a child is expected or under five (the health visitor is then best placed to lead)."""
    for child in family.children:
        born = child.get("date_of_birth")
        if born is None or (today - date.fromisoformat(born)).days < UNDER_FIVE_DAYS:
            return True
    return False


def _item(family: QueuedFamily, agencies: _Agencies, today: date, several: int) -> QueueItem:
    involved = [InvolvedAgency(a.agency_id, agencies.of(a.agency_id)[1], a.last_on, a.facts) for a in family.agencies]
    pending = family.proposal
    return QueueItem(
        family_id=family.family_id,
        reference=family.reference,
        reasons=reasons_for_a_lead(family.signals, family.episode_open, len(involved), several),
        agencies_involved=[a.agency_id for a in family.agencies],
        involvement=[
            AgencyInvolved(
                agency_id=a.agency_id,
                agency_name=agencies.of(a.agency_id)[0],
                agency_kind=agencies.of(a.agency_id)[1].value,
                last_fact_on=a.last_on,
                facts=a.facts,
            )
            for a in family.agencies
        ],
        proposed_agency_id=proposed_lead_agency(
            involved, _has_child_under_five(family, today), pending.agency_id if pending else None
        ),
        pending_proposal=pending,
        refusals=list(family.refusals),
    )


def queue_page(
    models: ReadModels, ledger: TafLedger, thresholds: SignalThresholds, limit: int, cursor: str | None
) -> QueuePage:
    """One page of the allocation queue, with the signals' involvement window; BadCursorError for a cursor not ours."""
    window, several = thresholds.involvement_window_days, thresholds.multi_agency_count
    after = None
    if cursor:
        key = decode_cursor(cursor, 2)
        after = (key[0], key[1])
    today = ledger.clock.today()
    rows = models.allocation_queue(today, window, several, after, limit + 1)
    agencies = _Agencies(ledger)
    items = [_item(r, agencies, today, several) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return QueuePage(
        items=items, next_cursor=None if last is None else encode_cursor([last.reference, str(last.family_id)])
    )
