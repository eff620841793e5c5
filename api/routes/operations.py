"""Operations: liveness, readiness (event store, Redis, projection lag) and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.schemas.responses import Readiness

router = APIRouter(tags=["operations"])

# A readiness check returns (name, "ok" or what is wrong, projection lag or None).
ReadinessCheck = Callable[[Request], tuple[str, str, int | None]]


def event_store_check(request: Request) -> tuple[str, str, int | None]:
    """The event store answers a query."""
    try:
        request.app.state.ledger.recorder.max_notification_id()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return "event_store", f"unreachable: {type(error).__name__}", None
    return "event_store", "ok", None


def redis_check(request: Request) -> tuple[str, str, int | None]:
    """Redis answers a ping within the API's Redis timeout, without retries (only when TAF_REDIS_URL is set)."""
    settings = request.app.state.settings
    if not settings.redis_url:
        return "redis", "not configured", None
    try:
        from redis import Redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        timeout = settings.redis_timeout_seconds
        client = Redis.from_url(
            settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        request.app.state.metrics.redis_failures.record("readiness", error)
        return "redis", f"unreachable: {type(error).__name__}", None
    return "redis", "ok", None


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready to take traffic",
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
def readyz(request: Request) -> JSONResponse:
    """The event store (and Redis when configured) are reachable; projection lag from registered checks."""
    checks: list[ReadinessCheck] = [event_store_check, redis_check, *request.app.state.readiness_checks]
    results: dict[str, str] = {}
    lag: int | None = None
    for check in checks:
        name, outcome, check_lag = check(request)
        results[name] = outcome
        if check_lag is not None:
            lag = check_lag if lag is None else max(lag, check_lag)
    ready = all(v in ("ok", "not configured") for v in results.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=results, projection_lag=lag)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route template and status, in Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
