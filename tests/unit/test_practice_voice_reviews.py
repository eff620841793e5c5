"""The child's voice, plan and supervision dates, universal reviews and circumstances: rules at their thresholds.

Family states are built through the Family commands (the `Story` of the signal tests), so
every state is one the domain can reach; each rule is checked on the day before and the day
it fires.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.chronology import chronology_entry
from domain.errors import InvalidValueError, UnknownEntityError
from domain.signals import (
    Severity,
    SignalThresholds,
    child_voice_missing,
    missed_universal_review,
    plan_review_overdue,
    review_due_by,
    supervision_overdue,
    vulnerable_infant_cohort,
    was_not_brought_pattern,
)
from domain.state import CIRCUMSTANCES_KEPT
from domain.values import (
    CircumstanceKind,
    ContactKind,
    ContactOutcome,
    Housing,
    MeetingKind,
    Role,
    UniversalReview,
    UniversalReviewOutcome,
    VoiceKind,
)
from tests.unit.test_signals import D0, Story, child, day, infant


def voice(story: Story, on: date, kind: VoiceKind = VoiceKind.SAID) -> int:
    story.family.record_child_voice(story.meta(on), uuid4(), story.child_id, kind, "said she likes nursery")
    return story.version


def review(
    story: Story,
    on: date,
    which: UniversalReview,
    outcome: UniversalReviewOutcome = UniversalReviewOutcome.COMPLETED,
) -> int:
    story.family.record_universal_review(story.meta(on), uuid4(), story.child_id, which, outcome)
    return story.version


def plan(story: Story, on: date, review_by: date) -> int:
    story.family.agree_plan(story.meta(on), uuid4(), ["children seen weekly"], [], review_by)
    return story.version


def supervise(story: Story, on: date, next_due: date | None) -> int:
    story.family.record_supervision(story.meta(on, role=Role.MANAGER, who=story.manager), "discussed", "", next_due)
    return story.version


TODDLER_BORN = date(2024, 6, 1)  # one and a half on D0: under 5, not an infant


# ------------------------------------------------------------ child_voice_missing


class TestChildVoiceMissing:
    def test_fires_more_than_6_weeks_after_the_episode_opened_with_no_voice(self) -> None:
        story = Story([child("Mia", born=TODDLER_BORN)])
        opened = story.open_episode(day(0))
        assert story.signal(child_voice_missing, day(42)) is None
        signal = story.signal(child_voice_missing, day(43))
        assert signal is not None and signal.since == day(43) and signal.severity is Severity.MEDIUM
        assert "Mia (born 2024-06-01" in signal.explanation
        assert f"nothing recorded since the episode opened on {D0.isoformat()} (v{opened})" in signal.explanation
        assert signal.event_versions == [opened]

    def test_a_recorded_voice_restarts_the_6_weeks(self) -> None:
        story = Story([child("Mia", born=TODDLER_BORN)])
        story.open_episode(day(0))
        heard = voice(story, day(30), VoiceKind.OBSERVED)
        assert story.signal(child_voice_missing, day(72)) is None
        signal = story.signal(child_voice_missing, day(73))
        assert signal is not None and f"last recorded on {day(30).isoformat()} (v{heard})" in signal.explanation

    def test_an_infant_born_during_the_episode_is_counted_from_birth(self) -> None:
        story = Story([child("Baby", born=None, expected=day(10))])
        story.open_episode(day(0))
        story.family.record_birth(story.meta(day(10)), story.child_id, day(10))
        assert story.signal(child_voice_missing, day(52)) is None
        signal = story.signal(child_voice_missing, day(53))
        assert signal is not None and signal.severity is Severity.HIGH and "since birth" in signal.explanation

    def test_a_child_of_5_or_more_is_not_counted(self) -> None:
        story = Story([child("Sam", born=date(2021, 1, 5))])  # five on D0
        story.open_episode(day(0))
        assert story.signal(child_voice_missing, day(100)) is None

    def test_stays_quiet_without_an_open_episode(self) -> None:
        story = Story([child("Mia", born=TODDLER_BORN)])
        assert story.signal(child_voice_missing, day(100)) is None

    def test_the_6_weeks_are_a_setting(self) -> None:
        story = Story([child("Mia", born=TODDLER_BORN)])
        story.open_episode(day(0))
        assert story.signal(child_voice_missing, day(29), SignalThresholds(child_voice_within_days=28)) is not None

    def test_an_unborn_child_has_no_voice_to_record(self) -> None:
        story = Story([child("Baby", born=None, expected=day(10))])
        with pytest.raises(InvalidValueError) as refused:
            voice(story, day(0))
        assert refused.value.rule == "child_not_born"

    def test_an_empty_voice_is_refused(self) -> None:
        story = Story([child("Mia", born=TODDLER_BORN)])
        with pytest.raises(InvalidValueError) as refused:
            story.family.record_child_voice(story.meta(day(0)), uuid4(), story.child_id, VoiceKind.SAID, "  ")
        assert refused.value.rule == "what_required"


# ------------------------------------------------------------ plan_review_overdue


class TestPlanReviewOverdue:
    def test_fires_the_day_after_the_review_date(self) -> None:
        story = Story()
        story.open_episode(day(0))
        agreed = plan(story, day(0), day(90))
        assert story.signal(plan_review_overdue, day(90)) is None
        signal = story.signal(plan_review_overdue, day(91))
        assert signal is not None and signal.since == day(91) and signal.event_versions == [agreed]
        assert f"to be reviewed by {day(90).isoformat()}; no review or TAF meeting" in signal.explanation

    def test_a_review_meeting_near_the_date_reviews_the_plan(self) -> None:
        story = Story()
        story.open_episode(day(0))
        plan(story, day(0), day(90))
        story.meeting(day(62), True, MeetingKind.REVIEW)
        assert story.signal(plan_review_overdue, day(120)) is None

    def test_a_meeting_held_long_before_the_review_date_does_not_review_it(self) -> None:
        story = Story()
        story.open_episode(day(0))
        plan(story, day(0), day(90))
        early = story.meeting(day(61), True, MeetingKind.TAF)
        signal = story.signal(plan_review_overdue, day(91))
        assert signal is not None and f"on {day(61).isoformat()} (v{early}), was held before" in signal.explanation

    def test_a_professionals_meeting_is_not_a_review(self) -> None:
        story = Story()
        story.open_episode(day(0))
        plan(story, day(0), day(90))
        story.meeting(day(89), None, MeetingKind.PROFESSIONALS)
        assert story.signal(plan_review_overdue, day(91)) is not None

    def test_a_late_review_clears_it(self) -> None:
        story = Story()
        story.open_episode(day(0))
        plan(story, day(0), day(90))
        story.meeting(day(100), True, MeetingKind.REVIEW)
        assert story.signal(plan_review_overdue, day(99)) is not None
        assert story.signal(plan_review_overdue, day(100)) is None

    def test_a_plan_without_a_review_date_never_fires(self) -> None:
        story = Story()
        story.open_episode(day(0))
        story.plan(day(0), 28)
        assert story.signal(plan_review_overdue, day(900)) is None


# ------------------------------------------------------------ supervision_overdue


def cohort_story() -> Story:
    """An infant, temporary housing, a missed clinic appointment on day 3, no lead: the review's cohort."""
    story = Story([infant()], housing=Housing.TEMPORARY)
    story.contact(day(3), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
    return story


class TestSupervisionOverdue:
    def test_fires_the_day_after_the_next_supervision_was_due(self) -> None:
        story = Story()
        story.open_episode(day(0))
        supervised = supervise(story, day(1), day(29))
        assert story.signal(supervision_overdue, day(29)) is None
        signal = story.signal(supervision_overdue, day(30))
        assert signal is not None and signal.since == day(30) and signal.event_versions == [supervised]
        assert f"set the next for {day(29).isoformat()}" in signal.explanation

    def test_a_later_supervision_clears_it(self) -> None:
        story = Story()
        story.open_episode(day(0))
        supervise(story, day(1), day(29))
        supervise(story, day(35), day(63))
        assert story.signal(supervision_overdue, day(40)) is None

    def test_a_next_date_set_in_an_earlier_episode_does_not_carry_into_a_new_one(self) -> None:
        story = Story()
        story.open_episode(day(0))
        supervise(story, day(1), day(29))
        story.close_episode(day(10))
        story.open_episode(day(100))
        assert story.signal(supervision_overdue, day(101)) is None

    def test_without_a_next_date_nothing_is_overdue(self) -> None:
        story = Story()
        story.open_episode(day(0))
        supervise(story, day(1), None)
        assert story.signal(supervision_overdue, day(400)) is None

    def test_the_infant_cohort_with_no_supervision_at_all_fires_after_7_days(self) -> None:
        story = cohort_story()
        cohort = story.signal(vulnerable_infant_cohort, day(3))
        assert cohort is not None and cohort.since == day(3)
        assert story.signal(supervision_overdue, day(10)) is None
        signal = story.signal(supervision_overdue, day(11))
        assert signal is not None and signal.severity is Severity.HIGH and signal.since == day(11)
        assert (
            "vulnerable-infant cohort since" in signal.explanation and "no supervision recorded" in signal.explanation
        )

    def test_a_supervision_after_the_family_entered_the_cohort_answers_it(self) -> None:
        story = cohort_story()
        supervise(story, day(5), None)
        assert story.signal(supervision_overdue, day(20)) is None

    def test_a_supervision_before_the_cohort_does_not(self) -> None:
        story = cohort_story()
        story.family.record_supervision(story.meta(day(1), role=Role.MANAGER), "earlier", "", None)
        signal = story.signal(supervision_overdue, day(11))
        assert signal is not None and f"the last was on {day(1).isoformat()}" in signal.explanation


# ------------------------------------------------------------ missed_universal_review


def newborn_story(born: date = D0) -> Story:
    """A baby expected on `born`, registered 10 weeks before and born that day."""
    story = Story([child("Baby", born=None, expected=born)], on=born - timedelta(weeks=10))
    story.family.record_birth(story.meta(born), story.child_id, born)
    return story


class TestMissedUniversalReview:
    def test_the_healthy_child_programme_ages(self) -> None:
        story = newborn_story()
        baby = story.family.children[str(story.child_id)]
        assert review_due_by(baby, UniversalReview.ANTENATAL) == D0
        assert review_due_by(baby, UniversalReview.NEW_BIRTH) == D0 + timedelta(days=14)
        assert review_due_by(baby, UniversalReview.SIX_TO_EIGHT_WEEKS) == D0 + timedelta(weeks=8)
        assert review_due_by(baby, UniversalReview.NINE_TO_TWELVE_MONTHS) == date(2027, 1, 5)
        assert review_due_by(baby, UniversalReview.TWO_TO_TWO_AND_A_HALF_YEARS) == date(2028, 7, 5)

    def test_a_missed_6_to_8_week_review_fires_the_day_after_8_weeks_naming_it(self) -> None:
        story = newborn_story()
        review(story, day(-20), UniversalReview.ANTENATAL)
        review(story, day(12), UniversalReview.NEW_BIRTH)
        missed = review(story, day(50), UniversalReview.SIX_TO_EIGHT_WEEKS, UniversalReviewOutcome.WAS_NOT_BROUGHT)
        assert story.signal(missed_universal_review, day(56)) is None
        signal = story.signal(missed_universal_review, day(57))
        assert signal is not None and signal.since == day(57) and signal.severity is Severity.HIGH
        assert f"the 6 to 8 week review was due by {day(56).isoformat()}" in signal.explanation
        assert f"6 to 8 week review was not brought on {day(50).isoformat()} (v{missed})" in signal.explanation
        assert "new birth" not in signal.explanation and missed in signal.event_versions

    def test_a_new_birth_visit_is_due_by_14_days(self) -> None:
        story = newborn_story()
        review(story, day(-20), UniversalReview.ANTENATAL)
        assert story.signal(missed_universal_review, day(14)) is None
        signal = story.signal(missed_universal_review, day(15))
        assert signal is not None and "the new birth visit was due by" in signal.explanation

    def test_the_antenatal_contact_is_due_by_the_birth(self) -> None:
        story = newborn_story()
        signal = story.signal(missed_universal_review, day(1))
        assert signal is not None and "the antenatal contact was due by" in signal.explanation
        assert story.signal(missed_universal_review, day(0)) is None

    def test_a_completed_review_clears_it_even_late(self) -> None:
        story = newborn_story()
        review(story, day(-20), UniversalReview.ANTENATAL)
        review(story, day(20), UniversalReview.NEW_BIRTH)
        assert story.signal(missed_universal_review, day(19)) is not None
        assert story.signal(missed_universal_review, day(20)) is None

    def test_reviews_due_before_the_family_was_registered_do_not_count(self) -> None:
        story = Story([infant()])  # born 60 days before it was registered
        assert story.signal(missed_universal_review, day(30)) is None

    def test_a_family_away_from_the_area_is_not_watched(self) -> None:
        story = newborn_story()
        story.family.leave_area(story.meta(day(0)), "Leeds")
        assert story.signal(missed_universal_review, day(60)) is None

    def test_repeated_misses_count_in_the_was_not_brought_pattern(self) -> None:
        story = Story([child("Mia", born=TODDLER_BORN)])
        first = review(story, day(1), UniversalReview.TWO_TO_TWO_AND_A_HALF_YEARS, UniversalReviewOutcome.DECLINED)
        assert story.signal(was_not_brought_pattern, day(2)) is None
        second = review(
            story, day(20), UniversalReview.TWO_TO_TWO_AND_A_HALF_YEARS, UniversalReviewOutcome.WAS_NOT_BROUGHT
        )
        signal = story.signal(was_not_brought_pattern, day(20))
        assert signal is not None and signal.event_versions == [first, second]
        assert "2 to 2½ year review declined on" in signal.explanation

    def test_a_postnatal_review_of_an_unborn_child_is_refused(self) -> None:
        story = Story([child("Baby", born=None, expected=day(30))])
        with pytest.raises(InvalidValueError) as refused:
            review(story, day(0), UniversalReview.NEW_BIRTH)
        assert refused.value.rule == "child_not_born"

    def test_an_antenatal_contact_after_the_birth_is_refused(self) -> None:
        story = newborn_story()
        with pytest.raises(InvalidValueError) as refused:
            review(story, day(3), UniversalReview.ANTENATAL)
        assert refused.value.rule == "antenatal_after_birth"


# ------------------------------------------------------------ meetings, views, circumstances


class TestMeetingsViewsAndCircumstances:
    def test_a_meeting_records_who_was_invited_and_where_the_minutes_went(self) -> None:
        story = Story()
        story.open_episode(day(0))
        came, sorry, absent = uuid4(), uuid4(), uuid4()
        story.family.hold_meeting(
            story.meta(day(1)), uuid4(), MeetingKind.TAF, day(1), [came], [sorry], True, "plan agreed",
            [absent], [came, sorry, absent], day(3),
        )  # fmt: skip
        event = story.family.collect_events()[-1]
        assert event.invited_ids == [absent] and event.minutes_circulated_on == day(3)
        row = chronology_entry(event)
        assert row is not None
        assert row.what_happened == "TAF meeting held (family attended)"
        assert row.outcome == (
            "1 professional attended, 1 apology, 1 invited professional did not come; "
            f"minutes circulated to 3 professionals on {day(3).isoformat()}"
        )

    def test_an_invited_professional_who_attended_is_refused(self) -> None:
        story = Story()
        came = uuid4()
        with pytest.raises(InvalidValueError) as refused:
            story.family.hold_meeting(
                story.meta(day(1)), uuid4(), MeetingKind.TAF, day(1), [came], [], True, "", [came]
            )
        assert refused.value.rule == "invited_also_attended" and refused.value.field == "invited_ids.0"

    def test_minutes_circulated_before_the_meeting_are_refused(self) -> None:
        story = Story()
        with pytest.raises(InvalidValueError) as refused:
            story.family.hold_meeting(
                story.meta(day(5)), uuid4(), MeetingKind.TAF, day(5), [], [], True, "", [], [], day(4)
            )
        assert refused.value.rule == "minutes_before_meeting"

    def test_a_family_view_names_the_decision_it_is_about(self) -> None:
        story = Story()
        opened = story.open_episode(day(0))
        story.family.record_family_view(story.meta(day(1)), uuid4(), "We agree with the plan", "the plan", opened)
        row = chronology_entry(story.family.collect_events()[-1])
        assert row is not None and row.kind == "self_report"
        assert row.what_happened == f"The family's view of the plan (entry {opened}): We agree with the plan"

    def test_a_family_view_of_an_entry_that_does_not_exist_is_refused(self) -> None:
        story = Story()
        with pytest.raises(UnknownEntityError):
            story.family.record_family_view(story.meta(day(1)), uuid4(), "We disagree", "", 99)

    def test_circumstances_are_kept_bounded_per_kind(self) -> None:
        story = Story()
        for n in range(CIRCUMSTANCES_KEPT + 3):
            story.family.record_circumstance(
                story.meta(day(n)), uuid4(), CircumstanceKind.REGULAR_VISITOR, f"visitor {n}"
            )
        story.family.record_circumstance(
            story.meta(day(1)), uuid4(), CircumstanceKind.MONEY_SENT_ABROAD, "sends £200 a month to family abroad"
        )
        kept = story.family.circumstances
        visitors = [c.detail for c in kept if c.kind is CircumstanceKind.REGULAR_VISITOR]
        assert visitors == [f"visitor {n}" for n in range(3, CIRCUMSTANCES_KEPT + 3)]
        assert [c.kind for c in kept].count(CircumstanceKind.MONEY_SENT_ABROAD) == 1
        row = chronology_entry(story.family.collect_events()[-1])
        assert row is not None
        assert row.what_happened == ("Household circumstance (money sent abroad): sends £200 a month to family abroad")
