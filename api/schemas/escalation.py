"""What the allocation queue, step-ups and disagreements answer."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.lists import ChronologyItem
from domain.values import StepUpOutcome


class LeadProposalView(BaseModel):
    """A lead proposal waiting for the proposed professional's answer."""

    proposal_id: UUID
    professional_id: UUID
    agency_id: UUID
    proposed_on: date


class LeadRefusalView(BaseModel):
    """A lead proposal refused, with the reason (since the family last had a lead)."""

    proposal_id: UUID
    professional_id: UUID
    agency_id: UUID
    reason: str
    refused_on: date


class AgencyInvolvedView(BaseModel):
    """An agency that recorded facts about the family in the involvement window."""

    agency_id: UUID
    agency_name: str
    agency_kind: str
    last_fact_on: date
    facts: int


class AllocationItem(BaseModel):
    """A family that needs a lead: why, who is involved, who might lead, and what was refused."""

    family_id: UUID
    reference: str
    reasons: list[str] = Field(
        description="The signals asking for a lead (infant_without_lead, no_lead_multi_agency, "
        "vulnerable_infant_cohort), open_episode_without_lead, several_agencies_involved."
    )
    agencies_involved: list[UUID]
    involvement: list[AgencyInvolvedView]
    proposed_agency_id: UUID | None = Field(
        description="The waiting proposal's agency, else the best-placed universal service, else the most involved."
    )
    pending_proposal: LeadProposalView | None
    refusals: list[LeadRefusalView]


class AllocationQueuePage(BaseModel):
    """A page of the allocation queue, by family reference."""

    items: list[AllocationItem]
    next_cursor: str | None


class StepUpView(BaseModel):
    """A step-up to children's social care and its outcome once it came back."""

    step_up_id: UUID
    version: int
    reason: str
    to_agency_id: UUID | None
    stepped_up_on: date
    stepped_up_by: UUID
    chronology_version: int = Field(description="The chronology it carried: every entry up to this version.")
    outcome: StepUpOutcome | None
    outcome_on: date | None
    note: str


class StepUpList(BaseModel):
    """A family's step-ups, oldest first."""

    items: list[StepUpView]
    next_cursor: str | None = None


class StepUpDetail(StepUpView):
    """A step-up with the chronology it carried, as it stood when the step-up was made."""

    chronology: list[ChronologyItem]


class DisagreementView(BaseModel):
    """A professional disagreement or escalation."""

    disagreement_id: UUID
    version: int
    about: str
    event_version: int | None
    level: int
    detail: str
    raised_by: UUID
    raised_by_agency_id: UUID
    raised_on: date
    escalated_on: date | None
    status: Literal["open", "resolved"]
    resolved_on: date | None
    resolved_by: UUID | None
    outcome: str


class DisagreementList(BaseModel):
    """A family's disagreements, oldest first."""

    items: list[DisagreementView]
    next_cursor: str | None = None
