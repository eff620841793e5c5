"""Families the authorisation fault tests start from, made through the API as a coordinator would."""

from __future__ import annotations

from tests.e2e.app_client import Caller


def family_with_episode(coordinator: Caller) -> str:
    """A registered family with an open episode and no lead; its id."""
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Kit", "date_of_birth": "2025-11-02"}]})
    coordinator.write(f"/api/v1/families/{family['id']}/episodes", {"level": 2})
    return str(family["id"])


def family_led_by(coordinator: Caller, lead: Caller, notes: str = "") -> str:
    """A family with an open episode and `lead` as lead (who records a home visit with `notes`, if given)."""
    family_id = family_with_episode(coordinator)
    base = f"/api/v1/families/{family_id}"
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    if notes:
        lead.write(f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "notes": notes})
    return family_id
