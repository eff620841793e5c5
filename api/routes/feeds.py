"""Feeds for agency systems: the global event feed, and webhook subscriptions with their delivery log.

The feed shows each family's events from the event by which the family entered the
caller's scope (a family's involvement only grows, DOMAIN.md "Roles"); at that event it
first serves the family's earlier events (`backfill: true`), so a caller following the
feed has every event of every family in its scope, with no gap and no repeat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from api.deps import CaseWriter, HistoryReader, IdempotencyKey, Ledger, record_read, require_roles
from api.errors import ApiError
from api.schemas.feeds import (
    FAMILY_EVENT_TOPICS,
    DeliveryPage,
    DeliveryStatus,
    DeliveryView,
    EventFeedPage,
    EventTypeName,
    FeedEvent,
    Redelivered,
    Redelivery,
    SecretRotated,
    SecretRotation,
    WebhookCreate,
    WebhookCreated,
    WebhookEvent,
    WebhookPage,
    WebhookUpdate,
    WebhookView,
)
from domain import scope
from domain.application import TafLedger
from domain.canonical import describe_event
from domain.values import Actor, Role
from projections.queries import ReadModels
from workers.outbound import RefusedUrlError
from workers.webhooks import Delivery, DeliveryFilter, Webhook, WebhookStore, message_id

router = APIRouter(prefix="/api/v1", tags=["feeds"])
webhook_bodies = APIRouter()  # the OpenAPI `webhooks` section: what the service POSTs to a webhook

SCAN_BUDGET = 5000  # log entries examined per feed request at most; the cursor resumes after them
CHUNK = 500
POSITIONS_WAIT_SECONDS = 2.0  # how long a backfill waits for the chronology to give earlier events' positions

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[
    str | None,
    Query(max_length=40, pattern=r"^[0-9]{1,18}(~[0-9]{1,9})?$", description="Opaque cursor from the previous page."),
]
FEED_PARAMETERS = frozenset({"after", "limit", "cursor", "event_type", "family_id"})


def get_webhooks(request: Request) -> WebhookStore:
    """The webhook store built in the lifespan."""
    store: WebhookStore = request.app.state.webhooks
    return store


Hooks = Annotated[WebhookStore, Depends(get_webhooks)]
HookManager = Annotated[Actor, Depends(require_roles(*scope.CASE_WRITERS, Role.ADMIN))]
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "cursor is not one this API gave out",
        rule="cursor_invalid",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


def _number(cursor: str | None, default: int) -> int:
    if cursor is None or cursor == "":
        return default
    if not cursor.isdigit() or len(cursor) > 18:
        raise _bad_cursor()
    return int(cursor)


def _feed_cursor(cursor: str | None, after: int) -> tuple[int, int, int]:
    """Where a feed page starts: (after this position, resume inside the backfill at this position, skipping n)."""
    if cursor is None or cursor == "":
        return after, 0, 0
    position, _, served = cursor.partition("~")
    if not position.isdigit() or len(position) > 18 or (served and not served.isdigit()):
        raise _bad_cursor()
    if not served:
        return int(position), 0, 0
    if int(position) < 1:
        raise _bad_cursor()
    return int(position) - 1, int(position), int(served)


def refuse_unknown_parameters(request: Request, known: frozenset[str]) -> None:
    """422 naming the first query parameter the route does not take (a misspelt filter is not ignored)."""
    for name in request.query_params:
        if name not in known:
            raise ApiError(
                422,
                f"unknown query parameter {name!r}; this takes {', '.join(sorted(known))}",
                rule="unknown_query_parameter",
                errors=[{"loc": ["query", name], "msg": "unknown query parameter"}],
            )


@dataclass
class _Entry:
    """Where a family entered the caller's scope: that event's version, and the family's events before it."""

    version: int | None  # None: not in the caller's scope
    earlier: list[Any] = field(default_factory=list)


