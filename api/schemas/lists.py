"""Answers of the reading routes: family lists, actions, worklists and the chronology."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field


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
    kind: str


class PendingItem(BaseModel):
    """A pending or blocked handover request as listed."""

    request_id: UUID
    kind: str
    status: str
    requested_on: date


class FamilyListItem(BaseModel):
    """A family in a list (from the family-summary read model)."""

    id: UUID
    reference: str
    version: int
    status: str
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
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


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
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


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
    kind: str
    step: str
    reason: str


class WorklistItem(BaseModel):
    """One family on the caller's worklist, with the caller's open actions and the steps they may complete there."""

    family_id: UUID
    reference: str
    is_lead: bool
    is_member: bool
    actions: list[ActionItem] = Field(description="The caller's open actions for this family, overdue first.")
    steps: list[WorklistStep] = Field(description="Manual handover steps of this family the caller may complete.")


class Worklist(BaseModel):
    """A page of the caller's worklist: one item per family, ordered by reference.

    `families`, `actions` and `steps` are the same page's entries as three flat lists, as before paging.
    """

    professional_id: UUID
    items: list[WorklistItem]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")
    families: list[WorklistFamily]
    actions: list[ActionItem]
    steps: list[WorklistStep]


class ChronologyItem(BaseModel):
    """One row of the shared multi-agency chronology."""

    version: int
    event_type: str
    occurred_on: date
    date_uncertain: bool
    child_ids: list[UUID]
    source_agency_id: UUID
    source_professional_id: UUID
    what_happened: str
    kind: str  # fact, opinion (a professional's), self_report or third_party_report
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
    next_cursor: str | None = Field(
        default=None, description="The next page, read as the chronology stood when the first page was read."
    )
    limit: int = Field(default=50, description="The page size this page was read with (default 50, at most 500).")
