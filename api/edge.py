"""The edge of the API and the web pages: what is refused before any route reads a request.

Two guards, one ASGI layer each, in front of every path (API and web forms alike):

- `BodyLimitMiddleware`: a body larger than `TAF_MAX_BODY_BYTES` answers 413 before it is
  parsed, from its Content-Length when sent, else by counting a chunked body as it streams.
- `QueryTextMiddleware`: a query or path parameter holding NUL answers 422 naming it. PostgreSQL
  cannot take NUL in a text parameter, so such a search would otherwise fail as a 500.
"""

from __future__ import annotations

import json
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
) -> None:
    """A problem answer; `close` when the body was left unread, so the connection cannot be reused."""
    payload = json.dumps(problem_body(status, detail, rule=rule, errors=errors)).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(payload)).encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers + ([(b"connection", b"close")] if close else []),
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
