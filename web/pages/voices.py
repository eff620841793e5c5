"""Forms for the child's voice, the family's view, universal health reviews and household circumstances.

Facts all: the forms check only what the API checks, with the same request models.
"""

from __future__ import annotations

from typing import Any

from api.schemas.requests import ChildVoiceIn, CircumstanceIn, FamilyViewIn, UniversalReviewIn
from domain.application import Recorded, TafLedger
from domain.values import Actor, CircumstanceKind, UniversalReview, UniversalReviewOutcome, VoiceKind
from web.forms import Field, enum_choices
from web.pages.facts import DATE_HINT, _child, _child_title, _describe_child
from web.pages.forms import FamilyForm, FormContext, register, when

VOICE_KINDS = enum_choices(
    VoiceKind,
    {
        "said": "Said: the child's own words",
        "showed": "Showed: through play, drawing or behaviour",
        "observed": "Observed: what the child's day-to-day life is like",
    },
)
REVIEWS = enum_choices(
    UniversalReview,
    {
        "antenatal": "Antenatal contact (from 28 weeks of pregnancy)",
        "new_birth": "New birth visit (by 14 days)",
        "six_to_eight_weeks": "6 to 8 week review",
        "nine_to_twelve_months": "9 to 12 month review",
        "two_to_two_and_a_half_years": "2 to 2½ year review",
    },
)
REVIEW_OUTCOMES = enum_choices(UniversalReviewOutcome)
CIRCUMSTANCES = enum_choices(
    CircumstanceKind,
    {
        "money_sent_abroad": "Money sent abroad",
        "no_recourse_to_public_funds": "No recourse to public funds",
        "household_member": "Someone else lives in the home",
        "regular_visitor": "Someone visits the home regularly",
    },
)


def _voice(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_child_voice(actor, ctx.family.id, ctx.item.child_id, body.kind, body.what, when(body))


def _view(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_family_view(actor, ctx.family.id, body.view, body.about, body.event_version, when(body))


def _review(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_universal_review(
        actor, ctx.family.id, ctx.item.child_id, body.review, body.outcome, when(body)
    )


def _circumstance(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_circumstance(actor, ctx.family.id, body.kind, body.detail, when(body))


register(
    FamilyForm(
        "voice",
        "children/{item_id}/voice/new",
        _child_title("Record the child's voice"),
        ChildVoiceIn,
        [
            Field("kind", "How was it recorded?", "radios", choices=VOICE_KINDS, required=True),
            Field(
                "what",
                "What the child said, showed or was seen to experience",
                "textarea",
                hint="In the child's own words where you can.",
            ),
            Field("occurred_on", "Date", "date", hint=DATE_HINT),
        ],
        _voice,
        "Child's voice recorded",
        item=_child,
        describe=_describe_child,
    ),
    FamilyForm(
        "family-view",
        "family-views/new",
        "Record the family's view",
        FamilyViewIn,
        [
            Field("view", "The family's view", "textarea", hint="What the family said, in their words."),
            Field("about", "What it is about", "text", hint="For example, the plan, or the referral decision."),
            Field(
                "event_version",
                "Chronology entry it is about",
                "number",
                hint="The entry number of the decision, if it is about one.",
                width="5",
            ),
            Field("occurred_on", "Date", "date", hint=DATE_HINT),
        ],
        _view,
        "Family's view recorded",
    ),
    FamilyForm(
        "universal-review",
        "children/{item_id}/universal-reviews/new",
        _child_title("Record a universal health review"),
        UniversalReviewIn,
        [
            Field("review", "Review", "radios", choices=REVIEWS, required=True),
            Field("outcome", "Outcome", "radios", choices=REVIEW_OUTCOMES, required=True),
            Field("occurred_on", "Date", "date", hint=DATE_HINT),
        ],
        _review,
        "Universal review recorded",
        item=_child,
        describe=_describe_child,
    ),
    FamilyForm(
        "circumstance",
        "circumstances/new",
        "Record a household circumstance",
        CircumstanceIn,
        [
            Field("kind", "Circumstance", "radios", choices=CIRCUMSTANCES, required=True),
            Field("detail", "Detail", "textarea", hint="For example, who lives in or visits the home and how often."),
            Field("occurred_on", "Date", "date", hint=DATE_HINT),
        ],
        _circumstance,
        "Household circumstance recorded",
    ),
)
