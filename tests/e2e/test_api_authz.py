"""The authorisation matrix: for each role and each route, the answer the caller gets.

"ok" means the request passed authentication, role and scope (it may still be refused
for its body or the family's state); 403 is a role that may not do this; 404 is a family
outside the caller's scope, answered exactly as a family that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import httpx
import pytest

from tests.e2e.api_client import ADMIN_KEY, Directory, Person, Server, api_server, register_family

__all__ = ["api_server"]

F = "/api/v1/families/{family_id}"
READ = [
    ("GET", F),
    ("GET", F + "/closure"),
    ("GET", F + "/transfer"),
    ("GET", F + "/signals"),
    ("GET", F + "/signal-history"),
    ("GET", F + "/chronology"),
    ("GET", F + "/carried-forward"),
    ("GET", F + "/step-ups"),
    ("GET", F + "/step-ups/{x}"),
    ("GET", F + "/disagreements"),
    ("GET", F + "/children/{x}/growth"),
]
WRITE = [
    ("POST", F + p)
    for p in (
        "/children",
        "/children/{x}/birth",
        "/address",
        "/left-area",
        "/returned",
        "/referrals",
        "/referrals/{x}/decision",
        "/concerns",
        "/concerns/{x}/response",
        "/consents",
        "/consents/{x}/withdrawal",
        "/sharing-decisions",
        "/episodes",
        "/episodes/{x}/level",
        "/members",
        "/plans",
        "/meetings",
        "/actions",
        "/actions/{x}/completion",
        "/actions/{x}/reassignment",
        "/actions/{x}/cancellation",
        "/contacts",
        "/children/{x}/growth",
        "/children/{x}/registrations",
        "/claims",
        "/claims/{x}/verification",
        "/assessments",
        "/assessments/{x}/start",
        "/assessments/{x}/completion",
        "/assessments/{x}/declination",
        "/history-review",
        "/corrections",
        "/transfer/acceptance",
        "/handover-steps",
        "/referrals/{x}/feedback",
        "/children/{x}/voice",
        "/family-views",
        "/children/{x}/universal-reviews",
        "/circumstances",
        "/children/{x}/birth-details",
        "/lead-proposals/{x}/acceptance",
        "/lead-proposals/{x}/refusal",
        "/step-ups",
        "/step-ups/{x}/outcome",
        "/disagreements",
        "/disagreements/{x}/escalation",
        "/disagreements/{x}/resolution",
    )
] + [("DELETE", F + "/members/{x}"), ("DELETE", F + "/closure"), ("DELETE", F + "/transfer")]
LEAD = [("POST", F + "/lead"), ("POST", F + "/lead-proposals")]
ALLOCATION_QUEUE = [("GET", "/api/v1/allocation-queue")]
SUPERVISION = [("POST", F + "/supervision"), ("POST", F + "/claims/{x}/decision"), ("POST", F + "/signal-reviews")]
HANDOVER = [("POST", F + "/closure"), ("POST", F + "/transfer")]
CREATE_FAMILY = [("POST", "/api/v1/families")]
MATCH = [("POST", "/api/v1/families/match")]
DIRECTORY_WRITE = [
    ("POST", "/api/v1/agencies"),
    ("POST", "/api/v1/professionals"),
    ("POST", "/api/v1/api-keys"),
    ("POST", "/api/v1/professionals/{x}/password"),
    ("POST", "/api/v1/professionals/{x}/deactivation"),
]
DIRECTORY_READ = [("GET", "/api/v1/agencies"), ("GET", "/api/v1/professionals")]
KEY_REVOKE = [("DELETE", "/api/v1/api-keys/{x}")]
EVENT_FEED = [("GET", "/api/v1/events")]
CASE_LISTS = [
    ("GET", "/api/v1/watchlist"),
    ("GET", "/api/v1/families"),
    ("GET", "/api/v1/actions"),
    ("GET", "/api/v1/worklist"),
]
WEBHOOKS = [
    ("POST", "/api/v1/webhooks"),
    ("PATCH", "/api/v1/webhooks/{x}"),
    ("POST", "/api/v1/webhooks/{x}/secret-rotations"),
    ("POST", "/api/v1/webhooks/{x}/redeliveries"),
]
WEBHOOK_MANAGEMENT = [
    ("GET", "/api/v1/webhooks"),
    ("GET", "/api/v1/webhooks/{x}"),
    ("POST", "/api/v1/webhooks/{x}/pause"),
    ("POST", "/api/v1/webhooks/{x}/resume"),
    ("DELETE", "/api/v1/webhooks/{x}"),
    ("GET", "/api/v1/webhooks/{x}/deliveries"),
]
DELIVERY_SKIP = [("POST", "/api/v1/webhooks/{x}/deliveries/{x}/skip")]
AUDIT = [("GET", F + "/events"), ("GET", F + "/state"), ("GET", F + "/integrity")]
ACCESS_LOG = [("GET", "/api/v1/access-log")]

ACTORS = ["admin", "auditor", "coordinator", "manager_in", "manager_out", "lead", "outsider", "system_in", "system_out"]
# category -> expected answer per actor, in ACTORS order
MATRIX: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "read": (READ, ["403", "ok", "ok", "ok", "404", "ok", "404", "ok", "404"]),
    "write": (WRITE, ["403", "403", "ok", "ok", "404", "ok", "404", "ok", "404"]),
    "lead": (LEAD, ["403", "403", "ok", "ok", "404", "403", "403", "403", "403"]),
    "supervision": (SUPERVISION, ["403", "403", "403", "ok", "404", "403", "403", "403", "403"]),
    "handover": (HANDOVER, ["403", "403", "ok", "ok", "404", "ok", "404", "ok", "404"]),
    "create_family": (CREATE_FAMILY, ["403", "403", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    "match": (MATCH, ["403", "403", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    "directory_write": (DIRECTORY_WRITE, ["ok", "403", "403", "403", "403", "403", "403", "403", "403"]),
    "directory_read": (DIRECTORY_READ, ["ok"] * 9),
    # an admin, or the key's own professional; anyone else's key answers 404 as an unknown one does
    "key_revoke": (KEY_REVOKE, ["ok"] * 9),
    # filtered to the caller's scope, so every case reader gets an answer
    "case_lists": (CASE_LISTS, ["403", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    # a webhook carries case data out to an agency system: roles that record for families
    "webhooks": (WEBHOOKS, ["403", "403", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    # admins list, pause and delete any webhook (API.md), without payloads
    "webhook_management": (WEBHOOK_MANAGEMENT, ["ok", "403", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    # a failed delivery is given up for good by an admin only (its owner redelivers it)
    "delivery_skip": (DELIVERY_SKIP, ["ok", "403", "403", "403", "403", "403", "403", "403", "403"]),
    # full histories (API.md's one rule): auditors, coordinators, managers and agency systems in scope
    "event_feed": (EVENT_FEED, ["403", "ok", "ok", "ok", "ok", "403", "403", "ok", "ok"]),
    "audit": (AUDIT, ["403", "ok", "ok", "ok", "404", "403", "403", "ok", "404"]),
    "access_log": (ACCESS_LOG, ["403", "ok", "403", "403", "403", "403", "403", "403", "403"]),
    # the coordinators' queue of families that need a lead
    "allocation_queue": (ALLOCATION_QUEUE, ["403", "403", "ok", "403", "403", "403", "403", "403", "403"]),
}


@dataclass
class World:
    """A family agency A works with, and callers of every role inside and outside its scope."""

    family_id: str
    actors: dict[str, httpx.Client]
    server: Server


@pytest.fixture(scope="module")
def world(api_server: Server) -> World:
    directory = Directory(api_server)
    a, b, c = directory.agency("health_visiting"), directory.agency("police"), directory.agency("early_help")
    coordinator = directory.person(c, "coordinator")
    lead: Person = directory.person(a)
    people = {
        "auditor": directory.person(c, "auditor"),
        "coordinator": coordinator,
        "lead": lead,
        "manager_in": directory.person(a, "manager"),
        "manager_out": directory.person(b, "manager"),
        "outsider": directory.person(b),
        "system_in": directory.person(a, is_system=True),
        "system_out": directory.person(b, is_system=True),
    }
    family = register_family(coordinator)
    base = f"/api/v1/families/{family['id']}"
    assert coordinator.post(f"{base}/episodes", {"level": 2}).status_code == 201
    assert coordinator.post(f"{base}/lead", {"professional_id": lead.id}).status_code == 201
    actors = {name: person.http for name, person in people.items()}
    actors["admin"] = api_server.client(ADMIN_KEY)
    return World(family["id"], actors, api_server)


def outcome(answer: httpx.Response) -> str:
    """ok (passed auth, role and scope), 403, 404 (family hidden), or the unexpected status."""
    if answer.status_code >= 500 or answer.status_code == 401:
        return str(answer.status_code)
    if answer.status_code == 403:
        return "403"
    if answer.status_code == 404 and answer.json()["detail"].startswith("no family"):
        return "404"
    return "ok"


def call(client: httpx.Client, method: str, template: str, family_id: str) -> httpx.Response:
    path = template.replace("{family_id}", family_id).replace("{x}", str(uuid4()))
    if method == "GET":
        return client.get(path)
    return client.request(method, path, json={})


@pytest.mark.parametrize("actor", ACTORS)
def test_each_route_answers_each_role_as_the_matrix_says(world: World, actor: str) -> None:
    column = ACTORS.index(actor)
    wrong = []
    for category, (routes, expected) in MATRIX.items():
        for method, template in routes:
            got = outcome(call(world.actors[actor], method, template, world.family_id))
            if got != expected[column]:
                wrong.append(f"{method} {template} ({category}): expected {expected[column]}, got {got}")
    assert wrong == []


def test_matrix_covers_every_route_of_the_api(world: World) -> None:
    spec = httpx.get(f"{world.server.url}/openapi.json").json()
    covered = {(m, t.replace("{x}", "{}")) for routes, _ in MATRIX.values() for m, t in routes}
    import re

    documented = {
        (method.upper(), re.sub(r"\{(?!family_id)[a-z_]+\}", "{}", path))
        for path, operations in spec["paths"].items()
        for method in operations
        if path.startswith("/api/v1/")
    }
    assert documented - covered == set()


def test_out_of_scope_family_answers_exactly_like_an_absent_one(world: World) -> None:
    outsider = world.actors["outsider"]
    hidden = outsider.get(f"/api/v1/families/{world.family_id}")
    absent_id = str(uuid4())
    absent = outsider.get(f"/api/v1/families/{absent_id}")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == {**absent.json(), "detail": absent.json()["detail"].replace(absent_id, world.family_id)}


def test_practitioner_of_an_agency_with_no_part_never_sees_the_family(world: World) -> None:
    for actor in ("outsider", "system_out", "manager_out"):
        for _, template in READ:
            answer = call(world.actors[actor], "GET", template, world.family_id)
            assert answer.status_code == 404, (actor, template)


def test_missing_or_unknown_key_is_401_problem(world: World) -> None:
    anonymous = world.server.client(None)
    for client in (anonymous, world.server.client("not-a-key")):
        answer = client.get(f"/api/v1/families/{world.family_id}")
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.headers["www-authenticate"] == "Bearer"


def test_scope_follows_involvement_once_a_practitioner_joins_the_team(world: World) -> None:
    directory = Directory(world.server)
    newcomer = directory.person(directory.agency("school"))
    base = f"/api/v1/families/{world.family_id}"
    assert newcomer.get(base).status_code == 404
    assert world.actors["coordinator"].post(f"{base}/members", json={"professional_id": newcomer.id}).status_code == 201
    assert newcomer.get(base).status_code == 200