class _Scope:
    """The version at which each family entered the caller's scope, each family read at most once per request.

    A family's involvement (agencies and professionals with a part in it) only grows, event
    by event (`scope.involved_by`), so a family in scope now entered it at one event.
    """

    def __init__(self, actor: Actor, ledger: TafLedger):
        self.actor = actor
        self.ledger = ledger
        self.everything = actor.role in scope.SEES_EVERY_FAMILY
        self._entries: dict[UUID, _Entry] = {}

    def entry(self, family_id: UUID) -> _Entry:
        """The event by which the family entered the caller's scope, with the events before it."""
        if self.everything:
            return _Entry(1)
        if family_id not in self._entries:
            self._entries[family_id] = self._find_entry(family_id)
        return self._entries[family_id]

    def _find_entry(self, family_id: UUID) -> _Entry:
        family = self.ledger.get_family(family_id)
        if not scope.may_see(self.actor, family.involved_agency_ids, family.involved_professional_ids):
            return _Entry(None)
        agencies: list[UUID] = []
        people: list[UUID] = []
        earlier: list[Any] = []
        for event in self.ledger.family_events(family_id):
            more_agencies, more_people = scope.involved_by(event)
            agencies.extend(more_agencies)
            people.extend(more_people)
            if scope.may_see(self.actor, agencies, people):
                return _Entry(int(event.originator_version), earlier)
            earlier.append(event)
        return _Entry(None)


def _type_of(topic: str) -> str:
    return topic.rsplit(".", 1)[-1]


def _backfill(read_models: ReadModels, family_id: UUID, entry: _Entry, at: int, types: set[str]) -> Iterator[FeedEvent]:
    """A family's events before the one by which it entered the caller's scope, at their own positions."""
    chosen = [e for e in entry.earlier if not types or type(e).__name__ in types]
    if not chosen:
        return
    positions = read_models.event_positions(family_id, below_version=entry.version or 0)
    if len(positions) < len(entry.earlier):
        read_models.wait_for(at, POSITIONS_WAIT_SECONDS)
        positions = read_models.event_positions(family_id, below_version=entry.version or 0)
    for event in chosen:
        position = positions.get(int(event.originator_version), at)
        yield FeedEvent.model_validate({"position": position, **describe_event(event), "backfill": True})


@router.get("/events", response_model=EventFeedPage, summary="The event feed over the caller's scope")
def event_feed(
    request: Request,
    actor: HistoryReader,
    ledger: Ledger,
    after: Annotated[int, Query(ge=0, le=10**17, description="Start after this log position.")] = 0,
    limit: Limit = 50,
    cursor: Cursor = None,
    event_type: Annotated[
        list[EventTypeName] | None,  # type: ignore[valid-type]
        Query(max_length=100, description="Only these event types (repeat the parameter)."),
    ] = None,
    family_id: Annotated[
        list[UUID] | None, Query(max_length=100, description="Only these families (repeat the parameter).")
    ] = None,
) -> EventFeedPage:
    """Family events in log order after a position, only for families in the caller's scope.

    The same rule as a family's `/events` (`scope.may_read_history`): a person practitioner gets 403.
    A family's events appear from the event by which it entered the caller's scope; just
    before that event come the family's earlier events, marked `backfill: true` (at their
    own, earlier, positions). Filters by `event_type` and `family_id` (each repeatable); any
    other query parameter is refused (422 `unknown_query_parameter`).

    At most a few thousand log entries are examined per request: a page can be short, even
    empty, with a `next_cursor`; follow it until `next_cursor` is null, then poll with
    `after=last_position`. Directory events are not in the feed.
    """
    refuse_unknown_parameters(request, FEED_PARAMETERS)
    position, resume_at, skip = _feed_cursor(cursor, after)
    types = set(event_type or ())
    families = set(family_id or ())
    visible = _Scope(actor, ledger)
    read_models: ReadModels = request.app.state.read_models
    items: list[FeedEvent] = []
    next_cursor: str | None = None
    examined = 0
    exhausted = False
    while next_cursor is None and len(items) < limit and examined < SCAN_BUDGET:
        notifications = ledger.recorder.select_notifications(
            start=position, limit=CHUNK, topics=FAMILY_EVENT_TOPICS, inclusive_of_start=False
        )
        if not notifications:
            exhausted = True
            break
        for notification in notifications:
            examined += 1
            fid: UUID = notification.originator_id  # type: ignore[assignment]
            version = notification.originator_version
            entry = visible.entry(fid) if not families or fid in families else _Entry(None)
            if entry.version is None or version < entry.version:
                position = notification.id
                continue
            served: list[FeedEvent] = []
            if version == entry.version:
                served = list(_backfill(read_models, fid, entry, notification.id, types))
                if notification.id == resume_at:
                    served = served[skip:]
            if not types or _type_of(notification.topic) in types:
                event = ledger.mapper.to_domain_event(notification)
                served.append(FeedEvent.model_validate({"position": notification.id, **describe_event(event)}))
            room = limit - len(items)
            if len(served) > room:  # the page ends inside a backfill: the cursor resumes there
                items.extend(served[:room])
                already = skip if notification.id == resume_at else 0
                next_cursor = f"{notification.id}~{already + room}"
                break
            items.extend(served)
            position = notification.id
            if len(items) >= limit:
                break
        if next_cursor is None and len(notifications) < CHUNK and len(items) < limit:
            if position == notifications[-1].id:
                exhausted = True
                break
    for served_family in dict.fromkeys(item.family_id for item in items):
        record_read(request, actor, served_family, "event feed")  # every family served is logged
    if next_cursor is None and not exhausted:
        next_cursor = str(position)
    return EventFeedPage(items=items, next_cursor=next_cursor, last_position=position, limit=limit)


