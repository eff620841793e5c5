"""Issue 11 items 2, 3, 7, 9, 10 at the aggregate: what each command records, and what it refuses.

A fact (a response, a review, feedback) is recorded whatever it says; a decision (on an
unverifiable claim) is gated by role and needs its rationale. Events added to later keep
their hash when the new fields hold their defaults.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.canonical import GENESIS_HASH, chain_hash, hashed_fields
from domain.errors import InvalidValueError, NotPermittedError, UnknownEntityError
from domain.family import Family
from domain.values import (
    Acknowledgement,
    ClaimDecision,
    ClaimOutcome,
    ConcernAction,
    DeclineReasonKind,
    ReferralOutcome,
    Role,
    SourceKind,
)
from tests.unit.builders import (
    COORDINATOR,
    LEAD,
    MANAGER,
    TODAY,
    FamilyBuilder,
    assert_refused,
    emitted,
    event_names,
    in_episode,
)


def days_ago(days: int) -> date:
    """The day some days before TODAY."""
    return TODAY - timedelta(days=days)


# ------------------------------------------------------------ claim decisions (item 7)


def _unable_to_verify() -> tuple[Family, Any]:
    builder = in_episode().claim(relied_on=True, outcome=ClaimOutcome.UNABLE_TO_VERIFY)
    return builder.build(), builder.claim_ids[0]


@pytest.mark.parametrize("decision", list(ClaimDecision))
def test_a_manager_decides_on_a_claim_unable_to_be_verified(decision: ClaimDecision) -> None:
    family, claim_id = _unable_to_verify()

    family.decide_on_claim(MANAGER.meta(), claim_id, decision, "  grandmother abroad; visits weekly instead  ")

    (decided,) = emitted(family)
    assert event_names([decided]) == ["ClaimDecided"]
    assert decided.decision is decision and decided.rationale == "grandmother abroad; visits weekly instead"
    assert family.claims[str(claim_id)].checked


@pytest.mark.parametrize("person", [LEAD, COORDINATOR])
def test_only_a_manager_decides_on_a_claim(person: Any) -> None:
    family, claim_id = _unable_to_verify()

    assert_refused(
        family,
        lambda: family.decide_on_claim(person.meta(), claim_id, ClaimDecision.ACT_ON_IT, "why"),
        "manager_only",
        NotPermittedError,
    )


@pytest.mark.parametrize("rationale", ["", "   "])
def test_a_claim_decision_needs_a_rationale(rationale: str) -> None:
    family, claim_id = _unable_to_verify()

    error = assert_refused(
        family,
        lambda: family.decide_on_claim(MANAGER.meta(), claim_id, ClaimDecision.ACCEPT_UNVERIFIED, rationale),
        "rationale_required",
        InvalidValueError,
    )
    assert error.field == "rationale"


@pytest.mark.parametrize("outcome", [None, ClaimOutcome.VERIFIED, ClaimOutcome.CONTRADICTED])
def test_a_decision_is_only_for_a_claim_found_unable_to_be_verified(outcome: ClaimOutcome | None) -> None:
    builder = in_episode().claim(relied_on=True, outcome=outcome)
    family = builder.build()

    assert_refused(
        family,
        lambda: family.decide_on_claim(MANAGER.meta(), builder.claim_ids[0], ClaimDecision.ACT_ON_IT, "why"),
        "claim_not_unable_to_verify",
    )


def test_a_decision_on_an_unknown_claim_is_refused() -> None:
    family = in_episode().build()

    with pytest.raises(UnknownEntityError):
        family.decide_on_claim(MANAGER.meta(), uuid4(), ClaimDecision.ACT_ON_IT, "why")
    assert list(family.collect_events()) == []


# -------------------------------------------------------- concern responses (item 9)


def _concern() -> tuple[Family, Any]:
    family = in_episode().build()
    concern_id = uuid4()
    family.raise_concern(LEAD.meta(), concern_id, SourceKind.MEMBER_OF_PUBLIC, "baby crying for hours", True)
    family.collect_events()
    return family, concern_id


def test_any_response_is_recorded_with_what_was_done() -> None:
    family, concern_id = _concern()

    family.respond_to_concern(LEAD.meta(), concern_id, "Caller unreliable", False, ConcernAction.NO_FURTHER_ACTION)

    (responded,) = emitted(family)
    assert event_names([responded]) == ["ConcernResponded"]
    assert responded.action is ConcernAction.NO_FURTHER_ACTION
    concern = family.concerns[str(concern_id)]
    assert concern.responded_on == TODAY and concern.resolved_on is None


@pytest.mark.parametrize(
    ("role", "action", "welfare_check_done", "resolves"),
    [
        (Role.PRACTITIONER, None, False, False),
        (Role.PRACTITIONER, None, True, True),
        (Role.PRACTITIONER, ConcernAction.WELFARE_CHECK, False, True),
        (Role.PRACTITIONER, ConcernAction.REFERRAL, False, True),
        (Role.PRACTITIONER, ConcernAction.NO_FURTHER_ACTION, False, False),
        (Role.COORDINATOR, ConcernAction.NO_FURTHER_ACTION, False, True),
        (Role.MANAGER, ConcernAction.NO_FURTHER_ACTION, False, True),
        (Role.COORDINATOR, None, False, False),
    ],
)
def test_a_response_resolves_the_concern_only_when_it_records_what_was_done(
    role: Role, action: ConcernAction | None, welfare_check_done: bool, resolves: bool
) -> None:
    family, concern_id = _concern()
    person = {Role.PRACTITIONER: LEAD, Role.COORDINATOR: COORDINATOR, Role.MANAGER: MANAGER}[role]

    family.respond_to_concern(person.meta(), concern_id, "what happened", welfare_check_done, action)

    assert (family.concerns[str(concern_id)].resolved_on == TODAY) is resolves


# ---------------------------------------------------------- referral feedback (item 10)


def _referral(decided: bool = True) -> tuple[Family, Any]:
    family = in_episode().build()
    referral_id = uuid4()
    family.receive_referral(LEAD.meta(days_ago(10)), referral_id, SourceKind.AGENCY, uuid4(), "neglect", [])
    if decided:
        family.decide_referral(
            COORDINATOR.meta(days_ago(2)), referral_id, ReferralOutcome.UNIVERSAL_SERVICES, "below threshold", None
        )
    family.collect_events()
    return family, referral_id


def test_feedback_is_recorded_after_the_decision() -> None:
    family, referral_id = _referral()

    family.give_referral_feedback(COORDINATOR.meta(), referral_id, "why the threshold was not met", "the school")

    (given,) = emitted(family)
    assert event_names([given]) == ["ReferralFeedbackGiven"]
    assert given.given_to == "the school" and given.meta.occurred_on == TODAY
    assert family.referrals[str(referral_id)].feedback_given_on == TODAY


@pytest.mark.parametrize(("feedback", "given_to", "field"), [(" ", "the school", "feedback"), ("why", "", "given_to")])
def test_feedback_needs_its_text_and_who_it_was_given_to(feedback: str, given_to: str, field: str) -> None:
    family, referral_id = _referral()

    error = assert_refused(
        family,
        lambda: family.give_referral_feedback(COORDINATOR.meta(), referral_id, feedback, given_to),
        f"{field}_required",
        InvalidValueError,
    )
    assert error.field == field


def test_feedback_before_the_decision_is_refused() -> None:
    family, referral_id = _referral(decided=False)

    assert_refused(
        family,
        lambda: family.give_referral_feedback(COORDINATOR.meta(), referral_id, "why", "school"),
        "referral_not_decided",
    )


def test_feedback_dated_before_the_decision_is_refused() -> None:
    family, referral_id = _referral()

    error = assert_refused(
        family,
        lambda: family.give_referral_feedback(COORDINATOR.meta(days_ago(3)), referral_id, "why", "school"),
        "feedback_before_decision",
        InvalidValueError,
    )
    assert error.field == "given_on"


# --------------------------------------------------- assessment declinations (item 3)


def test_a_declination_records_its_reason_kind() -> None:
    builder = in_episode().assessment()
    family = builder.build()

    family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "moved to Leeds", DeclineReasonKind.FAMILY_LEFT)

    (declined,) = emitted(family)
    assert declined.reason_kind is DeclineReasonKind.FAMILY_LEFT and declined.superseded_by is None


def test_a_superseded_assessment_names_the_one_that_supersedes_it() -> None:
    builder = in_episode().assessment().assessment()
    family = builder.build()
    first, second = builder.assessment_ids

    family.decline_assessment(
        LEAD.meta(), first, "early help assessment covers it", DeclineReasonKind.SUPERSEDED, second
    )

    (declined,) = emitted(family)
    assert declined.superseded_by == second


@pytest.mark.parametrize(
    ("kind", "superseded_by", "rule"),
    [
        (DeclineReasonKind.SUPERSEDED, None, "superseded_by_required"),
        (DeclineReasonKind.SUPERSEDED, "unknown", "unknown_assessment"),
        (DeclineReasonKind.SUPERSEDED, "itself", "unknown_assessment"),
        (DeclineReasonKind.NOT_NEEDED, "other", "superseded_by_needs_superseded"),
    ],
)
def test_superseded_by_goes_with_superseded_and_another_assessment(
    kind: DeclineReasonKind, superseded_by: str | None, rule: str
) -> None:
    builder = in_episode().assessment().assessment()
    family = builder.build()
    first, second = builder.assessment_ids
    target = {None: None, "unknown": uuid4(), "itself": first, "other": second}[superseded_by]

    error = assert_refused(
        family, lambda: family.decline_assessment(LEAD.meta(), first, "why", kind, target), rule, InvalidValueError
    )
    assert error.field == "superseded_by"


def test_an_assessment_declined_as_not_needed_cannot_start() -> None:
    builder = in_episode().assessment()
    family = builder.build()
    family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "not needed")

    assert_refused(
        family, lambda: family.start_assessment(LEAD.meta(), builder.assessment_ids[0]), "assessment_already_resolved"
    )


@pytest.mark.parametrize("kind", [DeclineReasonKind.FAMILY_LEFT, DeclineReasonKind.FAMILY_REFUSED])
def test_an_assessment_declined_because_the_family_left_or_refused_can_start_later(kind: DeclineReasonKind) -> None:
    builder = in_episode().assessment()
    family = builder.build()
    family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "mother refused", kind)
    family.collect_events()

    family.start_assessment(LEAD.meta(), builder.assessment_ids[0])

    assert event_names(emitted(family)) == ["AssessmentStarted"]


def test_an_assessment_a_manager_declined_again_is_settled() -> None:
    builder = in_episode().assessment()
    family = builder.build()
    assessment_id = builder.assessment_ids[0]
    family.decline_assessment(LEAD.meta(), assessment_id, "mother refused", DeclineReasonKind.FAMILY_REFUSED)
    family.decline_assessment(MANAGER.meta(), assessment_id, "needs met another way")

    assert_refused(family, lambda: family.start_assessment(LEAD.meta(), assessment_id), "assessment_already_resolved")


# ------------------------------------------------------------ history reviews (item 2)


def test_a_history_review_records_what_it_acknowledged_whoever_makes_it() -> None:
    family = in_episode().build()
    acknowledged = [Acknowledgement("episode:one", "read the closure summary")]

    family.review_history(LEAD.meta(), "", acknowledged, MANAGER.id, Role.MANAGER, "monthly", ["episode:one"])

    (reviewed,) = emitted(family)
    assert event_names([reviewed]) == ["HistoryReviewed"]
    assert reviewed.acknowledged == acknowledged and reviewed.overseen_by == MANAGER.id
    assert reviewed.carried_forward == ["episode:one"] and reviewed.expectations == "monthly"


def test_a_history_review_acknowledging_an_item_not_carried_forward_is_refused() -> None:
    family = in_episode().build()

    error = assert_refused(
        family,
        lambda: family.review_history(
            COORDINATOR.meta(), "notes", [Acknowledgement("claim:x", "read")], None, None, "", ["episode:one"]
        ),
        "unknown_carried_forward_item",
        InvalidValueError,
    )
    assert error.field == "acknowledged.0.item"


# ------------------------------------------------- events added to later keep their hash


@pytest.mark.parametrize(
    ("event_class", "old_fields", "added_defaults"),
    [
        (
            "AssessmentDeclined",
            {"assessment_id": uuid4(), "reason": "left"},
            {"reason_kind": DeclineReasonKind.NOT_NEEDED, "superseded_by": None},
        ),
        ("ConcernResponded", {"concern_id": uuid4(), "response": "done", "welfare_check_done": True}, {"action": None}),
        (
            "HistoryReviewed",
            {"notes": "read"},
            {
                "acknowledged": None,
                "overseen_by": None,
                "overseen_by_role": None,
                "expectations": "",
                "carried_forward": None,
            },
        ),
    ],
)
def test_an_event_stored_before_its_fields_were_added_loads_and_keeps_its_hash(
    event_class: str, old_fields: dict[str, Any], added_defaults: dict[str, Any]
) -> None:
    cls = getattr(Family, event_class)
    family = FamilyBuilder().build()
    stored: dict[str, Any] = {
        "originator_id": family.id,
        "originator_version": 2,
        "timestamp": family.modified_on,
        "meta": LEAD.meta(),
        **old_fields,
    }
    old_hash = chain_hash(GENESIS_HASH, event_class, 2, stored)
    # What the mapper does with a stored event: a new object whose __dict__ is the stored state.
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", {**stored, "hash": old_hash})

    for name, default in added_defaults.items():
        assert getattr(event, name) == default
    fields = {f: getattr(event, f) for f in cls.__dataclass_fields__}
    assert chain_hash(GENESIS_HASH, event_class, 2, hashed_fields(cls, fields)) == old_hash


def test_a_concern_response_stored_before_action_existed_applies_as_it_did() -> None:
    family, concern_id = _concern()
    stored = {
        "originator_id": family.id,
        "originator_version": family.version + 1,
        "timestamp": family.modified_on,
        "meta": LEAD.meta(),
        "concern_id": concern_id,
        "response": "welfare check: all well",
        "welfare_check_done": True,
        "hash": "0" * 64,
    }
    event = object.__new__(Family.ConcernResponded)
    object.__setattr__(event, "__dict__", stored)

    event.mutate(family)

    assert family.concerns[str(concern_id)].resolved_on == TODAY
