"""Schemathesis 4.x with every check over /openapi.json, as the bootstrap admin and as a coordinator.

A family with an open episode, a lead, a child and one of each entry (referral, concern, consent,
claim, assessment, action) is seeded through the API; their ids reach schemathesis through the
environment (`tests/contract/schemathesis.toml` binds them to the path parameters), so generated
requests land on real resources. The run is deterministic (fixed seed, deterministic generation)
and bounded (`max-examples` per operation). It prints the counts the lead quotes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.api_client import ADMIN_KEY, Directory, Person, Server, register_family, start_server, stop_server

pytestmark = pytest.mark.schemathesis

HERE = Path(__file__).parent
CONFIG = HERE / "schemathesis.toml"
ROOT = HERE.parent.parent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A `taf serve` whose webhooks may reach the loopback address (the seeded subscription)."""
    server = start_server(tmp_path_factory.mktemp("schemathesis"), TAF_WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    try:
        yield server
    finally:
        stop_server(server)


@dataclass
class World:
    """The seeded directory and family, and the keys to call as."""

    coordinator: Person
    ids: dict[str, str]


def _created(answer_json: dict[str, object]) -> str:
    return str(answer_json["id"])


def seed(server: Server) -> World:
    """One agency with a coordinator (the lead), a practitioner in the team and a spare professional."""
    directory = Directory(server)
    agency = directory.agency()
    coordinator = directory.person(agency, "coordinator")
    member = directory.person(agency, "practitioner")
    manager = directory.person(agency, "manager")
    leaver = directory.person(agency, "practitioner")
    joiner = directory.person(agency, "practitioner")
    auditor = directory.person(directory.agency(), "auditor")
    spare = directory.person(agency, "practitioner")
    spare_key = directory.admin.post("/api/v1/api-keys", json={"professional_id": spare.id})
    assert spare_key.status_code == 201, spare_key.text
    family = register_family(coordinator, children=[{"name": "Baby", "date_of_birth": "2026-01-10"}])
    base = f"/api/v1/families/{family['id']}"

    def post(path: str, body: dict[str, object]) -> str:
        answer = coordinator.post(base + path, body)
        assert answer.status_code in (201, 202), (path, answer.text)
        return _created(answer.json())

    episode_id = post("/episodes", {"level": 2})
    unverified_claim = post("/claims", {"statement": "Dad has moved out", "reported_by": "Mum"})
    post(f"/claims/{unverified_claim}/verification", {"outcome": "unable_to_verify", "method": "Asked the school"})
    post("/lead", {"professional_id": coordinator.id})
    post("/members", {"professional_id": member.id})
    post("/members", {"professional_id": leaver.id})
    ids = {
        "FAMILY_ID": str(family["id"]),
        "CHILD_ID": str(family["child_ids"][0]),
        "EPISODE_ID": episode_id,
        "REFERRAL_ID": post("/referrals", {"source_kind": "agency", "concerns": "Missed visits"}),
        "CONCERN_ID": post("/concerns", {"source_kind": "professional", "description": "Bruise"}),
        "CONSENT_ID": post(
            "/consents", {"given_by": "Mum", "capacity": "parental_responsibility", "scope": "All agencies"}
        ),
        "CLAIM_ID": post("/claims", {"statement": "Registered with a GP", "reported_by": "Mum"}),
        "UNVERIFIED_CLAIM_ID": unverified_claim,
        "ASSESSMENT_ID": post("/assessments", {"kind": "early_help"}),
        "STARTED_ASSESSMENT_ID": post("/assessments", {"kind": "early_help"}),
        "COMPLETED_ASSESSMENT_ID": post("/assessments", {"kind": "early_help"}),
        "DECLINED_ASSESSMENT_ID": post("/assessments", {"kind": "early_help"}),
        "ACTION_ID": post("/actions", {"description": "Visit", "owner_id": member.id, "due_on": "2027-01-01"}),
        "REASSIGNED_ACTION_ID": post(
            "/actions", {"description": "Call", "owner_id": coordinator.id, "due_on": "2027-01-01"}
        ),
        "CANCELLED_ACTION_ID": post("/actions", {"description": "Book", "owner_id": member.id, "due_on": "2027-01-01"}),
        "PROFESSIONAL_ID": spare.id,
        "MEMBER_ID": member.id,
        "LEAVER_ID": leaver.id,
        "JOINER_ID": joiner.id,
        "MANAGER_ID": manager.id,
        "AGENCY_ID": agency,
        "SOCIAL_CARE_ID": directory.agency("social_care"),
        "MANAGER_KEY": manager.key,
        "AUDITOR_KEY": auditor.key,
        "KEY_ID": str(spare_key.json()["id"]),
    }
    without_episode = register_family(coordinator, children=[{"name": "Twin", "date_of_birth": "2025-05-05"}])
    without_lead = register_family(coordinator, children=[{"name": "Sam", "date_of_birth": "2024-04-04"}])
    opened = coordinator.post(f"/api/v1/families/{without_lead['id']}/episodes", {"level": 1})
    assert opened.status_code == 201, opened.text
    ids["FAMILY_WITHOUT_EPISODE_ID"] = str(without_episode["id"])
    ids["FAMILY_WITHOUT_LEAD_ID"] = str(without_lead["id"])
    expecting = coordinator.post(base + "/children", {"name": "Bump", "expected_on": "2026-12-20"})
    assert expecting.status_code == 201, expecting.text
    ids["EXPECTED_CHILD_ID"] = str(expecting.json()["id"])
    ids["STEP_UP_ID"] = post("/step-ups", {"reason": "Neglect continues despite the plan"})
    ids["DISAGREEMENT_ID"] = post("/disagreements", {"about": "The plan", "level": 1, "detail": "Too little"})
    proposing = register_family(coordinator, children=[{"name": "Ali", "date_of_birth": "2023-03-03"}])
    proposal = coordinator.post(
        f"/api/v1/families/{proposing['id']}/lead-proposals",
        {"professional_id": coordinator.id, "reason": "Knows them"},
    )
    assert proposal.status_code == 201, proposal.text
    ids["PROPOSAL_FAMILY_ID"] = str(proposing["id"])
    ids["PROPOSAL_ID"] = str(proposal.json()["id"])
    refusing = register_family(coordinator, children=[{"name": "Bo", "date_of_birth": "2023-02-02"}])
    refused = coordinator.post(
        f"/api/v1/families/{refusing['id']}/lead-proposals",
        {"professional_id": coordinator.id, "reason": "Knows them"},
    )
    assert refused.status_code == 201, refused.text
    ids["REFUSAL_FAMILY_ID"] = str(refusing["id"])
    ids["REFUSED_PROPOSAL_ID"] = str(refused.json()["id"])
    closure = coordinator.post(base + "/closure", {"reason": "needs_met", "outcome_summary": "Met"})
    assert closure.status_code == 202, closure.text
    ids["REQUEST_ID"] = str(closure.json()["request_id"])
    hook = coordinator.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook"})
    assert hook.status_code == 201, hook.text
    ids["WEBHOOK_ID"] = str(hook.json()["id"])
    spare_hook = coordinator.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/spare"})
    assert spare_hook.status_code == 201, spare_hook.text
    ids["SPARE_WEBHOOK_ID"] = str(spare_hook.json()["id"])
    ids["DELIVERY_ID"] = first_delivery(coordinator, ids["WEBHOOK_ID"], base)
    return World(coordinator, ids)


def first_delivery(coordinator: Person, webhook_id: str, base: str) -> str:
    """The id of the webhook's first delivery: a contact is recorded, then the relay queues it."""
    assert coordinator.post(base + "/contacts", {"kind": "phone", "outcome": "seen"}).status_code == 201
    deadline = time.monotonic() + 60  # a bound for a loaded machine, not a timing claim
    while time.monotonic() < deadline:
        items = coordinator.get(f"/api/v1/webhooks/{webhook_id}/deliveries").json()["items"]
        if items:
            return str(items[0]["id"])
        time.sleep(0.5)
    raise AssertionError("the relay queued no delivery")


@dataclass
class Counts:
    """What one schemathesis run did."""

    operations: int
    cases: int
    failures: int
    exit_code: int
    output: str


# The suite's run draws schemathesis.toml's max-examples per operation (25, within the suite's time
# budget); a longer run by hand: TAF_SCHEMATHESIS_EXAMPLES=300 bin/test -m schemathesis -s
LONGER_RUN = os.environ.get("TAF_SCHEMATHESIS_EXAMPLES", "")
TIMEOUT = 7200 if LONGER_RUN else 600

# Each role runs the operations it may call: the admin the directory, the coordinator everything else
# (the manager-only and auditor-only operations with those keys, see schemathesis.toml).
DIRECTORY = "^/api/v1/(agencies|professionals|api-keys|webhooks/[^/]+/deliveries/[^/]+/skip)"
SCOPE = {"admin": ["--include-path-regex", DIRECTORY], "coordinator": ["--exclude-path-regex", DIRECTORY]}


def run_schemathesis(server: Server, world: World, role: str, key: str, report: Path) -> Counts:
    """`st run` over the served document with every check, as the holder of `key`."""
    env = {
        **os.environ,
        **{f"TAF_ST_{name}": value for name, value in world.ids.items()},
        "TAF_ST_KEY": key,
        "TAF_ST_BASE_URL": server.url,
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        *SCOPE[role],
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--no-color",
        *(["--max-examples", LONGER_RUN] if LONGER_RUN else []),
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    return Counts(*_count(report), exit_code=done.returncode, output=done.stdout + done.stderr)


def _count(report: Path) -> tuple[int, int, int]:
    operations: set[str] = set()
    cases = 0
    failures = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for kind, data in event.items():
            if kind == "ScenarioFinished":
                recorder = data.get("recorder", {})
                operations.add(recorder.get("label", ""))
                cases += len(recorder.get("cases", {}))
                for checks in recorder.get("checks", {}).values():
                    failures += sum(1 for check in checks if check.get("status") == "FAILURE")
    return len(operations), cases, failures


@pytest.mark.timeout(TIMEOUT)  # a bound for a loaded machine; the run itself is bounded by max-examples
@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_schemathesis_finds_nothing(server: Server, role: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    world = seed(server)
    key = ADMIN_KEY if role == "admin" else world.coordinator.key
    counts = run_schemathesis(server, world, role, key, tmp_path / "report.ndjson")
    (tmp_path / "schemathesis.txt").write_text(counts.output)
    line = (
        f"schemathesis as {role}: {counts.operations} operations, {counts.cases} cases, "
        f"{counts.failures} failures (exit {counts.exit_code})"
    )
    print(f"\n{line}")
    request.node.user_properties.append(("schemathesis", line))  # the closing summary's line (tests/conftest.py)
    assert counts.exit_code == 0 and counts.failures == 0, f"{tmp_path / 'schemathesis.txt'}\n{counts.output[-20000:]}"
