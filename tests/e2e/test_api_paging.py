"""Every list pages the same way (`items`, `next_cursor`, `limit`), family reads carry their version as
ETag, and `If-Match: *` writes to any version of a family that exists."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]

TODAY = date(2026, 6, 1)


def _family(caller: Caller, name: str = "Kit") -> str:
    family = caller.write("/api/v1/families", {"children": [{"name": name, "date_of_birth": "2025-11-02"}]})
    return f"/api/v1/families/{family['id']}"


def _all_pages(caller: Caller, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor; each page has at most `limit` items and says so."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = caller.get(path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["limit"] == limit and len(page["items"]) <= limit
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def _signalled_family(world: World) -> tuple[Caller, str]:
    """A family with two signals standing: a concern nobody responded to, and agencies involved with no lead."""
    eh, hv, gp = world.agency("early_help"), world.agency("health_visiting"), world.agency("gp")
    coordinator = world.person(eh, "coordinator")
    family = coordinator.write(
        "/api/v1/families", {"children": [{"name": "Ben", "date_of_birth": (TODAY - timedelta(days=100)).isoformat()}]}
    )
    base, child_id = f"/api/v1/families/{family['id']}", family["child_ids"][0]
    coordinator.write(
        f"{base}/concerns",
        {
            "source_kind": "member_of_public",
            "description": "children left alone",
            "occurred_on": (TODAY - timedelta(days=3)).isoformat(),
        },
    )
    world.person(hv, "coordinator").write(
        f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [child_id]}
    )
    world.person(gp, "coordinator").write(f"{base}/children/{child_id}/registrations", {"service": "gp"})
    world.run_signal_worker()
    return coordinator, base


def test_a_familys_signals_page_like_every_list(world: World) -> None:
    coordinator, base = _signalled_family(world)
    whole = coordinator.get(f"{base}/signals").json()

    pages = _all_pages(coordinator, f"{base}/signals", 1)

    assert len(whole["items"]) >= 2 and whole["limit"] == 50 and whole["next_cursor"] is None
    assert [i for p in pages for i in p["items"]] == whole["items"]
    assert len(pages) == len(whole["items"]) and all(len(p["items"]) == 1 for p in pages)
    assert whole["family_id"] == base.rsplit("/", 1)[1]


def test_the_chronology_pages_as_it_stood_when_the_first_page_was_read(world: World) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    base = _family(coordinator)
    for day in range(1, 6):
        written = coordinator.write(
            f"{base}/contacts",
            {"kind": "phone", "outcome": "seen", "occurred_on": (TODAY - timedelta(days=10 - day)).isoformat()},
        )
    consistent = {"X-Consistent-With": str(written["position"])}
    whole = coordinator.get(f"{base}/chronology", headers=consistent).json()

    first = coordinator.get(f"{base}/chronology", params={"limit": 2}, headers=consistent).json()
    late = coordinator.write(f"{base}/contacts", {"kind": "phone", "outcome": "seen", "occurred_on": "2026-01-01"})
    world.wait_for_read_models()
    rest = _all_pages(coordinator, f"{base}/chronology", 2, cursor=first["next_cursor"])

    paged = first["items"] + [i for p in rest for i in p["items"]]
    assert len(whole["items"]) == 6 and [i["version"] for i in paged] == [i["version"] for i in whole["items"]]
    assert late["version"] not in {i["version"] for i in paged}
    after = coordinator.get(f"{base}/chronology", params={"limit": 500}).json()
    assert after["items"][0]["version"] == late["version"]  # a new first page shows it, dated earliest


def test_a_cursor_the_api_never_gave_is_422(world: World) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    base = _family(coordinator)

    for path in (f"{base}/chronology", f"{base}/signals", "/api/v1/worklist", "/api/v1/allocation-queue"):
        answer = coordinator.get(path, params={"cursor": "bm90LWEtY3Vyc29y"})
        assert answer.status_code == 422 and answer.json()["rule"] == "cursor_invalid", path
        assert answer.json()["errors"] == [{"loc": ["query", "cursor"], "msg": "unknown cursor"}]


def test_the_worklist_pages_by_family_with_each_familys_actions(world: World) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    families = [_family(coordinator, f"Child {n}") for n in range(3)]
    for n, base in enumerate(families):
        coordinator.write(f"{base}/episodes", {"level": 2})
        coordinator.write(f"{base}/lead", {"professional_id": coordinator.id})
        coordinator.write(
            f"{base}/actions", {"description": f"Visit {n}", "owner_id": coordinator.id, "due_on": "2026-06-10"}
        )
    world.wait_for_read_models()

    pages = _all_pages(coordinator, "/api/v1/worklist", 2)

    items = [i for p in pages for i in p["items"]]
    assert [len(p["items"]) for p in pages] == [2, 1]
    assert sorted(i["family_id"] for i in items) == sorted(b.rsplit("/", 1)[1] for b in families)
    assert all(i["is_lead"] and [a["description"] for a in i["actions"]] for i in items)
    first = pages[0]
    assert [f["family_id"] for f in first["families"]] == [i["family_id"] for i in first["items"]]
    assert sorted(a["action_id"] for a in first["actions"]) == sorted(
        a["action_id"] for i in first["items"] for a in i["actions"]
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/families",
        "/api/v1/actions",
        "/api/v1/watchlist",
        "/api/v1/worklist",
        "/api/v1/events",
        "/api/v1/webhooks",
        "/api/v1/agencies",
        "/api/v1/professionals",
        "{family}/events",
        "{family}/signals",
        "{family}/signal-history",
        "{family}/chronology",
        "{family}/carried-forward",
    ],
)
def test_every_list_answers_items_next_cursor_and_limit(world: World, path: str) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    family = _family(coordinator)

    answer = coordinator.get(path.format(family=family), params={"limit": 7})

    assert answer.status_code == 200, answer.text
    assert {"items", "next_cursor", "limit"} <= set(answer.json()) and answer.json()["limit"] == 7


def test_the_access_log_pages_like_every_list(world: World) -> None:
    auditor = world.person(world.agency(), "auditor")

    answer = auditor.get("/api/v1/access-log", params={"limit": 3})

    assert answer.status_code == 200 and answer.json()["limit"] == 3 and "next_cursor" in answer.json()


def test_family_reads_carry_the_version_they_were_read_at_as_etag(world: World) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    base = _family(coordinator)
    coordinator.write(f"{base}/episodes", {"level": 2})
    version = world.ledger.get_family(UUID(base.rsplit("/", 1)[1])).version

    for path in ("", "/signals", "/chronology", "/carried-forward", "/signal-history"):
        answer = coordinator.get(f"{base}{path}")
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["etag"] == f'"{version}"', path
    past = coordinator.get(f"{base}/state", params={"version": 1})
    assert past.headers["etag"] == '"1"' and past.json()["version"] == 1


def test_if_match_star_writes_to_any_version_and_a_stale_version_is_still_412(world: World) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    base = _family(coordinator)
    family_id = UUID(base.rsplit("/", 1)[1])

    star = coordinator.post(f"{base}/contacts", {"kind": "phone", "outcome": "seen"}, headers={"If-Match": "*"})
    stale = coordinator.post(f"{base}/contacts", {"kind": "phone", "outcome": "seen"}, headers={"If-Match": '"1"'})

    assert star.status_code == 201 and star.headers["etag"] == '"2"'
    assert stale.status_code == 412
    assert world.ledger.get_family(family_id).version == 2
