"""A state rebuilt from a snapshot plus later events equals the state from a full replay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import ChildInput, TafLedger
from domain.errors import DomainError
from domain.family import Family
from domain.signals import evaluate_signals
from domain.state import Move, Weight
from domain.values import (
    AssessmentKind,
    ClaimOutcome,
    ClosureReason,
    ContactKind,
    ContactOutcome,
    Housing,
    SourceKind,
)
from infra.ledger import build_ledger
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.fingerprint import fingerprint, replay

SNAPSHOT_EVERY = 4

COMMANDS = st.sampled_from(
    [
        "open_episode",
        "assign_lead",
        "join_team",
        "agree_action",
        "complete_action",
        "contact_seen",
        "contact_missed",
        "concern",
        "respond",
        "claim",
        "verify",
        "recommend",
        "decline",
        "request_closure",
        "steps",
        "evaluate",
        "add_child",
        "wait",
    ]
)


@pytest.fixture
def ledger(store_settings: Settings, clock: FakeClock) -> Iterator[TafLedger]:
    """Here the ledger snapshots every few events, so most loads start from a snapshot."""
    app = build_ledger(
        store_settings.model_copy(update={"snapshot_interval": SNAPSHOT_EVERY}), clock=clock, create_tables=True
    )
    try:
        yield app
    finally:
        app.close()


def _apply(ledger: TafLedger, team: Team, clock: FakeClock, fid, command: str) -> None:
    family = ledger.get_family(fid)
    first = lambda table: next(iter(table.values()), None)  # noqa: E731
    if command == "open_episode":
        ledger.open_episode(team.coordinator, fid, 2)
    elif command == "assign_lead":
        ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    elif command == "join_team":
        ledger.join_team(team.coordinator, fid, team.member.professional_id)
    elif command == "agree_action":
        ledger.agree_action(team.lead, fid, "visit", team.lead.professional_id, clock.today() + timedelta(days=7))
    elif command == "complete_action" and family.open_actions():
        ledger.complete_action(team.lead, fid, family.open_actions()[0].action_id)
    elif command == "contact_seen":
        ledger.record_contact(
            team.member,
            fid,
            ContactKind.HOME_VISIT,
            ContactOutcome.SEEN,
            child_ids_seen=[first(family.children).child_id],
        )
    elif command == "contact_missed":
        ledger.record_contact(team.member, fid, ContactKind.CLINIC, ContactOutcome.WAS_NOT_BROUGHT)
    elif command == "concern":
        ledger.raise_concern(team.outsider, fid, SourceKind.ANONYMOUS, "worried")
    elif command == "respond" and family.concerns:
        ledger.respond_to_concern(team.lead, fid, first(family.concerns).concern_id, "visited", True)
    elif command == "claim":
        ledger.record_claim(team.lead, fid, "grandmother helps", "mother", relied_on_in_plan=True)
    elif command == "verify" and family.claims:
        ledger.verify_claim(team.lead, fid, first(family.claims).claim_id, ClaimOutcome.VERIFIED, "met her")
    elif command == "recommend":
        ledger.recommend_assessment(team.member, fid, AssessmentKind.GCP2)
    elif command == "decline" and family.assessments:
        ledger.decline_assessment(team.lead, fid, first(family.assessments).assessment_id, "declined by family")
    elif command == "request_closure":
        ledger.request_closure(team.lead, fid, ClosureReason.NEEDS_MET, "met")
    elif command == "steps" and family.requests:
        request = first(family.requests)
        for step in ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed"):
            ledger.complete_step(team.lead, fid, request.request_id, step, "done")
        ledger.complete_step(team.manager, fid, request.request_id, "manager_signoff", "ok")
    elif command == "evaluate":
        for request_id in ledger.pending_request_ids(fid):
            ledger.evaluate_request(fid, request_id)
    elif command == "add_child":
        ledger.add_child(team.member, fid, ChildInput("Baby", expected_on=clock.today() + timedelta(days=30)))
    elif command == "wait":
        clock.advance(days=9)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(COMMANDS, min_size=5, max_size=30))
def test_snapshot_plus_later_events_equals_full_replay(
    ledger: TafLedger, team: Team, clock: FakeClock, commands: list[str]
) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    for command in commands:
        try:
            _apply(ledger, team, clock, fid, command)
        except DomainError:
            pass  # refused decisions are part of a realistic sequence

    events = list(ledger.events.get(fid))
    from_snapshot = ledger.get_family(fid)

    assert from_snapshot.version == len(events)
    assert fingerprint(from_snapshot) == fingerprint(replay(events))
    if len(events) >= SNAPSHOT_EVERY:
        assert ledger.snapshots is not None and list(ledger.snapshots.get(fid)), "a snapshot was taken"


def test_a_snapshot_taken_before_need_to_know_scope_is_passed_over_for_a_replay(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.record_contact(team.outsider, fid, ContactKind.CLINIC, ContactOutcome.SEEN)
    family = ledger.get_family(fid)
    old = ledger.get_family(fid)
    for name in ("known_agency_ids", "matched", "postcode"):  # what a snapshot written before them lacks
        del old.__dict__[name]
    old.involved_agency_ids.append(team.outsider.agency_id)  # the older rule: every author had a part
    assert ledger.snapshots is not None
    ledger.snapshots.put([type(old).Snapshot.take(old)])  # as the application takes them

    loaded = ledger.get_family(fid)

    assert loaded.known_agency_ids == family.known_agency_ids
    assert team.outsider.agency_id in loaded.known_agency_ids
    assert team.outsider.agency_id not in loaded.involved_agency_ids
    assert fingerprint(loaded) == fingerprint(family)


def test_a_snapshot_of_class_version_5_loads_its_moves_and_weights_as_values(
    ledger: TafLedger, team: Team, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    child_id = next(iter(ledger.get_family(fid).children.values())).child_id
    ledger.change_address(team.coordinator, fid, "1 New Street", Housing.TEMPORARY)
    ledger.measure_growth(team.member, fid, child_id, 3.5)
    clock.advance(days=14)
    ledger.measure_growth(team.member, fid, child_id, 3.3)
    ledger.record_contact(team.member, fid, ContactKind.CLINIC, ContactOutcome.SEEN)  # past the last snapshot
    family = ledger.get_family(fid)
    old = ledger.get_family(fid)
    old.moves = [[m.moved_on, m.housing, m.version] for m in old.moves]  # type: ignore[misc]  # version 5's shape
    for child in old.children.values():
        child.weights = [[w.measured_on, w.kg, w.version] for w in child.weights]  # type: ignore[misc]
    assert ledger.snapshots is not None
    with monkeypatch.context() as old_code:
        old_code.setattr(Family, "class_version", 5)
        ledger.snapshots.put([type(old).Snapshot.take(old)])  # as version 5 took them
    (stored,) = ledger.snapshots.recorder.select_events(fid, desc=True, limit=1)
    assert ledger.mapper.to_domain_event(stored).state["class_version"] == 5, "stored as version 5 wrote it"

    loaded = ledger.get_family(fid)

    assert loaded.moves == family.moves and [type(m) for m in loaded.moves] == [Move]
    weights = next(iter(loaded.children.values())).weights
    assert [(w.kg, type(w)) for w in weights] == [(3.5, Weight), (3.3, Weight)]
    assert fingerprint(loaded) == fingerprint(family)
    assert [s.name for s in evaluate_signals(loaded, clock.today())] == [
        s.name for s in evaluate_signals(family, clock.today())
    ]


def test_families_read_together_are_the_families_read_one_by_one(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    """The scan reads families in batches: latest snapshots in one query, later events in another."""
    ids = []
    for n in range(5):
        fid = ledger.register_family(team.coordinator, [ChildInput(f"Ann {n}", date_of_birth=clock.today())]).family_id
        ids.append(fid)
        ledger.open_episode(team.coordinator, fid, 2)
        for _ in range(n * 3):  # none, some and several snapshots, and events after the last
            ledger.record_contact(team.member, fid, ContactKind.CLINIC, ContactOutcome.WAS_NOT_BROUGHT)
    assert ledger.snapshots is not None and list(ledger.snapshots.get(ids[-1]))

    together = ledger.families_from_store([*reversed(ids), ids[0], uuid4()])

    assert [f.id for f in together] == [*reversed(ids)]
    for family in together:
        one = ledger.get_family(family.id)
        assert family.version == one.version
        assert fingerprint(family) == fingerprint(one)
