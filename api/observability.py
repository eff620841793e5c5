"""Request ids, structured JSON logs, Prometheus metrics, rate limiting, and the last-resort 500."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.routing import Match

from api.errors import problem_body
from api.idempotency import ASGIApp, Message, Receive, Scope, Send

REDIS_PAUSE_SECONDS = 1.0  # after a Redis failure, how long the rate limiter counts locally before asking again
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
access_log = logging.getLogger("taf.api.access")
error_log = logging.getLogger("taf.api.error")


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, with the request's fields."""

    FIELDS = ("request_id", "method", "path", "route", "status", "duration_ms", "actor_id", "client")

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                data[name] = getattr(record, name)
        if record.exc_info:
            data["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(data, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send the API's logs as JSON lines to stderr (once per process)."""
    for logger in (access_log, error_log):
        if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(JsonFormatter())
            logger.addHandler(handler)
            logger.propagate = False
        logger.setLevel(level.upper() if isinstance(level, str) else level)


class Metrics:
    """Request counts and latencies by route template and status, in the app's own registry.

    Projection lag and pending handover requests are read from the read models at scrape
    time (`read_models` is set once the lifespan has built them).
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "taf_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "taf_http_request_duration_seconds",
            "Time to answer HTTP requests",
            ["method", "route"],
            registry=self.registry,
        )
        self.redis_failures = RedisFailures(self.registry)
        self.read_models: Any = None
        self.registry.register(_ReadModelCollector(self))


class _ReadModelCollector(Collector):
    """Gauges read from the read models when Prometheus scrapes."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        """Projection lag and failure per projection, and pending handover requests by kind and status."""
        lag = GaugeMetricFamily(
            "taf_projection_lag_events", "Events recorded but not yet applied to a read model", labels=["projection"]
        )
        failing = GaugeMetricFamily(
            "taf_projection_failing", "1 while a read model cannot apply the event log", labels=["projection"]
        )
        attempts = GaugeMetricFamily(
            "taf_projection_failed_attempts",
            "Attempts to apply the event a read model is stuck on (0 when applying)",
            labels=["projection"],
        )
        pending = GaugeMetricFamily(
            "taf_handover_requests_pending", "Closure and transfer requests not yet decided", labels=["kind", "status"]
        )
        models = self.metrics.read_models
        if models is not None:
            try:
                for status in models.projections.status():
                    lag.add_metric([status.name], status.lag)
                    failing.add_metric([status.name], 0 if status.fault is None else 1)
                    attempts.add_metric([status.name], 0 if status.fault is None else status.fault.attempts)
                for (kind, state), count in models.pending_request_counts().items():
                    pending.add_metric([kind, state], count)
            except Exception:  # noqa: BLE001 - a scrape must not fail the process; /readyz reports the cause
                error_log.warning("read models unavailable for metrics", exc_info=True)
        yield lag
        yield failing
        yield attempts
        yield pending


class RedisFailures:
    """Counts and logs Redis calls that failed or timed out, after which the request went ahead without Redis."""

    def __init__(self, registry: CollectorRegistry):
        self.counter = Counter(
            "taf_redis_failures",
            "Redis calls that timed out or failed; the request went ahead",
            ["use", "reason"],
            registry=registry,
        )

    def record(self, use: str, error: BaseException) -> None:
        """Count one failure of Redis for `use` (rate_limit, readiness) and say so in the log."""
        reason = "timeout" if isinstance(error, TimeoutError | RedisTimeoutError) else "unreachable"
        self.counter.labels(use, reason).inc()
        error_log.warning("redis %s for %s (%s); going ahead without it", reason, use, type(error).__name__)


class RateLimiter:
    """At most N requests per minute per API key (fixed one-minute windows); Redis-backed when configured.

    Redis is asked asynchronously with a short socket timeout and no retries, so a frozen
    Redis costs a request milliseconds and never blocks the event loop. After a failure the
    limiter counts locally for `REDIS_PAUSE_SECONDS` before asking Redis again.
    """

    def __init__(
        self, per_minute: int, redis_url: str | None = None, timeout: float = 0.1, failures: RedisFailures | None = None
    ):
        self.per_minute = per_minute
        self.failures = failures
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}
        self._redis: Any = None
        self._redis_paused_until = 0.0
        if redis_url:
            self._redis = redis_client(redis_url, timeout)

    async def hit(self, caller: str) -> int | None:
        """Count a request; None when allowed, else the seconds until the caller may retry."""
        now = time.time()
        window = int(now // 60)
        retry_after = max(1, int(60 - now % 60))
        count = await self._shared_count(caller, window)
        if count is None:
            count = self._local_count(caller, window)
        return retry_after if count > self.per_minute else None

    async def _shared_count(self, caller: str, window: int) -> int | None:
        """This window's count across every process, from Redis; None when Redis is not there to ask."""
        if self._redis is None or time.monotonic() < self._redis_paused_until:
            return None
        key = f"taf:ratelimit:{caller}:{window}"
        try:
            async with self._redis.pipeline() as pipe:
                pipe.incr(key)
                pipe.expire(key, 61)
                return int((await pipe.execute())[0])
        except Exception as error:  # noqa: BLE001 - Redis down or frozen: limit locally rather than refuse or wait
            self._redis_paused_until = time.monotonic() + REDIS_PAUSE_SECONDS
            if self.failures is not None:
                self.failures.record("rate_limit", error)
            return None

    async def close(self) -> None:
        """Close the Redis connections (made on the event loop that is ending)."""
        if self._redis is not None:
            await self._redis.aclose()

    def _local_count(self, caller: str, window: int) -> int:
        """This window's count in this process."""
        with self._lock:
            started, count = self._counts.get(caller, (window, 0))
            if started != window:
                started, count = window, 0
            count += 1
            if len(self._counts) > 100_000:
                self._counts.clear()
            self._counts[caller] = (started, count)
        return count


def redis_client(url: str, timeout: float) -> Any:
    """An asyncio Redis client that gives up after `timeout` seconds and does not retry."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    """The route template that answered (e.g. /api/v1/families/{family_id}), for metric labels."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return str(route.path)
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return str(getattr(candidate, "path", "unmatched"))
    return "unmatched"


async def _send_problem(
    send: Send, status: int, detail: str, rule: str | None = None, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(problem_body(status, detail, rule=rule)).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(payload)).encode())] + (
        extra or []
    )
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class RequestMiddleware:
    """Outermost layer: request id, rate limit, access log, metrics, and a problem+json 500 for surprises."""

    def __init__(self, app: ASGIApp, metrics: Metrics, limiter: RateLimiter):
        self.app = app
        self.metrics = metrics
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started_at = time.perf_counter()
        state: MutableMapping[str, Any] = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = dict(message, headers=headers)
            await send(message)

        path = scope.get("path", "")
        try:
            retry_after = None
            if path.startswith("/api/"):
                caller = _header(scope, b"authorization") or f"ip:{(scope.get('client') or ('-',))[0]}"
                retry_after = await self.limiter.hit(hashlib.sha256(caller.encode("latin-1")).hexdigest()[:32])
            if retry_after is not None:
                await _send_problem(
                    send_with_id,
                    429,
                    f"more than {self.limiter.per_minute} requests a minute; retry in {retry_after} s",
                    rule="rate_limited",
                    extra=[(b"retry-after", str(retry_after).encode())],
                )
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception(
                "unhandled error", extra={"request_id": request_id, "method": scope.get("method"), "path": path}
            )
            if not state["started"]:
                await _send_problem(
                    send_with_id, 500, f"an unexpected error occurred; it has been logged under request id {request_id}"
                )
            state["status"] = 500
        finally:
            elapsed = time.perf_counter() - started_at
            template = _route_template(scope)
            method = scope.get("method", "")
            status = str(state["status"])
            self.metrics.requests.labels(method, template, status).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            actor = scope.get("state", {}).get("actor")
            access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": path,
                    "route": template,
                    "status": int(status),
                    "duration_ms": round(elapsed * 1000, 2),
                    "actor_id": str(actor.professional_id) if actor is not None else None,
                },
            )
