"""Schemathesis hooks for tests/contract: unique idempotency keys, and telling a domain refusal from a schema one."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import schemathesis

SCHEMA_RULE = "request_invalid"
IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@schemathesis.hook
def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
    """A valid Idempotency-Key is made unique per request, as a client makes one per new request.

    Generation repeats the same few keys across requests; the server rightly answers those with the
    first answer or 409 `idempotency_key_reused`, so no request would reach its operation. A key that
    is itself the invalid part of a negative case is sent as generated.
    """
    key = (case.headers or {}).get(IDEMPOTENCY_KEY)
    if isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH - 33:
        case.headers[IDEMPOTENCY_KEY] = f"{key}-{uuid4().hex}"


@schemathesis.check
def domain_refusal_is_named(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A schema-valid request refused with 422 must name a domain rule, not the schema-level `request_invalid`."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    body = response.json()
    rule = body.get("rule") if isinstance(body, dict) else None
    if not rule or rule == SCHEMA_RULE:
        raise AssertionError(f"schema-valid data refused as invalid: {body}")
    return None
