"""Read models built from the event log equal a direct fold over the family aggregates.

Every test runs on SQLite and on PostgreSQL (the `store_settings` parametrisation).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import checklists
from domain.application import ChildInput, TafLedger, When
from domain.chronology import chronology_entry
from domain.errors import DomainError
from domain.family import Family
from domain.scope import may_know, may_see
from domain.values import (
    AssessmentKind,
    AssessmentStatus,
    Carer,
    ClaimOutcome,
    ClosureReason,
    ContactKind,
    ContactOutcome,
    Housing,
    MeetingKind,
    RequestKind,
    RequestStatus,
)
from projections.queries import ReadModels
from projections.runner import ProjectionSet
from tests.conftest import FakeClock, Team
from tests.integration.read_models import dump

OPEN = (RequestStatus.PENDING, RequestStatus.BLOCKED)


@pytest.fixture
def projection_set(ledger: TafLedger) -> ProjectionSet:
    """Every projection over the test's ledger, tables created."""
    return ProjectionSet(ledger, create_tables=True)


@pytest.fixture
def read_models(projection_set: ProjectionSet) -> ReadModels:
    return ReadModels(projection_set)


# ---------------------------------------------------------------- random commands

OPS = (
    "register",
    "open",
    "lead",
    "join",
    "leave",
    "action",
    "complete",
    "cancel",
    "reassign",
    "contact",
    "late_contact",
    "claim",
    "verify",
    "assess",
    "decline",
    "close",
    "transfer",
    "accept",
    "step",
    "evaluate",
    "withdraw",
    "meeting",
    "advance",
    "child",
    "birth",
    "level",
    "match",
    "outsider_contact",
)


