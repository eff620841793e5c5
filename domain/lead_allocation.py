"""Which families need a lead, and which agency is best placed to lead (the allocation queue's rules).

A family needs a lead when it has none and a signal asks for one (`LEAD_SIGNALS`), an episode
is open without one, or several agencies have recorded facts about it in the last 90 days
(DOMAIN.md: "a little involvement" from many). The proposed lead agency is a suggestion for
the coordinator, never a decision: the agency of a proposal still waiting; else the universal
service that knows the children best (the health visitor for under-fives, the school for
older children), then early help or a children's centre; else the agency most involved.
Police and children's social care are not proposed to lead early help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.values import AgencyKind

LEAD_SIGNALS = frozenset({"infant_without_lead", "no_lead_multi_agency", "vulnerable_infant_cohort"})
OPEN_EPISODE_WITHOUT_LEAD = "open_episode_without_lead"
SEVERAL_AGENCIES = "several_agencies_involved"
NEVER_PROPOSED = frozenset({AgencyKind.POLICE, AgencyKind.SOCIAL_CARE})
UNDER_FIVES_ORDER = (AgencyKind.HEALTH_VISITING, AgencyKind.CHILDRENS_CENTRE, AgencyKind.EARLY_HELP, AgencyKind.GP)
SCHOOL_AGE_ORDER = (AgencyKind.SCHOOL, AgencyKind.EARLY_HELP, AgencyKind.HEALTH_VISITING)


@dataclass(frozen=True)
class InvolvedAgency:
    """An agency that recorded facts about the family: its kind, last fact and how many."""

    agency_id: UUID
    kind: AgencyKind
    last_on: date
    facts: int


def reasons_for_a_lead(
    standing_signals: Sequence[str], episode_open: bool, agencies_involved: int, several: int = 2
) -> list[str]:
    """Why a family without a lead needs one: the signals asking for one, an open episode, several agencies."""
    reasons = sorted(s for s in standing_signals if s in LEAD_SIGNALS)
    if episode_open:
        reasons.append(OPEN_EPISODE_WITHOUT_LEAD)
    if agencies_involved >= several:
        reasons.append(SEVERAL_AGENCIES)
    return reasons


def proposed_lead_agency(
    involved: Sequence[InvolvedAgency], has_child_under_five: bool, pending_agency_id: UUID | None = None
) -> UUID | None:
    """The agency suggested to lead: a waiting proposal's, else the best-placed service or the most involved."""
    if pending_agency_id is not None:
        return pending_agency_id
    candidates = [a for a in involved if a.kind not in NEVER_PROPOSED]
    if not candidates:
        return None
    order = UNDER_FIVES_ORDER if has_child_under_five else SCHOOL_AGE_ORDER
    for kind in order:
        of_kind = [a for a in candidates if a.kind is kind]
        if of_kind:
            return _most_involved(of_kind).agency_id
    return _most_involved(candidates).agency_id


def _most_involved(agencies: Sequence[InvolvedAgency]) -> InvolvedAgency:
    return max(agencies, key=lambda a: (a.facts, a.last_on, str(a.agency_id)))
