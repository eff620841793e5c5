"""Errors raised by the domain. Each names the rule it enforces, so callers can report it."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal by the domain; `rule` is a stable snake_case name."""

    rule = "domain_rule"

    def __init__(self, detail: str, *, rule: str | None = None, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if rule is not None:
            self.rule = rule
        self.field = field


class RuleViolationError(DomainError):
    """A decision refused by an invariant (HTTP 409)."""


class ChildAlreadyRegisteredError(RuleViolationError):
    """A child's NHS number already belongs to a family (HTTP 409); `family_id` is that family."""

    rule = "child_already_registered"

    def __init__(self, detail: str, *, family_id: object, field: str | None = None):
        super().__init__(detail, field=field)
        self.family_id = family_id


class InvalidValueError(DomainError):
    """A value outside what the rule allows, such as a date in the future (HTTP 422)."""


class NotPermittedError(DomainError):
    """The actor may not take this decision, for instance signing off their own request (HTTP 403)."""


class UnknownEntityError(DomainError):
    """A family, child, action or other entity that does not exist (HTTP 404)."""

    rule = "not_found"


class StaleVersionError(DomainError):
    """The caller's expected version is not the current one (HTTP 412)."""

    rule = "stale_version"


class ConcurrentChangeError(DomainError):
    """Another writer changed the same stream at the same time and retries ran out (HTTP 409)."""

    rule = "concurrent_change"