def run_step(ledger: TafLedger, team: Team, clock: FakeClock, families: list[UUID], op: str, i: int, n: int) -> None:
    """Run one command; a refused command records nothing, which is part of what is tested."""
    today = clock.today()
    if op == "register" or not families:
        dob = today - timedelta(days=40 * n)
        carers = [Carer(f"Carer {len(families)}", "mother")]
        reference = f"REF-{len(families):03d}-{n}-{uuid4().hex[:6]}"
        families.append(
            ledger.register_family(
                team.coordinator, [ChildInput(f"Kid {n}", date_of_birth=dob)], carers=carers, reference=reference
            ).family_id
        )
        return
    fid = families[i % len(families)]
    family = ledger.get_family(fid)
    open_actions = family.open_actions()
    pending = [r for r in family.requests.values() if r.status in OPEN]
    if op == "open":
        ledger.open_episode(team.coordinator, fid, 1 + n % 4)
    elif op == "lead":
        ledger.assign_lead(team.coordinator, fid, (team.lead if n % 3 else team.incoming).professional_id)
    elif op == "join":
        ledger.join_team(team.coordinator, fid, (team.member if n % 2 else team.incoming).professional_id)
    elif op == "leave":
        ledger.leave_team(team.coordinator, fid, (team.member if n % 2 else team.incoming).professional_id)
    elif op == "action":
        owners = family.team_ids() or [team.lead.professional_id]
        ledger.agree_action(team.coordinator, fid, f"Do {n}", owners[n % len(owners)], today + timedelta(days=n - 5))
    elif op in ("complete", "cancel", "reassign") and open_actions:
        action = open_actions[n % len(open_actions)]
        if op == "complete":
            ledger.complete_action(team.lead, fid, action.action_id)
        elif op == "cancel":
            ledger.cancel_action(team.lead, fid, action.action_id, "not needed")
        else:
            owners = family.team_ids()
            ledger.reassign_action(team.coordinator, fid, action.action_id, owners[n % len(owners)])
    elif op in ("contact", "late_contact"):
        outcome = list(ContactOutcome)[n % len(ContactOutcome)]
        seen = [UUID(k) for k in family.children] if outcome is ContactOutcome.SEEN else []
        when = When(today - timedelta(days=n), date_uncertain=n % 2 == 0) if op == "late_contact" else When()
        ledger.record_contact(team.member, fid, ContactKind.HOME_VISIT, outcome, seen, when=when)
    elif op == "claim":
        ledger.record_claim(team.lead, fid, f"Nan helps {n}", "mother", relied_on_in_plan=n % 2 == 0)
    elif op == "verify":
        unverified = [c for c in family.claims.values() if c.verification is None]
        if unverified:
            ledger.verify_claim(team.lead, fid, unverified[0].claim_id, list(ClaimOutcome)[n % 3], "phoned")
    elif op == "assess":
        ledger.recommend_assessment(team.lead, fid, AssessmentKind.GCP2, "neglect")
    elif op == "decline":
        open_ones = [a for a in family.assessments.values() if a.status is AssessmentStatus.RECOMMENDED]
        if open_ones:
            ledger.decline_assessment(team.lead, fid, open_ones[0].assessment_id, "refused")
    elif op == "close":
        ledger.request_closure(team.lead, fid, list(ClosureReason)[n % len(ClosureReason)], "outcomes met")
    elif op == "transfer":
        ledger.request_transfer(team.lead, fid, team.incoming.professional_id, "caseload")
    elif op == "accept":
        ledger.accept_transfer(team.incoming, fid)
    elif op == "step" and pending:
        request = pending[n % len(pending)]
        steps = checklists.CLOSURE_STEPS if request.kind is RequestKind.CLOSURE else checklists.TRANSFER_STEPS
        manual = [s.step for s in steps if s.manual and s.step not in request.steps_done]
        if manual:
            step = manual[0]
            actor = team.manager if step == "manager_signoff" else team.lead
            ledger.complete_step(actor, fid, request.request_id, step, "noted")
    elif op == "evaluate":
        for request in pending:
            ledger.evaluate_request(fid, request.request_id)
    elif op == "withdraw":
        ledger.withdraw_request(team.lead, fid, RequestKind.CLOSURE if n % 2 else RequestKind.TRANSFER, "changed")
    elif op == "meeting":
        ledger.hold_meeting(
            team.lead,
            fid,
            MeetingKind.HANDOVER if n % 2 else MeetingKind.TAF,
            today,
            family_attended=n % 3 == 0,
            decisions="carry on",
        )
    elif op == "advance":
        clock.advance(days=n)
    elif op == "child":
        ledger.add_child(team.lead, fid, ChildInput(f"Baby {n}", expected_on=today + timedelta(days=n + 1)))
    elif op == "birth":
        expected = [c for c in family.children.values() if c.date_of_birth is None]
        if expected:
            ledger.record_birth(team.lead, fid, expected[0].child_id, today)
    elif op == "level" and family.open_episode is not None:
        ledger.change_level(team.lead, fid, family.open_episode.episode_id, 1 + n % 4, "reviewed")
    elif op == "match":
        ledger.record_match(team.outsider, fid, next(iter(family.children.values())).child_id, "nhs_number")
    elif op == "outsider_contact":
        ledger.record_contact(team.outsider, fid, ContactKind.CLINIC, ContactOutcome.SEEN)


# ---------------------------------------------------------------- the direct fold


def fold_summary(f: Family) -> dict[str, Any]:
    """What a family summary should say, straight from the aggregate."""
    ep = f.open_episode
    return {
        "reference": f.reference,
        "version": f.version,
        "status": "open" if ep else "closed",
        "children": [(c.child_id, c.name, c.date_of_birth, c.expected_on) for c in f.children.values()],
        "carers": [(c.name, c.relationship) for c in f.carers],
        "open_episode": (ep.episode_id, ep.level, ep.opened_on, ep.kind.value) if ep else None,
        "lead": (f.lead.professional_id, f.lead.agency_id, f.lead.since) if f.lead else None,
        "taf_members": sorted((m.professional_id, m.agency_id, m.since) for m in f.members.values()),
        "pending_requests": sorted(
            (r.request_id, r.kind.value, r.status.value, r.requested_on)
            for r in f.requests.values()
            if r.status in OPEN
        ),
        "open_actions_count": len(f.open_actions()),
    }


def view_summary(s: Any) -> dict[str, Any]:
    """The same fields as the projection has them."""
    ep = s.open_episode
    return {
        "reference": s.reference,
        "version": s.version,
        "status": s.status,
        "children": [(c.child_id, c.name, c.date_of_birth, c.expected_on) for c in s.children],
        "carers": [(c.name, c.relationship) for c in s.carers],
        "open_episode": (ep.episode_id, ep.level, ep.opened_on, ep.kind) if ep else None,
        "lead": (s.lead.professional_id, s.lead.agency_id, s.lead.since) if s.lead else None,
        "taf_members": sorted((m.professional_id, m.agency_id, m.since) for m in s.taf_members),
        "pending_requests": sorted((r.request_id, r.kind, r.status, r.requested_on) for r in s.pending_requests),
        "open_actions_count": s.open_actions_count,
    }


