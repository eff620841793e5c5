"""The shared chronology: every event makes a row, with the kind of source DOMAIN.md lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.chronology import (
    FACT,
    NEGATIVE,
    OPINION,
    POSITIVE,
    SELF_REPORT,
    THIRD_PARTY,
    ChronologyEntry,
    chronology_entry,
    significant_event_types,
)
from domain.family import Family
from domain.values import ConsentCapacity, MeetingKind, SourceKind
from tests.unit.builders import COORDINATOR, LEAD, MEMBER, TODAY, FamilyBuilder, emitted, expected, in_episode


def rows(family: Family) -> list[ChronologyEntry]:
    """The rows of the events a command just emitted."""
    entries = [chronology_entry(e) for e in emitted(family)]
    assert all(e is not None for e in entries)
    return [e for e in entries if e is not None]


def only_row(family: Family) -> ChronologyEntry:
    (row,) = rows(family)
    return row


# ------------------------------------------------------------------- every event


def test_every_event_of_a_busy_family_makes_a_row() -> None:
    built = FamilyBuilder().episode().lead().member().action().assessment().claim()
    family = built.family  # not built: every event since registration is still pending
    family.measure_growth(MEMBER.meta(), built.child_id, 7.5)
    family.add_child(COORDINATOR.meta(), expected())
    family.leave_team(COORDINATOR.meta(), MEMBER.id)
    family.give_consent(
        COORDINATOR.meta(),
        uuid4(),
        "Kelly (mother)",
        ConsentCapacity.PARENTAL_RESPONSIBILITY,
        "health and early help",
        [],
    )
    family.record_sharing_decision(COORDINATOR.meta(), "the chronology", "school", "public task", "safeguarding")

    entries = rows(family)

    assert [e.version for e in entries] == list(range(1, family.version + 1))
    assert {e.event_type for e in entries} >= {
        "GrowthMeasured",
        "ChildAdded",
        "TafMemberLeft",
        "ConsentGiven",
        "SharingDecisionRecorded",
    }


def test_what_issue_12_found_missing_reads_in_its_own_words() -> None:
    assert significant_event_types() >= {
        "GrowthMeasured",
        "ChildAdded",
        "TafMemberJoined",
        "TafMemberLeft",
        "LeadProfessionalAssigned",
        "ActionAgreed",
        "ActionCompleted",
        "ActionReassigned",
        "ActionCancelled",
        "SignalRaised",
        "SignalCleared",
        "SignalReviewed",
    }


def test_an_event_type_without_wording_of_its_own_still_makes_a_row() -> None:
    @dataclass(frozen=True)
    class ReferralFeedbackGiven:  # stands for an event class added later
        originator_id: UUID
        originator_version: int
        timestamp: datetime
        meta: Any
        referral_id: UUID
        feedback: str
        notes: str
        child_ids: list[UUID] = field(default_factory=list)

    child = uuid4()
    event = ReferralFeedbackGiven(
        uuid4(), 7, datetime(2026, 6, 1, tzinfo=UTC), LEAD.meta(), uuid4(), "told", "letter sent", [child]
    )

    entry = chronology_entry(event)

    assert entry is not None
    assert (entry.what_happened, entry.kind, entry.action_taken, entry.child_ids) == (
        "Referral feedback given",
        FACT,
        "letter sent",
        (child,),
    )
    assert (entry.version, entry.source_professional_id, entry.occurred_on) == (7, LEAD.id, TODAY)


# ----------------------------------------------------------------- kinds of source


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (SourceKind.MEMBER_OF_PUBLIC, THIRD_PARTY),
        (SourceKind.ANONYMOUS, THIRD_PARTY),
        (SourceKind.FAMILY, SELF_REPORT),
        (SourceKind.AGENCY, FACT),
        (SourceKind.PROFESSIONAL, FACT),
    ],
)
def test_a_concern_is_marked_by_who_reported_it(source: SourceKind, kind: str) -> None:
    family = FamilyBuilder().build()
    family.raise_concern(LEAD.meta(), uuid4(), source, "children left alone", False)

    assert only_row(family).kind == kind


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (SourceKind.MEMBER_OF_PUBLIC, THIRD_PARTY),
        (SourceKind.ANONYMOUS, THIRD_PARTY),
        (SourceKind.FAMILY, SELF_REPORT),
        (SourceKind.AGENCY, FACT),
    ],
)
def test_a_referral_is_marked_by_who_made_it(source: SourceKind, kind: str) -> None:
    family = FamilyBuilder().build()
    family.receive_referral(LEAD.meta(), uuid4(), source, None, "no food in the house", [])

    assert only_row(family).kind == kind


# --------------------------------------------------------------- rows now present


def test_growth_names_the_weight_and_the_child() -> None:
    builder = FamilyBuilder()
    family = builder.build()
    family.measure_growth(MEMBER.meta(), builder.child_id, 7.25)

    row = only_row(family)

    assert (row.what_happened, row.kind, row.child_ids) == ("Weighed: 7.25 kg", FACT, (builder.child_id,))


def test_an_expected_baby_is_a_row_with_its_due_date() -> None:
    family = FamilyBuilder().build()
    baby = expected(due_in_days=40, name="Baby Lee")
    family.add_child(COORDINATOR.meta(), baby)

    row = only_row(family)

    assert row.what_happened == f"Baby expected on {baby.expected_on.isoformat()} (Baby Lee)"  # type: ignore[union-attr]
    assert (row.significance, row.child_ids) == (NEGATIVE, (baby.child_id,))


def test_team_changes_are_rows() -> None:
    family = FamilyBuilder().episode().lead().build()
    family.join_team(COORDINATOR.meta(), MEMBER.id, MEMBER.agency_id)
    family.leave_team(COORDINATOR.meta(), MEMBER.id)

    assert [(r.event_type, r.significance) for r in rows(family)] == [
        ("TafMemberJoined", POSITIVE),
        ("TafMemberLeft", NEGATIVE),
    ]


def test_actions_are_rows_from_agreement_to_cancellation() -> None:
    family = in_episode().build()
    first, second = uuid4(), uuid4()
    family.agree_action(LEAD.meta(), first, "Register with GP", LEAD.id, date(2026, 6, 15))
    family.agree_action(LEAD.meta(), second, "Nursery place", LEAD.id, date(2026, 7, 1))
    family.reassign_action(LEAD.meta(), first, MEMBER.id)
    family.complete_action(MEMBER.meta(), first, "registered at Park Surgery")
    family.cancel_action(LEAD.meta(), second, "family moved nursery")

    got = [(r.what_happened, r.significance, r.action_taken, r.outcome) for r in rows(family)]

    assert got == [
        ("Action agreed: Register with GP (due 2026-06-15)", POSITIVE, "", ""),
        ("Action agreed: Nursery place (due 2026-07-01)", POSITIVE, "", ""),
        ("Action reassigned to another member of the team", POSITIVE, "", ""),
        ("Action completed", POSITIVE, "", "registered at Park Surgery"),
        ("Action cancelled", NEGATIVE, "family moved nursery", ""),
    ]


@pytest.mark.parametrize(
    ("attended", "words", "significance"),
    [
        (True, "family attended", POSITIVE),
        (False, "family did not attend", NEGATIVE),
        (None, "family attendance not recorded", POSITIVE),
    ],
)
def test_a_meeting_says_whether_the_family_attended(attended: bool | None, words: str, significance: str) -> None:
    family = in_episode().build()
    family.hold_meeting(COORDINATOR.meta(), uuid4(), MeetingKind.TAF, TODAY, [], [], attended, "weekly visits")

    row = only_row(family)

    assert (row.what_happened, row.significance) == (f"TAF meeting held ({words})", significance)


def test_sharing_decisions_and_consent_are_rows() -> None:
    family = FamilyBuilder().build()
    family.give_consent(
        COORDINATOR.meta(), uuid4(), "Kelly", ConsentCapacity.PARENTAL_RESPONSIBILITY, "health visiting", []
    )
    family.record_sharing_decision(LEAD.meta(), "the chronology", "school", "public task", "safeguarding")

    consent, sharing = rows(family)

    assert consent.what_happened == "Consent to share given by Kelly (parental responsibility): health visiting"
    assert (sharing.kind, sharing.action_taken) == (OPINION, "safeguarding")


def test_signal_events_read_with_the_signal_and_the_managers_decision() -> None:
    @dataclass(frozen=True)
    class SignalRaised:  # the fields another change gives it; read defensively
        originator_id: UUID
        originator_version: int
        timestamp: datetime
        meta: Any
        signal: str
        explanation: str

    @dataclass(frozen=True)
    class SignalReviewed:
        originator_id: UUID
        originator_version: int
        timestamp: datetime
        meta: Any
        signal: str
        decision: str
        rationale: str

    at = datetime(2026, 6, 1, tzinfo=UTC)
    raised = chronology_entry(SignalRaised(uuid4(), 3, at, LEAD.meta(), "lapsed_contact", "not seen for 30 days"))
    reviewed = chronology_entry(
        SignalReviewed(uuid4(), 4, at, LEAD.meta(), "lapsed_contact", "accept_risk", "seen at clinic")
    )

    assert raised is not None and reviewed is not None
    assert (raised.what_happened, raised.significance, raised.action_taken) == (
        "Signal raised: lapsed contact",
        NEGATIVE,
        "not seen for 30 days",
    )
    assert (reviewed.what_happened, reviewed.kind, reviewed.action_taken) == (
        "Manager's review of signal lapsed contact: accept risk",
        OPINION,
        "seen at clinic",
    )


def test_events_of_other_aggregates_make_no_row() -> None:
    assert chronology_entry(object()) is None
