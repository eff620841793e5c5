"""Schemathesis hooks for tests/contract: the one check that tells a domain refusal from a schema refusal."""

from __future__ import annotations

import schemathesis

SCHEMA_RULE = "request_invalid"


@schemathesis.check
def domain_refusal_is_named(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case):
    """A schema-valid request refused with 422 must name a domain rule, not the schema-level `request_invalid`."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    body = response.json()
    rule = body.get("rule") if isinstance(body, dict) else None
    if not rule or rule == SCHEMA_RULE:
        raise AssertionError(f"schema-valid data refused as invalid: {body}")
    return None