def fold_leads(ledger: TafLedger, family_id: UUID) -> list[tuple[Any, ...]]:
    """Each lead of the family, from its events: who, their agency, since when, at which version."""
    leads: list[tuple[Any, ...]] = []
    for e in ledger.family_events(family_id):
        name = type(e).__name__
        if name == "LeadProfessionalAssigned":
            leads.append((e.professional_id, e.agency_id, e.meta.occurred_on, e.originator_version))
        elif name == "LeadProfessionalTransferred":
            leads.append((e.to_professional_id, e.to_agency_id, e.meta.occurred_on, e.originator_version))
    return leads


def fold_checklists(ledger: TafLedger, f: Family) -> list[tuple[Any, ...]]:
    """Each request's steps: open ones as of the family's last event, ended ones as of their end."""
    result = []
    for request in f.requests.values():
        state = f if request.status in OPEN else ledger.get_family(f.id, version=request.ended_version)
        as_then = state.requests[str(request.request_id)]
        steps = checklists.evaluate(state, as_then, state.modified_on.date())
        result.append(
            (
                request.request_id,
                request.kind.value,
                request.status.value,
                [(s.step, s.done, s.reason, s.evidence, s.manual) for s in steps],
            )
        )
    return sorted(result, key=lambda r: str(r[0]))


