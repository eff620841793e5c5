"""Closure and transfer over real HTTP: requests, checklist status, manual steps, acceptance, withdrawal."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.api_client import Directory, Person, Server, api_server, is_problem, register_family

__all__ = ["api_server"]


@dataclass
class Case:
    """A family with an open episode, a lead, another practitioner, a manager and a coordinator."""

    id: str
    coordinator: Person
    lead: Person
    incoming: Person
    member: Person
    manager: Person

    @property
    def base(self) -> str:
        return f"/api/v1/families/{self.id}"


@pytest.fixture(scope="module")
def directory(api_server: Server) -> Directory:
    return Directory(api_server)


@pytest.fixture(scope="module")
def people(directory: Directory) -> dict[str, Person]:
    agency = directory.agency("early_help")
    return {
        "coordinator": directory.person(agency, "coordinator"),
        "manager": directory.person(agency, "manager"),
        "lead": directory.person(agency),
        "incoming": directory.person(agency),
        "member": directory.person(agency),
    }


@pytest.fixture
def case(people: dict[str, Person]) -> Case:
    coordinator, manager = people["coordinator"], people["manager"]
    lead, incoming, member = people["lead"], people["incoming"], people["member"]
    family = register_family(coordinator)
    base = f"/api/v1/families/{family['id']}"
    assert coordinator.post(f"{base}/episodes", {"level": 2}).status_code == 201
    assert coordinator.post(f"{base}/lead", {"professional_id": lead.id}).status_code == 201
    assert coordinator.post(f"{base}/members", {"professional_id": member.id}).status_code == 201
    return Case(family["id"], coordinator, lead, incoming, member, manager)


CLOSURE = {"reason": "needs_met", "outcome_summary": "baby thriving, registered with GP"}


def evaluated(case: Case, timeout: float = 30.0) -> dict[str, Any]:
    """The closure request once the worker (a thread of the server) has evaluated it: no longer pending.

    A test never reads the status before the worker decided, so it cannot race it; the bound is
    for a loaded machine, not a timing claim.
    """
    deadline = time.monotonic() + timeout
    while True:
        status = dict(case.member.get(f"{case.base}/closure").json())
        if status["status"] != "pending":
            return status
        assert time.monotonic() < deadline, f"the worker did not evaluate the request within {timeout}s: {status}"
        time.sleep(0.05)


def test_lead_requests_closure_and_it_waits_pending(case: Case) -> None:
    answer = case.lead.post(f"{case.base}/closure", CLOSURE)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "pending" and body["request_id"] == body["id"] and body["version"] == 5

    status = evaluated(case)

    # the worker's decision: it waits, blocked on what is missing (never completed: no sign-off)
    assert status["request_id"] == body["request_id"] and status["status"] == "blocked"
    steps = {s["step"]: s for s in status["steps"]}
    assert steps["open_actions_resolved"]["done"] is True and steps["manager_signoff"]["done"] is False
    assert "manager_signoff" in status["missing_steps"] and "open_actions_resolved" not in status["missing_steps"]
    assert status["missing_steps"] == [s["step"] for s in status["steps"] if not s["done"]]
    assert all({"step", "done", "reason", "evidence"} <= s.keys() for s in status["steps"])
    pending = case.lead.get(case.base).json()["pending_requests"]
    assert [(p["kind"], p["status"]) for p in pending] == [("closure", "blocked")]


def test_second_closure_request_is_409(case: Case) -> None:
    case.lead.post(f"{case.base}/closure", CLOSURE)
    assert is_problem(case.coordinator.post(f"{case.base}/closure", CLOSURE), 409, "one_pending_request")


def test_closure_without_open_episode_is_409(directory: Directory) -> None:
    coordinator = directory.person(directory.agency(), "coordinator")
    family = register_family(coordinator)
    answer = coordinator.post(f"/api/v1/families/{family['id']}/closure", CLOSURE)
    assert is_problem(answer, 409, "no_open_episode")


def test_practitioner_who_is_not_lead_cannot_request_closure(case: Case) -> None:
    answer = case.member.post(f"{case.base}/closure", CLOSURE)
    assert is_problem(answer, 403)


def test_manager_may_request_closure(case: Case) -> None:
    answer = case.manager.post(f"{case.base}/closure", CLOSURE)
    assert answer.status_code == 202, answer.text

    request = case.lead.get(f"{case.base}/closure").json()
    assert (request["request_id"], request["kind"], request["requested_by"], request["reason"]) == (
        answer.json()["request_id"],
        "closure",
        case.manager.id,
        "needs_met",
    )


def test_closure_status_before_any_request_is_404(case: Case) -> None:
    assert is_problem(case.lead.get(f"{case.base}/closure"), 404, "no_request")


def test_manual_step_is_completed_with_evidence(case: Case) -> None:
    request_id = case.lead.post(f"{case.base}/closure", CLOSURE).json()["request_id"]
    answer = case.member.post(
        f"{case.base}/handover-steps",
        {"request_id": request_id, "step": "family_informed", "evidence": "letter sent 20 Nov"},
    )
    assert answer.status_code == 201, answer.text
    steps = {s["step"]: s for s in case.lead.get(f"{case.base}/closure").json()["steps"]}
    assert steps["family_informed"]["done"] is True and steps["family_informed"]["evidence"] == "letter sent 20 Nov"
    assert steps["family_informed"]["evidence"] == "letter sent 20 Nov"


def test_auto_step_cannot_be_completed_by_hand(case: Case) -> None:
    request_id = case.lead.post(f"{case.base}/closure", CLOSURE).json()["request_id"]
    answer = case.lead.post(
        f"{case.base}/handover-steps",
        {"request_id": request_id, "step": "open_actions_resolved", "evidence": "none open"},
    )
    assert is_problem(answer, 409, "step_not_manual")


def test_manager_signoff_by_a_practitioner_is_403(case: Case) -> None:
    request_id = case.lead.post(f"{case.base}/closure", CLOSURE).json()["request_id"]
    answer = case.member.post(
        f"{case.base}/handover-steps", {"request_id": request_id, "step": "manager_signoff", "evidence": "ok"}
    )
    assert is_problem(answer, 403, "signoff_needs_manager")


def test_manager_signoff_by_the_requesting_manager_is_403(case: Case) -> None:
    request_id = case.manager.post(f"{case.base}/closure", CLOSURE).json()["request_id"]
    answer = case.manager.post(
        f"{case.base}/handover-steps", {"request_id": request_id, "step": "manager_signoff", "evidence": "ok"}
    )
    assert is_problem(answer, 403, "signoff_not_by_requester")


def test_manager_signs_off_a_lead_request(case: Case) -> None:
    request_id = case.lead.post(f"{case.base}/closure", CLOSURE).json()["request_id"]
    answer = case.manager.post(
        f"{case.base}/handover-steps",
        {"request_id": request_id, "step": "manager_signoff", "evidence": "reviewed in supervision"},
    )
    assert answer.status_code == 201, answer.text

    steps = {s["step"]: s for s in case.lead.get(f"{case.base}/closure").json()["steps"]}
    assert steps["manager_signoff"]["done"] is True
    assert steps["manager_signoff"]["evidence"] == "reviewed in supervision"


def test_unknown_step_is_422(case: Case) -> None:
    request_id = case.lead.post(f"{case.base}/closure", CLOSURE).json()["request_id"]
    answer = case.lead.post(
        f"{case.base}/handover-steps", {"request_id": request_id, "step": "tea_made", "evidence": "yes"}
    )
    # the step is one of a closed set in the schema: refused there, naming the field, with nothing recorded
    assert is_problem(answer, 422, "request_invalid")
    assert ["body", "step"] in [error["loc"] for error in answer.json()["errors"]]
    steps = case.lead.get(f"{case.base}/closure").json()["steps"]
    assert not any(step["step"] == "tea_made" for step in steps)


def test_closure_is_withdrawn(case: Case) -> None:
    request_id = case.lead.post(f"{case.base}/closure", CLOSURE).json()["request_id"]
    answer = case.lead.delete(f"{case.base}/closure", {"reason": "new concerns"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == request_id
    assert case.lead.get(f"{case.base}/closure").json()["status"] == "withdrawn"
    assert case.lead.get(case.base).json()["pending_requests"] == []


def test_withdrawing_when_nothing_is_pending_is_404(case: Case) -> None:
    assert is_problem(case.lead.delete(f"{case.base}/closure"), 404)


def test_transfer_is_requested_and_accepted_by_the_incoming_professional(case: Case) -> None:
    answer = case.lead.post(f"{case.base}/transfer", {"to_professional_id": case.incoming.id, "reason": "leave"})
    assert answer.status_code == 202, answer.text
    accepted = case.incoming.post(f"{case.base}/transfer/acceptance")
    assert accepted.status_code == 201, accepted.text
    status = case.incoming.get(f"{case.base}/transfer").json()
    assert status["to_professional_id"] == case.incoming.id
    assert {s["step"]: s["done"] for s in status["steps"]}["incoming_accepted"] is True
    assert case.incoming.get(case.base).json()["lead"]["professional_id"] == case.lead.id


def test_only_the_incoming_professional_accepts(case: Case) -> None:
    case.lead.post(f"{case.base}/transfer", {"to_professional_id": case.incoming.id})
    assert is_problem(case.coordinator.post(f"{case.base}/transfer/acceptance"), 403, "not_incoming_professional")


def test_transfer_to_the_current_lead_is_409(case: Case) -> None:
    answer = case.coordinator.post(f"{case.base}/transfer", {"to_professional_id": case.lead.id})
    assert is_problem(answer, 409, "transfer_to_current_lead")


def test_transfer_to_unknown_professional_is_422(case: Case) -> None:
    answer = case.lead.post(f"{case.base}/transfer", {"to_professional_id": "00000000-0000-4000-8000-000000000009"})
    assert is_problem(answer, 422, "unknown_professional")


def test_transfer_is_withdrawn(case: Case) -> None:
    case.lead.post(f"{case.base}/transfer", {"to_professional_id": case.incoming.id})
    assert case.coordinator.delete(f"{case.base}/transfer", {"reason": "lead stays"}).status_code == 200
    assert case.lead.get(f"{case.base}/transfer").json()["status"] == "withdrawn"


def test_non_lead_practitioner_cannot_withdraw_someone_elses_request(case: Case) -> None:
    case.lead.post(f"{case.base}/closure", CLOSURE)
    assert is_problem(case.member.delete(f"{case.base}/closure"), 403)
