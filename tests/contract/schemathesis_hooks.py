"""Schemathesis hooks for tests/contract: unique idempotency keys, and telling a domain refusal from a schema one."""

from __future__ import annotations

import os
from typing import Any
from uuid import uuid4

import httpx
import schemathesis

SCHEMA_RULE = "request_invalid"
IDEMPOTENCY_KEY = "Idempotency-Key"
IF_MATCH = "If-Match"
MAX_KEY_LENGTH = 255


@schemathesis.hook
def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
    """Headers a client would send with real data: a fresh Idempotency-Key, the family's current version.

    Generation repeats the same few keys across requests; the server rightly answers those with the
    first answer or 409 `idempotency_key_reused`, so no request would reach its operation. A key that
    is itself the invalid part of a negative case is sent as generated.

    A generated version in `If-Match` names whatever version the generator drew, so a schema-valid
    write would almost always be stale (412, tested in tests/e2e/test_api_conventions.py); a positive
    case sends the family's current ETag instead, as a client that read the family first does.
    """
    if case.headers is None:
        case.headers = {}
    headers = case.headers
    key = headers.get(IDEMPOTENCY_KEY)
    if isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH - 33:
        headers[IDEMPOTENCY_KEY] = f"{key}-{uuid4().hex}"
    family_id = (case.path_parameters or {}).get("family_id")
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and family_id and headers.get(IF_MATCH, "*") != "*":
        headers[IF_MATCH] = _current_etag(case, str(family_id))


def _current_etag(case: schemathesis.Case, family_id: str) -> str:
    base = os.environ["TAF_ST_BASE_URL"]
    key = os.environ["TAF_ST_KEY"]
    answer = httpx.get(f"{base}/api/v1/families/{family_id}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return answer.headers.get("etag", "*")


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