def all_pages(fetch: Any) -> Iterator[Any]:
    """Every item of a paginated query."""
    cursor = None
    while True:
        page = fetch(cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def assert_views_equal_fold(
    ledger: TafLedger, team: Team, clock: FakeClock, families: list[UUID], read: ReadModels
) -> None:
    """Every read model against the fold over the family aggregates."""
    folded = {fid: ledger.get_family(fid) for fid in families}
    today = clock.today()
    summaries = {s.id: view_summary(s) for s in all_pages(lambda c: read.list_families(limit=2, cursor=c))}
    assert summaries == {fid: fold_summary(f) for fid, f in folded.items()}

    for fid, f in folded.items():
        lead = read.lead_assignment(fid)
        assert lead is not None
        assert lead.episode_open == (f.open_episode is not None)
        assert (lead.current.professional_id if lead.current else None) == (f.lead.professional_id if f.lead else None)
        assert [(h.professional_id, h.agency_id, h.since, h.version) for h in lead.history] == fold_leads(ledger, fid)

        views = [
            (c.request_id, c.kind, c.status, [(s.step, s.done, s.reason, s.evidence, s.manual) for s in c.steps])
            for c in read.checklists(fid)
        ]
        assert sorted(views, key=lambda r: str(r[0])) == fold_checklists(ledger, f)

        entries = [e for e in map(chronology_entry, ledger.family_events(fid)) if e is not None]
        entries.sort(key=lambda e: (e.occurred_on, e.recorded_at, e.version))
        assert [
            (r.version, r.event_type, r.occurred_on, r.date_uncertain, r.what_happened, r.significance, r.recorded_at)
            for r in read.chronology(fid)
        ] == [
            (e.version, e.event_type, e.occurred_on, e.date_uncertain, e.what_happened, e.significance, e.recorded_at)
            for e in entries
        ]

    actions = {
        (a.action_id, a.family_id, a.owner_id, a.due_on, a.overdue)
        for a in all_pages(lambda c: read.list_open_actions(today, limit=3, cursor=c))
    }
    assert actions == {
        (a.action_id, fid, a.owner_id, a.due_on, a.due_on < today)
        for fid, f in folded.items()
        for a in f.open_actions()
    }
    assert set(read.families_without_lead()) == {
        fid for fid, f in folded.items() if f.open_episode is not None and f.lead is None
    }

    for actor in (team.lead, team.member, team.incoming):
        pid = actor.professional_id
        expected = {
            fid: (f.lead is not None and f.lead.professional_id == pid, str(pid) in f.members)
            for fid, f in folded.items()
            if (f.lead is not None and f.lead.professional_id == pid) or str(pid) in f.members
        }
        work = read.worklist(pid, today)
        assert {w.family_id: (w.is_lead, w.is_member) for w in work.families} == expected
        assert {a.action_id for a in work.actions} == {
            a.action_id for f in folded.values() for a in f.open_actions() if a.owner_id == pid
        }


# Common commands weigh more, so that requests get as far as completing within 30 steps.
WEIGHTED = OPS + (
    "action",
    "complete",
    "contact",
    "step",
    "step",
    "step",
    "evaluate",
    "evaluate",
    "transfer",
    "accept",
    "meeting",
    "close",
    "reassign",
)
STEPS = st.lists(st.tuples(st.sampled_from(WEIGHTED), st.integers(0, 2), st.integers(0, 9)), min_size=1, max_size=30)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_read_model_equals_the_fold_over_the_families(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    projection_set: ProjectionSet,
    read_models: ReadModels,
    steps: list[tuple[str, int, int]],
) -> None:
    new: list[UUID] = []  # each example works on its own families; the store keeps earlier ones
    for op in ("register", "open", "lead", "join"):
        run_step(ledger, team, clock, new, op, 0, 1)
    for op, i, n in steps:
        try:
            run_step(ledger, team, clock, new, op, i, n)
        except DomainError:
            pass
    projection_set.catch_up()
    families = [s.id for s in all_pages(lambda c: read_models.list_families(limit=500, cursor=c))]
    assert set(new) <= set(families)
    assert_views_equal_fold(ledger, team, clock, families, read_models)
    for actor in (team.lead, team.member, team.manager, team.outsider, team.coordinator):
        visible = read_models.visible_family_ids(actor)
        for fid in families:
            f = ledger.get_family(fid)
            assert (fid in visible) == may_see(actor, f.involved_agency_ids, f.involved_professional_ids)
    for actor in (team.outsider, team.member, team.manager, team.auditor):
        known = read_models.known_family_ids(actor)
        for fid in families:
            f = ledger.get_family(fid)
            assert (fid in known) == may_know(actor, f.known_agency_ids)


# ---------------------------------------------------------------- queries


def _family(ledger: TafLedger, team: Team, name: str, carer: str, reference: str) -> UUID:
    dob = ledger.clock.today() - timedelta(days=300)
    return ledger.register_family(
        team.coordinator, [ChildInput(name, date_of_birth=dob)], carers=[Carer(carer, "father")], reference=reference
    ).family_id


def test_families_are_found_by_reference_child_or_carer_name(
    ledger: TafLedger, team: Team, projection_set: ProjectionSet, read_models: ReadModels
) -> None:
    smith = _family(ledger, team, "Ann Smith", "Bob Smith", "EH-100")
    jones = _family(ledger, team, "Cat Jones", "Dan 50%_Jones", "EH-200")
    projection_set.catch_up()

    def found(q: str) -> set[UUID]:
        return {s.id for s in read_models.list_families(q=q).items}

    assert found("smith") == {smith}
    assert found("eh-2") == {jones}
    assert found("50%_") == {jones}
    assert found("n%") == set()


def test_children_are_found_by_name_date_of_birth_and_the_familys_postcode(
    ledger: TafLedger, team: Team, projection_set: ProjectionSet, read_models: ReadModels
) -> None:
    dob = ledger.clock.today() - timedelta(days=60)
    first = ledger.register_family(team.coordinator, [ChildInput("Ava Stone", dob)], postcode="lu1 2ab")
    second = ledger.register_family(team.coordinator, [ChildInput("Bo Stone", expected_on=dob + timedelta(days=90))])
    ledger.record_birth(team.lead, second.family_id, second.extra_ids[0], dob)
    ledger.add_child(team.lead, second.family_id, ChildInput("Ava  stone", dob))
    projection_set.catch_up()

    assert {f for f, _ in read_models.match_children("ava stone", dob)} == {first.family_id, second.family_id}
    assert read_models.match_children("AVA STONE", dob, "LU12AB") == [(first.family_id, first.extra_ids[0])]
    assert read_models.match_children("Ava Stone", dob + timedelta(days=1)) == []
    assert read_models.match_children("Bo Stone", dob) == [(second.family_id, second.extra_ids[0])]

    ledger.change_address(team.lead, first.family_id, "2 New Road", Housing.TEMPORARY, postcode="LU4 9ZZ")
    projection_set.catch_up()
    assert read_models.match_children("Ava Stone", dob, "LU1 2AB") == []
    assert read_models.match_children("Ava Stone", dob, "lu4 9zz") == [(first.family_id, first.extra_ids[0])]


def test_families_filter_by_status_lead_and_missing_lead(
    ledger: TafLedger, team: Team, projection_set: ProjectionSet, read_models: ReadModels
) -> None:
    led = _family(ledger, team, "A", "B", "EH-1")
    unled = _family(ledger, team, "C", "D", "EH-2")
    closed = _family(ledger, team, "E", "F", "EH-3")
    for fid in (led, unled):
        ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, led, team.lead.professional_id)
    projection_set.catch_up()

    assert [s.id for s in read_models.list_families(status="open").items] == [led, unled]
    assert [s.id for s in read_models.list_families(status="closed").items] == [closed]
    assert [s.id for s in read_models.list_families(lead_id=team.lead.professional_id).items] == [led]
    assert [s.id for s in read_models.list_families(without_lead=True, status="open").items] == [unled]
    assert read_models.families_without_lead() == [unled]


