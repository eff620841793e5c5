"""An agency that knows a child: NHS numbers at registration, the match, facts after it, need-to-know reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]

NHS = "9434765919"
OTHER_NHS = "9434765870"
DOB = "2026-03-01"


@dataclass
class Scene:
    """An early-help coordinator, a family with an infant and a lead, and a GP practice that knows the infant."""

    world: World
    coordinator: Caller
    lead: Caller
    gp: Caller
    gp_system: Caller
    auditor: Caller
    family_id: str
    child_id: str
    sibling_id: str
    position: int  # of the last write, for a match by name to wait for


@pytest.fixture
def scene(world: World) -> Scene:
    early_help, gp_practice = world.agency("early_help"), world.agency("gp", "Riverside Surgery")
    coordinator = world.person(early_help, "coordinator")
    lead = world.person(early_help, name="Lena Lead")
    family = coordinator.write(
        "/api/v1/families",
        {
            "children": [
                {"name": "Ava Stone", "date_of_birth": DOB, "nhs_number": "943 476 5919"},
                {"name": "Sam Stone", "date_of_birth": "2020-05-05"},
            ],
            "carers": [{"name": "Kim Stone", "relationship": "mother"}],
            "postcode": "LU1 2AB",
        },
    )
    base = f"/api/v1/families/{family['id']}"
    coordinator.write(f"{base}/episodes", {"level": 2})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    claim = lead.write(f"{base}/claims", {"statement": "grandmother helps", "reported_by": "mother"})
    return Scene(
        world,
        coordinator,
        lead,
        world.person(gp_practice),
        world.person(gp_practice, is_system=True),
        world.person(early_help, "auditor"),
        family["id"],
        family["child_ids"][0],
        family["child_ids"][1],
        claim["position"],
    )


def match(caller: Caller, position: int | None = None, **body: Any) -> Any:
    """POST a match; by name it reads the child index, so it waits for the read models to reach `position`."""
    headers = {"X-Consistent-With": str(position)} if position is not None else None
    return caller.post("/api/v1/families/match", body, headers=headers)


def access_log(scene: Scene, caller: Caller) -> list[dict[str, Any]]:
    answer = scene.auditor.get("/api/v1/access-log", params={"professional_id": caller.id})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def events(scene: Scene) -> int:
    return len(list(scene.world.ledger.events.get(UUID(scene.family_id))))


# ------------------------------------------------------------ registration


def test_a_child_is_registered_with_its_nhs_number(scene: Scene) -> None:
    summary = scene.coordinator.get(f"/api/v1/families/{scene.family_id}").json()
    assert summary["access"] == "full"
    assert [c["nhs_number"] for c in summary["children"]] == [NHS, None]


def test_an_nhs_number_with_a_wrong_check_digit_is_refused_naming_the_field(world: World) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    answer = coordinator.post(
        "/api/v1/families",
        {
            "children": [
                {"name": "Ann", "date_of_birth": DOB},
                {"name": "Bo", "date_of_birth": DOB, "nhs_number": "9434765918"},
            ]
        },
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["rule"] == "nhs_number_invalid"
    assert answer.json()["errors"][0]["loc"] == ["body", "children", "1", "nhs_number"]
    stored = world.ledger.recorder.select_notifications(start=1, limit=10_000)
    assert not [n for n in stored if "Family." in n.topic or "ChildNumber." in n.topic]


def test_a_known_nhs_number_answers_409_with_the_family_to_whoever_may_see_it(scene: Scene) -> None:
    again = {"children": [{"name": "Ava S", "date_of_birth": DOB, "nhs_number": NHS}]}
    answer = scene.coordinator.post("/api/v1/families", again)
    assert answer.status_code == 409
    assert answer.json()["rule"] == "child_already_registered"
    assert answer.json()["family_id"] == scene.family_id


def test_a_known_nhs_number_answers_409_without_the_family_to_someone_outside_it(scene: Scene) -> None:
    answer = scene.gp.post("/api/v1/families", {"children": [{"name": "A", "date_of_birth": DOB, "nhs_number": NHS}]})
    assert answer.status_code == 409
    assert answer.json()["rule"] == "child_already_registered"
    assert "family_id" not in answer.json()


def test_adding_a_child_with_a_known_nhs_number_answers_409_and_records_nothing(scene: Scene) -> None:
    other = scene.coordinator.write("/api/v1/families", {"children": [{"name": "Zed", "date_of_birth": DOB}]})
    answer = scene.coordinator.post(
        f"/api/v1/families/{other['id']}/children", {"name": "Ava", "date_of_birth": DOB, "nhs_number": NHS}
    )
    assert answer.status_code == 409 and answer.json()["family_id"] == scene.family_id
    assert scene.coordinator.get(f"/api/v1/families/{other['id']}").json()["version"] == other["version"]


# ------------------------------------------------------------------- match


def test_a_match_by_nhs_number_finds_the_family_and_the_child(scene: Scene) -> None:
    answer = match(scene.gp, nhs_number=NHS)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"family_id": scene.family_id, "child_id": scene.child_id}


def test_a_match_by_name_and_date_of_birth_finds_the_family(scene: Scene) -> None:
    answer = match(scene.gp, scene.position, name="  ava   STONE ", date_of_birth=DOB)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"family_id": scene.family_id, "child_id": scene.child_id}


def test_a_postcode_when_given_must_be_the_familys(scene: Scene) -> None:
    assert match(scene.gp, scene.position, name="Ava Stone", date_of_birth=DOB, postcode="lu12ab").status_code == 200
    assert match(scene.gp, scene.position, name="Ava Stone", date_of_birth=DOB, postcode="LU1 2AC").status_code == 404


def test_after_a_move_the_new_postcode_matches_and_the_old_one_no_longer_does(scene: Scene) -> None:
    base = f"/api/v1/families/{scene.family_id}"
    moved = scene.lead.write(
        f"{base}/address", {"address": "2 New Road", "housing": "temporary", "postcode": "LU4 9ZZ"}
    )
    ava = {"name": "Ava Stone", "date_of_birth": DOB}
    assert match(scene.gp, moved["position"], **ava, postcode="LU4 9ZZ").status_code == 200
    assert match(scene.gp, moved["position"], **ava, postcode="LU1 2AB").status_code == 404
    unknown = scene.lead.write(f"{base}/address", {"address": "3 Far Lane", "housing": "shared"})
    assert match(scene.gp, unknown["position"], **ava, postcode="LU4 9ZZ").status_code == 404
    assert match(scene.gp, unknown["position"], **ava).status_code == 200


def test_no_match_and_several_matches_get_the_same_404(scene: Scene) -> None:
    twin = scene.coordinator.write("/api/v1/families", {"children": [{"name": "Ava Stone", "date_of_birth": DOB}]})
    several = match(scene.gp, twin["position"], name="Ava Stone", date_of_birth=DOB)
    none = match(scene.gp, name="Ava Stone", date_of_birth="2026-03-02")
    unknown_number = match(scene.gp, nhs_number=OTHER_NHS)
    assert several.status_code == none.status_code == unknown_number.status_code == 404
    assert several.json() == none.json() == unknown_number.json()


def test_the_next_day_is_just_outside_a_date_of_birth_match(scene: Scene) -> None:
    assert match(scene.gp, scene.position, name="Ava Stone", date_of_birth="2026-02-28").status_code == 404
    assert match(scene.gp, scene.position, name="Ava Stone", date_of_birth=DOB).status_code == 200


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_roles_that_record_no_case_data_may_not_match(scene: Scene, role: str) -> None:
    caller = scene.world.admin() if role == "admin" else scene.auditor
    answer = match(caller, nhs_number=NHS)
    assert answer.status_code == 403
    assert answer.json()["rule"] == "role_not_permitted"


def test_a_match_needs_an_nhs_number_or_a_name_and_date_of_birth(scene: Scene) -> None:
    answer = match(scene.gp, name="Ava Stone")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["body", "date_of_birth"]
    invalid = match(scene.gp, nhs_number="9434765918")
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["body", "nhs_number"]
    assert access_log(scene, scene.gp) == []


def test_every_match_hit_or_miss_is_in_the_access_log(scene: Scene) -> None:
    match(scene.gp, nhs_number=NHS)
    match(scene.gp, nhs_number=OTHER_NHS)
    entries = access_log(scene, scene.gp)
    assert [(e["family_id"], e["what"]) for e in entries] == [
        (scene.family_id, "match by nhs_number"),
        (None, "match by nhs_number: no single family"),
    ]


def test_a_match_is_recorded_on_the_family_once_per_agency_and_child(scene: Scene) -> None:
    before = events(scene)
    match(scene.gp, nhs_number=NHS)
    match(scene.gp_system, scene.position, name="Ava Stone", date_of_birth=DOB)
    assert events(scene) == before + 1


# ----------------------------------------------------- recording after a match


FACTS = [
    ("/contacts", {"kind": "clinic", "outcome": "seen"}),
    ("/concerns", {"source_kind": "professional", "description": "bruise on arm"}),
    ("/children/{child}/registrations", {"service": "gp"}),
    ("/children/{child}/growth", {"weight_kg": 4.2}),
]


@pytest.mark.parametrize(("path", "body"), FACTS)
def test_an_agency_records_facts_only_after_it_matched_the_family(scene: Scene, path: str, body: dict) -> None:
    url = f"/api/v1/families/{scene.family_id}" + path.replace("{child}", scene.child_id)
    assert scene.gp.post(url, body).status_code == 404
    match(scene.gp_system, nhs_number=NHS)  # the agency matched: its people may record
    assert scene.gp.post(url, body).status_code == 201


def test_a_referral_after_a_match_gives_the_referrer_the_whole_record(scene: Scene) -> None:
    match(scene.gp, nhs_number=NHS)
    base = f"/api/v1/families/{scene.family_id}"
    scene.gp.write(f"{base}/referrals", {"source_kind": "agency", "concerns": "weight falling"})
    assert scene.gp.get(base).json()["access"] == "full"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/episodes/{episode}/level", {"level": 3, "reason": "worse"}),
        ("/claims", {"statement": "s", "reported_by": "m"}),
        ("/plans", {"outcomes": ["fed"]}),
        ("/members", {"professional_id": "{gp}"}),
        ("/closure", {"reason": "needs_met", "outcome_summary": "ok"}),
    ],
)
def test_decisions_and_other_records_stay_with_the_team(scene: Scene, path: str, body: dict) -> None:
    match(scene.gp, nhs_number=NHS)
    summary = scene.coordinator.get(f"/api/v1/families/{scene.family_id}").json()
    url = f"/api/v1/families/{scene.family_id}" + path.replace("{episode}", summary["open_episode"]["episode_id"])
    filled = {k: (v.replace("{gp}", scene.gp.id) if isinstance(v, str) else v) for k, v in body.items()}
    assert scene.gp.post(url, filled).status_code == 404


def test_recording_makes_the_agency_involved_for_the_signals(scene: Scene) -> None:
    world = scene.world
    other = scene.coordinator.write(
        "/api/v1/families", {"children": [{"name": "Eli", "date_of_birth": "2019-01-01", "nhs_number": OTHER_NHS}]}
    )
    base = f"/api/v1/families/{other['id']}"
    scene.coordinator.write(f"{base}/episodes", {"level": 2})
    health = world.person(world.agency("health_visiting"))
    match(health, nhs_number=OTHER_NHS)
    match(scene.gp, nhs_number=OTHER_NHS)
    world.run_signal_worker()  # signals are what the worker records (issue 11 item 4)
    signals = {s["signal"] for s in scene.coordinator.get(f"{base}/signals").json()["items"]}
    assert "no_lead_multi_agency" not in signals
    health.write(f"{base}/contacts", {"kind": "clinic", "outcome": "seen"})
    scene.gp.write(f"{base}/contacts", {"kind": "clinic", "outcome": "seen"})
    world.run_signal_worker()
    signals = {s["signal"] for s in scene.coordinator.get(f"{base}/signals").json()["items"]}
    assert "no_lead_multi_agency" in signals


# ------------------------------------------------------------- need-to-know


def test_the_team_sees_which_agencies_know_the_family(scene: Scene) -> None:
    match(scene.gp, nhs_number=NHS)
    known = scene.lead.get(f"/api/v1/families/{scene.family_id}").json()["known_agency_ids"]
    assert scene.gp.agency_id in known


def test_an_agency_that_matched_sees_need_to_know(scene: Scene) -> None:
    match(scene.gp, nhs_number=NHS)
    base = f"/api/v1/families/{scene.family_id}"
    contact = scene.gp.write(f"{base}/contacts", {"kind": "clinic", "outcome": "seen"})
    summary = scene.gp_system.get(base)
    assert summary.status_code == 200
    body = summary.json()
    assert body["access"] == "need_to_know"
    assert body["reference"] and body["id"] == scene.family_id
    assert [c["child_id"] for c in body["children"]] == [scene.child_id]  # the child it matched, not the sibling
    assert body["lead"]["professional_id"] == scene.lead.id
    assert body["lead_contact"]["name"] == "Lena Lead" and "@" in body["lead_contact"]["email"]
    assert [(r["version"], r["type"]) for r in body["recorded_by_your_agency"]] == [
        (contact["version"] - 1, "FamilyMatched"),
        (contact["version"], "ContactRecorded"),
    ]
    assert not {"carers", "taf_members", "signals", "open_episode", "address"} & set(body)


def test_need_to_know_reads_are_in_the_access_log(scene: Scene) -> None:
    match(scene.gp, nhs_number=NHS)
    scene.gp.get(f"/api/v1/families/{scene.family_id}")
    assert access_log(scene, scene.gp)[-1]["what"] == "summary (need-to-know)"


def test_the_chronology_shows_an_agency_that_only_knows_the_family_its_own_rows(scene: Scene) -> None:
    match(scene.gp, nhs_number=NHS)
    base = f"/api/v1/families/{scene.family_id}"
    contact = scene.gp.write(f"{base}/contacts", {"kind": "clinic", "outcome": "seen"})
    rows = scene.gp.get(f"{base}/chronology", headers={"X-Consistent-With": str(contact["position"])}).json()["items"]
    assert [(r["version"], r["event_type"]) for r in rows] == [
        (contact["version"] - 1, "FamilyMatched"),
        (contact["version"], "ContactRecorded"),
    ]
    assert rows[0]["what_happened"] == "Family found by an agency that knows the child, by NHS number"
    everything = scene.coordinator.get(f"{base}/chronology").json()["items"]
    assert len(everything) > 1


@pytest.mark.parametrize("path", ["/closure", "/transfer", "/signals", "/signal-history", "/events", "/integrity"])
def test_other_family_reads_answer_404_to_an_agency_that_only_knows_the_family(scene: Scene, path: str) -> None:
    match(scene.gp_system, nhs_number=NHS)
    history = path in ("/events", "/integrity")  # the audit reads are not a person practitioner's
    assert scene.gp.get(f"/api/v1/families/{scene.family_id}{path}").status_code == (403 if history else 404), path
    assert scene.gp_system.get(f"/api/v1/families/{scene.family_id}{path}").status_code == 404, path


def test_a_family_known_only_by_need_to_know_is_in_none_of_the_lists(scene: Scene) -> None:
    match(scene.gp, nhs_number=NHS)
    scene.gp.write(f"/api/v1/families/{scene.family_id}/contacts", {"kind": "clinic", "outcome": "seen"})
    assert scene.gp.get("/api/v1/families").json()["items"] == []
    assert scene.gp.get("/api/v1/watchlist").json()["items"] == []
    assert scene.gp.get("/api/v1/actions").json()["items"] == []
    assert scene.gp_system.get("/api/v1/events").json()["items"] == []


def test_an_agency_that_did_not_match_gets_404(scene: Scene) -> None:
    assert scene.gp.get(f"/api/v1/families/{scene.family_id}").status_code == 404
