"""A manager's review of a signal standing on the family (the closure step `standing_signals_reviewed`)."""

from __future__ import annotations

from typing import Any

from api.schemas.requests import SignalReviewIn
from domain.application import Recorded, TafLedger
from domain.values import Actor, Role, SignalDecision
from web.forms import Field, enum_choices
from web.pages.forms import FamilyForm, FormContext, register
from web.render import dates_in_words, format_date, words

DECISIONS = enum_choices(
    SignalDecision, {"accept_risk": "Accept the risk", "act": "Act on it", "not_applicable": "Not applicable"}
)


def standing(ctx: FormContext) -> list[tuple[str, str]]:
    """The signals the worker recorded as standing on the family, as choices."""
    return [(name, words(name)) for name in ctx.family.standing_signals]


def _chosen(ctx: FormContext) -> str:
    name = ctx.param("signal")
    return name if name in ctx.family.standing_signals else ""


def _describe(ctx: FormContext) -> list[tuple[str, str]]:
    signal = ctx.family.standing_signals.get(_chosen(ctx))
    if signal is None:
        return []
    described = [
        ("Signal", words(signal.name)),
        ("Why", dates_in_words(signal.explanation)),
        ("Since", format_date(signal.since)),
    ]
    if signal.review is not None:
        described.append(("Last review", f"{words(signal.review.decision)} on {format_date(signal.review.on)}"))
    return described


def _title(ctx: FormContext) -> str:
    chosen = _chosen(ctx)
    return f"Review the signal: {words(chosen).lower()}" if chosen else "Review a signal"


def _review(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    signal = body.signal.value if hasattr(body.signal, "value") else str(body.signal)
    return ledger.review_signal(actor, ctx.family.id, signal, body.decision, body.rationale)


register(
    FamilyForm(
        "signal-review",
        "signal-reviews/new",
        _title,
        SignalReviewIn,
        [
            Field("signal", "Signal", "hidden", shown=lambda ctx: bool(_chosen(ctx))),
            Field("signal", "Signal", "radios", choices=standing, shown=lambda ctx: not _chosen(ctx)),
            Field("decision", "Decision", "radios", choices=DECISIONS),
            Field(
                "rationale",
                "Rationale",
                "textarea",
                hint="Why, in plain words: what you weighed and what happens next.",
            ),
        ],
        _review,
        "Signal reviewed",
        roles=frozenset({Role.MANAGER}),
        describe=_describe,
        initial=lambda ctx: {"signal": _chosen(ctx)} if _chosen(ctx) else {},
        intro="A manager's judgement on a standing signal. A closure cannot complete while a signal stands "
        "without a review made after it was last raised.",
    ),
)