def test_open_actions_list_overdue_first_and_filter_overdue(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet, read_models: ReadModels
) -> None:
    fid = _family(ledger, team, "A", "B", "EH-1")
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    today = clock.today()
    later = ledger.agree_action(team.coordinator, fid, "later", team.lead.professional_id, today + timedelta(days=3))
    late = ledger.agree_action(team.coordinator, fid, "late", team.lead.professional_id, today - timedelta(days=3))
    projection_set.catch_up()

    listed = read_models.list_open_actions(today, owner_id=team.lead.professional_id).items
    assert [(a.action_id, a.overdue) for a in listed] == [(late.id, True), (later.id, False)]
    assert [a.action_id for a in read_models.list_open_actions(today, overdue=True).items] == [late.id]
    assert [a.action_id for a in read_models.list_open_actions(today, overdue=False).items] == [later.id]


def test_chronology_known_at_a_past_time_leaves_out_later_records(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet, read_models: ReadModels
) -> None:
    fid = _family(ledger, team, "A", "B", "EH-1")
    ledger.record_contact(team.member, fid, ContactKind.CLINIC, ContactOutcome.WAS_NOT_BROUGHT)
    between = datetime.now(UTC)
    ledger.record_contact(
        team.member,
        fid,
        ContactKind.HOME_VISIT,
        ContactOutcome.NO_ACCESS,
        when=When(clock.today() - timedelta(days=20)),
    )
    projection_set.catch_up()

    now_rows = read_models.chronology(fid)
    then_rows = read_models.chronology(fid, known_at=between)

    assert [r.event_type for r in now_rows] == ["ContactRecorded", "FamilyRegistered", "ContactRecorded"]
    assert [r.outcome for r in now_rows if r.event_type == "ContactRecorded"] == ["no access", "was not brought"]
    assert [r.event_type for r in then_rows] == ["FamilyRegistered", "ContactRecorded"]
    assert all(r.significance == "negative" for r in now_rows if r.event_type == "ContactRecorded")


def test_worklist_offers_manual_steps_and_signoff_only_to_a_manager(
    ledger: TafLedger, team: Team, projection_set: ProjectionSet, read_models: ReadModels
) -> None:
    fid = _family(ledger, team, "A", "B", "EH-1")
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.join_team(team.coordinator, fid, team.manager.professional_id)
    ledger.request_closure(team.lead, fid, ClosureReason.NEEDS_MET, "met")
    projection_set.catch_up()
    today = ledger.clock.today()

    lead_steps = {s.step for s in read_models.worklist(team.lead.professional_id, today).steps}
    manager_steps = {s.step for s in read_models.worklist(team.manager.professional_id, today).steps}

    assert "outcomes_reviewed" in lead_steps and "manager_signoff" not in lead_steps
    assert "manager_signoff" in manager_steps


def test_wait_for_returns_once_the_runner_has_applied_a_write(
    ledger: TafLedger, team: Team, store_settings: Any, projection_set: ProjectionSet
) -> None:
    from projections.runner import start_embedded

    handle = start_embedded(store_settings)
    try:
        recorded = ledger.register_family(team.coordinator, [ChildInput("A", expected_on=ledger.clock.today())])
        assert handle.wait_for(recorded.position, timeout=30.0)
        assert ReadModels(handle.projections).family(recorded.family_id) is not None
        assert not handle.wait_for(recorded.position + 1000, timeout=0.2)
    finally:
        handle.stop()


