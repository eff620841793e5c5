"""Deactivating a professional through the API: their keys stop, they can no longer lead or own actions."""

from __future__ import annotations

from uuid import UUID

from tests.e2e.app_client import World, world

__all__ = ["world"]


def _family(coordinator) -> str:
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Sam Test", "date_of_birth": "2025-01-02"}]})
    coordinator.write(f"/api/v1/families/{family['id']}/episodes", {"level": 2})
    return str(family["id"])


def test_an_admin_deactivates_a_professional_and_their_key_stops_working_at_once(world: World) -> None:
    agency = world.agency()
    person = world.person(agency)
    assert person.get("/api/v1/families").status_code == 200
    answer = world.admin().post(f"/api/v1/professionals/{person.id}/deactivation", {"reason": "Left the service"})
    assert answer.status_code == 204
    assert person.get("/api/v1/families").status_code == 401
    listed = world.admin().get("/api/v1/professionals", {"agency_id": agency}).json()["items"]
    assert [p["active"] for p in listed if p["id"] == person.id] == [False]
    keys = world.ledger.api_keys(UUID(person.id))
    assert keys and all(k.revoked for k in keys)


def test_a_deactivated_professional_cannot_lead_join_or_own_an_action(world: World) -> None:
    agency = world.agency()
    coordinator = world.person(agency, "coordinator")
    leaver = world.person(agency)
    family_id = _family(coordinator)
    assert world.admin().post(f"/api/v1/professionals/{leaver.id}/deactivation", {"reason": "Left"}).status_code == 204
    base = f"/api/v1/families/{family_id}"
    for path, body in [
        ("/members", {"professional_id": leaver.id}),
        ("/actions", {"description": "Visit", "owner_id": leaver.id, "due_on": "2026-07-01"}),
    ]:
        refused = coordinator.post(base + path, body)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.json()["rule"] == "professional_inactive"
    as_lead = coordinator.post(base + "/lead", {"professional_id": leaver.id})
    assert as_lead.status_code == 422 and as_lead.json()["rule"] == "lead_must_be_able_to_lead"


def test_deactivation_needs_an_admin_a_reason_and_an_active_professional(world: World) -> None:
    agency = world.agency()
    coordinator = world.person(agency, "coordinator")
    person = world.person(agency)
    path = f"/api/v1/professionals/{person.id}/deactivation"
    assert coordinator.post(path, {"reason": "No"}).status_code == 403
    assert world.admin().post(path, {}).status_code == 422
    assert world.admin().post(path, {"reason": ""}).status_code == 422
    assert world.admin().post(path, {"reason": "Left"}).status_code == 204
    again = world.admin().post(path, {"reason": "Left"})
    assert again.status_code == 409 and again.json()["rule"] == "professional_inactive"
    unknown = world.admin().post(
        "/api/v1/professionals/00000000-0000-4000-8000-000000000001/deactivation", {"reason": "Left"}
    )
    assert unknown.status_code == 404
