"""The watchlist signals, each checked just inside and just outside its thresholds.

Family states are built by calling the real Family commands; every command returns the
version of the event it recorded so explanations can be checked against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.family import Family
from domain.signals import (
    SIGNAL_NAMES,
    Severity,
    Signal,
    SignalThresholds,
    concern_without_response,
    dropped_recommendation,
    evaluate_signals,
    facts_after_closure,
    handover_stalled,
    infant_weight_drop,
    infant_without_lead,
    lapsed_contact,
    no_lead_multi_agency,
    not_registered_with_gp,
    referral_without_feedback,
    reopened_without_history_review,
    unverified_claim,
    vulnerable_infant_cohort,
    was_not_brought_pattern,
)
from domain.state import InvolvementState, note_involvement
from domain.values import (
    Acknowledgement,
    AssessmentKind,
    Channel,
    Child,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ConcernAction,
    ContactFrequency,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    Gcp2Grades,
    Housing,
    MeetingKind,
    Meta,
    ReferralOutcome,
    RequestKind,
    Role,
    Service,
    SourceKind,
    UniversalReview,
    UniversalReviewOutcome,
)

D0 = date(2026, 1, 5)
OLDER_CHILD_BORN = date(2020, 3, 1)  # six on D0: no infant, not under five for long


def day(n: int) -> date:
    """The day n days after D0."""
    return D0 + timedelta(days=n)


def child(name: str = "Sam", born: date | None = OLDER_CHILD_BORN, expected: date | None = None) -> Child:
    """A child for registration."""
    return Child(child_id=uuid4(), name=name, date_of_birth=born, expected_on=expected)


class Story:
    """A family built through its commands, one event at a time; each step returns its version."""

    CLOSING_STEPS = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")

    def __init__(
        self,
        children: Sequence[Child] = (),
        housing: Housing = Housing.SETTLED,
        on: date = D0,
    ) -> None:
        self.agency = uuid4()
        self.professional = uuid4()
        self.manager = uuid4()
        self.kids = list(children) or [child()]
        self.family = Family(
            family_id=uuid4(),
            meta=self.meta(on),
            reference="TAF-1",
            children=self.kids,
            carers=[],
            address="1 Station Road",
            housing=housing,
            languages=["en"],
        )

    @property
    def child_id(self) -> UUID:
        return self.kids[0].child_id

    def meta(
        self, on: date, agency: UUID | None = None, role: Role = Role.COORDINATOR, who: UUID | None = None
    ) -> Meta:
        return Meta(
            actor_id=who or self.professional,
            actor_agency_id=agency or self.agency,
            actor_role=role,
            channel=Channel.API,
            occurred_on=on,
        )

    @property
    def version(self) -> int:
        return self.family.version

    def signal(self, rule: object, today: date, thresholds: SignalThresholds | None = None) -> Signal | None:
        assert callable(rule)
        result: Signal | None = rule(self.family, today, thresholds or SignalThresholds())
        return result

    # ---- commands, each returning the new event's version
    def open_episode(self, on: date = D0) -> int:
        self.family.open_new_episode(self.meta(on), uuid4(), 2)
        return self.version

    def contact(
        self,
        on: date,
        outcome: ContactOutcome = ContactOutcome.SEEN,
        kind: ContactKind = ContactKind.HOME_VISIT,
        agency: UUID | None = None,
    ) -> int:
        seen = [self.child_id] if outcome is ContactOutcome.SEEN else []
        self.family.record_contact(self.meta(on, agency), uuid4(), kind, outcome, seen, True, True, "")
        return self.version

    def meeting(
        self, on: date, attended: bool | None, kind: MeetingKind = MeetingKind.TAF, agency: UUID | None = None
    ) -> int:
        self.family.hold_meeting(self.meta(on, agency), uuid4(), kind, on, [], [], attended, "")
        return self.version

    def assign_lead(self, on: date, agency: UUID | None = None) -> int:
        self.family.assign_lead(self.meta(on), uuid4(), agency or self.agency, True)
        return self.version

    def join(self, on: date, agency: UUID) -> int:
        self.family.join_team(self.meta(on), uuid4(), agency)
        return self.version

    def plan(self, on: date, *days: int) -> int:
        self.family.agree_plan(
            self.meta(on), uuid4(), ["children seen weekly"], [ContactFrequency(uuid4(), d) for d in days], None
        )
        return self.version

    def add_child(self, c: Child, on: date = D0) -> int:
        self.family.add_child(self.meta(on), c)
        self.kids.append(c)
        return self.version

    def close_episode(self, on: date) -> int:
        request_id = uuid4()
        self.family.request_closure(self.meta(on), request_id, ClosureReason.NEEDS_MET, "needs met")
        for step in self.CLOSING_STEPS:
            self.family.complete_step(self.meta(on), request_id, step, "done")
        self.family.complete_step(
            self.meta(on, role=Role.MANAGER, who=self.manager), request_id, "manager_signoff", "agreed"
        )
        self.family.close_episode(self.meta(on, role=Role.COORDINATOR), request_id)
        return self.version

    def concern(
        self,
        on: date,
        source: SourceKind = SourceKind.MEMBER_OF_PUBLIC,
        known: bool = False,
        agency: UUID | None = None,
    ) -> UUID:
        concern_id = uuid4()
        self.family.raise_concern(self.meta(on, agency), concern_id, source, "children left alone", known)
        return concern_id

    def register_gp(self, on: date, agency: UUID | None = None) -> int:
        self.family.record_registration(self.meta(on, agency), self.child_id, Service.GP)
        return self.version

    def weigh(self, on: date, kg: float) -> int:
        self.family.measure_growth(self.meta(on), self.child_id, kg)
        return self.version


def infant(born: date | None = None) -> Child:
    """A baby born 60 days before D0 unless told otherwise."""
    return child("Baby", born=born or day(-60))


# ------------------------------------------------------------ lapsed_contact


class TestLapsedContact:
    def test_fires_once_more_than_28_days_pass_without_a_seen_contact(self) -> None:
        story = Story()
        story.open_episode()
        story.contact(day(1))
        assert story.signal(lapsed_contact, day(29)) is None
        signal = story.signal(lapsed_contact, day(30))
        assert signal is not None and signal.since == day(30)

    def test_explanation_names_the_last_seen_contact(self) -> None:
        story = Story()
        story.open_episode()
        seen = story.contact(day(1))
        signal = story.signal(lapsed_contact, day(40))
        assert signal is not None
        assert f"last seen on {day(1).isoformat()} (v{seen})" in signal.explanation
        assert "due by 2026-02-03" in signal.explanation
        assert seen in signal.event_versions

    def test_counts_from_the_episode_opening_when_nobody_was_seen(self) -> None:
        story = Story()
        opened = story.open_episode()
        assert story.signal(lapsed_contact, day(28)) is None
        signal = story.signal(lapsed_contact, day(29))
        assert signal is not None and f"(v{opened})" in signal.explanation

    def test_uses_14_days_when_a_child_is_under_12_months(self) -> None:
        story = Story([infant()])
        story.open_episode()
        story.contact(day(1))
        assert story.signal(lapsed_contact, day(15)) is None
        signal = story.signal(lapsed_contact, day(16))
        assert signal is not None and signal.severity is Severity.HIGH

    def test_uses_the_shortest_interval_the_plan_expects(self) -> None:
        story = Story()
        story.open_episode()
        plan = story.plan(D0, 10, 7)
        story.contact(day(1))
        assert story.signal(lapsed_contact, day(8)) is None
        signal = story.signal(lapsed_contact, day(9))
        assert signal is not None
        assert f"(v{plan}) expects contact every 7 days" in signal.explanation
        assert plan in signal.event_versions

    def test_stays_quiet_without_an_open_episode(self) -> None:
        story = Story()
        assert story.signal(lapsed_contact, day(200)) is None

    def test_two_no_access_visits_in_a_row_fire_before_the_interval_ends(self) -> None:
        story = Story()
        story.open_episode()
        story.contact(day(1))
        first = story.contact(day(3), ContactOutcome.NO_ACCESS)
        assert story.signal(lapsed_contact, day(6)) is None
        second = story.contact(day(6), ContactOutcome.NO_ACCESS)
        signal = story.signal(lapsed_contact, day(6))
        assert signal is not None and signal.since == day(6)
        assert f"{day(3).isoformat()} (v{first}) and {day(6).isoformat()} (v{second})" in signal.explanation
        assert signal.event_versions == [first, second]

    @pytest.mark.parametrize("kind", [ContactKind.PHONE, ContactKind.VIDEO])
    def test_a_phone_or_video_call_marked_seen_does_not_count_as_seeing(self, kind: ContactKind) -> None:
        story = Story()
        story.open_episode()
        seen = story.contact(day(1))
        story.contact(day(20), kind=kind)
        assert story.signal(lapsed_contact, day(29)) is None
        signal = story.signal(lapsed_contact, day(30))
        assert signal is not None and f"last seen on {day(1).isoformat()} (v{seen})" in signal.explanation
        assert "phone and video calls do not count" in signal.explanation

    def test_a_video_call_does_not_break_the_row_of_no_access_visits(self) -> None:
        story = Story()
        story.open_episode()
        story.contact(day(1), ContactOutcome.NO_ACCESS)
        story.contact(day(2), ContactOutcome.SEEN, ContactKind.VIDEO)
        story.contact(day(3), ContactOutcome.NO_ACCESS)
        assert story.signal(lapsed_contact, day(3)) is not None

    def test_a_seen_contact_breaks_the_row_of_no_access_visits(self) -> None:
        story = Story()
        story.open_episode()
        story.contact(day(1), ContactOutcome.NO_ACCESS)
        story.contact(day(2), ContactOutcome.SEEN, ContactKind.CLINIC)
        story.contact(day(3), ContactOutcome.NO_ACCESS)
        assert story.signal(lapsed_contact, day(4)) is None


class TestLapsedContactWithoutAnEpisode:
    """An infant not seen face to face for 42 days, in a family that gives reason to watch."""

    def closed_after_a_visit(self) -> tuple[Story, int, int]:
        story = Story([infant()])
        story.register_gp(day(0))
        story.open_episode(day(0))
        seen = story.contact(day(1))
        closed = story.close_episode(day(2))
        return story, seen, closed

    def test_fires_more_than_42_days_after_the_infant_was_last_seen_after_a_closure(self) -> None:
        story, seen, closed = self.closed_after_a_visit()
        assert story.signal(lapsed_contact, day(43)) is None
        signal = story.signal(lapsed_contact, day(44))
        assert signal is not None and signal.since == day(44) and signal.severity is Severity.HIGH
        assert f"last seen face to face on {day(1).isoformat()} (v{seen})" in signal.explanation
        assert f"an episode closed on {day(2).isoformat()} (v{closed})" in signal.explanation
        assert {seen, closed} <= set(signal.event_versions)

    @pytest.mark.parametrize("kind", [ContactKind.PHONE, ContactKind.VIDEO])
    def test_a_phone_or_video_call_does_not_reset_the_clock(self, kind: ContactKind) -> None:
        story, _seen, _closed = self.closed_after_a_visit()
        story.contact(day(30), kind=kind)
        assert story.signal(lapsed_contact, day(44)) is not None

    def test_a_face_to_face_visit_resets_the_clock(self) -> None:
        story, _seen, _closed = self.closed_after_a_visit()
        visit = story.contact(day(30), kind=ContactKind.CLINIC)
        assert story.signal(lapsed_contact, day(72)) is None
        signal = story.signal(lapsed_contact, day(73))
        assert signal is not None and f"(v{visit})" in signal.explanation

    def test_a_contact_that_saw_only_another_child_does_not_count(self) -> None:
        story, _seen, _closed = self.closed_after_a_visit()
        sibling = child("Sam")
        story.add_child(sibling, day(3))
        story.family.record_contact(
            story.meta(day(30)),
            uuid4(),
            ContactKind.HOME_VISIT,
            ContactOutcome.SEEN,
            [sibling.child_id],
            True,
            True,
            "",
        )
        assert story.signal(lapsed_contact, day(44)) is not None

    def test_an_episode_closed_12_months_ago_still_counts_but_not_a_day_more(self) -> None:
        story = Story()
        story.open_episode(day(0))
        closed = story.close_episode(date(2026, 1, 7))
        baby = child("Baby", born=None, expected=date(2026, 10, 1))
        story.add_child(baby, date(2026, 9, 1))
        story.family.record_birth(story.meta(date(2026, 10, 1)), baby.child_id, date(2026, 10, 1))
        story.family.record_registration(story.meta(date(2026, 10, 2)), baby.child_id, Service.GP)
        for review, on in (
            (UniversalReview.ANTENATAL, date(2026, 9, 2)),
            (UniversalReview.NEW_BIRTH, date(2026, 10, 12)),
        ):
            story.family.record_universal_review(
                story.meta(on), uuid4(), baby.child_id, review, UniversalReviewOutcome.COMPLETED
            )  # a missed universal review would be a standing signal, reason to watch of its own
        story.family.record_universal_review(
            story.meta(date(2026, 11, 20)),
            uuid4(),
            baby.child_id,
            UniversalReview.SIX_TO_EIGHT_WEEKS,
            UniversalReviewOutcome.COMPLETED,
        )
        signal = story.signal(lapsed_contact, date(2027, 1, 7))
        assert signal is not None and f"(v{closed})" in signal.explanation
        assert "not seen face to face since birth" in signal.explanation
        assert story.signal(lapsed_contact, date(2027, 1, 8)) is None

    def test_an_open_concern_is_reason_to_watch_until_responded_to(self) -> None:
        story = Story([infant()])
        story.register_gp(day(0))
        concern_id = story.concern(day(0))
        signal = story.signal(lapsed_contact, day(0))
        assert signal is not None and signal.since == day(0)
        assert f"a concern raised on {day(0).isoformat()}" in signal.explanation
        story.family.respond_to_concern(story.meta(day(1)), concern_id, "welfare check: all well", True)
        assert story.signal(lapsed_contact, day(1)) is None

    def test_a_standing_signal_is_reason_to_watch(self) -> None:
        story = Story([infant(born=day(0))])
        assert story.signal(lapsed_contact, day(42)) is None
        signal = story.signal(lapsed_contact, day(43))
        assert signal is not None and signal.since == day(43)
        assert f"not_registered_with_gp standing since {day(43).isoformat()}" in signal.explanation
        story.family.record_universal_review(
            story.meta(day(10)), uuid4(), story.child_id, UniversalReview.NEW_BIRTH, UniversalReviewOutcome.COMPLETED
        )  # else the missed new birth visit stands
        story.register_gp(day(43))
        assert story.signal(lapsed_contact, day(43)) is None

    def test_an_infant_in_a_family_with_nothing_to_watch_is_not_this_signal(self) -> None:
        story = Story([infant()])
        story.register_gp(day(0))
        assert story.signal(lapsed_contact, day(200)) is None

    def test_a_child_who_turned_one_is_not_an_infant(self) -> None:
        story = Story([infant(born=date(2025, 3, 1))])
        story.register_gp(day(0))
        story.concern(day(0))
        assert story.signal(lapsed_contact, date(2026, 2, 28)) is not None
        assert story.signal(lapsed_contact, date(2026, 3, 1)) is None

    def test_a_family_recorded_away_is_not_watched_here(self) -> None:
        story, _seen, _closed = self.closed_after_a_visit()
        story.family.leave_area(story.meta(day(3)), "abroad")
        assert story.signal(lapsed_contact, day(60)) is None

    def test_the_threshold_is_a_setting(self) -> None:
        story, _seen, _closed = self.closed_after_a_visit()
        shorter = SignalThresholds(infant_unseen_without_episode_days=20)
        assert story.signal(lapsed_contact, day(21), shorter) is None
        assert story.signal(lapsed_contact, day(22), shorter) is not None


# -------------------------------------------------- was_not_brought_pattern


class TestWasNotBroughtPattern:
    def test_one_missed_contact_without_an_infant_is_not_a_pattern(self) -> None:
        story = Story()
        story.contact(day(1), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        assert story.signal(was_not_brought_pattern, day(2)) is None

    def test_two_missed_contacts_across_agencies_fire(self) -> None:
        story = Story()
        first = story.contact(day(1), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC, agency=uuid4())
        second = story.contact(day(9), ContactOutcome.FAMILY_CANCELLED, ContactKind.CENTRE)
        signal = story.signal(was_not_brought_pattern, day(10))
        assert signal is not None and signal.since == day(9)
        assert "across 2 agencies" in signal.explanation
        assert f"was not brought (clinic appointment) on {day(1).isoformat()} (v{first})" in signal.explanation
        assert f"cancelled by the family (centre appointment) on {day(9).isoformat()} (v{second})" in signal.explanation
        assert signal.event_versions == [first, second]
        assert signal.severity is Severity.MEDIUM

    def test_counts_missed_contacts_from_the_last_90_days_only(self) -> None:
        story = Story()
        story.contact(day(0), ContactOutcome.NO_ACCESS)
        story.contact(day(50), ContactOutcome.NO_ACCESS)
        assert story.signal(was_not_brought_pattern, day(90)) is not None
        assert story.signal(was_not_brought_pattern, day(91)) is None

    def test_any_one_missed_contact_fires_while_a_child_is_under_12_months(self) -> None:
        story = Story([infant()])
        missed = story.contact(day(1), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        signal = story.signal(was_not_brought_pattern, day(2))
        assert signal is not None and signal.severity is Severity.HIGH
        assert "Baby (born" in signal.explanation and f"(v{missed})" in signal.explanation

    def test_one_declined_contact_without_an_infant_is_not_a_pattern(self) -> None:
        story = Story()
        story.contact(day(1), ContactOutcome.DECLINED, ContactKind.HOME_VISIT)
        assert story.signal(was_not_brought_pattern, day(2)) is None

    def test_two_declined_contacts_fire(self) -> None:
        story = Story()
        first = story.contact(day(1), ContactOutcome.DECLINED, ContactKind.HOME_VISIT)
        second = story.contact(day(5), ContactOutcome.DECLINED, ContactKind.CLINIC, agency=uuid4())
        signal = story.signal(was_not_brought_pattern, day(5))
        assert signal is not None and signal.since == day(5)
        assert f"declined (home visit) on {day(1).isoformat()} (v{first})" in signal.explanation
        assert signal.event_versions == [first, second]

    def test_a_taf_meeting_the_family_did_not_attend_counts_with_a_missed_contact(self) -> None:
        story = Story()
        meeting = story.meeting(day(3), attended=False, agency=uuid4())
        contact = story.contact(day(8), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        signal = story.signal(was_not_brought_pattern, day(8))
        assert signal is not None and signal.since == day(8)
        assert f"TAF meeting the family missed on {day(3).isoformat()} (v{meeting})" in signal.explanation
        assert "across 2 agencies" in signal.explanation
        assert signal.event_versions == [meeting, contact]

    def test_two_missed_taf_meetings_fire_on_their_own(self) -> None:
        story = Story()
        story.meeting(day(1), attended=False)
        assert story.signal(was_not_brought_pattern, day(1)) is None
        story.meeting(day(20), attended=False)
        signal = story.signal(was_not_brought_pattern, day(20))
        assert signal is not None and signal.since == day(20)

    @pytest.mark.parametrize("attended", [None, True])
    def test_a_taf_meeting_attended_or_not_recorded_does_not_count(self, attended: bool | None) -> None:
        story = Story()
        story.meeting(day(3), attended=attended)
        story.contact(day(8), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        assert story.signal(was_not_brought_pattern, day(8)) is None

    @pytest.mark.parametrize("kind", [MeetingKind.REVIEW, MeetingKind.HANDOVER, MeetingKind.PROFESSIONALS])
    def test_only_taf_meetings_count(self, kind: MeetingKind) -> None:
        story = Story()
        story.meeting(day(3), attended=False, kind=kind)
        story.contact(day(8), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        assert story.signal(was_not_brought_pattern, day(8)) is None

    def test_a_missed_taf_meeting_counts_for_90_days(self) -> None:
        story = Story()
        story.meeting(day(0), attended=False)
        story.contact(day(50), ContactOutcome.NO_ACCESS)
        assert story.signal(was_not_brought_pattern, day(90)) is not None
        assert story.signal(was_not_brought_pattern, day(91)) is None

    def test_one_missed_taf_meeting_fires_while_a_child_is_under_12_months(self) -> None:
        story = Story([infant()])
        meeting = story.meeting(day(1), attended=False)
        signal = story.signal(was_not_brought_pattern, day(1))
        assert signal is not None and signal.severity is Severity.HIGH
        assert signal.event_versions == [meeting]

    def test_the_meeting_event_records_attendance_as_given(self) -> None:
        story = Story()
        story.meeting(day(1), attended=None)
        story.meeting(day(2), attended=False)
        events = story.family.collect_events()[-2:]
        assert [type(e).__name__ for e in events] == ["MeetingHeld", "MeetingHeld"]
        assert [e.family_attended for e in events] == [None, False]

    def test_a_child_turned_one_before_the_missed_contact_is_no_longer_an_infant(self) -> None:
        inside, outside = Story([infant(born=date(2025, 1, 2))]), Story([infant(born=date(2025, 1, 1))])
        for story in (inside, outside):
            story.contact(date(2026, 1, 1), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        assert inside.signal(was_not_brought_pattern, date(2026, 1, 1)) is not None
        assert outside.signal(was_not_brought_pattern, date(2026, 1, 1)) is None


# ------------------------------------------------------- infant_without_lead


class TestInfantWithoutLead:
    def test_fires_when_no_lead_more_than_10_days_after_the_episode_opened(self) -> None:
        story = Story([infant()])
        opened = story.open_episode(day(0))
        assert story.signal(infant_without_lead, day(10)) is None
        signal = story.signal(infant_without_lead, day(11))
        assert signal is not None and signal.since == day(11) and signal.severity is Severity.HIGH
        assert f"opened on {day(0).isoformat()} (v{opened})" in signal.explanation
        assert "Baby (born" in signal.explanation
        assert signal.event_versions == [1, opened]

    def test_an_expected_child_counts(self) -> None:
        story = Story()
        added = story.add_child(child("Bump", born=None, expected=day(90)))
        story.open_episode(day(0))
        signal = story.signal(infant_without_lead, day(11))
        assert signal is not None and f"Bump (expected {day(90).isoformat()}, v{added})" in signal.explanation

    def test_a_lead_professional_silences_it(self) -> None:
        story = Story([infant()])
        story.open_episode(day(0))
        story.assign_lead(day(12))
        assert story.signal(infant_without_lead, day(12)) is None

    def test_a_referral_in_the_last_30_days_starts_the_clock_without_an_episode(self) -> None:
        story = Story([infant()])
        story.family.receive_referral(story.meta(day(0)), uuid4(), SourceKind.AGENCY, None, "neglect", [])
        referral = story.version
        assert story.signal(infant_without_lead, day(10)) is None
        signal = story.signal(infant_without_lead, day(30))
        assert signal is not None
        assert f"referral was received on {day(0).isoformat()} (v{referral})" in signal.explanation
        assert story.signal(infant_without_lead, day(31)) is None

    def test_two_agencies_involved_without_an_episode_start_the_clock(self) -> None:
        story = Story([infant()])
        first = story.contact(day(0), agency=uuid4())
        story.concern(day(2), agency=uuid4())
        concern = story.version
        assert story.signal(infant_without_lead, day(12)) is None
        signal = story.signal(infant_without_lead, day(13))
        assert signal is not None and signal.since == day(13)
        assert f"2 agencies involved in the last 90 days, 2 of them from {day(2).isoformat()}" in signal.explanation
        assert f"contact recorded on {day(0).isoformat()} (v{first})" in signal.explanation
        assert f"concern raised on {day(2).isoformat()} (v{concern})" in signal.explanation
        assert {first, concern} <= set(signal.event_versions)

    def test_one_agency_alone_without_an_episode_or_referral_is_not_enough(self) -> None:
        story = Story([infant()])
        story.contact(day(0))
        story.weigh(day(5), 5.0)
        assert story.signal(infant_without_lead, day(60)) is None

    def test_involvement_counts_for_90_days_after_an_agencys_last_fact(self) -> None:
        story = Story([infant(born=day(-30))])
        story.contact(day(0), agency=uuid4())
        story.register_gp(day(1), agency=uuid4())
        assert story.signal(infant_without_lead, day(90)) is not None
        assert story.signal(infant_without_lead, day(91)) is None

    def test_the_clock_restarts_when_the_lead_goes_with_a_closed_episode(self) -> None:
        story = Story([infant()])
        story.contact(day(0), agency=uuid4())
        story.open_episode(day(0))
        story.assign_lead(day(1))
        story.contact(day(15))
        closed = story.close_episode(day(20))
        assert story.signal(infant_without_lead, day(30)) is None
        signal = story.signal(infant_without_lead, day(31))
        assert signal is not None and signal.since == day(31)
        assert f"no episode open since one closed on {day(20).isoformat()} (v{closed})" in signal.explanation
        assert closed in signal.event_versions

    def test_a_child_who_turned_one_is_not_an_infant(self) -> None:
        inside = Story([infant(born=date(2025, 1, 17))])
        outside = Story([infant(born=date(2025, 1, 16))])
        for story in (inside, outside):
            story.open_episode(day(0))
        assert inside.signal(infant_without_lead, day(11)) is not None
        assert outside.signal(infant_without_lead, day(11)) is None


# ------------------------------------------------------ no_lead_multi_agency


class TestNoLeadMultiAgency:
    def test_one_agency_without_a_lead_is_not_enough(self) -> None:
        story = Story()
        story.open_episode()
        story.join(day(1), uuid4())
        assert story.signal(no_lead_multi_agency, day(2)) is None

    def test_two_agencies_without_a_lead_fire_naming_who_joined(self) -> None:
        story = Story()
        story.open_episode()
        first = story.join(day(1), uuid4())
        second = story.join(day(3), uuid4())
        signal = story.signal(no_lead_multi_agency, day(3))
        assert signal is not None and signal.since == day(3)
        assert f"TAF member joined on {day(1).isoformat()} (v{first})" in signal.explanation
        assert f"TAF member joined on {day(3).isoformat()} (v{second})" in signal.explanation
        assert {first, second} <= set(signal.event_versions)

    def test_a_contact_by_another_agency_counts_as_involvement(self) -> None:
        story = Story()
        story.open_episode()
        story.join(day(1), uuid4())
        contact = story.contact(day(2), agency=uuid4())
        signal = story.signal(no_lead_multi_agency, day(2))
        assert signal is not None and f"contact recorded on {day(2).isoformat()} (v{contact})" in signal.explanation

    def test_a_lead_silences_it(self) -> None:
        story = Story()
        story.open_episode()
        story.join(day(1), uuid4())
        story.join(day(1), uuid4())
        story.assign_lead(day(2))
        assert story.signal(no_lead_multi_agency, day(2)) is None

    def test_fires_without_an_episode_when_two_agencies_record_facts(self) -> None:
        story = Story([child("Baby", born=day(-100))])
        contact = story.contact(day(0), agency=uuid4())
        assert story.signal(no_lead_multi_agency, day(5)) is None
        registration = story.register_gp(day(5), agency=uuid4())
        signal = story.signal(no_lead_multi_agency, day(5))
        assert signal is not None and signal.since == day(5)
        assert "no episode opened" in signal.explanation
        assert f"contact recorded on {day(0).isoformat()} (v{contact})" in signal.explanation
        assert f"registration recorded on {day(5).isoformat()} (v{registration})" in signal.explanation
        assert {contact, registration} <= set(signal.event_versions)

    @pytest.mark.parametrize(
        ("fact", "what"),
        [
            ("concern", "concern raised"),
            ("growth", "growth measured"),
            ("referral", "referral received"),
        ],
    )
    def test_every_kind_of_fact_makes_its_agency_involved(self, fact: str, what: str) -> None:
        story = Story([infant()])
        story.contact(day(0), agency=uuid4())
        other = uuid4()
        if fact == "concern":
            story.concern(day(1), agency=other)
        elif fact == "growth":
            story.family.measure_growth(story.meta(day(1), other), story.child_id, 4.2)
        else:  # recorded by the front door, from another agency: the referring agency is involved
            story.family.receive_referral(story.meta(day(1)), uuid4(), SourceKind.AGENCY, other, "neglect", [])
        signal = story.signal(no_lead_multi_agency, day(1))
        assert signal is not None and f"{what} on {day(1).isoformat()}" in signal.explanation

    def test_an_agency_counts_for_90_days_after_its_last_fact(self) -> None:
        story = Story()
        story.contact(day(0), agency=uuid4())
        story.contact(day(0), agency=uuid4())
        assert story.signal(no_lead_multi_agency, day(90)) is not None
        assert story.signal(no_lead_multi_agency, day(91)) is None

    def test_fires_again_after_the_episode_closes_and_the_lead_goes(self) -> None:
        story = Story()
        story.contact(day(0), agency=uuid4())
        story.open_episode(day(0))
        story.assign_lead(day(1))
        story.contact(day(3))
        assert story.signal(no_lead_multi_agency, day(3)) is None
        closed = story.close_episode(day(10))
        signal = story.signal(no_lead_multi_agency, day(10))
        assert signal is not None and signal.since == day(10)
        assert f"no episode open since one closed on {day(10).isoformat()} (v{closed})" in signal.explanation

    def test_a_worker_event_does_not_make_an_agency_involved(self) -> None:
        story = Story()
        story.contact(day(0), agency=uuid4())
        worker = Meta(uuid4(), uuid4(), Role.ADMIN, Channel.WORKER, day(1))
        story.family.record_contact(worker, uuid4(), ContactKind.PHONE, ContactOutcome.SEEN, [], False, True, "")
        assert story.signal(no_lead_multi_agency, day(1)) is None


class TestInvolvementRuns:
    """Per agency the aggregate keeps one run of days with facts, not a list of facts."""

    def test_facts_within_91_days_of_each_other_extend_the_run(self) -> None:
        table: dict[str, InvolvementState] = {}
        agency = uuid4()
        note_involvement(table, agency, day(0), 2, "contact recorded")
        note_involvement(table, agency, day(91), 3, "concern raised")
        run = table[str(agency)]
        assert (run.since, run.since_version, run.last_on, run.last_version) == (day(0), 2, day(91), 3)
        assert run.last_what == "concern raised"

    def test_a_gap_of_more_than_91_days_starts_a_new_run(self) -> None:
        table: dict[str, InvolvementState] = {}
        agency = uuid4()
        note_involvement(table, agency, day(0), 2, "contact recorded")
        note_involvement(table, agency, day(92), 3, "growth measured")
        assert (table[str(agency)].since, table[str(agency)].since_version) == (day(92), 3)

    def test_a_fact_recorded_late_extends_the_run_backwards_or_changes_nothing(self) -> None:
        table: dict[str, InvolvementState] = {}
        agency = uuid4()
        note_involvement(table, agency, day(100), 2, "contact recorded")
        note_involvement(table, agency, day(50), 3, "concern raised")
        note_involvement(table, agency, day(-100), 4, "concern raised")
        note_involvement(table, agency, day(70), 5, "concern raised")
        run = table[str(agency)]
        assert (run.since, run.since_version, run.last_on, run.last_version) == (day(50), 3, day(100), 2)
        assert len(table) == 1


# ----------------------------------------------------------- unverified_claim


class TestUnverifiedClaim:
    def record_claim(self, story: Story, relied_on: bool = True) -> tuple[UUID, int]:
        claim_id = uuid4()
        story.family.record_claim(story.meta(day(0)), claim_id, "grandmother helps daily", "mother", relied_on)
        return claim_id, story.version

    def test_fires_once_a_relied_on_claim_is_unverified_for_more_than_14_days(self) -> None:
        story = Story()
        _claim_id, version = self.record_claim(story)
        assert story.signal(unverified_claim, day(14)) is None
        signal = story.signal(unverified_claim, day(15))
        assert signal is not None and signal.since == day(15)
        assert f'"grandmother helps daily" recorded on {day(0).isoformat()} (v{version})' in signal.explanation
        assert signal.event_versions == [version]

    def test_a_claim_the_plan_does_not_rely_on_is_ignored(self) -> None:
        story = Story()
        self.record_claim(story, relied_on=False)
        assert story.signal(unverified_claim, day(60)) is None

    @pytest.mark.parametrize("outcome", [ClaimOutcome.VERIFIED, ClaimOutcome.CONTRADICTED])
    def test_a_claim_verified_or_contradicted_is_ignored(self, outcome: ClaimOutcome) -> None:
        story = Story()
        claim_id, _v = self.record_claim(story)
        story.family.verify_claim(story.meta(day(20)), claim_id, outcome, "visited grandmother")
        assert story.signal(unverified_claim, day(60)) is None

    def test_unable_to_verify_keeps_it_standing_after_14_days(self) -> None:
        story = Story()
        claim_id, recorded = self.record_claim(story)
        story.family.verify_claim(story.meta(day(3)), claim_id, ClaimOutcome.UNABLE_TO_VERIFY, "no phone number")
        verified = story.version
        assert story.signal(unverified_claim, day(14)) is None
        signal = story.signal(unverified_claim, day(15))
        assert signal is not None and signal.since == day(15)
        assert f"unable to be verified on {day(3).isoformat()} (v{verified}) and no manager's decision" in (
            signal.explanation
        )
        assert signal.event_versions == [recorded, verified]

    def test_a_managers_decision_on_a_claim_unable_to_be_verified_silences_it(self) -> None:
        story = Story()
        claim_id, _v = self.record_claim(story)
        story.family.verify_claim(story.meta(day(3)), claim_id, ClaimOutcome.UNABLE_TO_VERIFY, "no phone number")
        story.family.decide_on_claim(
            story.meta(day(20), role=Role.MANAGER, who=story.manager),
            claim_id,
            ClaimDecision.ACT_ON_IT,
            "weekly visits instead of relying on it",
        )
        assert story.signal(unverified_claim, day(19)) is not None  # evaluated before the decision was made
        assert story.signal(unverified_claim, day(20)) is None


# ----------------------------------------------------- not_registered_with_gp


class TestNotRegisteredWithGp:
    def test_fires_more_than_42_days_after_birth(self) -> None:
        story = Story([child("Baby", born=None, expected=day(5))])
        story.family.record_birth(story.meta(day(2)), story.child_id, day(2))
        born = story.version
        assert story.signal(not_registered_with_gp, day(44)) is None
        signal = story.signal(not_registered_with_gp, day(45))
        assert signal is not None and signal.since == day(45)
        assert f"Baby (born {day(2).isoformat()}, v{born}), 43 days after birth" in signal.explanation
        assert born in signal.event_versions

    def test_registration_with_a_gp_silences_it(self) -> None:
        story = Story([infant(born=day(-60))])
        story.family.record_registration(story.meta(day(1)), story.child_id, Service.GP)
        assert story.signal(not_registered_with_gp, day(100)) is None

    def test_counts_from_the_family_arriving_when_the_child_was_born_before(self) -> None:
        story = Story([child("Kit", born=date(2024, 6, 1))])
        assert story.signal(not_registered_with_gp, day(42)) is None
        signal = story.signal(not_registered_with_gp, day(43))
        assert signal is not None and f"the family arrived on {D0.isoformat()} (v1)" in signal.explanation

    def test_counts_from_the_familys_return_to_the_area(self) -> None:
        story = Story([child("Kit", born=date(2024, 6, 1))])
        story.family.leave_area(story.meta(day(1)), "Leeds")
        assert story.signal(not_registered_with_gp, day(100)) is None
        story.family.return_to_area(story.meta(day(100)), "2 Mill Lane", Housing.TEMPORARY)
        returned = story.version
        assert story.signal(not_registered_with_gp, day(142)) is None
        signal = story.signal(not_registered_with_gp, day(143))
        assert signal is not None and f"arrived on {day(100).isoformat()} (v{returned})" in signal.explanation

    def test_is_never_suppressed_while_an_episode_is_open(self) -> None:
        story = Story([child("Kit", born=date(2024, 6, 1))])
        story.open_episode(day(0))
        story.family.leave_area(story.meta(day(1)), "abroad")
        assert story.signal(not_registered_with_gp, day(42)) is None
        signal = story.signal(not_registered_with_gp, day(43))
        assert signal is not None and f"the family arrived on {D0.isoformat()} (v1)" in signal.explanation

    def test_reopening_a_family_recorded_away_counts_from_its_return(self) -> None:
        story = Story([child("Kit", born=date(2024, 6, 1))])
        story.open_episode(day(0))
        story.close_episode(day(1))
        story.family.leave_area(story.meta(day(2)), "abroad")
        assert story.signal(not_registered_with_gp, day(100)) is None
        story.family.open_new_episode(story.meta(day(100)), uuid4(), 2)
        returned = story.version - 1
        assert story.signal(not_registered_with_gp, day(142)) is None
        signal = story.signal(not_registered_with_gp, day(143))
        assert signal is not None and f"arrived on {day(100).isoformat()} (v{returned})" in signal.explanation

    def test_only_children_under_five(self) -> None:
        inside = Story([child("Kit", born=date(2021, 2, 18))])
        outside = Story([child("Kit", born=date(2021, 2, 17))])
        assert inside.signal(not_registered_with_gp, date(2026, 2, 17)) is not None
        assert outside.signal(not_registered_with_gp, date(2026, 2, 17)) is None


# ---------------------------------------------------- dropped_recommendation


class TestDroppedRecommendation:
    def recommend(self, story: Story, on: date) -> tuple[UUID, int]:
        assessment_id = uuid4()
        story.family.recommend_assessment(story.meta(on), assessment_id, AssessmentKind.GCP2, "neglect")
        return assessment_id, story.version

    def test_fires_when_not_started_more_than_28_days_after_the_recommendation(self) -> None:
        story = Story()
        story.open_episode()
        _id, version = self.recommend(story, day(1))
        assert story.signal(dropped_recommendation, day(29)) is None
        signal = story.signal(dropped_recommendation, day(30))
        assert signal is not None and signal.since == day(30)
        assert f"GCP2 assessment recommended on {day(1).isoformat()} (v{version})" in signal.explanation
        assert signal.event_versions == [version]

    def test_a_started_assessment_is_not_dropped(self) -> None:
        story = Story()
        assessment_id, _v = self.recommend(story, day(1))
        story.family.start_assessment(story.meta(day(20)), assessment_id)
        assert story.signal(dropped_recommendation, day(60)) is None

    def test_a_recommendation_follows_the_family_into_a_later_episode(self) -> None:
        story = Story()
        _id, version = self.recommend(story, day(1))
        story.open_episode(day(40))
        signal = story.signal(dropped_recommendation, day(41))
        assert signal is not None and signal.event_versions == [version]

    def declined_then_reopened(self, kind: DeclineReasonKind) -> tuple[Story, UUID, list[int]]:
        story = Story()
        story.open_episode(day(0))
        assessment_id, recommended = self.recommend(story, day(1))
        story.family.decline_assessment(story.meta(day(5)), assessment_id, "mother took the children away", kind)
        declined = story.version
        story.close_episode(day(6))
        reopened = story.open_episode(day(60))
        return story, assessment_id, [recommended, declined, reopened]

    @pytest.mark.parametrize("kind", [DeclineReasonKind.FAMILY_LEFT, DeclineReasonKind.FAMILY_REFUSED])
    def test_declined_because_the_family_left_or_refused_comes_back_the_day_a_new_episode_opens(
        self, kind: DeclineReasonKind
    ) -> None:
        story, _id, versions = self.declined_then_reopened(kind)
        assert story.signal(dropped_recommendation, day(59)) is None
        signal = story.signal(dropped_recommendation, day(60))
        assert signal is not None and signal.since == day(60)
        assert f"back since the episode opened on {day(60).isoformat()} (v{versions[2]})" in signal.explanation
        assert signal.event_versions == versions

    @pytest.mark.parametrize("kind", [DeclineReasonKind.NOT_NEEDED, DeclineReasonKind.SUPERSEDED])
    def test_declined_as_not_needed_or_superseded_does_not_come_back(self, kind: DeclineReasonKind) -> None:
        story = Story()
        story.open_episode(day(0))
        assessment_id, _v = self.recommend(story, day(1))
        other_id, _w = self.recommend(story, day(1))
        superseded_by = other_id if kind is DeclineReasonKind.SUPERSEDED else None
        story.family.decline_assessment(story.meta(day(5)), assessment_id, "not needed", kind, superseded_by)
        story.family.start_assessment(story.meta(day(5)), other_id)
        story.family.complete_assessment(story.meta(day(5)), other_id, "ok", Gcp2Grades(2, 2, 2, 2))
        story.close_episode(day(6))
        story.open_episode(day(60))
        assert story.signal(dropped_recommendation, day(61)) is None

    def test_declined_because_the_family_left_stays_quiet_until_a_new_episode_opens(self) -> None:
        story = Story()
        story.open_episode(day(0))
        assessment_id, _v = self.recommend(story, day(1))
        story.family.decline_assessment(story.meta(day(5)), assessment_id, "left", DeclineReasonKind.FAMILY_LEFT)
        story.close_episode(day(6))
        assert story.signal(dropped_recommendation, day(200)) is None

    def test_starting_it_again_clears_it(self) -> None:
        story, assessment_id, _v = self.declined_then_reopened(DeclineReasonKind.FAMILY_LEFT)
        story.family.start_assessment(story.meta(day(62)), assessment_id)
        assert story.signal(dropped_recommendation, day(63)) is None

    def test_declined_again_by_a_manager_clears_it(self) -> None:
        story, assessment_id, _v = self.declined_then_reopened(DeclineReasonKind.FAMILY_REFUSED)
        story.family.decline_assessment(
            story.meta(day(62), role=Role.MANAGER, who=story.manager), assessment_id, "needs met another way"
        )
        assert story.signal(dropped_recommendation, day(63)) is None

    @pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.COORDINATOR])
    def test_declined_again_by_someone_who_is_not_a_manager_leaves_it_standing(self, role: Role) -> None:
        story, assessment_id, _v = self.declined_then_reopened(DeclineReasonKind.FAMILY_REFUSED)
        story.family.decline_assessment(story.meta(day(62), role=role), assessment_id, "needs met another way")
        assert story.signal(dropped_recommendation, day(63)) is not None


# ------------------------------------------- reopened_without_history_review


class TestReopenedWithoutHistoryReview:
    def reopened(self) -> tuple[Story, int, int]:
        story = Story()
        story.open_episode(day(0))
        story.contact(day(1))
        closed = story.close_episode(day(2))
        reopened = story.open_episode(day(20))
        return story, closed, reopened

    def test_fires_more_than_10_days_after_reopening_with_nothing_recorded(self) -> None:
        story, closed, reopened = self.reopened()
        assert story.signal(reopened_without_history_review, day(30)) is None
        signal = story.signal(reopened_without_history_review, day(31))
        assert signal is not None and signal.since == day(31)
        assert f"reopened on {day(20).isoformat()} (v{reopened})" in signal.explanation
        assert f"closed on {day(2).isoformat()} (v{closed})" in signal.explanation
        assert "no history review and no senior oversight" in signal.explanation
        assert signal.event_versions == [closed, reopened]

    CARRIED = ("episode:one", "claim:two")

    def review(self, story: Story, **changes: Any) -> int:
        """A history review that counts, unless `changes` take something away."""
        review: dict[str, Any] = {
            "meta": story.meta(day(21)),
            "notes": "read episode one",
            "acknowledged": [Acknowledgement(item, "read and discussed") for item in self.CARRIED],
            "overseen_by": story.manager,
            "overseen_by_role": Role.MANAGER,
            "expectations": "monthly supervision; GCP2 started within 28 days",
            "carried_forward": list(self.CARRIED),
        }
        review.update(changes)
        story.family.review_history(**review)
        return story.version

    def test_a_history_review_alone_is_not_enough(self) -> None:
        story, _c, _r = self.reopened()
        self.review(story)
        signal = story.signal(reopened_without_history_review, day(31))
        assert signal is not None and "no senior oversight" in signal.explanation
        assert "no history review" not in signal.explanation

    def test_history_review_and_senior_oversight_silence_it(self) -> None:
        story, _c, _r = self.reopened()
        self.review(story)
        story.family.record_supervision(story.meta(day(22), role=Role.MANAGER), "episode one", "GCP2", None)
        assert story.signal(reopened_without_history_review, day(31)) is None

    def test_the_lead_may_make_the_review(self) -> None:
        story, _c, _r = self.reopened()
        lead = uuid4()
        story.family.assign_lead(story.meta(day(20)), lead, story.agency, True)
        self.review(story, meta=story.meta(day(21), role=Role.PRACTITIONER, who=lead))
        story.family.record_supervision(story.meta(day(22), role=Role.MANAGER), "episode one", "GCP2", None)
        assert story.signal(reopened_without_history_review, day(31)) is None

    @pytest.mark.parametrize(
        ("change", "shortfall"),
        [
            ("practitioner", "not made by the lead, a coordinator or a manager"),
            ("empty_notes", "no notes"),
            ("one_not_acknowledged", "1 carried-forward item(s) not acknowledged with a note"),
            ("empty_note", "1 carried-forward item(s) not acknowledged with a note"),
            ("no_overseer", "no overseeing manager named"),
            ("overseer_not_manager", "the overseer named is not a manager"),
            ("no_expectations", "no expectations of the overseer recorded"),
        ],
    )
    def test_a_review_short_of_the_rule_is_recorded_but_does_not_count(self, change: str, shortfall: str) -> None:
        story, _c, _r = self.reopened()
        changes: dict[str, Any] = {
            "practitioner": {"meta": story.meta(day(21), role=Role.PRACTITIONER)},
            "empty_notes": {"notes": "  "},
            "one_not_acknowledged": {"acknowledged": [Acknowledgement("episode:one", "read")]},
            "empty_note": {"acknowledged": [Acknowledgement("episode:one", "read"), Acknowledgement("claim:two", " ")]},
            "no_overseer": {"overseen_by": None, "overseen_by_role": None},
            "overseer_not_manager": {"overseen_by_role": Role.PRACTITIONER},
            "no_expectations": {"expectations": ""},
        }[change]
        review = self.review(story, **changes)
        story.family.record_supervision(story.meta(day(22), role=Role.MANAGER), "episode one", "GCP2", None)
        assert story.signal(reopened_without_history_review, day(30)) is None
        signal = story.signal(reopened_without_history_review, day(31))
        assert signal is not None
        assert f"no history review that counts (the review at v{review}: {shortfall})" in signal.explanation
        assert review in signal.event_versions

    def test_a_later_review_that_counts_silences_it(self) -> None:
        story, _c, _r = self.reopened()
        self.review(story, notes="")
        self.review(story)
        story.family.record_supervision(story.meta(day(22), role=Role.MANAGER), "episode one", "GCP2", None)
        assert story.signal(reopened_without_history_review, day(31)) is None

    def test_a_first_episode_is_not_a_reopening(self) -> None:
        story = Story()
        story.open_episode(day(0))
        assert story.signal(reopened_without_history_review, day(60)) is None


# -------------------------------------------------- concern_without_response


class TestConcernWithoutResponse:
    def test_fires_when_no_response_more_than_1_day_after_the_concern(self) -> None:
        story = Story()
        story.concern(day(0), SourceKind.MEMBER_OF_PUBLIC, known=True)
        version = story.version
        assert story.signal(concern_without_response, day(1)) is None
        signal = story.signal(concern_without_response, day(2))
        assert signal is not None and signal.since == day(2)
        assert (
            f"raised on {day(0).isoformat()} (v{version}) by a member of the public, reporter known to an agency"
            in signal.explanation
        )
        assert signal.event_versions == [version]

    def test_a_response_saying_a_welfare_check_was_done_silences_it(self) -> None:
        story = Story()
        concern_id = story.concern(day(0))
        story.family.respond_to_concern(story.meta(day(3)), concern_id, "welfare check done", True)
        assert story.signal(concern_without_response, day(5)) is None

    @pytest.mark.parametrize("action", [ConcernAction.WELFARE_CHECK, ConcernAction.REFERRAL])
    def test_a_response_recording_a_check_or_a_referral_silences_it_whoever_records_it(
        self, action: ConcernAction
    ) -> None:
        story = Story()
        concern_id = story.concern(day(0))
        story.family.respond_to_concern(story.meta(day(1), role=Role.PRACTITIONER), concern_id, "done", False, action)
        assert story.signal(concern_without_response, day(2)) is None

    @pytest.mark.parametrize(
        ("role", "clears"),
        [
            (Role.PRACTITIONER, False),
            (Role.COORDINATOR, True),
            (Role.MANAGER, True),
        ],
    )
    def test_no_further_action_counts_only_when_a_coordinator_or_a_manager_decides_it(
        self, role: Role, clears: bool
    ) -> None:
        story = Story()
        concern_id = story.concern(day(0))
        story.family.respond_to_concern(
            story.meta(day(1), role=role),
            concern_id,
            "seen at clinic yesterday, well",
            False,
            ConcernAction.NO_FURTHER_ACTION,
        )
        assert (story.signal(concern_without_response, day(2)) is None) is clears

    def test_a_response_recording_nothing_done_is_recorded_but_leaves_it_standing(self) -> None:
        story = Story()
        concern_id = story.concern(day(0))
        story.family.respond_to_concern(story.meta(day(1)), concern_id, "Caller unreliable; no action", False)
        responded = story.version
        signal = story.signal(concern_without_response, day(2))
        assert signal is not None and signal.since == day(2)
        assert f"a response on {day(1).isoformat()} (v{responded}) recorded no welfare check" in signal.explanation
        assert responded in signal.event_versions


# ------------------------------------------------- referral_without_feedback


class TestReferralWithoutFeedback:
    def decided(self, feedback: date | None) -> tuple[Story, int, int]:
        story = Story()
        referral_id = uuid4()
        story.family.receive_referral(story.meta(day(0)), referral_id, SourceKind.AGENCY, uuid4(), "neglect", [])
        received = story.version
        story.family.decide_referral(
            story.meta(day(3)), referral_id, ReferralOutcome.NO_FURTHER_ACTION, "below threshold", feedback
        )
        return story, received, story.version

    def test_fires_when_no_feedback_more_than_1_day_after_the_decision(self) -> None:
        story, received, decided = self.decided(None)
        assert story.signal(referral_without_feedback, day(4)) is None
        signal = story.signal(referral_without_feedback, day(5))
        assert signal is not None and signal.since == day(5)
        assert f"received on {day(0).isoformat()} (v{received})" in signal.explanation
        assert f"no further action on {day(3).isoformat()} (v{decided})" in signal.explanation
        assert signal.event_versions == [received, decided]

    def test_feedback_sent_silences_it(self) -> None:
        story, _r, _d = self.decided(day(3))
        assert story.signal(referral_without_feedback, day(30)) is None

    def test_feedback_given_after_the_decision_silences_it_from_that_day(self) -> None:
        story, _r, _d = self.decided(None)
        referral_id = next(iter(story.family.referrals.values())).referral_id
        story.family.give_referral_feedback(story.meta(day(6)), referral_id, "below threshold: why", "the school")
        assert story.signal(referral_without_feedback, day(5)) is not None
        assert story.signal(referral_without_feedback, day(6)) is None

    def test_an_anonymous_referral_never_fires(self) -> None:
        story = Story()
        referral_id = uuid4()
        story.family.receive_referral(story.meta(day(0)), referral_id, SourceKind.ANONYMOUS, None, "neglect", [])
        story.family.decide_referral(
            story.meta(day(3)), referral_id, ReferralOutcome.NO_FURTHER_ACTION, "below threshold", None
        )
        assert story.signal(referral_without_feedback, day(30)) is None

    def test_an_undecided_referral_is_not_this_signal(self) -> None:
        story = Story()
        story.family.receive_referral(story.meta(day(0)), uuid4(), SourceKind.FAMILY, None, "help", [])
        assert story.signal(referral_without_feedback, day(30)) is None


# ---------------------------------------------------------- handover_stalled


class TestHandoverStalled:
    def blocked(self) -> tuple[Story, int, int]:
        story = Story()
        story.open_episode(day(0))
        request_id = uuid4()
        story.family.request_closure(story.meta(day(1)), request_id, ClosureReason.NEEDS_MET, "all well")
        requested = story.version
        story.family.block_request(story.meta(day(2)), request_id, ["manager_signoff", "family_informed"])
        return story, requested, story.version

    def test_fires_when_blocked_for_more_than_5_days(self) -> None:
        story, requested, blocked = self.blocked()
        assert story.signal(handover_stalled, day(7)) is None
        signal = story.signal(handover_stalled, day(8))
        assert signal is not None and signal.since == day(8)
        assert f"closure request of {day(1).isoformat()} (v{requested})" in signal.explanation
        assert f"blocked since {day(2).isoformat()} (v{blocked})" in signal.explanation
        assert "missing manager_signoff, family_informed" in signal.explanation
        assert signal.event_versions == [requested, blocked]

    def test_a_withdrawn_request_no_longer_stalls(self) -> None:
        story, _r, _b = self.blocked()
        story.family.withdraw_request(story.meta(day(4)), RequestKind.CLOSURE, "more work needed")
        assert story.signal(handover_stalled, day(30)) is None


# ------------------------------------------------------- facts_after_closure


class TestFactsAfterClosure:
    def closed(self) -> tuple[Story, int]:
        story = Story()
        story.open_episode(day(0))
        closed = story.close_episode(day(2))
        return story, closed

    def test_a_missed_contact_after_closure_fires(self) -> None:
        story, closed = self.closed()
        assert story.signal(facts_after_closure, day(5)) is None
        missed = story.contact(day(5), ContactOutcome.NO_ACCESS)
        signal = story.signal(facts_after_closure, day(5))
        assert signal is not None and signal.since == day(5)
        assert f"closed on {day(2).isoformat()} (v{closed})" in signal.explanation
        assert f"no access (home visit) on {day(5).isoformat()} (v{missed})" in signal.explanation
        assert signal.event_versions == [closed, missed]

    def test_a_concern_after_closure_fires(self) -> None:
        story, _closed = self.closed()
        story.concern(day(6), SourceKind.ANONYMOUS)
        signal = story.signal(facts_after_closure, day(6))
        assert signal is not None and "concern from an anonymous caller" in signal.explanation

    def test_a_seen_contact_after_closure_does_not_fire(self) -> None:
        story, _closed = self.closed()
        story.contact(day(5))
        assert story.signal(facts_after_closure, day(5)) is None

    def test_facts_before_any_episode_do_not_fire(self) -> None:
        story = Story()
        story.concern(day(1))
        assert story.signal(facts_after_closure, day(1)) is None

    def test_reopening_clears_it(self) -> None:
        story, _closed = self.closed()
        story.concern(day(6))
        story.open_episode(day(7))
        assert story.signal(facts_after_closure, day(7)) is None


# -------------------------------------------------------- infant_weight_drop


class TestInfantWeightDrop:
    def test_a_lower_weight_than_the_previous_measurement_fires(self) -> None:
        story = Story([infant()])
        before = story.weigh(day(0), 5.20)
        after = story.weigh(day(14), 5.19)
        signal = story.signal(infant_weight_drop, day(14))
        assert signal is not None and signal.since == day(14) and signal.severity is Severity.HIGH
        assert f"weighed 5.19 kg on {day(14).isoformat()} (v{after})" in signal.explanation
        assert f"down from 5.2 kg on {day(0).isoformat()} (v{before})" in signal.explanation
        assert signal.event_versions == [before, after]

    def test_the_same_weight_does_not_fire(self) -> None:
        story = Story([infant()])
        story.weigh(day(0), 5.2)
        story.weigh(day(14), 5.2)
        assert story.signal(infant_weight_drop, day(14)) is None

    def test_a_recovery_at_the_latest_measurement_clears_it(self) -> None:
        story = Story([infant()])
        story.weigh(day(0), 5.2)
        story.weigh(day(7), 5.0)
        story.weigh(day(14), 5.4)
        assert story.signal(infant_weight_drop, day(14)) is None

    def test_only_children_under_12_months(self) -> None:
        story = Story([infant(born=date(2025, 1, 20))])
        story.weigh(day(0), 9.5)
        story.weigh(day(10), 9.1)
        assert story.signal(infant_weight_drop, date(2026, 1, 19)) is not None
        assert story.signal(infant_weight_drop, date(2026, 1, 20)) is None


# -------------------------------------------------- vulnerable_infant_cohort


class TestVulnerableInfantCohort:
    def test_fires_with_every_condition_and_names_each_fact(self) -> None:
        story = Story([infant()], housing=Housing.TEMPORARY)
        missed = story.contact(day(3), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        signal = story.signal(vulnerable_infant_cohort, day(4))
        assert signal is not None and signal.severity is Severity.HIGH and signal.since == day(3)
        assert "Baby (born" in signal.explanation
        assert f"housing is temporary (recorded {D0.isoformat()} (v1))" in signal.explanation
        assert f"was not brought (clinic appointment) on {day(3).isoformat()} (v{missed})" in signal.explanation
        assert "no lead professional" in signal.explanation
        assert signal.event_versions == [1, missed]

    def test_settled_housing_without_a_recent_move_does_not_fire(self) -> None:
        story = Story([infant()], housing=Housing.SETTLED)
        story.contact(day(3), ContactOutcome.WAS_NOT_BROUGHT, ContactKind.CLINIC)
        assert story.signal(vulnerable_infant_cohort, day(4)) is None

    def test_a_move_in_the_last_6_months_counts_even_into_settled_housing(self) -> None:
        story = Story([infant(born=date(2025, 12, 1))], housing=Housing.SETTLED, on=date(2025, 12, 10))
        story.family.change_address(story.meta(date(2026, 1, 10)), "3 New Street", Housing.SETTLED)
        moved = story.version
        story.contact(date(2026, 6, 1), ContactOutcome.NO_ACCESS)
        signal = story.signal(vulnerable_infant_cohort, date(2026, 7, 10))
        assert signal is not None and f"2026-01-10 (v{moved})" in signal.explanation
        assert story.signal(vulnerable_infant_cohort, date(2026, 7, 11)) is None

    def test_no_missed_contact_does_not_fire(self) -> None:
        story = Story([infant()], housing=Housing.TEMPORARY)
        story.contact(day(3))
        assert story.signal(vulnerable_infant_cohort, day(4)) is None

    def test_a_lead_from_the_only_agency_involved_does_not_fire(self) -> None:
        story = Story([infant()], housing=Housing.TEMPORARY)
        story.open_episode(day(0))
        story.assign_lead(day(1))
        story.contact(day(3), ContactOutcome.NO_ACCESS)
        assert story.signal(vulnerable_infant_cohort, day(4)) is None

    def test_a_lead_with_a_second_agency_involved_fires(self) -> None:
        story = Story([infant()], housing=Housing.TEMPORARY)
        story.open_episode(day(0))
        lead = story.assign_lead(day(1))
        joined = story.join(day(2), uuid4())
        story.contact(day(3), ContactOutcome.NO_ACCESS)
        signal = story.signal(vulnerable_infant_cohort, day(4))
        assert signal is not None and "2 agencies involved" in signal.explanation
        assert {lead, joined} <= set(signal.event_versions)

    def test_a_missed_contact_older_than_90_days_leaves_the_cohort(self) -> None:
        story = Story([infant(born=day(-10))], housing=Housing.TEMPORARY)
        story.contact(day(0), ContactOutcome.NO_ACCESS)
        assert story.signal(vulnerable_infant_cohort, day(90)) is not None
        assert story.signal(vulnerable_infant_cohort, day(91)) is None

    def test_a_child_who_turned_one_leaves_the_cohort(self) -> None:
        story = Story([infant(born=date(2025, 3, 1))], housing=Housing.TEMPORARY)
        story.contact(date(2026, 2, 1), ContactOutcome.NO_ACCESS)
        assert story.signal(vulnerable_infant_cohort, date(2026, 2, 28)) is not None
        assert story.signal(vulnerable_infant_cohort, date(2026, 3, 1)) is None


# ---------------------------------------------------------- evaluate_signals


class TestEvaluateSignals:
    def test_every_signal_of_the_domain_table_is_evaluated(self) -> None:
        assert SIGNAL_NAMES == (
            "lapsed_contact",
            "was_not_brought_pattern",
            "infant_without_lead",
            "no_lead_multi_agency",
            "unverified_claim",
            "not_registered_with_gp",
            "dropped_recommendation",
            "reopened_without_history_review",
            "concern_without_response",
            "referral_without_feedback",
            "handover_stalled",
            "facts_after_closure",
            "infant_weight_drop",
            "vulnerable_infant_cohort",
            "child_voice_missing",
            "plan_review_overdue",
            "supervision_overdue",
            "missed_universal_review",
            "disagreement_unresolved",
            "faltering_growth",
        )

    def test_a_family_that_is_seen_and_led_has_no_signal(self) -> None:
        story = Story()
        story.open_episode(day(0))
        story.assign_lead(day(1))
        story.contact(day(20))
        assert evaluate_signals(story.family, day(21), SignalThresholds()) == []

    def test_time_alone_raises_signals_in_table_order(self) -> None:
        story = Story([infant()], housing=Housing.TEMPORARY)
        story.open_episode(day(0))
        story.contact(day(1), ContactOutcome.NO_ACCESS)
        assert [s.name for s in evaluate_signals(story.family, day(1), SignalThresholds())] == [
            "was_not_brought_pattern",
            "vulnerable_infant_cohort",
        ]
        assert [s.name for s in evaluate_signals(story.family, day(15), SignalThresholds())] == [
            "lapsed_contact",
            "was_not_brought_pattern",
            "infant_without_lead",
            "vulnerable_infant_cohort",
            "supervision_overdue",
        ]

    def test_lapsed_contact_without_an_episode_reads_the_other_rules_in_table_order(self) -> None:
        story = Story([infant(born=day(0))])
        signals = evaluate_signals(story.family, day(43), SignalThresholds())
        assert [s.name for s in signals] == ["lapsed_contact", "not_registered_with_gp", "missed_universal_review"]
        assert signals[0] == lapsed_contact(story.family, day(43), SignalThresholds())

    @pytest.mark.parametrize(("days", "fires"), [(5, False), (6, True)])
    def test_thresholds_are_settings(self, days: int, fires: bool) -> None:
        story = Story()
        story.open_episode(day(0))
        signals = evaluate_signals(story.family, day(days), SignalThresholds(contact_interval_days=5))
        assert ("lapsed_contact" in [s.name for s in signals]) is fires
