"""The edge of the API and the web pages: what is refused before any route reads a request.

Three guards, one ASGI layer each, in front of every path (API and web forms alike):

- `BodyLimitMiddleware`: a body larger than `TAF_MAX_BODY_BYTES` answers 413 before it is
  parsed, from its Content-Length when sent, else by counting a chunked body as it streams.
- `QueryTextMiddleware`: a query or path parameter holding NUL answers 422 naming it. PostgreSQL
  cannot take NUL in a text parameter, so such a search would otherwise fail as a 500.
- `RouteGuardMiddleware` (API only): 405 with `Allow` for a method the path does not have, 415 for a
  body that is not JSON, 406 for an `Accept` the operation cannot answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import problem_body
from api.idempotency import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"


class BodyTooLargeError(StarletteHTTPException):
    """The body grew past the limit while streaming (raised from the app's receive).

    An HTTP exception, so a route reading the body answers 413 through the error handlers
    instead of turning it into "cannot parse the body" (400).
    """

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


async def _send_problem(
    send: Send,
    status: int,
    detail: str,
    *,
    rule: str | None = None,
    errors: list[dict[str, object]] | None = None,
    close: bool = False,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A problem answer; `close` when the body was left unread, so the connection cannot be reused."""
    payload = json.dumps(problem_body(status, detail, rule=rule, errors=errors)).encode()
    sent = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(payload)).encode())]
    sent += headers or []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": sent + ([(b"connection", b"close")] if close else []),
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """413 for a request body past `limit` bytes, checked before anything parses it."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared or streamed body past the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLargeError(self.limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLargeError:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await _send_problem(
            send, 413, f"the request body is larger than {self.limit} bytes", rule="body_too_large", close=True
        )


def _nul_parameters(scope: Scope) -> list[list[str]]:
    """Where a NUL sits: each query parameter holding one (`["query", name]`), and `["path"]`."""
    found: list[list[str]] = []
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if NUL in name or NUL in value:
            found.append(["query", name.replace(NUL, "\\u0000")])
    if NUL in scope.get("path", ""):  # the ASGI path is already percent-decoded
        found.append(["path"])
    return found


class QueryTextMiddleware:
    """422 naming each query or path parameter that holds NUL."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse NUL in the query string or the path before a route reads them."""
        places = _nul_parameters(scope) if scope["type"] == "http" else []
        if places:
            names = ", ".join(".".join(loc) for loc in places)
            errors: list[dict[str, object]] = [{"loc": loc, "msg": "must not contain NUL (U+0000)"} for loc in places]
            await _send_problem(send, 422, f"invalid parameters: {names}", errors=errors)
            return
        await self.app(scope, receive, send)


# ------------------------------------------------------------------ methods and media types

JSON_TYPES = ("application/json",)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _has_body(scope: Scope) -> bool:
    length = _content_length(scope)
    return (length is not None and length > 0) or _header(scope, b"transfer-encoding") is not None


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in JSON_TYPES or (kind.startswith("application/") and kind.endswith("+json"))


def _accepted_ranges(accept: str) -> list[str]:
    """The media ranges of an Accept header the caller takes (q > 0), lower-cased."""
    ranges: list[str] = []
    for part in accept.split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        if not kind:
            continue
        quality = next((p.split("=", 1)[1] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(quality) <= 0:
                continue
        except ValueError:
            pass
        ranges.append(kind.lower())
    return ranges


def acceptable(accept: str | None, offered: list[str]) -> bool:
    """Whether an Accept header takes one of the offered media types (no header takes anything)."""
    if accept is None or not accept.strip() or not offered:
        return True
    for wanted in _accepted_ranges(accept):
        if wanted == "*/*":
            return True
        for kind in offered:
            if wanted == kind or (wanted.endswith("/*") and kind.startswith(wanted[:-1])):
                return True
    return False


@dataclass(frozen=True)
class Operation:
    """What the routing guard knows of one documented operation."""

    takes_body: bool
    produces: list[str]


@dataclass(frozen=True)
class DocumentedPath:
    """A path of the OpenAPI document: its template as a regular expression, and its operations by method."""

    pattern: re.Pattern[str]
    parameters: int
    operations: dict[str, Operation]


class RouteGuardMiddleware:
    """Answers what routing and content negotiation decide, before anything else reads the request.

    Read from the OpenAPI document, so it holds to exactly what the document says:

    - 405 with `Allow` listing every method the path has, for a documented path asked with another
      method (before idempotency and authentication, so no key is used up by a request that names
      no operation);
    - 415 for a body sent to a JSON operation under a media type other than JSON;
    - 406 when `Accept` takes none of the media types the operation answers with (JSON; the
      chronology also CSV and HTML).
    """

    def __init__(self, app: ASGIApp, paths: Callable[[], list[DocumentedPath]]):
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a request no documented operation can take as sent."""
        if scope["type"] != "http" or not scope.get("path", "").startswith(GUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        method = scope["method"].lower()
        matching = [p for p in self.paths() if p.pattern.fullmatch(scope["path"])]
        allowed = sorted({m.upper() for p in matching for m in p.operations})
        served = sorted((p for p in matching if method in p.operations), key=lambda p: p.parameters)
        if matching and not served:
            await _send_problem(
                send,
                405,
                f"{method.upper()} is not allowed here; allowed: {', '.join(allowed)}",
                rule="method_not_allowed",
                headers=[(b"allow", ", ".join(allowed).encode())],
            )
            return
        refusal = _refusal(scope, served[0].operations[method]) if served else None
        if refusal is not None:
            status, detail, rule = refusal
            await _send_problem(send, status, detail, rule=rule)
            return
        await self.app(scope, receive, send)


def _refusal(scope: Scope, operation: Operation) -> tuple[int, str, str] | None:
    content_type = _header(scope, b"content-type")
    if operation.takes_body and _has_body(scope) and content_type is not None and not _is_json(content_type):
        return 415, f"the body must be application/json, not {content_type}", "unsupported_media_type"
    accept = _header(scope, b"accept")
    if not acceptable(accept, operation.produces):
        return 406, f"this answers {', '.join(operation.produces)}; Accept was {accept}", "not_acceptable"
    return None


GUARDED_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")
_PARAMETER = re.compile(r"\{[^}]+\}")


def documented_paths(document: dict[str, Any]) -> list[DocumentedPath]:
    """Every path of the OpenAPI document with what each of its operations takes and answers."""
    found: list[DocumentedPath] = []
    for path, item in document.get("paths", {}).items():
        operations: dict[str, Operation] = {}
        for method, operation in item.items():
            produces: list[str] = []
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    produces += [kind for kind in response.get("content", {}) if kind not in produces]
            operations[method] = Operation("requestBody" in operation, produces)
        literal = [re.escape(part) for part in _PARAMETER.split(path)]
        pattern = re.compile("[^/]+".join(literal))
        found.append(DocumentedPath(pattern, len(literal) - 1, operations))
    return found
