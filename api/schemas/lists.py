"""Answers of the reading routes: family lists, actions, worklists and the chronology."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from api.schemas.enums import ChronologyKind, EventType, FamilyStatus, HandoverStep
from domain.values import EpisodeKind, RequestKind, RequestStatus


class ChildItem(BaseModel):
    """A child as listed."""

    child_id: UUID
    name: str
    date_of_birth: date | None
    expected_on: date | None


class LeadItem(BaseModel):
    """The lead professional as listed."""

    professional_id: UUID
    agency_id: UUID
    since: date


class EpisodeItem(BaseModel):
    """The open episode as listed."""

    episode_id: UUID
    level: int
    opened_on: date
    kind: EpisodeKind


class PendingItem(BaseModel):
    """A pending or blocked handover request as listed."""

    request_id: UUID
    kind: RequestKind
    status: RequestStatus
    requested_on: date


class FamilyListItem(BaseModel):
    """A family in a list (from the family-summary read model)."""

    id: UUID
    reference: str
    version: int
    status: FamilyStatus
    children: list[ChildItem]
    open_episode: EpisodeItem | None
    lead: LeadItem | None
    taf_member_ids: list[UUID]
    pending_requests: list[PendingItem]
    open_actions_count: int


class FamilyList(BaseModel):
    """A page of families."""

    items: list[FamilyListItem]
    next_cursor: str | None


class ActionItem(BaseModel):
    """An open action."""

    action_id: UUID
    family_id: UUID
    description: str
    owner_id: UUID
    due_on: date
    overdue: bool
    child_ids: list[UUID]


class ActionList(BaseModel):
    """A page of open actions, overdue first."""

    items: list[ActionItem]
    next_cursor: str | None


class WorklistFamily(BaseModel):
    """A family on the caller's worklist."""

    family_id: UUID
    reference: str
    is_lead: bool
    is_member: bool


class WorklistStep(BaseModel):
    """A manual handover step the caller may complete."""

    family_id: UUID
    request_id: UUID
    kind: RequestKind
    step: HandoverStep
    reason: str


class Worklist(BaseModel):
    """The caller's families, their open actions (overdue first) and the steps they may complete."""

    professional_id: UUID
    families: list[WorklistFamily]
    actions: list[ActionItem]
    steps: list[WorklistStep]


class ChronologyItem(BaseModel):
    """One row of the shared multi-agency chronology."""

    version: int
    event_type: EventType
    occurred_on: date
    date_uncertain: bool
    child_ids: list[UUID]
    source_agency_id: UUID
    source_professional_id: UUID
    what_happened: str
    kind: ChronologyKind  # opinion: a professional's
    verification: str
    significance: str
    action_taken: str
    outcome: str
    recorded_by: UUID
    recorded_at: datetime
    child_names: list[str] = []
    source_agency_name: str = ""
    source_professional_name: str = ""
    recorded_by_name: str = ""


class Chronology(BaseModel):
    """A family's chronology, oldest first, as recorded by `known_at` when given."""

    family_id: UUID
    known_at: datetime | None
    items: list[ChronologyItem]