@webhook_bodies.post("family-event", summary="A family event, POSTed to each webhook that takes it")
def family_event_delivery(body: WebhookEvent) -> None:
    """What the service POSTs to a webhook's URL for each family event it takes.

    Verify every delivery before acting on it, with the Standard Webhooks library of your
    language and the webhook's secret (`Webhook(secret).verify(body, headers)` in Python's
    `standardwebhooks`): it checks the signature and refuses a timestamp more than five
    minutes away. Keep the `webhook-id`s you have processed and ignore one seen before (a
    retry or a redelivery). Events of one family arrive in log order; answer 2xx quickly.
    """


def _view(hook: Webhook) -> WebhookView:
    return WebhookView(
        id=hook.id,
        url=hook.url,
        event_types=hook.event_types,
        created_at=hook.created_at,
        owner_id=hook.professional_id,
        paused=hook.paused,
        previous_secret_expires_at=hook.previous_until if hook.previous_secret else None,
    )


def _refused(refused: RefusedUrlError) -> ApiError:
    return ApiError(422, refused.detail, rule=refused.rule, errors=[{"loc": ["body", "url"], "msg": refused.detail}])


def _not_found(webhook_id: UUID) -> ApiError:
    return ApiError(404, f"no webhook {webhook_id}", rule="not_found")


def _own(hooks: WebhookStore, webhook_id: UUID, actor: Actor) -> Webhook:
    """A webhook of the caller's own; any other answers 404."""
    hook = hooks.webhook(webhook_id)
    if hook is None or hook.professional_id != actor.professional_id:
        raise _not_found(webhook_id)
    return hook


def _managed(hooks: WebhookStore, webhook_id: UUID, actor: Actor) -> Webhook:
    """A webhook of the caller's own, or any webhook for an admin (who sees no payloads)."""
    hook = hooks.webhook(webhook_id)
    if hook is None or (actor.role is not Role.ADMIN and hook.professional_id != actor.professional_id):
        raise _not_found(webhook_id)
    return hook


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    summary="Subscribe to family events",
    operation_id="createWebhook",
)
def create_webhook(
    body: WebhookCreate, actor: CaseWriter, ledger: Ledger, hooks: Hooks, _key: IdempotencyKey
) -> WebhookCreated:
    """Subscribe a URL to the events of families in the caller's scope; the secret is shown only here.

    The URL must be https and its host must resolve to public addresses only, unless the
    operator allows the host (TAF_WEBHOOK_ALLOWED_HOSTS). The secret is a Standard Webhooks
    `whsec_` secret (see the `webhooks` section for what each delivery carries).
    """
    try:
        hook = hooks.register(actor.professional_id, str(body.url), list(body.event_types), ledger.clock.now())
    except RefusedUrlError as refused:
        raise _refused(refused) from None
    return WebhookCreated(**_view(hook).model_dump(), secret=hook.secret)


@router.get("/webhooks", response_model=WebhookPage, summary="The caller's webhooks", operation_id="listWebhooks")
def list_webhooks(actor: HookManager, hooks: Hooks, limit: Limit = 50, cursor: Cursor = None) -> WebhookPage:
    """The caller's own subscriptions, oldest first; an admin lists every subscription (never a payload)."""
    start = _number(cursor, 0)
    everyone = actor.role is Role.ADMIN
    mine = [h for h in hooks.webhooks() if everyone or h.professional_id == actor.professional_id]
    page = mine[start : start + limit]
    more = len(mine) > start + limit
    return WebhookPage(items=[_view(h) for h in page], next_cursor=str(start + limit) if more else None, limit=limit)


