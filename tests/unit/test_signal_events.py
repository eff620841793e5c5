"""Signals on the stream: the worker records SignalRaised / SignalCleared, managers record SignalReviewed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidValueError, NotPermittedError
from domain.signals import Severity, Signal
from domain.values import Channel, SignalDecision
from tests.unit.builders import (
    COORDINATOR,
    LEAD,
    MANAGER,
    TODAY,
    WORKER,
    FamilyBuilder,
    assert_refused,
    emitted,
    event_names,
    in_episode,
)


def lapsed(versions: list[int], severity: Severity = Severity.MEDIUM, explanation: str = "not seen") -> Signal:
    """A lapsed_contact signal resting on the given event versions."""
    return Signal("lapsed_contact", severity, TODAY - timedelta(days=2), explanation, versions)


def concern(versions: list[int]) -> Signal:
    """A concern_without_response signal resting on the given event versions."""
    return Signal("concern_without_response", Severity.MEDIUM, TODAY - timedelta(days=1), "no response", versions)


def with_standing(*signals: Signal) -> FamilyBuilder:
    """A family in an episode whose worker has recorded the given signals as standing."""
    builder = in_episode()
    builder.family.record_signals(WORKER.meta(), list(signals))
    builder.build()
    return builder


# ------------------------------------------------------------------------- recording


def test_the_worker_records_a_new_signal_with_its_explanation_and_events() -> None:
    family = in_episode().build()

    recorded = family.record_signals(WORKER.meta(), [lapsed([2, 3])])

    (raised,) = emitted(family)
    assert recorded == ["SignalRaised"] and type(raised).__name__ == "SignalRaised"
    assert (raised.signal, raised.severity, raised.since, raised.explanation, raised.event_versions) == (
        "lapsed_contact",
        Severity.MEDIUM,
        TODAY - timedelta(days=2),
        "not seen",
        [2, 3],
    )
    assert raised.meta.channel is Channel.WORKER
    standing = family.standing_signals["lapsed_contact"]
    assert (standing.raised_version, standing.first_raised_version) == (raised.originator_version,) * 2


def test_evaluating_again_with_nothing_changed_records_nothing() -> None:
    family = with_standing(lapsed([2, 3]), concern([5])).build()

    assert family.record_signals(WORKER.meta(), [lapsed([2, 3]), concern([5])]) == []
    assert emitted(family) == []


def test_a_signal_that_stops_holding_is_cleared_once() -> None:
    family = with_standing(lapsed([2, 3]), concern([5])).build()

    assert family.record_signals(WORKER.meta(), [concern([5])]) == ["SignalCleared"]
    (cleared,) = emitted(family)
    assert cleared.signal == "lapsed_contact" and list(family.standing_signals) == ["concern_without_response"]
    assert family.record_signals(WORKER.meta(), [concern([5])]) == []


def test_a_standing_signal_resting_on_a_new_fact_is_raised_again() -> None:
    family = with_standing(lapsed([2, 3])).build()
    first = family.standing_signals["lapsed_contact"].raised_version

    assert family.record_signals(WORKER.meta(), [lapsed([2, 3, 9], explanation="three missed")]) == ["SignalRaised"]
    standing = family.standing_signals["lapsed_contact"]
    assert standing.raised_version == family.version and standing.first_raised_version == first
    assert standing.explanation == "three missed"


def test_a_standing_signal_whose_wording_alone_changed_is_not_raised_again() -> None:
    family = with_standing(lapsed([2, 3])).build()

    assert family.record_signals(WORKER.meta(), [lapsed([3, 2], explanation="in the 90 days to tomorrow")]) == []


def test_a_standing_signal_that_lost_a_fact_is_raised_again() -> None:
    family = with_standing(lapsed([2, 3])).build()

    assert family.record_signals(WORKER.meta(), [lapsed([3])]) == ["SignalRaised"]
    assert family.standing_signals["lapsed_contact"].event_versions == [3]


def test_a_standing_signal_holding_since_another_day_is_raised_again() -> None:
    family = with_standing(lapsed([2])).build()
    later = Signal("lapsed_contact", Severity.MEDIUM, TODAY, "not seen", [2])

    assert family.record_signals(WORKER.meta(), [later]) == ["SignalRaised"]
    assert family.standing_signals["lapsed_contact"].since == TODAY


@pytest.mark.parametrize(("before", "after"), [(Severity.MEDIUM, Severity.HIGH), (Severity.HIGH, Severity.MEDIUM)])
def test_a_standing_signal_changing_severity_is_raised_again(before: Severity, after: Severity) -> None:
    family = with_standing(lapsed([2], before)).build()

    assert family.record_signals(WORKER.meta(), [lapsed([2], after)]) == ["SignalRaised"]
    assert family.standing_signals["lapsed_contact"].severity == after.value


def test_only_the_worker_records_signals() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.record_signals(COORDINATOR.meta(), [lapsed([2])]),
        "signals_recorded_by_worker",
        NotPermittedError,
    )


def test_a_family_restored_from_a_snapshot_older_than_signals_has_none_standing() -> None:
    family = FamilyBuilder().build()
    del family.__dict__["_signals"]

    assert family.standing_signals == {}
    assert family.record_signals(WORKER.meta(), [lapsed([1])]) == ["SignalRaised"]


# ------------------------------------------------------------------------- reviewing


def test_a_manager_reviews_a_standing_signal() -> None:
    family = with_standing(lapsed([2])).build()
    raised_version = family.version

    family.review_signal(MANAGER.meta(), "lapsed_contact", SignalDecision.ACCEPT_RISK, " seen at nursery daily ")

    (reviewed,) = emitted(family)
    assert event_names([reviewed]) == ["SignalReviewed"]
    assert (reviewed.signal, reviewed.decision, reviewed.rationale, reviewed.raised_version) == (
        "lapsed_contact",
        SignalDecision.ACCEPT_RISK,
        "seen at nursery daily",
        raised_version,
    )
    review = family.standing_signals["lapsed_contact"].review
    assert review is not None and (review.by, review.version) == (MANAGER.id, family.version)
    assert family.standing_signals["lapsed_contact"].reviewed_since_raised


def test_a_review_by_someone_who_is_not_a_manager_is_refused() -> None:
    family = with_standing(lapsed([2])).build()

    assert_refused(
        family,
        lambda: family.review_signal(LEAD.meta(), "lapsed_contact", SignalDecision.ACT, "visit"),
        "signal_review_needs_manager",
        NotPermittedError,
    )


@pytest.mark.parametrize("rationale", ["", "   "])
def test_a_review_without_a_rationale_is_refused(rationale: str) -> None:
    family = with_standing(lapsed([2])).build()

    error = assert_refused(
        family,
        lambda: family.review_signal(MANAGER.meta(), "lapsed_contact", SignalDecision.ACT, rationale),
        "rationale_required",
        InvalidValueError,
    )
    assert error.field == "rationale"


def test_a_review_of_an_unknown_signal_is_refused() -> None:
    family = with_standing(lapsed([2])).build()

    assert_refused(
        family,
        lambda: family.review_signal(MANAGER.meta(), "bad_vibes", SignalDecision.ACT, "x"),
        "unknown_signal",
        InvalidValueError,
    )


def test_a_review_of_a_signal_that_is_not_standing_is_refused() -> None:
    family = with_standing(lapsed([2])).build()

    assert_refused(
        family,
        lambda: family.review_signal(MANAGER.meta(), "concern_without_response", SignalDecision.ACT, "x"),
        "signal_not_standing",
    )


def test_a_cleared_signal_can_no_longer_be_reviewed() -> None:
    family = with_standing(lapsed([2])).build()
    family.record_signals(WORKER.meta(), [])
    family.collect_events()

    assert_refused(
        family,
        lambda: family.review_signal(MANAGER.meta(), "lapsed_contact", SignalDecision.ACT, "x"),
        "signal_not_standing",
    )


def test_a_signal_raised_again_after_its_review_is_no_longer_reviewed_since_raised() -> None:
    family = with_standing(lapsed([2])).build()
    family.review_signal(MANAGER.meta(), "lapsed_contact", SignalDecision.ACCEPT_RISK, "seen at nursery")
    family.record_signals(WORKER.meta(), [lapsed([2, 7])])

    standing = family.standing_signals["lapsed_contact"]
    assert standing.review is not None and not standing.reviewed_since_raised
