"""Referral decisions carry a reason, so the referrer can be told why."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidValueError, UnknownEntityError
from domain.family import Family
from domain.values import ReferralOutcome, SourceKind
from tests.unit.builders import COORDINATOR, MEMBER, TODAY, FamilyBuilder, assert_refused, emitted, event_names


def _referred() -> tuple[Family, UUID]:
    family = FamilyBuilder().build()
    referral_id = uuid4()
    family.receive_referral(MEMBER.meta(), referral_id, SourceKind.AGENCY, MEMBER.agency_id, "baby not brought", [])
    family.collect_events()
    return family, referral_id


def test_a_referral_decision_with_a_reason_emits_referral_decided() -> None:
    family, referral_id = _referred()

    family.decide_referral(COORDINATOR.meta(), referral_id, ReferralOutcome.EARLY_HELP, " below threshold ", TODAY)

    (decided,) = emitted(family)
    assert event_names([decided]) == ["ReferralDecided"]
    assert decided.reason == "below threshold" and decided.outcome is ReferralOutcome.EARLY_HELP
    assert family.referrals[str(referral_id)].feedback_sent_on == TODAY


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_referral_decision_without_a_reason_is_refused(reason: str) -> None:
    family, referral_id = _referred()

    error = assert_refused(
        family,
        lambda: family.decide_referral(
            COORDINATOR.meta(), referral_id, ReferralOutcome.NO_FURTHER_ACTION, reason, None
        ),
        "referral_reason_required",
        InvalidValueError,
    )
    assert error.field == "reason"


def test_a_referral_is_decided_only_once() -> None:
    family, referral_id = _referred()
    family.decide_referral(COORDINATOR.meta(), referral_id, ReferralOutcome.EARLY_HELP, "threshold met", None)
    family.collect_events()

    assert_refused(
        family,
        lambda: family.decide_referral(COORDINATOR.meta(), referral_id, ReferralOutcome.NO_FURTHER_ACTION, "no", None),
        "referral_already_decided",
    )


def test_deciding_an_unknown_referral_is_refused() -> None:
    family, _ = _referred()

    assert_refused(
        family,
        lambda: family.decide_referral(COORDINATOR.meta(), uuid4(), ReferralOutcome.EARLY_HELP, "why", None),
        "not_found",
        UnknownEntityError,
    )


def test_a_concern_from_a_reporter_known_to_police_is_recorded_all_the_same() -> None:
    family = FamilyBuilder().build()

    family.raise_concern(MEMBER.meta(), uuid4(), SourceKind.MEMBER_OF_PUBLIC, "baby crying for hours", True)

    (raised,) = emitted(family)
    assert event_names([raised]) == ["ConcernRaised"] and raised.reporter_known_to_agency is True
    assert len(family.concerns) == 1