@router.get("/webhooks/{webhook_id}", response_model=WebhookView, summary="One webhook", operation_id="getWebhook")
def get_webhook(webhook_id: UUID, actor: HookManager, hooks: Hooks) -> WebhookView:
    """A webhook of the caller's own (an admin: any), without its secret."""
    return _view(_managed(hooks, webhook_id, actor))


@router.patch(
    "/webhooks/{webhook_id}", response_model=WebhookView, summary="Change a webhook", operation_id="updateWebhook"
)
def update_webhook(
    webhook_id: UUID, body: WebhookUpdate, actor: CaseWriter, hooks: Hooks, _key: IdempotencyKey
) -> WebhookView:
    """Change a webhook's URL (the registration's rules) or event types, from the next event queued on."""
    _own(hooks, webhook_id, actor)
    try:
        hooks.update(
            webhook_id,
            url=str(body.url) if body.url is not None else None,
            event_types=list(body.event_types) if body.event_types is not None else None,
        )
    except RefusedUrlError as refused:
        raise _refused(refused) from None
    return _view(_own(hooks, webhook_id, actor))


@router.post(
    "/webhooks/{webhook_id}/pause", response_model=WebhookView, summary="Pause a webhook", operation_id="pauseWebhook"
)
def pause_webhook(
    webhook_id: UUID, actor: HookManager, ledger: Ledger, hooks: Hooks, _key: IdempotencyKey
) -> WebhookView:
    """Stop delivering (the owner or an admin): events keep being queued and go out, in order, once resumed."""
    hook = _managed(hooks, webhook_id, actor)
    if not hook.paused:
        hooks.pause(webhook_id, ledger.clock.now())
    return _view(_managed(hooks, webhook_id, actor))


@router.post(
    "/webhooks/{webhook_id}/resume",
    response_model=WebhookView,
    summary="Resume a paused webhook",
    operation_id="resumeWebhook",
)
def resume_webhook(webhook_id: UUID, actor: HookManager, hooks: Hooks, _key: IdempotencyKey) -> WebhookView:
    """Deliver again, starting with what was queued while paused."""
    _managed(hooks, webhook_id, actor)
    hooks.resume(webhook_id)
    return _view(_managed(hooks, webhook_id, actor))


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook", operation_id="deleteWebhook")
def delete_webhook(webhook_id: UUID, actor: HookManager, hooks: Hooks, _key: IdempotencyKey) -> Response:
    """Remove a webhook and what is still queued for it (the owner or an admin)."""
    _managed(hooks, webhook_id, actor)
    hooks.delete(webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/secret-rotations",
    status_code=201,
    response_model=SecretRotated,
    summary="Rotate a webhook's secret",
    operation_id="rotateWebhookSecret",
)
def rotate_secret(
    webhook_id: UUID,
    actor: CaseWriter,
    ledger: Ledger,
    hooks: Hooks,
    _key: IdempotencyKey,
    body: Annotated[SecretRotation, Body()] = SecretRotation(),  # noqa: B008 - an immutable default body
) -> SecretRotated:
    """A new secret, shown only here; the previous one keeps signing beside it for `overlap_seconds`.

    During the overlap `webhook-signature` carries both signatures (a receiver verifying with
    either secret accepts), `X-Signature` the new secret's and `X-Signature-Previous` the previous one's.
    """
    _own(hooks, webhook_id, actor)
    hook = hooks.rotate_secret(webhook_id, ledger.clock.now(), timedelta(seconds=body.overlap_seconds))
    return SecretRotated(
        id=hook.id, secret=hook.secret, previous_secret_expires_at=hook.previous_until if hook.previous_secret else None
    )


def _delivery_view(d: Delivery) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        family_id=d.family_id,
        position=d.position,
        event_type=d.event_type,
        status=d.status,  # type: ignore[arg-type]
        webhook_message_id=message_id(d.webhook_id, d.position),
        queued_at=d.queued_at,
        attempts=d.attempts,
        last_status_code=d.last_status_code,
        result=d.result,
        last_error=d.result if d.result not in (None, "delivered") else None,
        last_attempt_at=d.last_attempt_at,
        next_attempt_at=d.next_attempt_at,
    )


