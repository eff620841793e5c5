"""Issue 12, defect 10: bringing a new agency into the team needs a sharing decision, or a coordinator.

Any TAF member could add a practitioner of an agency new to the family, who then read the
whole record. Now that answers 409 `sharing_decision_required` and records nothing, unless
a consent or a recorded sharing decision (which gains `agency_ids`) covers the agency.
"""

from __future__ import annotations

from tests.e2e.app_client import World, world
from tests.faults.families import family_led_by

__all__ = ["world"]


def test_a_member_cannot_bring_in_a_new_agency_without_a_sharing_decision(world: World) -> None:
    early_help, police = world.agency(), world.agency("police")
    coordinator, lead = world.person(early_help, "coordinator"), world.person(early_help)
    officer = world.person(police)
    family_id = family_led_by(coordinator, lead)
    version = lead.get(f"/api/v1/families/{family_id}").json()["version"]

    refused = lead.post(f"/api/v1/families/{family_id}/members", {"professional_id": officer.id})

    assert refused.status_code == 409, refused.text
    assert refused.json()["rule"] == "sharing_decision_required"
    assert lead.get(f"/api/v1/families/{family_id}").json()["version"] == version
    assert officer.get(f"/api/v1/families/{family_id}").status_code == 404


def test_a_sharing_decision_covering_the_agency_lets_a_member_add_its_practitioner(world: World) -> None:
    early_help, police = world.agency(), world.agency("police")
    coordinator, lead = world.person(early_help, "coordinator"), world.person(early_help)
    officer = world.person(police)
    family_id = family_led_by(coordinator, lead)
    base = f"/api/v1/families/{family_id}"
    lead.write(
        f"{base}/sharing-decisions",
        {
            "what": "the chronology",
            "with_whom": "police",
            "lawful_basis": "safeguarding a child",
            "why": "joint visits",
            "agency_ids": [police],
        },
    )

    added = lead.post(f"{base}/members", {"professional_id": officer.id})

    assert added.status_code == 201, added.text
    assert officer.get(base).status_code == 200
    decision = [e for e in coordinator.get(f"{base}/events").json()["items"] if e["type"] == "SharingDecisionRecorded"]
    assert decision[0]["data"]["agency_ids"] == [police]


def test_a_consent_covering_the_agency_or_a_coordinator_also_may(world: World) -> None:
    early_help, school, gp = world.agency(), world.agency("school"), world.agency("gp")
    coordinator, lead = world.person(early_help, "coordinator"), world.person(early_help)
    family_id = family_led_by(coordinator, lead)
    base = f"/api/v1/families/{family_id}"
    lead.write(
        f"{base}/consents",
        {
            "given_by": "Mother",
            "capacity": "parental_responsibility",
            "scope": "share with school",
            "agency_ids": [school],
        },
    )

    assert lead.post(f"{base}/members", {"professional_id": world.person(school).id}).status_code == 201
    assert lead.post(f"{base}/members", {"professional_id": world.person(early_help).id}).status_code == 201
    assert coordinator.post(f"{base}/members", {"professional_id": world.person(gp).id}).status_code == 201
