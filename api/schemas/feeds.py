"""What agency systems send and get for the event feed and webhooks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from api.schemas.enums import FAMILY_EVENT_NAMES, DeliveryResult, DeliveryStatus, EventType, EventTypeName
from domain.family import Family
from domain.values import Channel

FAMILY_EVENT_TYPES: frozenset[str] = frozenset(FAMILY_EVENT_NAMES)
FAMILY_EVENT_TOPICS: tuple[str, ...] = tuple(sorted(get_topic(getattr(Family, n)) for n in FAMILY_EVENT_TYPES))
HookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"])]


class FeedEvent(BaseModel):
    """One family event in the global feed, at its place in the log."""

    position: int = Field(description="The event's place in the global log; resume with ?after=position.")
    family_id: UUID
    version: int
    type: EventType
    occurred_on: date | None
    date_uncertain: bool
    recorded_at: datetime
    actor_id: UUID | None
    actor_agency_id: UUID | None
    channel: Channel | None
    data: dict[str, Any]
    hash: str | None


class EventFeedPage(BaseModel):
    """A page of the event feed, oldest first."""

    items: list[FeedEvent]
    next_cursor: str | None = Field(description="Pass as cursor (or after) for the next page; null when caught up.")
    last_position: int = Field(description="The last log position examined; poll again with ?after=last_position.")


class WebhookCreate(BaseModel):
    """Subscribe a URL to the family events in the caller's scope."""

    model_config = ConfigDict(extra="forbid")

    url: HookUrl
    event_types: Annotated[list[EventTypeName], Field(max_length=100)] = Field(
        default_factory=list, description="Family event type names (e.g. ContactRecorded); empty means every type."
    )


class WebhookView(BaseModel):
    """A webhook subscription (without its secret)."""

    id: UUID
    url: str
    event_types: list[EventType]
    created_at: datetime


class WebhookCreated(WebhookView):
    """A new subscription, with the secret that signs its deliveries (shown once)."""

    secret: str = Field(description="HMAC-SHA256 key of the X-Signature header; shown only in this answer.")


class WebhookPage(BaseModel):
    """The caller's webhooks."""

    items: list[WebhookView]
    next_cursor: str | None


class DeliveryView(BaseModel):
    """One event to deliver to a webhook, and what happened on its last attempt."""

    id: int
    family_id: UUID
    position: int
    event_type: EventType
    status: DeliveryStatus = Field(description="pending, delivered or failed (given up after the last retry).")
    attempts: int
    last_status_code: int | None
    result: DeliveryResult | None = Field(
        description=(
            "The last attempt's result: delivered, http_3xx (redirects are not followed), http_4xx, http_5xx, "
            "timeout, connection_refused, connection_error, tls_error, dns_error, refused_address (the host "
            "resolved to an internal address), refused_scheme (not https); null before the first attempt."
        )
    )
    last_error: str | None = Field(
        description=(
            "Kept for callers written before `result`: the result class of a failed last attempt "
            "(never the raw error text), null when the last attempt was delivered or none was made."
        )
    )
    last_attempt_at: datetime | None
    next_attempt_at: datetime


class DeliveryPage(BaseModel):
    """A page of a webhook's deliveries, oldest first."""

    items: list[DeliveryView]
    next_cursor: str | None
