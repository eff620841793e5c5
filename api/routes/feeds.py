"""Feeds for agency systems: the global event feed and webhook subscriptions with their delivery log."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.deps import CaseWriter, HistoryReader, IdempotencyKey, Ledger, record_read
from api.errors import ApiError
from api.schemas.feeds import (
    FAMILY_EVENT_TOPICS,
    DeliveryPage,
    DeliveryView,
    EventFeedPage,
    FeedEvent,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookView,
)
from domain import scope
from domain.application import TafLedger
from domain.canonical import describe_event
from domain.errors import UnknownEntityError
from domain.values import Actor
from workers.outbound import RefusedUrlError
from workers.webhooks import Webhook, WebhookStore

router = APIRouter(prefix="/api/v1", tags=["feeds"])

SCAN_BUDGET = 5000  # log entries examined per feed request at most; the cursor resumes after them
CHUNK = 500

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=40, description="Opaque cursor from the previous page.")]


def get_webhooks(request: Request) -> WebhookStore:
    """The webhook store built in the lifespan."""
    store: WebhookStore = request.app.state.webhooks
    return store


Hooks = Annotated[WebhookStore, Depends(get_webhooks)]


def _number(cursor: str | None, default: int) -> int:
    if cursor is None or cursor == "":
        return default
    if not cursor.isdigit() or len(cursor) > 18:
        raise ApiError(
            422,
            "cursor is not one this API gave out",
            rule="cursor_invalid",
            errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
        )
    return int(cursor)


class _Scope:
    """Which families the caller may see, each family loaded at most once per request."""

    def __init__(self, actor: Actor, ledger: TafLedger):
        self.actor = actor
        self.ledger = ledger
        self.everything = actor.role in scope.SEES_EVERY_FAMILY
        self._seen: dict[UUID, bool] = {}

    def sees(self, family_id: UUID) -> bool:
        """Whether the caller may see this family now."""
        if self.everything:
            return True
        if family_id not in self._seen:
            try:
                family = self.ledger.get_family(family_id)
            except UnknownEntityError:
                self._seen[family_id] = False
            else:
                self._seen[family_id] = scope.may_see(
                    self.actor, family.involved_agency_ids, family.involved_professional_ids
                )
        return self._seen[family_id]


@router.get("/events", response_model=EventFeedPage, summary="The event feed over the caller's scope")
def event_feed(
    request: Request,
    actor: HistoryReader,
    ledger: Ledger,
    after: Annotated[int, Query(ge=0, le=10**17, description="Start after this log position.")] = 0,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EventFeedPage:
    """Family events in log order after a position, only for families in the caller's scope.

    The same rule as a family's `/events` (`scope.may_read_history`): a person practitioner gets 403.

    At most a few thousand log entries are examined per request: a page can be short, even
    empty, with a `next_cursor`; follow it until `next_cursor` is null, then poll with
    `after=last_position`. Directory events are not in the feed.
    """
    position = _number(cursor, after)
    visible = _Scope(actor, ledger)
    items: list[FeedEvent] = []
    examined = 0
    exhausted = False
    while len(items) < limit and examined < SCAN_BUDGET:
        notifications = ledger.recorder.select_notifications(
            start=position, limit=CHUNK, topics=FAMILY_EVENT_TOPICS, inclusive_of_start=False
        )
        if not notifications:
            exhausted = True
            break
        for notification in notifications:
            position = notification.id
            examined += 1
            if visible.sees(notification.originator_id):  # type: ignore[arg-type]
                event = ledger.mapper.to_domain_event(notification)
                items.append(FeedEvent.model_validate({"position": notification.id, **describe_event(event)}))
                if len(items) >= limit:
                    break
        if len(notifications) < CHUNK and len(items) < limit and position == notifications[-1].id:
            exhausted = True
            break
    for family_id in dict.fromkeys(item.family_id for item in items):
        record_read(request, actor, family_id, "event feed")  # every family served is logged
    return EventFeedPage(
        items=items, next_cursor=None if exhausted else str(position), last_position=position, limit=limit
    )


def _view(hook: Webhook) -> WebhookView:
    return WebhookView(id=hook.id, url=hook.url, event_types=hook.event_types, created_at=hook.created_at)


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, summary="Subscribe to family events")
def create_webhook(
    body: WebhookCreate, actor: CaseWriter, ledger: Ledger, hooks: Hooks, _key: IdempotencyKey
) -> WebhookCreated:
    """Subscribe a URL to the events of families in the caller's scope; the secret is shown only here.

    The URL must be https and its host must resolve to public addresses only, unless the
    operator allows the host (TAF_WEBHOOK_ALLOWED_HOSTS).
    """
    try:
        hook = hooks.register(actor.professional_id, str(body.url), list(body.event_types), ledger.clock.now())
    except RefusedUrlError as refused:
        raise ApiError(
            422, refused.detail, rule=refused.rule, errors=[{"loc": ["body", "url"], "msg": refused.detail}]
        ) from None
    return WebhookCreated(**_view(hook).model_dump(), secret=hook.secret)


@router.get("/webhooks", response_model=WebhookPage, summary="The caller's webhooks")
def list_webhooks(actor: CaseWriter, hooks: Hooks, limit: Limit = 50, cursor: Cursor = None) -> WebhookPage:
    """The caller's own subscriptions, oldest first."""
    start = _number(cursor, 0)
    mine = [h for h in hooks.webhooks() if h.professional_id == actor.professional_id]
    page = mine[start : start + limit]
    more = len(mine) > start + limit
    return WebhookPage(items=[_view(h) for h in page], next_cursor=str(start + limit) if more else None, limit=limit)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage, summary="A webhook's deliveries")
def deliveries(
    webhook_id: UUID, actor: CaseWriter, hooks: Hooks, limit: Limit = 50, cursor: Cursor = None
) -> DeliveryPage:
    """Delivery attempts and their results, oldest first (only for the webhook's owner)."""
    hook = hooks.webhook(webhook_id)
    if hook is None or hook.professional_id != actor.professional_id:
        raise ApiError(404, f"no webhook {webhook_id}", rule="not_found")
    rows = hooks.delivery_log(webhook_id, limit=limit + 1, after_id=_number(cursor, 0))
    page = rows[:limit]
    return DeliveryPage(
        items=[
            DeliveryView(
                id=d.id,
                family_id=d.family_id,
                position=d.position,
                event_type=d.event_type,
                status=d.status,
                attempts=d.attempts,
                last_status_code=d.last_status_code,
                result=d.result,
                last_error=d.result if d.result not in (None, "delivered") else None,
                last_attempt_at=d.last_attempt_at,
                next_attempt_at=d.next_attempt_at,
            )
            for d in page
        ],
        next_cursor=str(page[-1].id) if len(rows) > limit and page else None,
        limit=limit,
    )


__all__ = ["router"]