DELIVERY_PARAMETERS = frozenset({"limit", "cursor", "status", "family_id", "event_type", "since", "until"})


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="A webhook's deliveries",
    operation_id="listWebhookDeliveries",
)
def deliveries(
    request: Request,
    webhook_id: UUID,
    actor: HookManager,
    hooks: Hooks,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[list[DeliveryStatus] | None, Query(max_length=4, description="Only these statuses.")] = None,
    family_id: Annotated[UUID | None, Query(description="Only this family's deliveries.")] = None,
    event_type: Annotated[
        list[EventTypeName] | None,  # type: ignore[valid-type]
        Query(max_length=100, description="Only these types."),
    ] = None,
    since: Annotated[datetime | None, Query(description="Queued at or after this time (with an offset).")] = None,
    until: Annotated[datetime | None, Query(description="Queued before this time (with an offset).")] = None,
) -> DeliveryPage:
    """Deliveries and their last attempt's result, oldest first (the webhook's owner, or an admin).

    Filters: `status` and `event_type` (repeatable), `family_id`, and `since` / `until` on the
    time each was queued. Any other query parameter is refused.
    """
    refuse_unknown_parameters(request, DELIVERY_PARAMETERS)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(
                422,
                f"{name} needs a time with an offset (Z or +01:00)",
                rule="offset_required",
                errors=[{"loc": ["query", name], "msg": "a time with an offset"}],
            )
    _managed(hooks, webhook_id, actor)
    only = DeliveryFilter(tuple(status or ()), family_id, tuple(event_type or ()), since, until)
    rows = hooks.delivery_log(webhook_id, limit=limit + 1, after_id=_number(cursor, 0), only=only)
    page = rows[:limit]
    return DeliveryPage(
        items=[_delivery_view(d) for d in page],
        next_cursor=str(page[-1].id) if len(rows) > limit and page else None,
        limit=limit,
    )


@router.post(
    "/webhooks/{webhook_id}/redeliveries",
    status_code=202,
    response_model=Redelivered,
    summary="Send deliveries again",
    operation_id="redeliverWebhookDeliveries",
)
def redeliver(
    webhook_id: UUID, body: Redelivery, actor: CaseWriter, ledger: Ledger, hooks: Hooks, _key: IdempotencyKey
) -> Redelivered:
    """Queue again one delivery (`delivery_id`) or every one with a position in `from_position`..`to_position`.

    Each goes out again, with the same `webhook-id`, at its place in its family's order; a
    failed delivery redelivered resumes its family's stream. 404 for an unknown delivery id.
    """
    _own(hooks, webhook_id, actor)
    now = ledger.clock.now()
    if body.delivery_id is not None:
        if hooks.delivery(webhook_id, body.delivery_id) is None:
            raise ApiError(404, f"no delivery {body.delivery_id} of this webhook", rule="not_found")
        return Redelivered(redelivered=hooks.redeliver(webhook_id, now, delivery_id=body.delivery_id))
    assert body.from_position is not None and body.to_position is not None
    if body.from_position > body.to_position:
        raise ApiError(
            422,
            "from_position is after to_position",
            rule="position_range_reversed",
            errors=[{"loc": ["body", "to_position"], "msg": "before from_position"}],
        )
    return Redelivered(redelivered=hooks.redeliver(webhook_id, now, positions=(body.from_position, body.to_position)))


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/skip",
    response_model=DeliveryView,
    summary="Skip a failed delivery (admin)",
    operation_id="skipWebhookDelivery",
)
def skip_delivery(
    webhook_id: UUID,
    delivery_id: Annotated[int, Path(ge=1, le=10**17)],
    actor: Admin,
    hooks: Hooks,
    _key: IdempotencyKey,
) -> DeliveryView:
    """Give up a failed delivery for good, so its family's later events go out (admins only).

    409 `delivery_not_failed` unless the delivery has failed (redelivery is the owner's way).
    """
    if hooks.webhook(webhook_id) is None or hooks.delivery(webhook_id, delivery_id) is None:
        raise ApiError(404, f"no delivery {delivery_id} of webhook {webhook_id}", rule="not_found")
    if not hooks.skip(webhook_id, delivery_id):
        raise ApiError(409, "only a failed delivery can be skipped", rule="delivery_not_failed")
    skipped = hooks.delivery(webhook_id, delivery_id)
    assert skipped is not None
    return _delivery_view(skipped)


__all__ = ["router", "webhook_bodies"]
