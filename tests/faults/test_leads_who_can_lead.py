"""Issue 12, defect 7: only active practitioners, coordinators and managers can be lead or receive a transfer.

A transfer to an auditor was accepted (202) and could never complete; an auditor or an admin
could be made lead. Now both answer 422 `lead_must_be_able_to_lead` and record nothing.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.app_client import World, world
from tests.faults.families import family_with_episode

__all__ = ["world"]


def _refused(answer: Any, field: str) -> None:
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["rule"] == "lead_must_be_able_to_lead"
    assert field in str(problem.get("errors") or problem["detail"])


def test_an_auditor_an_admin_or_a_deactivated_person_cannot_be_made_lead(world: World) -> None:
    agency = world.agency()
    coordinator = world.person(agency, "coordinator")
    auditor, admin, leaver = world.person(agency, "auditor"), world.person(agency, "admin"), world.person(agency)
    assert world.admin().post(f"/api/v1/professionals/{leaver.id}/deactivation", {"reason": "Left"}).status_code == 204
    family_id = family_with_episode(coordinator)
    before = coordinator.get(f"/api/v1/families/{family_id}").json()

    for who in (auditor, admin, leaver):
        _refused(coordinator.post(f"/api/v1/families/{family_id}/lead", {"professional_id": who.id}), "professional_id")

    after = coordinator.get(f"/api/v1/families/{family_id}").json()
    assert (after["version"], after["lead"]) == (before["version"], None)


def test_a_transfer_to_someone_who_cannot_lead_is_refused_and_a_manager_can_receive_one(world: World) -> None:
    agency = world.agency()
    coordinator = world.person(agency, "coordinator")
    lead, auditor, admin = world.person(agency), world.person(agency, "auditor"), world.person(agency, "admin")
    manager = world.person(agency, "manager")
    family_id = family_with_episode(coordinator)
    coordinator.write(f"/api/v1/families/{family_id}/lead", {"professional_id": lead.id})
    version = coordinator.get(f"/api/v1/families/{family_id}").json()["version"]

    for who in (auditor, admin):
        _refused(
            lead.post(f"/api/v1/families/{family_id}/transfer", {"to_professional_id": who.id}), "to_professional_id"
        )

    summary = coordinator.get(f"/api/v1/families/{family_id}").json()
    assert (summary["version"], summary["pending_requests"]) == (version, [])
    accepted = lead.post(f"/api/v1/families/{family_id}/transfer", {"to_professional_id": manager.id})
    assert accepted.status_code == 202, accepted.text
