"""What the audit routes answer: a family's event history, its integrity, and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, RootModel

from domain.values import Channel, Role

OccurredOn = Annotated[
    str,
    Field(
        description="When it happened, as the recorder stated it: a date (2026-03-27), or a time with the offset "
        "it was sent with (2026-03-27T09:30:00+01:00).",
        json_schema_extra={"anyOf": [{"format": "date"}, {"format": "date-time"}]},
    ),
]


class EventView(BaseModel):
    """One recorded event of a family, decrypted, with its place in the hash chain."""

    version: int = Field(description="The family's version this event made (1 is the registration).")
    type: str = Field(description="The event's name, e.g. ContactRecorded.")
    occurred_on: OccurredOn | None
    date_uncertain: bool = Field(description="Whether occurred_on is approximate.")
    recorded_at: datetime = Field(description="When it was recorded.")
    actor_id: UUID | None = Field(description="The professional who recorded it.")
    actor_agency_id: UUID | None
    channel: Channel | None
    data: dict[str, Any] = Field(description="The event's own fields.")
    hash: str | None = Field(description="SHA-256 over the previous event's hash and this event's content.")


class EventPage(BaseModel):
    """A page of a family's events, oldest first."""

    items: list[EventView]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


class IntegrityValid(BaseModel):
    """Every stored event of the family matches its hash and follows the one before."""

    valid: Literal[True]
    events_checked: int
    head_hash: str = Field(description="The hash of the last event: fingerprint of the whole history.")


class IntegrityBroken(BaseModel):
    """The chain breaks: the event at broken_at_version is missing, unreadable or altered."""

    valid: Literal[False]
    events_checked: int
    broken_at_version: int


class IntegrityReport(RootModel[IntegrityValid | IntegrityBroken]):
    """The result of recomputing a family's hash chain."""


class AccessEntryView(BaseModel):
    """One read of a family's record: who, which family, what, when and through which channel."""

    professional_id: UUID
    agency_id: UUID
    role: Role
    family_id: UUID | None
    what: str = Field(description="What was read: summary, events, state, integrity, closure, transfer...")
    channel: Channel
    at: datetime


class AccessLogPage(BaseModel):
    """A page of the access log, oldest first."""

    items: list[AccessEntryView]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


__all__ = [
    "AccessEntryView",
    "AccessLogPage",
    "EventPage",
    "EventView",
    "IntegrityBroken",
    "IntegrityReport",
    "IntegrityValid",
]