def test_a_completed_transfer_and_closure_read_as_the_fold_says(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet, read_models: ReadModels
) -> None:
    fid = _family(ledger, team, "Ann", "Bob", "EH-9")
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.join_team(team.coordinator, fid, team.member.professional_id)
    ledger.record_contact(
        team.member, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, list(map(UUID, ledger.get_family(fid).children))
    )
    transfer = ledger.request_transfer(team.lead, fid, team.incoming.professional_id, "caseload")
    ledger.accept_transfer(team.incoming, fid)
    ledger.hold_meeting(team.lead, fid, MeetingKind.HANDOVER, clock.today())
    for step in ("chronology_shared", "family_informed"):
        ledger.complete_step(team.lead, fid, transfer.id, step, "done")
    assert ledger.evaluate_request(fid, transfer.id).recorded == "LeadProfessionalTransferred"
    clock.advance(days=1)
    closure = ledger.request_closure(team.incoming, fid, ClosureReason.NEEDS_MET, "met")
    for step in ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed"):
        ledger.complete_step(team.incoming, fid, closure.id, step, "done")
    ledger.complete_step(team.manager, fid, closure.id, "manager_signoff", "agreed")
    assert ledger.evaluate_request(fid, closure.id).recorded == "EpisodeClosed"
    ledger.open_episode(team.coordinator, fid, 3)
    projection_set.catch_up()

    assert_views_equal_fold(ledger, team, clock, [fid], read_models)
    lead = read_models.lead_assignment(fid)
    assert lead is not None and [(h.how, h.until is not None) for h in lead.history] == [
        ("assigned", True),
        ("transferred", True),
    ]
    assert read_models.families_without_lead() == [fid]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_a_rebuild_in_one_batch_gives_what_applying_event_by_event_gave(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet, steps: list[tuple[str, int, int]]
) -> None:
    new: list[UUID] = []
    for op in ("register", "open", "lead", "join"):
        run_step(ledger, team, clock, new, op, 0, 1)
    for op, i, n in steps:
        try:
            run_step(ledger, team, clock, new, op, i, n)
        except DomainError:
            pass
    projection_set.catch_up(batch=1)
    followed = dump(projection_set)

    projection_set.rebuild()

    assert dump(projection_set) == followed


def test_changes_made_and_undone_within_one_batch_read_as_applied_one_at_a_time(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet
) -> None:
    today = clock.today()
    fid = ledger.register_family(
        team.coordinator, [ChildInput("Kid", date_of_birth=today - timedelta(days=400))], reference="REF-BATCH"
    ).family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.join_team(team.coordinator, fid, team.member.professional_id)
    ledger.leave_team(team.coordinator, fid, team.member.professional_id)
    clock.advance(days=1)
    ledger.join_team(team.coordinator, fid, team.member.professional_id)
    for n in range(3):
        ledger.agree_action(team.coordinator, fid, f"Do {n}", team.lead.professional_id, today + timedelta(days=n))
    first, second, third = ledger.get_family(fid).open_actions()
    ledger.reassign_action(team.coordinator, fid, first.action_id, team.member.professional_id)
    ledger.reassign_action(team.coordinator, fid, second.action_id, team.member.professional_id)
    ledger.complete_action(team.lead, fid, second.action_id)
    ledger.cancel_action(team.lead, fid, third.action_id, "not needed")
    ledger.request_transfer(team.lead, fid, team.incoming.professional_id, "caseload")
    ledger.withdraw_request(team.lead, fid, RequestKind.TRANSFER, "changed")
    ledger.request_transfer(team.lead, fid, team.incoming.professional_id, "caseload")
    ledger.add_child(team.lead, fid, ChildInput("Baby", expected_on=today + timedelta(days=3)))
    baby = next(c for c in ledger.get_family(fid).children.values() if c.date_of_birth is None)
    ledger.record_birth(team.lead, fid, baby.child_id, today)
    ledger.change_level(team.lead, fid, ledger.get_family(fid).open_episode.episode_id, 3, "reviewed")  # type: ignore[union-attr]
    projection_set.catch_up(batch=1)
    followed = dump(projection_set)
    assert followed["pj_action"] and followed["pj_family_member"] and followed["pj_family_request"]

    projection_set.rebuild()

    assert dump(projection_set) == followed
