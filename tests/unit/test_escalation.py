"""Step-up to children's social care, step-down and transfer-in episodes, professional disagreements."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from domain.chronology import chronology_entry
from domain.errors import InvalidValueError, NotPermittedError, UnknownEntityError
from domain.family import Family
from domain.signals import SignalThresholds, disagreement_unresolved, evaluate_signals
from domain.values import EpisodeKind, StepUpOutcome
from tests.unit.builders import (
    COORDINATOR,
    LEAD,
    MANAGER,
    MEMBER,
    OUTSIDER,
    TODAY,
    FamilyBuilder,
    Person,
    assert_refused,
    born,
    emitted,
    event_names,
    in_episode,
    ready_to_close,
)

SOCIAL_CARE = uuid4()


# ------------------------------------------------------------------ step-up


def stepped_up(family: Family) -> UUID:
    step_up_id = uuid4()
    family.step_up(LEAD.meta(), step_up_id, "neglect persists despite the plan", SOCIAL_CARE)
    return step_up_id


def test_a_step_up_carries_the_chronology_as_it_stood() -> None:
    family = in_episode().build()
    before = family.version

    stepped_up(family)

    (event,) = emitted(family)
    assert event_names([event]) == ["SteppedUpToSocialCare"]
    assert event.chronology_version == before and event.to_agency_id == SOCIAL_CARE
    assert SOCIAL_CARE in family.involved_agency_ids  # social care receives the record
    row = chronology_entry(event)
    assert row is not None and f"chronology to entry {before}" in row.what_happened


def test_a_step_up_needs_an_open_episode_and_a_reason() -> None:
    without = FamilyBuilder().build()
    assert_refused(without, lambda: without.step_up(LEAD.meta(), uuid4(), "why", None), "no_open_episode")
    family = in_episode().build()
    assert_refused(
        family, lambda: family.step_up(LEAD.meta(), uuid4(), " ", None), "reason_required", InvalidValueError
    )


def test_one_step_up_waits_for_its_outcome_at_a_time() -> None:
    family = in_episode().build()
    stepped_up(family)
    family.collect_events()

    assert_refused(family, lambda: family.step_up(LEAD.meta(), uuid4(), "again", None), "step_up_pending")


def test_the_outcome_is_recorded_when_it_comes_back() -> None:
    family = in_episode().build()
    step_up_id = stepped_up(family)
    family.collect_events()

    family.record_step_up_outcome(MEMBER.meta(), step_up_id, StepUpOutcome.EARLY_HELP, "threshold not met")

    (event,) = emitted(family)
    assert event.outcome is StepUpOutcome.EARLY_HELP and event.note == "threshold not met"
    assert family.pending_step_up is None
    row = chronology_entry(event)
    assert row is not None and row.outcome == "early help" and row.significance == "positive"


def test_an_outcome_for_no_waiting_step_up_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.record_step_up_outcome(LEAD.meta(), uuid4(), StepUpOutcome.NO_FURTHER_ACTION, ""),
        "not_found",
        UnknownEntityError,
    )


def test_an_outcome_dated_before_the_step_up_is_refused() -> None:
    family = in_episode().build()
    step_up_id = stepped_up(family)
    family.collect_events()

    assert_refused(
        family,
        lambda: family.record_step_up_outcome(
            LEAD.meta(TODAY - timedelta(days=1)), step_up_id, StepUpOutcome.EARLY_HELP, ""
        ),
        "outcome_before_step_up",
        InvalidValueError,
    )


# ------------------------------------------------------------------ episode kinds


@pytest.mark.parametrize("kind", [EpisodeKind.STEPPED_DOWN, EpisodeKind.TRANSFERRED_IN])
def test_stepped_down_and_transferred_in_episodes_say_where_from(kind: EpisodeKind) -> None:
    family = FamilyBuilder().build()

    family.open_new_episode(COORDINATOR.meta(), uuid4(), 2, kind, from_description="Bedford children's services")

    (event,) = emitted(family)
    assert event.kind is kind and event.from_description == "Bedford children's services"
    assert family.open_episode is not None and family.open_episode.kind is kind
    row = chronology_entry(event)
    assert row is not None and "from Bedford children's services" in row.what_happened


@pytest.mark.parametrize("kind", [EpisodeKind.STEPPED_DOWN, EpisodeKind.TRANSFERRED_IN])
def test_an_arriving_episode_without_where_from_is_refused(kind: EpisodeKind) -> None:
    family = FamilyBuilder().build()

    assert_refused(
        family,
        lambda: family.open_new_episode(COORDINATOR.meta(), uuid4(), 2, kind),
        "from_description_required",
        InvalidValueError,
    )


def test_new_and_reopened_follow_the_history() -> None:
    fresh = FamilyBuilder().build()
    assert_refused(
        fresh,
        lambda: fresh.open_new_episode(COORDINATOR.meta(), uuid4(), 2, EpisodeKind.REOPENED),
        "episode_kind_by_history",
        InvalidValueError,
    )
    closed = _closed_family()
    assert_refused(
        closed,
        lambda: closed.open_new_episode(COORDINATOR.meta(), uuid4(), 2, EpisodeKind.NEW),
        "episode_kind_by_history",
        InvalidValueError,
    )
    closed.open_new_episode(COORDINATOR.meta(), uuid4(), 2, EpisodeKind.STEPPED_DOWN, from_description="CSC")
    (event,) = emitted(closed)
    assert event.kind is EpisodeKind.STEPPED_DOWN and event.previous_episode_id is not None


def _closed_family() -> Family:
    builder = ready_to_close()
    builder.family.close_episode(LEAD.meta(), builder.request_id)
    return builder.build()


# ------------------------------------------------------------------ disagreements


def raised(family: Family, by: Person = MEMBER, level: int = 1, on: date = TODAY) -> UUID:
    disagreement_id = uuid4()
    family.raise_disagreement(
        by.meta(on), disagreement_id, "referral decision: no further action", 3, level, "the baby is not thriving"
    )
    return disagreement_id


def test_a_disagreement_is_recorded_at_its_level() -> None:
    family = in_episode().build()

    disagreement_id = raised(family, level=2)

    (event,) = emitted(family)
    assert event_names([event]) == ["DisagreementRaised"] and event.level == 2 and event.event_version == 3
    assert family.open_disagreements[str(disagreement_id)].raised_by == MEMBER.id


@pytest.mark.parametrize("level", [0, 4])
def test_a_level_outside_1_to_3_is_refused(level: int) -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.raise_disagreement(MEMBER.meta(), uuid4(), "plan", None, level, "detail"),
        "disagreement_level_range",
        InvalidValueError,
    )


def test_an_event_version_beyond_the_family_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.raise_disagreement(MEMBER.meta(), uuid4(), "plan", family.version + 1, 1, "detail"),
        "unknown_event_version",
        InvalidValueError,
    )


def test_escalation_only_goes_higher() -> None:
    family = in_episode().build()
    disagreement_id = raised(family, level=2)
    family.collect_events()

    assert_refused(
        family,
        lambda: family.escalate_disagreement(MEMBER.meta(), disagreement_id, 2, "still"),
        "escalation_not_higher",
    )
    family.escalate_disagreement(MEMBER.meta(), disagreement_id, 3, "to the head of service")
    assert family.open_disagreements[str(disagreement_id)].level == 3


def test_resolved_by_the_raiser_a_coordinator_or_a_manager_only() -> None:
    family = in_episode().build()
    disagreement_id = raised(family)
    family.collect_events()

    assert_refused(
        family,
        lambda: family.resolve_disagreement(OUTSIDER.meta(), disagreement_id, "agreed"),
        "may_not_resolve_disagreement",
        NotPermittedError,
    )
    family.resolve_disagreement(MANAGER.meta(), disagreement_id, "assessment agreed")
    assert family.open_disagreements == {}
    assert_refused(
        family,
        lambda: family.resolve_disagreement(MEMBER.meta(), disagreement_id, "again"),
        "not_found",
        UnknownEntityError,
    )


# ------------------------------------------------------------------ disagreement_unresolved


def test_disagreement_unresolved_fires_the_day_after_28_days() -> None:
    family = in_episode(born(200)).build()
    raised(family, on=TODAY - timedelta(days=28))
    family.collect_events()

    assert disagreement_unresolved(family, TODAY) is None
    signal = disagreement_unresolved(family, TODAY + timedelta(days=1))
    assert signal is not None
    assert signal.since == TODAY + timedelta(days=1)
    assert "raised on" in signal.explanation and "level 1" in signal.explanation
    assert "disagreement_unresolved" in [s.name for s in evaluate_signals(family, TODAY + timedelta(days=1))]


def test_disagreement_unresolved_threshold_is_a_setting() -> None:
    family = in_episode().build()
    raised(family, on=TODAY - timedelta(days=8))

    assert disagreement_unresolved(family, TODAY, SignalThresholds(disagreement_open_days=7)) is not None
    assert disagreement_unresolved(family, TODAY, SignalThresholds(disagreement_open_days=8)) is None


def test_a_resolved_disagreement_clears_the_signal() -> None:
    family = in_episode().build()
    disagreement_id = raised(family, on=TODAY - timedelta(days=40))
    family.resolve_disagreement(MEMBER.meta(), disagreement_id, "agreed after discussion")

    assert disagreement_unresolved(family, TODAY) is None


def test_an_escalation_or_resolution_dated_before_the_disagreement_is_refused() -> None:
    family = in_episode().build()
    disagreement_id = raised(family)
    family.collect_events()
    earlier = MEMBER.meta(TODAY - timedelta(days=1))

    assert_refused(
        family,
        lambda: family.escalate_disagreement(earlier, disagreement_id, 2, "detail"),
        "before_disagreement",
        InvalidValueError,
    )
    assert_refused(
        family,
        lambda: family.resolve_disagreement(earlier, disagreement_id, "agreed"),
        "before_disagreement",
        InvalidValueError,
    )
