"""Families and facts over real HTTP: each route's happy path and its refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.api_client import Directory, Person, Server, api_server, is_problem, register_family

__all__ = ["api_server"]


@dataclass
class Case:
    """A family with an open episode, a lead and a TAF member from another agency."""

    id: str
    child_id: str
    episode_id: str
    coordinator: Person
    lead: Person
    member: Person
    manager: Person

    @property
    def base(self) -> str:
        return f"/api/v1/families/{self.id}"

    def version(self) -> int:
        return int(self.coordinator.get(self.base).json()["version"])


@pytest.fixture(scope="module")
def directory(api_server: Server) -> Directory:
    return Directory(api_server)


@pytest.fixture(scope="module")
def people(directory: Directory) -> dict[str, Person]:
    early_help, health = directory.agency("early_help"), directory.agency("health_visiting")
    return {
        "coordinator": directory.person(early_help, "coordinator"),
        "lead": directory.person(early_help),
        "member": directory.person(health),
        "manager": directory.person(early_help, "manager"),
    }


@pytest.fixture
def case(people: dict[str, Person]) -> Case:
    coordinator, lead, member, manager = people["coordinator"], people["lead"], people["member"], people["manager"]
    family = register_family(coordinator)
    base = f"/api/v1/families/{family['id']}"
    episode = coordinator.post(f"{base}/episodes", {"level": 2}).json()
    assert coordinator.post(f"{base}/lead", {"professional_id": lead.id}).status_code == 201
    assert coordinator.post(f"{base}/members", {"professional_id": member.id}).status_code == 201
    return Case(family["id"], family["child_ids"][0], episode["id"], coordinator, lead, member, manager)


def write_ok(answer: Any, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = dict(answer.json())
    assert {"id", "family_id", "version", "position"} <= body.keys()
    assert answer.headers["etag"] == f'"{body["version"]}"'
    return body


def recorded(case: Case, answer: dict[str, Any], event_type: str) -> dict[str, Any]:
    """What a write recorded, read back through the API: its event's data in the family's history, and the day."""
    events = case.coordinator.get(f"{case.base}/events", params={"limit": 500}).json()["items"]
    (event,) = [e for e in events if e["version"] == answer["version"]]
    assert event["type"] == event_type
    return {**event["data"], "occurred_on": event["occurred_on"]}


def test_registering_a_family_answers_its_id_reference_and_children(directory: Directory) -> None:
    coordinator = directory.person(directory.agency(), "coordinator")
    family = register_family(coordinator, reference="LUT-0042")
    assert family["id"] == family["family_id"] and family["reference"] == "LUT-0042"
    assert family["version"] == 1 and family["position"] > 0 and len(family["child_ids"]) == 1


def test_family_without_children_is_refused_naming_the_field(directory: Directory) -> None:
    coordinator = directory.person(directory.agency(), "coordinator")
    answer = coordinator.post("/api/v1/families", {"children": []})
    assert is_problem(answer, 422)
    assert answer.json()["errors"][0]["loc"] == ["body", "children"]


def test_child_needs_exactly_one_of_birth_or_expected_date(directory: Directory) -> None:
    coordinator = directory.person(directory.agency(), "coordinator")
    answer = coordinator.post("/api/v1/families", {"children": [{"name": "A"}]})
    assert is_problem(answer, 422, "child_birth_or_expected")


def test_summary_shows_episode_lead_members_and_version_as_etag(case: Case) -> None:
    answer = case.member.get(case.base)
    assert answer.status_code == 200
    summary = answer.json()
    assert answer.headers["etag"] == f'"{summary["version"]}"' and summary["version"] == 4
    assert summary["status"] == "open" and summary["open_episode"]["episode_id"] == case.episode_id
    assert summary["open_episode"]["kind"] == "new" and summary["open_episode"]["level"] == 2
    assert summary["lead"]["professional_id"] == case.lead.id
    assert [m["professional_id"] for m in summary["taf_members"]] == [case.member.id]
    assert summary["children"][0]["child_id"] == case.child_id
    assert summary["carers"] == [{"name": "Mum", "relationship": "mother"}]
    assert summary["pending_requests"] == [] and summary["open_actions_count"] == 0 and summary["signals"] == []


def test_unknown_family_is_404_problem(case: Case) -> None:
    answer = case.coordinator.get("/api/v1/families/00000000-0000-4000-8000-000000000000")
    assert is_problem(answer, 404)


def test_children_can_be_added_expected_and_then_born(case: Case) -> None:
    added = write_ok(case.lead.post(f"{case.base}/children", {"name": "Bump", "expected_on": "2027-02-01"}))
    write_ok(case.lead.post(f"{case.base}/children/{added['id']}/birth", {"born_on": "2026-11-01"}))
    children = {c["child_id"]: c for c in case.lead.get(case.base).json()["children"]}
    assert children[added["id"]]["date_of_birth"] == "2026-11-01"


def test_birth_of_unknown_child_is_404(case: Case) -> None:
    answer = case.lead.post(
        f"{case.base}/children/00000000-0000-4000-8000-000000000001/birth", {"born_on": "2026-11-01"}
    )
    assert is_problem(answer, 404)


def test_address_move_away_and_return_are_recorded(case: Case) -> None:
    write_ok(
        case.lead.post(f"{case.base}/address", {"address": "2 Low Road", "housing": "shared", "moved_on": "2026-10-01"})
    )
    write_ok(case.lead.post(f"{case.base}/left-area", {"destination": "Bedford", "left_on": "2026-10-20"}))
    assert case.lead.get(case.base).json()["in_area"] is False
    write_ok(case.lead.post(f"{case.base}/returned", {"address": "3 Park Lane", "housing": "settled"}))
    summary = case.lead.get(case.base).json()
    assert summary["in_area"] is True and summary["address"] == "3 Park Lane"


def test_address_needs_housing(case: Case) -> None:
    assert is_problem(case.lead.post(f"{case.base}/address", {"address": "x"}), 422)


def test_referral_is_received_and_decided_once_with_a_reason(case: Case) -> None:
    referral = write_ok(
        case.lead.post(
            f"{case.base}/referrals",
            {
                "source_kind": "agency",
                "source_agency_id": case.member.agency_id,
                "concerns": "baby not brought",
                "child_ids": [case.child_id],
                "received_on": "2026-11-20",
            },
        )
    )
    decision = {"outcome": "early_help", "reason": "needs met at level 2", "feedback_sent_on": "2026-11-21"}
    write_ok(case.lead.post(f"{case.base}/referrals/{referral['id']}/decision", decision))
    again = case.lead.post(f"{case.base}/referrals/{referral['id']}/decision", decision)
    assert is_problem(again, 409, "referral_already_decided")


def test_referral_decision_without_reason_is_422(case: Case) -> None:
    referral = write_ok(case.lead.post(f"{case.base}/referrals", {"source_kind": "family", "concerns": "x"}))
    answer = case.lead.post(
        f"{case.base}/referrals/{referral['id']}/decision", {"outcome": "no_further_action", "reason": ""}
    )
    assert is_problem(answer, 422) and answer.json()["errors"][0]["loc"] == ["body", "reason"]


def test_referral_from_unknown_agency_is_422(case: Case) -> None:
    answer = case.lead.post(
        f"{case.base}/referrals",
        {"source_kind": "agency", "source_agency_id": "00000000-0000-4000-8000-000000000002", "concerns": "x"},
    )
    assert is_problem(answer, 422, "unknown_agency")


def test_concern_is_raised_and_answered(case: Case) -> None:
    concern = write_ok(
        case.member.post(
            f"{case.base}/concerns",
            {"source_kind": "member_of_public", "description": "crying all night", "reporter_known_to_agency": True},
        )
    )
    response = write_ok(
        case.lead.post(
            f"{case.base}/concerns/{concern['id']}/response", {"response": "visited", "welfare_check_done": True}
        )
    )

    raised = recorded(case, concern, "ConcernRaised")
    answered = recorded(case, response, "ConcernResponded")
    assert (raised["source_kind"], raised["description"], raised["reporter_known_to_agency"]) == (
        "member_of_public",
        "crying all night",
        True,
    )
    assert (answered["concern_id"], answered["response"], answered["welfare_check_done"]) == (
        concern["id"],
        "visited",
        True,
    )


def test_consent_is_given_and_withdrawn_once(case: Case) -> None:
    consent = write_ok(
        case.lead.post(
            f"{case.base}/consents",
            {
                "given_by": "Mum",
                "capacity": "parental_responsibility",
                "scope": "share with health",
                "agency_ids": [case.member.agency_id],
            },
        )
    )
    write_ok(case.lead.post(f"{case.base}/consents/{consent['id']}/withdrawal", {"reason": "changed mind"}))
    again = case.lead.post(f"{case.base}/consents/{consent['id']}/withdrawal", {})
    assert is_problem(again, 409, "consent_already_withdrawn")


def test_sharing_decision_is_recorded(case: Case) -> None:
    decision = {"what": "chronology", "with_whom": "school", "lawful_basis": "public task", "why": "safeguarding"}
    answer = write_ok(case.lead.post(f"{case.base}/sharing-decisions", decision))

    data = recorded(case, answer, "SharingDecisionRecorded")
    assert {k: data[k] for k in decision} == decision


def test_second_open_episode_is_refused(case: Case) -> None:
    assert is_problem(case.lead.post(f"{case.base}/episodes", {"level": 1}), 409, "one_open_episode")


def test_level_of_need_changes_with_a_reason(case: Case) -> None:
    write_ok(case.lead.post(f"{case.base}/episodes/{case.episode_id}/level", {"level": 3, "reason": "worse"}))
    assert case.lead.get(case.base).json()["open_episode"]["level"] == 3


def test_level_outside_one_to_four_is_422(case: Case) -> None:
    answer = case.lead.post(f"{case.base}/episodes/{case.episode_id}/level", {"level": 5, "reason": "x"})
    assert is_problem(answer, 422) and answer.json()["errors"][0]["loc"] == ["body", "level"]


def test_second_lead_is_refused(case: Case) -> None:
    answer = case.coordinator.post(f"{case.base}/lead", {"professional_id": case.member.id})
    assert is_problem(answer, 409, "lead_already_assigned")


def test_lead_of_unknown_professional_is_422(directory: Directory) -> None:
    coordinator = directory.person(directory.agency(), "coordinator")
    family = register_family(coordinator)
    base = f"/api/v1/families/{family['id']}"
    coordinator.post(f"{base}/episodes", {"level": 1})
    answer = coordinator.post(f"{base}/lead", {"professional_id": "00000000-0000-4000-8000-000000000003"})
    assert is_problem(answer, 422, "unknown_professional")


def test_member_leaves_but_the_lead_cannot(case: Case) -> None:
    write_ok(case.coordinator.delete(f"{case.base}/members/{case.member.id}"), 200)
    assert case.lead.get(case.base).json()["taf_members"] == []
    assert case.coordinator.post(f"{case.base}/members", {"professional_id": case.lead.id}).status_code == 201
    answer = case.coordinator.delete(f"{case.base}/members/{case.lead.id}")
    assert is_problem(answer, 409, "lead_cannot_leave")


def test_removing_someone_who_is_not_a_member_is_404(case: Case) -> None:
    assert is_problem(case.coordinator.delete(f"{case.base}/members/{case.manager.id}"), 404)


def test_plan_is_agreed(case: Case) -> None:
    answer = write_ok(
        case.lead.post(
            f"{case.base}/plans",
            {
                "outcomes": ["baby seen fortnightly"],
                "contact_every_days": [{"agency_id": case.member.agency_id, "days": 14}],
                "review_by": "2027-01-31",
            },
        )
    )

    plan = recorded(case, answer, "PlanAgreed")
    assert plan["outcomes"] == ["baby seen fortnightly"] and plan["review_by"] == "2027-01-31"
    assert plan["contact_every"] == [{"agency_id": case.member.agency_id, "days": 14}]


def test_plan_without_outcomes_is_422(case: Case) -> None:
    assert is_problem(case.lead.post(f"{case.base}/plans", {"outcomes": []}), 422)


def test_meeting_records_its_actions(case: Case) -> None:
    answer = case.lead.post(
        f"{case.base}/meetings",
        {
            "kind": "taf",
            "held_on": "2026-11-20",
            "attendee_ids": [case.lead.id, case.member.id],
            "family_attended": True,
            "decisions": "weekly visits",
            "actions": [{"description": "register with GP", "owner_id": case.member.id, "due_on": "2026-12-01"}],
        },
    )
    meeting = write_ok(answer)
    assert len(meeting["action_ids"]) == 1
    assert case.lead.get(case.base).json()["open_actions_count"] == 1


def test_meeting_attendance_absent_is_not_recorded(case: Case) -> None:
    unsaid = write_ok(case.lead.post(f"{case.base}/meetings", {"kind": "taf", "held_on": "2026-11-21"}))
    missed = write_ok(
        case.lead.post(f"{case.base}/meetings", {"kind": "taf", "held_on": "2026-11-22", "family_attended": False})
    )

    events = case.coordinator.get(f"{case.base}/events", params={"limit": 500}).json()["items"]
    attended = {e["version"]: e["data"]["family_attended"] for e in events if e["type"] == "MeetingHeld"}

    assert (attended[unsaid["version"]], attended[missed["version"]]) == (None, False)


def test_action_completes_once(case: Case) -> None:
    action = write_ok(
        case.lead.post(
            f"{case.base}/actions",
            {
                "description": "book clinic",
                "owner_id": case.lead.id,
                "due_on": "2026-12-10",
                "child_ids": [case.child_id],
            },
        )
    )
    write_ok(case.lead.post(f"{case.base}/actions/{action['id']}/completion", {"note": "booked"}))
    again = case.lead.post(f"{case.base}/actions/{action['id']}/completion", {})
    assert is_problem(again, 409, "action_not_open")


def test_action_is_reassigned_then_cancelled(case: Case) -> None:
    action = write_ok(
        case.lead.post(
            f"{case.base}/actions", {"description": "home visit", "owner_id": case.lead.id, "due_on": "2026-12-10"}
        )
    )
    write_ok(case.lead.post(f"{case.base}/actions/{action['id']}/reassignment", {"owner_id": case.member.id}))
    write_ok(case.lead.post(f"{case.base}/actions/{action['id']}/cancellation", {"reason": "no longer needed"}))
    assert case.lead.get(case.base).json()["open_actions_count"] == 0


def test_action_owner_outside_the_team_is_refused(case: Case) -> None:
    answer = case.lead.post(
        f"{case.base}/actions", {"description": "x", "owner_id": case.manager.id, "due_on": "2026-12-10"}
    )
    assert is_problem(answer, 409, "action_owner_not_in_team")


def test_contact_is_recorded_with_when_it_happened(case: Case) -> None:
    contact = write_ok(
        case.member.post(
            f"{case.base}/contacts",
            {
                "kind": "home_visit",
                "outcome": "seen",
                "child_ids_seen": [case.child_id],
                "home_entered": True,
                "occurred_on": "2026-11-20T10:30:00+00:00",
                "date_uncertain": True,
            },
        )
    )
    assert contact["version"] == case.version()


def test_contact_in_the_future_is_refused_naming_occurred_on(case: Case) -> None:
    before = case.version()
    answer = case.member.post(
        f"{case.base}/contacts", {"kind": "phone", "outcome": "seen", "occurred_on": "2099-01-01"}
    )
    assert is_problem(answer, 422, "occurred_in_future")
    assert answer.json()["errors"] == [{"loc": ["body", "occurred_on"], "msg": "occurred_on is in the future"}]
    assert case.version() == before


def test_missed_contact_is_recorded_as_a_fact(case: Case) -> None:
    answer = write_ok(case.member.post(f"{case.base}/contacts", {"kind": "clinic", "outcome": "was_not_brought"}))

    contact = recorded(case, answer, "ContactRecorded")
    assert (contact["kind"], contact["outcome"], contact["child_ids_seen"]) == ("clinic", "was_not_brought", [])


def test_growth_and_registration_are_recorded_for_a_child(case: Case) -> None:
    growth = write_ok(
        case.member.post(
            f"{case.base}/children/{case.child_id}/growth", {"weight_kg": 5.2, "measured_on": "2026-11-19"}
        )
    )
    registration = write_ok(
        case.member.post(
            f"{case.base}/children/{case.child_id}/registrations", {"service": "gp", "registered_on": "2026-11-18"}
        )
    )

    weight, registered = recorded(case, growth, "GrowthMeasured"), recorded(case, registration, "RegistrationRecorded")
    assert (weight["child_id"], weight["weight_kg"], weight["occurred_on"]) == (
        case.child_id,
        5.2,
        "2026-11-19",
    )
    assert (registered["child_id"], registered["service"], registered["occurred_on"]) == (
        case.child_id,
        "gp",
        "2026-11-18",
    )


def test_impossible_weight_is_422(case: Case) -> None:
    answer = case.member.post(f"{case.base}/children/{case.child_id}/growth", {"weight_kg": -1})
    assert is_problem(answer, 422) and answer.json()["errors"][0]["loc"] == ["body", "weight_kg"]


def test_claim_is_recorded_and_verified(case: Case) -> None:
    claim = write_ok(
        case.lead.post(
            f"{case.base}/claims",
            {"statement": "grandmother helps daily", "reported_by": "Mum", "relied_on_in_plan": True},
        )
    )
    verification = write_ok(
        case.lead.post(
            f"{case.base}/claims/{claim['id']}/verification",
            {"outcome": "contradicted", "method": "spoke to grandmother"},
        )
    )

    made, checked = recorded(case, claim, "ClaimRecorded"), recorded(case, verification, "ClaimVerified")
    assert (made["statement"], made["reported_by"], made["relied_on_in_plan"]) == (
        "grandmother helps daily",
        "Mum",
        True,
    )
    assert (checked["claim_id"], checked["outcome"], checked["method"]) == (
        claim["id"],
        "contradicted",
        "spoke to grandmother",
    )


def test_assessment_is_recommended_started_and_completed_with_grades(case: Case) -> None:
    assessment = write_ok(case.lead.post(f"{case.base}/assessments", {"kind": "gcp2", "reason": "neglect"}))
    write_ok(case.lead.post(f"{case.base}/assessments/{assessment['id']}/start"))
    grades = {"physical_care": 4, "safety": 3, "love": 2, "esteem": 3}
    completion = write_ok(
        case.lead.post(
            f"{case.base}/assessments/{assessment['id']}/completion",
            {"findings": "poor home conditions", "grades": grades},
        )
    )

    recommended = recorded(case, assessment, "AssessmentRecommended")
    completed = recorded(case, completion, "AssessmentCompleted")
    assert (recommended["kind"], recommended["reason"]) == ("gcp2", "neglect")
    assert (completed["assessment_id"], completed["findings"]) == (assessment["id"], "poor home conditions")
    assert completed["grades"] == grades


def test_gcp2_grade_outside_one_to_five_is_422(case: Case) -> None:
    assessment = write_ok(case.lead.post(f"{case.base}/assessments", {"kind": "gcp2"}))
    grades = {"physical_care": 6, "safety": 3, "love": 2, "esteem": 3}
    answer = case.lead.post(f"{case.base}/assessments/{assessment['id']}/completion", {"grades": grades})
    assert is_problem(answer, 422)


def test_assessment_declined_with_reason_cannot_start(case: Case) -> None:
    assessment = write_ok(case.lead.post(f"{case.base}/assessments", {"kind": "early_help"}))
    write_ok(case.lead.post(f"{case.base}/assessments/{assessment['id']}/declination", {"reason": "family said no"}))
    answer = case.lead.post(f"{case.base}/assessments/{assessment['id']}/start", {})
    assert is_problem(answer, 409)


def test_supervision_is_recorded_by_a_manager_only(case: Case) -> None:
    write_ok(case.manager.post(f"{case.base}/supervision", {"discussion": "risk rising", "next_due": "2027-01-01"}))
    assert is_problem(case.lead.post(f"{case.base}/supervision", {"discussion": "x"}), 403, "role_not_permitted")


def test_history_review_is_recorded(case: Case) -> None:
    answer = write_ok(case.lead.post(f"{case.base}/history-review", {"notes": "read episode one"}))

    assert recorded(case, answer, "HistoryReviewed")["notes"] == "read episode one"


def test_correction_points_at_an_earlier_event(case: Case) -> None:
    correction = {"event_version": 1, "correction": "name is Bea", "reason": "typo"}
    answer = write_ok(case.lead.post(f"{case.base}/corrections", correction))
    data = recorded(case, answer, "EntryCorrected")
    assert {k: data[k] for k in correction} == correction
    answer = case.lead.post(f"{case.base}/corrections", {"event_version": 999, "correction": "x", "reason": "y"})
    assert is_problem(answer, 404)
