"""The ASGI application: built in a factory, with the ledger constructed in the lifespan."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi

from api.consistency import PositionWatch
from api.edge import BodyLimitMiddleware, QueryTextMiddleware
from api.errors import PROBLEM_MEDIA_TYPE, TITLES, FieldError, Problem, install_error_handlers
from api.idempotency import IdempotencyMiddleware, IdempotencyStore, IdempotentReplayError, replay_response
from api.observability import Metrics, RateLimiter, RequestMiddleware, configure_logging
from api.routes import (
    allocation,
    audit,
    directory,
    escalation,
    facts,
    families,
    feeds,
    handover,
    operations,
    reading,
    team,
    voices,
    watchlist,
)
from domain import growth
from domain.application import Clock, TafLedger
from infra.access_log import AccessLog
from infra.ledger import build_ledger
from infra.settings import Settings
from projections.queries import ReadModels
from projections.runner import start_embedded as start_projections
from workers.embedded import start_embedded as start_workers
from workers.outbound import OutboundPolicy
from workers.webhooks import WebhookStore

API_ROUTERS = (
    directory.router,
    reading.router,
    families.router,
    facts.router,
    voices.router,
    team.router,
    handover.router,
    watchlist.router,
    feeds.router,
    audit.router,
    allocation.router,
    escalation.router,
)
PROBLEM_STATUSES = {
    "get": (401, 403, 404, 409, 422, 429, 503),
    "post": (400, 401, 403, 404, 409, 412, 413, 422, 429),
    "delete": (400, 401, 403, 404, 409, 412, 413, 422, 429),
    "patch": (400, 401, 403, 404, 409, 412, 413, 422, 429),
}
WEBHOOK_ANSWER = {
    "description": (
        "Any 2xx acknowledges the delivery. Any other answer, or none within 10 seconds, is retried with "
        "backoff; after 8 attempts the delivery fails and that family's later events wait until it is "
        "redelivered or an admin skips it."
    )
}


Prepare = Callable[[TafLedger, Settings], None]


def create_app(
    settings: Settings | None = None,
    ledger: TafLedger | None = None,
    clock: Clock | None = None,
    prepare: Prepare | None = None,
) -> FastAPI:
    """Build the API; nothing is constructed at import time.

    `prepare(ledger, settings)` runs first in the lifespan, once the ledger is built: the
    composition root (`taf.service.create_api`) creates the tables in the embedded mode and
    installs the bootstrap admin there, so the API does not import it.
    """
    settings = settings or Settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = ledger is None
        app.state.ledger = ledger or build_ledger(settings, clock=clock)
        app.state.settings = settings
        if prepare is not None:
            prepare(app.state.ledger, settings)
        app.state.access_log = AccessLog(app.state.ledger)
        clock_of = app.state.ledger.clock
        app.state.idempotency = IdempotencyStore(settings, now=lambda: clock_of.now().timestamp())
        app.state.webhooks = WebhookStore(app.state.ledger, OutboundPolicy.allowing(settings.webhook_hosts_allowed))
        app.state.webhooks.create_tables()
        projections = start_projections(settings, ledger=app.state.ledger) if settings.projections_in_process else None
        app.state.read_models = (
            projections.read_models if projections is not None else ReadModels.for_ledger(app.state.ledger)
        )
        app.state.consistency = PositionWatch(
            app.state.read_models.projections.applied, app.state.read_models.projections.head
        )
        app.state.readiness_checks.append(projection_check)
        app.state.metrics.read_models = app.state.read_models
        workers = start_workers(settings, app.state.ledger) if settings.workers_in_process else None
        # Weights are given their UK-WHO centiles as they are recorded: load the reference off the request path.
        threading.Thread(target=growth.warm_up, name="taf-growth-reference", daemon=True).start()
        try:
            yield
        finally:
            if workers is not None:
                workers.stop()
            if projections is not None:
                projections.stop()
            app.state.readiness_checks.remove(projection_check)
            app.state.metrics.read_models = None
            app.state.idempotency.close()
            app.state.idempotency = None
            await app.state.rate_limiter.close()
            app.state.access_log = None
            if own:
                app.state.ledger.close()

    app = FastAPI(
        title="TAF Ledger",
        version="1",
        lifespan=lifespan,
        description="Multi-agency coordination for early help and children's safeguarding.",
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.readiness_checks = []  # projections register (name, outcome, lag) checks here
    app.state.idempotency = None
    app.state.access_log = None  # set in the lifespan; family reads fail (500) without it
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplayError, replay_response)
    app.include_router(operations.router)
    for router in API_ROUTERS:
        app.include_router(router)
    app.webhooks.include_router(feeds.webhook_bodies)  # the OpenAPI `webhooks` section
    app.add_middleware(IdempotencyMiddleware, store_for=lambda: app.state.idempotency)
    app.add_middleware(QueryTextMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.state.rate_limiter = RateLimiter(
        settings.rate_limit_per_minute,
        settings.redis_url,
        settings.redis_timeout_seconds,
        app.state.metrics.redis_failures,
    )
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics, limiter=app.state.rate_limiter)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def projection_check(request: Request) -> tuple[str, str, int | None]:
    """Readiness: the read models can be read, none has stopped on an event, and how far they lag."""
    try:
        statuses = request.app.state.read_models.projections.status()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return "projections", f"unreachable: {type(error).__name__}", None
    lag = max((s.lag for s in statuses), default=0)
    failing = [f"{s.name.removeprefix('pj_')} {s.fault.describe()}" for s in statuses if s.fault is not None]
    return "projections", "; ".join(failing) if failing else "ok", lag


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": TITLES.get(status, "Error"),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error documented as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components["Problem"].pop("$defs", None)
    components["FieldError"] = FieldError.model_json_schema()
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path_item in schema.get("webhooks", {}).values():
        for operation in path_item.values():
            operation["responses"] = {"200": WEBHOOK_ANSWER}  # what the receiver answers the service
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            if path.startswith("/api/"):
                for status in PROBLEM_STATUSES.get(method, ()):
                    responses[str(status)] = _problem_response(status)
                responses["500"] = _problem_response(500)
            sets_etag = path.startswith("/api/v1/families") and (
                method in ("post", "delete")
                or (path.startswith("/api/v1/families/{family_id}") and not path.endswith(("/events", "/integrity")))
            )
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers["X-Request-ID"] = {
                    "description": "The request id (echoed when the caller sent one).",
                    "required": True,
                    "schema": {"type": "string"},
                }
                if sets_etag and status.startswith("2"):
                    headers["ETag"] = {
                        "description": "The family's version this answer was read or written at, for If-Match.",
                        "required": method != "get" or path == "/api/v1/families/{family_id}",
                        "schema": {"type": "string"},
                    }
    app.openapi_schema = schema
    return schema
