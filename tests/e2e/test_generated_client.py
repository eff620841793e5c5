"""The main journey through a Python client generated from `/openapi.json`, as an integrator would.

`openapi-python-client` (from PyPI, the dev extras) generates the client into a temporary
directory at test time from the running server's document; nothing is vendored. The
journey: register a family, a referral, an episode, a lead, a contact, a closure request,
and the worker's decision on it, seen through the event feed and through a webhook whose
receiver (on loopback, allowed by TAF_WEBHOOK_ALLOWED_HOSTS) verifies every delivery with
the `standardwebhooks` library.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.e2e.api_client import ADMIN_KEY, Server, start_server, stop_server
from tests.integration.webhook_receiver import VerifyingReceiver, verifying_receiver

__all__ = ["verifying_receiver"]  # the fixture

PACKAGE = "taf_generated_client"
DECISIONS = {"HandoverBlocked", "EpisodeClosed"}  # what the handover worker records on a closure request
WAIT_SECONDS = 120  # a bound for a loaded machine (the worker sends webhooks every 5 s), not a timing claim

pytestmark = pytest.mark.timeout(420)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("generated"), TAF_WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    try:
        yield running
    finally:
        stop_server(running)


class GeneratedApi:
    """The generated package, its operations found by method and path (whatever their operationIds)."""

    def __init__(self, root: Path):
        self.package = importlib.import_module(PACKAGE)
        self.operations: dict[tuple[str, str], ModuleType] = {}
        for source in (root / PACKAGE / "api").rglob("*.py"):
            text = source.read_text()
            method = re.search(r'"method": "(\w+)"', text)
            url = re.search(r'"url": "([^"]+)"', text)
            if method and url:
                name = ".".join(source.relative_to(root).with_suffix("").parts)
                self.operations[(method.group(1).upper(), url.group(1))] = importlib.import_module(name)

    def client(self, key: str, base_url: str) -> Any:
        """The generated AuthenticatedClient, sending the key as a bearer token."""
        return self.package.AuthenticatedClient(base_url=base_url, token=key, timeout=httpx.Timeout(30.0))

    def call(self, client: Any, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        """Call an operation through its generated function; the parsed answer, after checking it is a 2xx."""
        operation = self.operations[(method, path)]
        if body is not None:
            model = inspect.signature(operation.sync_detailed).parameters["body"].annotation
            params["body"] = model.from_dict(body)
        answer = operation.sync_detailed(client=client, **params)
        assert 200 <= answer.status_code < 300, (method, path, answer.status_code, answer.content)
        return answer.parsed


@pytest.fixture(scope="module")
def api(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeneratedApi]:
    root = tmp_path_factory.mktemp("client")
    spec = root / "openapi.json"
    spec.write_bytes(httpx.get(f"{server.url}/openapi.json", timeout=30).raise_for_status().content)
    tools = Path(sys.executable).parent  # openapi-python-client, and the ruff it formats with
    generated = subprocess.run(
        [str(tools / "openapi-python-client"), "generate", "--path", str(spec), "--meta", "none"]
        + ["--output-path", str(root / PACKAGE)],
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout  # every operation and model generated
    sys.path.insert(0, str(root))
    try:
        yield GeneratedApi(root)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def wait_until(check: Callable[[], Any], what: str) -> Any:
    """Poll until `check` answers something truthy; fail naming what never came."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what} did not come within {WAIT_SECONDS} s")


def test_the_main_journey_through_a_generated_client(
    server: Server, api: GeneratedApi, verifying_receiver: VerifyingReceiver
) -> None:
    admin = api.client(ADMIN_KEY, server.url)

    def agency(kind: str) -> str:
        return str(api.call(admin, "POST", "/api/v1/agencies", {"name": f"{kind} agency", "kind": kind}).id)

    def person(agency_id: str, role: str, is_system: bool = False) -> tuple[str, Any]:
        body = {"name": f"A {role}", "agency_id": agency_id, "role": role, "is_system": is_system}
        body["email"] = f"{role}.{len(body['name'])}.{time.monotonic_ns()}@example.org"
        professional = str(api.call(admin, "POST", "/api/v1/professionals", body).id)
        key = api.call(admin, "POST", "/api/v1/api-keys", {"professional_id": professional}).key
        return professional, api.client(key, server.url)

    early_help, police = agency("early_help"), agency("police")
    _, coordinator = person(early_help, "coordinator")
    lead_id, lead = person(early_help, "practitioner")
    _, system = person(early_help, "practitioner", is_system=True)  # the agency's own system

    hook = api.call(system, "POST", "/api/v1/webhooks", {"url": verifying_receiver.url})
    verifying_receiver.secret = hook.secret
    family = api.call(
        coordinator, "POST", "/api/v1/families", {"children": [{"name": "Kit", "date_of_birth": "2025-11-02"}]}
    )
    fid = UUID(str(family.id))
    base = "/api/v1/families/{family_id}"
    referral = {"source_kind": "agency", "source_agency_id": police, "concerns": "Missed health visits"}
    api.call(coordinator, "POST", f"{base}/referrals", referral, family_id=fid)
    api.call(coordinator, "POST", f"{base}/episodes", {"level": 2}, family_id=fid)
    api.call(coordinator, "POST", f"{base}/lead", {"professional_id": lead_id}, family_id=fid)
    api.call(lead, "POST", f"{base}/contacts", {"kind": "home_visit", "outcome": "seen"}, family_id=fid)
    closure = {"reason": "needs_met", "outcome_summary": "Attendance is back to normal"}
    api.call(lead, "POST", f"{base}/closure", closure, family_id=fid)

    status = wait_until(
        lambda: (s := api.call(lead, "GET", f"{base}/closure", family_id=fid).status) != "pending" and s,
        "the worker's decision on the closure request",
    )

    def family_events_in_feed() -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        page = api.call(system, "GET", "/api/v1/events", after=0, limit=500)
        while True:
            events.extend(item.to_dict() for item in page.items)
            if not page.next_cursor:
                return [e for e in events if e["family_id"] == str(fid)]
            page = api.call(system, "GET", "/api/v1/events", cursor=page.next_cursor, limit=500)

    in_feed = wait_until(
        lambda: (events := family_events_in_feed()) and events[-1]["type"] in DECISIONS and events,
        "the decision in the feed",
    )
    delivered = wait_until(
        lambda: (
            len([e for e in verifying_receiver.processed if e["family_id"] == str(fid)]) >= len(in_feed)
            and [e for e in verifying_receiver.processed if e["family_id"] == str(fid)]
        ),
        "the decision at the webhook",
    )

    assert str(status) in ("blocked", "completed")
    assert [e["type"] for e in in_feed[:6]] == [
        "FamilyRegistered",
        "ReferralReceived",
        "EpisodeOpened",
        "LeadProfessionalAssigned",
        "ContactRecorded",
        "ClosureRequested",
    ]
    assert [(e["type"], e["version"], e["position"]) for e in delivered] == [
        (e["type"], e["version"], e["position"]) for e in in_feed
    ]
    assert verifying_receiver.rejected == []  # every delivery verified with the library
    log = api.call(system, "GET", "/api/v1/webhooks/{webhook_id}/deliveries", webhook_id=UUID(str(hook.id)))
    assert {str(d.status) for d in log.items} == {"delivered"}
