"""Problem details (RFC 9457) for every error the API answers, and the exception handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import scope
from domain.errors import (
    ChildAlreadyRegisteredError,
    ConcurrentChangeError,
    DomainError,
    InvalidValueError,
    NotPermittedError,
    RuleViolationError,
    StaleVersionError,
    UnknownEntityError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://taf-ledger.example/problems/"
log = logging.getLogger("taf.api")

TITLES = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Not permitted",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid fields",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

# The rule of a problem no more specific rule names: every problem carries a `rule` (README, "Problem rules").
STATUS_RULES = {
    400: "body_not_json",
    401: "api_key_required",
    403: "role_not_permitted",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "stale_version",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "request_invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
SCHEMA_RULE = STATUS_RULES[422]  # a request the OpenAPI document itself refuses (types, formats, patterns, bounds)
JSON_RULE = STATUS_RULES[400]  # a body that is not JSON (or not UTF-8)

# A domain refusal that names no rule of its own: still a domain refusal, never `request_invalid`.
DOMAIN_RULES = {409: "conflict", 412: "stale_version", 422: "invalid_value"}

DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (StaleVersionError, 412),
    (ConcurrentChangeError, 409),
    (RuleViolationError, 409),
    (InvalidValueError, 422),
    (NotPermittedError, 403),
    (UnknownEntityError, 404),
]


class FieldError(BaseModel):
    """One invalid field: where it is and what is wrong with it."""

    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details)."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    rule: str = Field(
        description="What refused the request, by name: a domain rule (e.g. one_open_episode), or for the "
        "request's form `request_invalid` (the schema refuses it), `body_not_json`, `unsupported_media_type`, "
        "`not_acceptable`, `method_not_allowed`, `not_found` and the others listed in the README."
    )
    errors: list[FieldError] | None = Field(default=None, description="The invalid fields.")
    family_id: str | None = Field(
        default=None, description="child_already_registered: the child's family, when the caller may see it."
    )


class ApiError(Exception):
    """An error raised by the API layer itself (auth, scope, conventions), answered as a problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        rule: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.rule = rule
        self.errors = errors
        self.headers = headers or {}


def problem_body(
    status: int, detail: str, *, rule: str | None = None, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON body of a problem answer; a problem without a more specific rule gets its status's."""
    rule = rule or STATUS_RULES.get(status, "error")
    body: dict[str, Any] = {
        "type": TYPE_BASE + rule,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "rule": rule,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    rule: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    return JSONResponse(
        problem_body(status, detail, rule=rule, errors=errors),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def domain_status(error: DomainError) -> int:
    """The HTTP status of a domain refusal."""
    for kind, status in DOMAIN_STATUS:
        if isinstance(error, kind):
            return status
    return 409


def _loc(field: str | None) -> list[str | int]:
    if field is None:
        return ["body"]
    if field in ("If-Match", "Idempotency-Key"):
        return ["header", field]
    return ["body", *field.split(".")]


def _handle_domain(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    status = domain_status(error)
    errors = [{"loc": _loc(error.field), "msg": error.detail}] if status == 422 else None
    if isinstance(error, ChildAlreadyRegisteredError):
        return _child_already_registered(request, error)
    rule = error.rule or DOMAIN_RULES.get(status, "domain_rule")
    return problem_response(status, error.detail, rule=rule, errors=errors)


def _child_already_registered(request: Request, error: ChildAlreadyRegisteredError) -> JSONResponse:
    """409, naming the family the child belongs to when the caller may see it (whole record or need-to-know)."""
    body = problem_body(409, error.detail, rule=error.rule)
    actor = getattr(request.state, "actor", None)
    ledger = getattr(request.app.state, "ledger", None)
    if actor is not None and ledger is not None and scope.reads_case_data(actor):
        try:
            family = ledger.get_family(error.family_id)
        except UnknownEntityError:
            family = None
        if family is not None and (
            scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids)
            or scope.may_know(actor, family.known_agency_ids)
        ):
            body["family_id"] = str(family.id)
    return JSONResponse(body, status_code=409, media_type=PROBLEM_MEDIA_TYPE)


def _handle_api(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return problem_response(error.status, error.detail, rule=error.rule, errors=error.errors, headers=error.headers)


CLOSED_SET_ERRORS = {"literal_error", "enum"}


def _message(error: Any) -> str:
    """A validation error's message; for a value outside a closed set, naming the value sent."""
    message = str(error.get("msg", ""))
    if error.get("type") in CLOSED_SET_ERRORS and isinstance(error.get("input"), str | int):
        message += f"; got {str(error['input'])[:100]!r}"
    return message


def _handle_validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    raw = error.errors()
    errors = [
        {"loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())], "msg": _message(e)} for e in raw
    ]
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_response(400, "the request body is not valid JSON", rule=JSON_RULE, errors=errors)
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
    return problem_response(422, f"invalid fields: {fields}", rule=SCHEMA_RULE, errors=errors)


def _handle_http(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code, "error")
    return problem_response(error.status_code, detail, headers=getattr(error, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json."""
    app.add_exception_handler(DomainError, _handle_domain)
    app.add_exception_handler(ApiError, _handle_api)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
