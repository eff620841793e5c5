"""What agency systems send and get for the event feed and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints, model_validator

from api.schemas.audit import OccurredOn
from domain.family import Family

_BASES = {"Event", "Created"}
FAMILY_EVENT_TYPES: frozenset[str] = frozenset(
    name
    for name, value in vars(Family).items()
    if isinstance(value, type) and issubclass(value, Family.Event) and name not in _BASES
)
FAMILY_EVENT_TOPICS: tuple[str, ...] = tuple(sorted(get_topic(getattr(Family, n)) for n in FAMILY_EVENT_TYPES))


def _known_event_type(name: str) -> str:
    if name not in FAMILY_EVENT_TYPES:
        raise ValueError(f"unknown event type {name!r}; known: {', '.join(sorted(FAMILY_EVENT_TYPES))}")
    return name


EventType = Annotated[str, Field(max_length=100), AfterValidator(_known_event_type)]
EventTypeName = Literal[tuple(sorted(FAMILY_EVENT_TYPES))]  # type: ignore[valid-type]
DeliveryStatus = Literal["pending", "delivered", "failed", "skipped"]
MAX_POSITION = 10**17
HookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"])]


class FeedEvent(BaseModel):
    """One family event in the global feed, at its place in the log."""

    position: int = Field(description="The event's place in the global log; resume with ?after=position.")
    family_id: UUID
    version: int
    type: str
    occurred_on: OccurredOn | None
    date_uncertain: bool
    recorded_at: datetime
    actor_id: UUID | None
    actor_agency_id: UUID | None
    channel: str | None
    data: dict[str, Any]
    hash: str | None
    backfill: bool = Field(
        default=False,
        description=(
            "True for an earlier event of a family, served just before the event by which the family entered "
            "the caller's scope (its `position` is its own place in the log, before the page's)."
        ),
    )


class WebhookEvent(FeedEvent):
    """The JSON body POSTed to a webhook: one family event, as the feed shows it (`backfill` is never sent)."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": (
                "One family event, POSTed as application/json with the Standard Webhooks headers "
                "`webhook-id` (the same on every retry and redelivery of this event to this webhook), "
                "`webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature` (`v1,` and the "
                "base64 HMAC-SHA256 of `id.timestamp.body`; during a secret rotation's overlap a second "
                "space-separated signature by the previous secret), and `X-Signature` (`sha256=` and the hex "
                "HMAC-SHA256 of the body with the secret as key). Answer 2xx to acknowledge."
            )
        }
    )


class EventFeedPage(BaseModel):
    """A page of the event feed, oldest first."""

    items: list[FeedEvent]
    next_cursor: str | None = Field(description="Pass as cursor (or after) for the next page; null when caught up.")
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")
    last_position: int = Field(description="The last log position examined; poll again with ?after=last_position.")


class WebhookCreate(BaseModel):
    """Subscribe a URL to the family events in the caller's scope."""

    model_config = ConfigDict(extra="forbid")

    url: HookUrl
    event_types: Annotated[list[EventType], Field(max_length=100)] = Field(
        default_factory=list, description="Family event type names (e.g. ContactRecorded); empty means every type."
    )


class WebhookUpdate(BaseModel):
    """Change where a webhook posts, or which event types it takes (from the next event on)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"event_types": ["ContactRecorded", "ClosureDecided"]}]},
    )

    # absent means unchanged; null is refused (the schema has no null), hence a default outside the type
    url: HookUrl = Field(default=None, description="The new URL; the same rules as at registration.")  # type: ignore[assignment]
    event_types: Annotated[list[EventType], Field(max_length=100)] = Field(
        default=None,  # type: ignore[arg-type]
        description="Family event type names; empty means every type.",
    )


class SecretRotation(BaseModel):
    """Rotate a webhook's secret; the previous one keeps signing beside the new one for the overlap."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overlap_seconds": 86400}]})

    overlap_seconds: int = Field(
        default=86400, ge=0, le=604800, description="How long the previous secret still signs (0 to 7 days)."
    )


class WebhookView(BaseModel):
    """A webhook subscription (without its secret)."""

    id: UUID
    url: str
    event_types: list[str]
    created_at: datetime
    owner_id: UUID | None = Field(default=None, description="The professional whose scope the webhook acts with.")
    paused: bool = Field(default=False, description="Paused: events are queued and sent, in order, once resumed.")
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="During a rotation's overlap, when the previous secret stops signing."
    )


class WebhookCreated(WebhookView):
    """A new subscription, with the secret that signs its deliveries (shown once)."""

    secret: str = Field(
        description=(
            "The signing secret, `whsec_` and base64 (Standard Webhooks): verify `webhook-signature` with it, "
            "and `X-Signature` (HMAC-SHA256 keyed by this whole string); shown only in this answer."
        )
    )


class SecretRotated(BaseModel):
    """A webhook's new secret (shown once), and until when the previous one also signs."""

    id: UUID
    secret: str = Field(description="The new signing secret (`whsec_...`); shown only in this answer.")
    previous_secret_expires_at: datetime | None


_ONE_DELIVERY: dict[str, Any] = {
    "required": ["delivery_id"],
    "not": {"anyOf": [{"required": ["from_position"]}, {"required": ["to_position"]}]},
}
_A_RANGE: dict[str, Any] = {"required": ["from_position", "to_position"], "not": {"required": ["delivery_id"]}}


class Redelivery(BaseModel):
    """Send again one delivery, or every delivery of a webhook with a position in a range (inclusive)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [_ONE_DELIVERY, _A_RANGE],
            "examples": [{"delivery_id": 42}, {"from_position": 1200, "to_position": 1350}],
        },
    )

    # each may be absent, never null: defaults outside the type keep null out of the schema
    delivery_id: int = Field(default=None, ge=1, le=MAX_POSITION)  # type: ignore[assignment]
    from_position: int = Field(default=None, ge=1, le=MAX_POSITION)  # type: ignore[assignment]
    to_position: int = Field(default=None, ge=1, le=MAX_POSITION)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _exactly_one(self) -> Redelivery:
        one = self.delivery_id is not None
        ranged = self.from_position is not None or self.to_position is not None
        if one == ranged or (ranged and (self.from_position is None or self.to_position is None)):
            raise ValueError("send either delivery_id, or from_position and to_position")
        return self


class Redelivered(BaseModel):
    """How many deliveries were queued again."""

    redelivered: int = Field(description="Deliveries queued again (those already pending are left as they are).")


class WebhookPage(BaseModel):
    """The caller's webhooks."""

    items: list[WebhookView]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


class DeliveryView(BaseModel):
    """One event to deliver to a webhook, and what happened on its last attempt."""

    id: int
    family_id: UUID
    position: int
    event_type: str
    status: DeliveryStatus = Field(
        description=(
            "pending; delivered; failed (given up after the last retry: this family's later events wait behind "
            "it until it is redelivered or an admin skips it); skipped (by an admin)."
        )
    )
    webhook_message_id: str = Field(description="The `webhook-id` header it is sent with, on every attempt.")
    queued_at: datetime | None = Field(description="When it was queued (null for deliveries queued before 2026-11).")
    attempts: int
    last_status_code: int | None
    result: str | None = Field(
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
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")
