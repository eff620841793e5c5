"""The ASGI application: built in a factory, with the ledger constructed in the lifespan."""

from __future__ import annotations

import copy
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.consistency import PositionWatch
from api.edge import BodyLimitMiddleware, DocumentedPath, QueryTextMiddleware, RouteGuardMiddleware, documented_paths
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
from api.schemas.event_data import data_models
from api.schemas.examples import REQUEST_EXAMPLES
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
        generate_unique_id_function=operation_id,
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
    paths: list[DocumentedPath] = []

    def documented() -> list[DocumentedPath]:
        if not paths:
            paths.extend(documented_paths(app.openapi()))
        return paths

    app.add_middleware(RouteGuardMiddleware, paths=documented)
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


def operation_id(route: APIRoute) -> str:
    """A route's operationId: its function's name in camelCase (`record_contact` is `recordContact`).

    Stable as long as the function keeps its name; `tests/e2e/test_api_schema.py` keeps the list.
    """
    head, *rest = route.name.split("_")
    camel = head + "".join(word.title() for word in rest)
    return OPERATION_IDS.get(camel, camel)


# Where a function's name alone does not say what the operation does, its operationId says more.
OPERATION_IDS = {
    "healthz": "getHealth",
    "readyz": "getReadiness",
    "metrics": "getMetrics",
    "worklist": "getWorklist",
    "chronology": "getChronology",
    "carriedForward": "getCarriedForward",
    "closureStatus": "getClosure",
    "transferStatus": "getTransfer",
    "watchlist": "getWatchlist",
    "signals": "listFamilySignals",
    "signalHistory": "listSignalHistory",
    "eventFeed": "listEvents",
    "deliveries": "listDeliveries",
    "familyEvents": "listFamilyEvents",
    "familyState": "getFamilyState",
    "familyIntegrity": "checkFamilyIntegrity",
    "accessLogEntries": "listAccessLog",
}


RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with: `Bearer`.",
            "required": True,
            "schema": {"type": "string", "enum": ["Bearer"]},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before asking again (sent when the read models have not yet reached "
            "the X-Consistent-With position).",
            "required": False,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
}
REPLAYED = {
    "description": "`true` on an answer replayed for a repeated Idempotency-Key (nothing new was recorded).",
    "required": False,
    "schema": {"type": "string", "enum": ["true"]},
}
LOCATION = {"description": "Where to read what was created.", "required": True, "schema": {"type": "string"}}
LOCATED = {("/api/v1/families", "post"), ("/api/v1/families/{family_id}/closure", "post")}
LOCATED |= {("/api/v1/families/{family_id}/transfer", "post")}
STATUS_DESCRIPTIONS = {
    406: "Accept takes none of the media types this operation answers with.",
    415: "The body is not application/json.",
    503: "X-Consistent-With: the read models did not reach the position in time; retry after Retry-After.",
}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": STATUS_DESCRIPTIONS.get(status, TITLES.get(status, "Error")),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the `null` an optional Python type adds: a header or query value is never null."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


# Every cursor this API gives out is digits or unpadded base64url; no query or path text may hold NUL.
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _parameter_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema with the pattern the server holds it to (cursors; text without NUL)."""
    if schema.get("type") != "string" or "pattern" in schema or "enum" in schema or "format" in schema:
        return schema
    return {**schema, "pattern": CURSOR_PATTERN if name in ("cursor", "after") else NO_NUL_PATTERN}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error documented as problem+json and every header the server sends."""
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
            _document_operation(path, method, operation)
    _type_event_data(components)
    app.openapi_schema = schema
    return schema


TYPED_EVENTS = ("EventView", "FeedEvent")


def _type_event_data(components: dict[str, Any]) -> None:
    """`EventView` and `FeedEvent` as a `oneOf` over event types (`type` discriminates), `data` typed per type."""
    models = data_models()
    for name, model in models.items():
        data = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for shared, definition in data.pop("$defs", {}).items():
            components.setdefault(shared, definition)
        components[f"{name}Data"] = data
    for base in TYPED_EVENTS:
        plain = components.pop(base, None)
        if plain is None:
            continue
        mapping: dict[str, str] = {}
        for name in models:
            variant = copy.deepcopy(plain)
            variant["title"] = f"{name}{base}"
            variant["properties"]["type"] = {"type": "string", "const": name}
            variant["properties"]["data"] = {"$ref": f"#/components/schemas/{name}Data"}
            components[f"{name}{base}"] = variant
            mapping[name] = f"#/components/schemas/{name}{base}"
        components[base] = {
            "title": base,
            "description": plain.get("description", ""),
            "oneOf": [{"$ref": ref} for ref in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }


def _body_model(operation: dict[str, Any]) -> str | None:
    """The component name of an operation's JSON body, when it has one."""
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    refs = [schema.get("$ref")] + [option.get("$ref") for option in schema.get("anyOf", [])]
    names = [ref.rsplit("/", 1)[1] for ref in refs if ref]
    return names[0] if names else None


def _document_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        parameter["schema"] = _parameter_schema(parameter["name"], _not_null(parameter["schema"]))
    body = _body_model(operation)
    if body is not None and body in REQUEST_EXAMPLES:
        operation["requestBody"]["content"]["application/json"]["example"] = REQUEST_EXAMPLES[body]
    responses = operation.setdefault("responses", {})
    if path.startswith("/api/"):
        statuses = [*PROBLEM_STATUSES.get(method, ()), 406]
        if "requestBody" in operation:
            statuses.append(415)
        for status in statuses:
            responses[str(status)] = _problem_response(status)
        responses["500"] = _problem_response(500)
    sets_etag = (
        path.startswith("/api/v1/families")
        and path != "/api/v1/families/match"
        and (
            method in ("post", "delete")
            or (path.startswith("/api/v1/families/{family_id}") and not path.endswith(("/events", "/integrity")))
        )
    )
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = {
            "description": "The request id (echoed when the caller sent one).",
            "required": True,
            "schema": {"type": "string"},
        }
        headers.update(RESPONSE_HEADERS.get(status, {}))
        if not status.startswith("2"):
            continue
        if sets_etag:
            headers["ETag"] = {
                "description": "The family's version this answer was read or written at, for If-Match.",
                "required": method != "get" or path == "/api/v1/families/{family_id}",
                "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
            }
        if method == "post" and path.startswith("/api/"):
            headers["Idempotent-Replayed"] = REPLAYED
        if (path, method) in LOCATED:
            headers["Location"] = LOCATION
