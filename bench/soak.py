"""Soak: mixed commands through HTTP while the projector, worker, relay and Redis die at random; then checks.

    .venv/bin/python -m bench.soak [--seconds 180] [--seed 1] [--threads 4] [--settle 60] [--keep]

Loopback only. It starts its own redis-server on a spare port (no persistence), a fresh
PostgreSQL schema in TAF_TEST_DATABASE_URL's database, and the deployment mode's processes
with the `taf` command (`migrate`, then `serve`, `projector`, `relay`, `worker`, `beat`),
with an SMTP sink and a webhook receiver of its own. Through the bootstrap admin key it
creates agencies, professionals and their keys, subscribes a coordinator's webhook, and
then a few threads register families and record contacts, concerns, meetings and
actions, closures and transfers with their handover steps done, recording every
acknowledged write. Meanwhile a chaos thread SIGKILLs the projector, the worker, the
relay or Redis (which comes back empty) at random and starts it again, and restarts any
process that died by itself (as a container's restart policy would).

After `--seconds` it stops the chaos, lets everything settle (at most `--settle`
seconds), stops the processes and checks; each check prints its counts and ends in a
line `RESULT soak_<check> <problems> goal 0 met|short`:

- writes: every acknowledged write is in the event store: its family has the version
  answered, and its events name the id answered;
- notifications: every decided handover (EpisodeClosed, LeadProfessionalTransferred) has
  exactly one in-app notification and one email per recipient (the lead and TAF members
  just before the decision, and the incoming lead of a transfer);
- webhooks: every family event since the subscription was delivered (answered 2xx)
  exactly once, and in order per family;
- read models: every read-model table, the watchlist's among them, equals its rebuild
  (`taf projections rebuild`);
- audit: `taf audit verify --all` finds no broken chain.

Two more lines count what the issue says must never happen under load: facts refused
(409 `concurrent_change` to writes without If-Match) and server errors (5xx).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TAF = str(Path(sys.executable).parent / "taf")
PG_URL = os.environ.get("TAF_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
CELERY_QUEUE = "taf"  # TAF_QUEUE's default
CHAOS_VICTIMS = ("projector", "worker", "relay", "redis")
CLOSURE_STEPS_BY_LEAD = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")
TRANSFER_STEPS_BY_LEAD = ("chronology_shared", "family_informed")
DECIDED = {"EpisodeClosed": "episode_closed", "LeadProfessionalTransferred": "lead_transferred"}
EMAIL_KINDS = {"episode closed": "episode_closed", "lead professional transferred": "lead_transferred"}
FAMILY_TOPIC = "domain.family:Family."
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HANDOVER_EVENTS = ("ClosureRequested", "TransferRequested", "RequestWithdrawn", *DECIDED)
# PostgreSQL connections per process (eventsourcing's pool size and overflow, read under the application
# name's prefix, TAF_), kept small so the stack fits a database server shared with others.
POOLS = {"serve": (3, 10), "soak": (1, 3)}
DEFAULT_POOL = (1, 4)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """Poll check() until it returns something truthy or the timeout passes (then its last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


# ------------------------------------------------------------------ the edges: mail and webhooks


class MailSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP to take every message and keep (recipient, subject)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.lock = threading.Lock()
        self.received: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        """TAF_SMTP_URL for the worker."""
        return f"smtp://127.0.0.1:{self.server_address[1]}"


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        import email

        def reply(text: str) -> None:
            self.wfile.write(f"{text}\r\n".encode())

        reply("220 soak smtp")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip()
            if verb.upper().startswith("RCPT"):
                recipients.append(verb.split(":", 1)[1].strip(" <>"))
                reply("250 ok")
            elif verb.upper() == "DATA":
                reply("354 go on")
                body = b"".join(iter(self.rfile.readline, b".\r\n"))
                subject = str(email.message_from_bytes(body)["Subject"] or "")
                with self.server.lock:  # type: ignore[attr-defined]
                    self.server.received.extend((r, subject) for r in recipients)  # type: ignore[attr-defined]
                recipients = []
                reply("250 queued")
            elif verb.upper() == "QUIT":
                reply("221 bye")
                return
            else:
                reply("250 ok")


@dataclass(frozen=True)
class Delivered:
    """One event a webhook delivery carried and the receiver acknowledged, in arrival order."""

    seq: int
    family_id: str
    version: int
    position: int


class HookReceiver(ThreadingHTTPServer):
    """The agency system at the other end of the webhook: records every event it acknowledges.

    It answers 503 to a small random share of deliveries, so retries are exercised; those
    are not counted as delivered. A body may hold one event or a batch (a list, or an
    object with `events`), so the check survives batched delivery.
    """

    daemon_threads = True

    def __init__(self, failure_rate: float, seed: int) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.failure_rate = failure_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.delivered: list[Delivered] = []
        self.refused = 0

    @property
    def url(self) -> str:
        """The URL to subscribe."""
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def accept(self, body: bytes) -> bool:
        """Record the events of one delivery, or refuse it (False) at the failure rate."""
        with self.lock:
            if self.rng.random() < self.failure_rate:
                self.refused += 1
                return False
            for event in events_in(json.loads(body)):
                self.delivered.append(
                    Delivered(
                        len(self.delivered),
                        str(event["family_id"]),
                        int(event["version"]),
                        int(event.get("position") or 0),
                    )
                )
            return True

    def received(self) -> list[Delivered]:
        """What was delivered so far."""
        with self.lock:
            return list(self.delivered)


def events_in(payload: Any) -> list[dict[str, Any]]:
    """The events of one webhook body: a single event, a list of them, or an object with `events`."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("events"), list):
        return list(payload["events"])
    return [payload]


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200 if self.server.accept(body) else 503)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        """Quiet: the soak prints its own summary."""


# ------------------------------------------------------------------ processes


@dataclass
class Service:
    """One process of the deployment, in a process group of its own so a kill takes its children too."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    crashes: int = 0


class Stack:
    """The soak's own redis-server, PostgreSQL schema, temp dir and `taf` processes; `close()` ends them all."""

    def __init__(self, workdir: Path, schema: str, env: dict[str, str], redis_port: int, api_port: int):
        self.workdir = workdir
        self.schema = schema
        self.env = env
        self.redis_port = redis_port
        self.api_port = api_port
        self.lock = threading.RLock()
        self.services = {
            "redis": Service(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                ],
            ),
            "serve": Service("serve", [TAF, "serve", "--port", str(api_port)]),
            "projector": Service("projector", [TAF, "projector"]),
            "relay": Service("relay", [TAF, "relay"]),
            "worker": Service(
                "worker",
                [
                    TAF,
                    "worker",
                    "--concurrency=2",
                    "--without-gossip",
                    "--without-mingle",
                    f"--hostname=soak-{uuid.uuid4().hex[:6]}@%h",
                ],
            ),
            "beat": Service("beat", [TAF, "beat"]),
        }
        self.down: set[str] = set()  # killed on purpose, to be started again by the chaos thread

    def run(self, argv: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run a one-shot `taf` command in the stack's environment."""
        return subprocess.run(
            argv,
            env={**self.env, **pool_env("one-shot")},
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, name: str) -> None:
        """Start (or start again) one service."""
        service = self.services[name]
        with self.lock, (self.workdir / f"{name}.log").open("ab") as log:
            service.process = subprocess.Popen(
                service.argv,
                env={**self.env, **pool_env(name)},
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.down.discard(name)
        if name == "redis":
            wait_until(self.redis_answers, timeout=10, every=0.05)

    def redis_answers(self) -> bool:
        """Whether the soak's redis-server answers PING."""
        import redis

        try:
            return bool(redis.Redis(port=self.redis_port, socket_connect_timeout=0.3, socket_timeout=0.3).ping())
        except redis.RedisError:
            return False

    def kill(self, name: str) -> None:
        """SIGKILL a service and its children, as a crash would; it stays down until started again."""
        with self.lock:
            service = self.services[name]
            self.down.add(name)
            self._end(service, graceful=False)
            service.kills += 1

    def stop(self, name: str) -> None:
        """Stop a service gracefully: SIGTERM to its main process (which stops its own children), then SIGKILL."""
        with self.lock:
            service = self.services[name]
            self.down.add(name)
            self._end(service, graceful=True)

    @staticmethod
    def _end(service: Service, graceful: bool, grace: float = 15) -> None:
        """End a service's main process, gracefully or not, and then whatever is left of its process group."""
        process = service.process
        if process is None:
            return
        if graceful:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(grace)
        service.process = None

    def revive(self) -> list[str]:
        """Start again every service that died by itself (not one killed on purpose); returns their names."""
        revived = []
        with self.lock:
            for name, service in self.services.items():
                if name in self.down or service.process is None or service.process.poll() is None:
                    continue
                service.crashes += 1
                self._end(service, graceful=False)
                self.start(name)
                revived.append(name)
        return revived

    def close(self) -> None:
        """Kill every process this stack started (whatever state it is in)."""
        with self.lock:
            for service in self.services.values():
                self._end(service, graceful=False)

    def tasks_waiting(self) -> tuple[int, int] | None:
        """Celery tasks in the soak's Redis: (queued, taken but unacknowledged); None when it does not answer."""
        import redis

        try:
            client = redis.Redis(port=self.redis_port, socket_connect_timeout=0.5, socket_timeout=0.5)
            return int(client.llen(CELERY_QUEUE)), int(client.hlen("unacked"))
        except redis.RedisError:
            return None

    def log_tail(self, name: str, chars: int = 2000) -> str:
        """The end of a service's log, for a failure message."""
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


# ------------------------------------------------------------------ the API, as clients see it


@dataclass(frozen=True)
class Ack:
    """An acknowledged family write: what the API answered."""

    what: str
    id: str
    family_id: str
    version: int
    position: int


class Outcomes:
    """Every answer the drivers got: acknowledged writes, and refusals by status and rule."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acks: list[Ack] = []
        self.refusals: Counter[str] = Counter()
        self.answers: Counter[int] = Counter()

    def record(self, what: str, status: int, body: Any) -> None:
        """Keep one answer (acknowledged family writes by id, family, version and position)."""
        with self.lock:
            self.answers[status] += 1
            if status >= 300:
                rule = body.get("rule") if isinstance(body, dict) else None
                self.refusals[f"{what} {status} {rule or ''}".strip()] += 1
            elif isinstance(body, dict) and "position" in body and "family_id" in body:
                self.acks.append(
                    Ack(what, str(body.get("id")), str(body["family_id"]), int(body["version"]), int(body["position"]))
                )

    def count(self, predicate: Callable[[str], bool]) -> int:
        """How many refusals match."""
        with self.lock:
            return sum(n for key, n in self.refusals.items() if predicate(key))


class Api:
    """One thread's HTTP client for the soak's `taf serve`."""

    def __init__(self, base_url: str, outcomes: Outcomes):
        self.client = httpx.Client(base_url=base_url, timeout=60.0)
        self.outcomes = outcomes

    def call(
        self, method: str, key: str, path: str, what: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """One request; the answer's status and JSON body (a transport failure is status 0)."""
        try:
            response = self.client.request(
                method, path, json=body, headers={"Authorization": f"Bearer {key}", **(headers or {})}
            )
        except httpx.HTTPError as error:
            self.outcomes.record(what, 0, {"rule": type(error).__name__})
            return 0, None
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = None
        self.outcomes.record(what, response.status_code, payload)
        return response.status_code, payload

    def post(self, key: str, path: str, what: str, body: Any = None) -> Any:
        """POST; the JSON answer when 2xx, else None."""
        status, payload = self.call("POST", key, path, what, body if body is not None else {})
        return payload if 200 <= status < 300 else None

    def get(self, key: str, path: str, what: str, consistent_with: int | None = None) -> Any:
        """GET; the JSON answer when 2xx, else None."""
        headers = {"X-Consistent-With": str(consistent_with)} if consistent_with else None
        status, payload = self.call("GET", key, path, what, headers=headers)
        return payload if 200 <= status < 300 else None

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


@dataclass(frozen=True)
class Person:
    """A professional the soak acts as."""

    id: str
    key: str
    email: str


@dataclass
class Directory:
    """The agencies and professionals the drivers act as."""

    coordinator: Person
    manager: Person
    practitioners: list[Person]
    member: Person

    def emails(self) -> dict[str, str]:
        """Email address by professional id."""
        return {p.id: p.email for p in (self.coordinator, self.manager, self.member, *self.practitioners)}


def set_up_directory(api: Api, admin_key: str, run: str) -> Directory:
    """Agencies, professionals and API keys through the API, as an administrator would."""
    early_help = api.post(admin_key, "/api/v1/agencies", "agency", {"name": "Soak Early Help", "kind": "early_help"})
    health = api.post(
        admin_key, "/api/v1/agencies", "agency", {"name": "Soak Health Visiting", "kind": "health_visiting"}
    )
    if early_help is None or health is None:
        raise SystemExit("could not create agencies through the bootstrap admin key")

    def person(name: str, agency: str, role: str) -> Person:
        email = f"{name.lower().replace(' ', '.')}.{run}@soak.invalid"
        made = api.post(
            admin_key,
            "/api/v1/professionals",
            "professional",
            {"name": name, "agency_id": agency, "role": role, "email": email},
        )
        if made is None:
            raise SystemExit(f"could not create professional {name}")
        key = api.post(admin_key, "/api/v1/api-keys", "api key", {"professional_id": made["id"]})
        return Person(made["id"], key["key"], email)

    return Directory(
        coordinator=person("Cora Coordinator", early_help["id"], "coordinator"),
        manager=person("Max Manager", early_help["id"], "manager"),
        practitioners=[person(f"Lee Lead{n}", early_help["id"], "practitioner") for n in range(1, 5)],
        member=person("Hana Visitor", health["id"], "practitioner"),
    )


# ------------------------------------------------------------------ the drivers


@dataclass
class FamilyModel:
    """What a driver knows of one of its families."""

    id: str
    reference: str
    lead: Person
    actions: list[str] = field(default_factory=list)
    state: str = "open"  # open, closing, transferring, closed, stuck
    request_id: str = ""
    incoming: Person | None = None
    since: float = 0.0
    next_check: float = 0.0


class Shared:
    """What the drivers share: every family id (for contacts across threads) and handover counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.family_ids: list[str] = []
        self.references: dict[str, str] = {}
        self.handovers: Counter[str] = Counter()

    def add(self, family: FamilyModel) -> None:
        """A new family anyone may record facts for."""
        with self.lock:
            self.family_ids.append(family.id)
            self.references[family.id] = family.reference

    def recent(self, rng: random.Random, window: int = 6) -> str | None:
        """One of the last few families registered (where writes contend), or None before any."""
        with self.lock:
            return rng.choice(self.family_ids[-window:]) if self.family_ids else None

    def count(self, what: str) -> None:
        """Count a handover milestone (requested, decided, stuck)."""
        with self.lock:
            self.handovers[what] += 1


class Driver:
    """One thread of mixed commands: its own families' team work and handovers, facts on anyone's."""

    def __init__(
        self, number: int, api: Api, people: Directory, shared: Shared, seed: int, run: str, handover_timeout: float
    ):
        self.number = number
        self.api = api
        self.people = people
        self.shared = shared
        self.rng = random.Random(seed * 1000 + number)
        self.run_name = run
        self.handover_timeout = handover_timeout
        self.families: list[FamilyModel] = []
        self.registered = 0

    # -------------------------------------------------------------- the loop

    def run(self, stop: threading.Event) -> None:
        """Run commands until stopped; a handover waiting for the worker is checked between commands."""
        try:
            while not stop.is_set():
                due = [
                    f
                    for f in self.families
                    if f.state in ("closing", "transferring") and f.next_check <= time.monotonic()
                ]
                if due:
                    self.follow_up(due[0])
                else:
                    self.step()
        finally:
            self.api.close()

    def step(self) -> None:
        """One command, chosen at random with weights."""
        open_families = [f for f in self.families if f.state == "open"]
        choices: list[tuple[float, Callable[[], None]]] = [
            (3.0 if len(open_families) < 4 else 0.5, self.register_family),
            (5.0, self.record_contact),
            (1.0, self.raise_concern),
            (0.3, self.contact_burst),
        ]
        if open_families:
            family = self.rng.choice(open_families)
            choices += [
                (1.5, lambda: self.hold_meeting(family)),
                (1.0, lambda: self.agree_action(family)),
                (1.0, lambda: self.complete_action(family)),
                (1.0, lambda: self.request_closure(family)),
                (0.7, lambda: self.request_transfer(family)),
                (0.5, lambda: self.read_own_write(family)),
            ]
        weights = [w for w, _ in choices]
        self.rng.choices([c for _, c in choices], weights)[0]()

    def path(self, family: FamilyModel | str, rest: str = "") -> str:
        """A family's API path."""
        fid = family if isinstance(family, str) else family.id
        return f"/api/v1/families/{fid}{rest}"

    # -------------------------------------------------------------- facts and team work

    def register_family(self) -> None:
        """Register a family, open an episode, assign a lead and add a TAF member (coordinator)."""
        self.registered += 1
        reference = f"SOAK-{self.run_name}-{self.number}-{self.registered:04d}"
        coordinator = self.people.coordinator.key
        born = date.today() - timedelta(days=self.rng.randint(800, 3000))
        made = self.api.post(
            coordinator,
            "/api/v1/families",
            "family",
            {
                "reference": reference,
                "children": [{"name": "Sam Soak", "date_of_birth": born.isoformat()}],
                "carers": [{"name": "Alex Soak", "relationship": "mother"}],
                "address": "1 Soak Street",
                "housing": "settled",
            },
        )
        if made is None:
            return
        lead = self.rng.choice(self.people.practitioners)
        family = FamilyModel(made["id"], reference, lead)
        self.shared.add(family)
        self.families.append(family)
        team_up = (
            ("/episodes", "episode", {"level": 2}),
            ("/lead", "lead", {"professional_id": lead.id}),
        )
        for rest, what, body in team_up:
            if self.api.post(coordinator, self.path(family, rest), what, body) is None:
                family.state = "stuck"  # refused (and counted): its lead's commands would only be refused too
                return
        self.api.post(coordinator, self.path(family, "/members"), "member", {"professional_id": self.people.member.id})

    def record_contact(self) -> None:
        """A contact on one of the most recent families, whoever's (writes to one family contend here)."""
        fid = self.shared.recent(self.rng)
        if fid is None:
            return
        outcome = self.rng.choices(["seen", "no_access", "was_not_brought"], [8, 1, 1])[0]
        self.api.post(
            self.people.coordinator.key,
            self.path(fid, "/contacts"),
            "contact",
            {
                "kind": self.rng.choice(["home_visit", "phone", "clinic", "centre"]),
                "outcome": outcome,
                "home_entered": outcome == "seen",
                "notes": f"soak contact {self.rng.randint(1, 10**6)}",
            },
        )

    def contact_burst(self, size: int = 12) -> None:
        """Contacts sent all at once to one recent family, without If-Match: each must be recorded."""
        fid = self.shared.recent(self.rng, window=1)
        if fid is None:
            return
        body = {"kind": "phone", "outcome": "seen", "notes": "soak burst"}
        with ThreadPoolExecutor(size) as pool:
            for _ in range(size):
                pool.submit(self.api.post, self.people.coordinator.key, self.path(fid, "/contacts"), "contact", body)

    def raise_concern(self) -> None:
        """A concern on a recent family, with its response most of the time."""
        fid = self.shared.recent(self.rng)
        if fid is None:
            return
        key = self.people.coordinator.key
        made = self.api.post(
            key, self.path(fid, "/concerns"), "concern", {"source_kind": "professional", "description": "soak concern"}
        )
        if made is not None and self.rng.random() < 0.8:
            self.api.post(
                key,
                self.path(fid, f"/concerns/{made['id']}/response"),
                "concern response",
                {"response": "welfare check done", "welfare_check_done": True, "action": "welfare_check"},
            )

    def hold_meeting(self, family: FamilyModel, kind: str = "taf") -> None:
        """A meeting of the lead and the member, agreeing up to two actions owned by the lead."""
        actions = (
            []
            if kind == "handover"
            else [
                {
                    "description": f"soak action {n}",
                    "owner_id": family.lead.id,
                    "due_on": (date.today() + timedelta(days=14)).isoformat(),
                }
                for n in range(self.rng.randint(0, 2))
            ]
        )
        attendees = [family.lead.id, self.people.member.id] + ([family.incoming.id] if family.incoming else [])
        made = self.api.post(
            family.lead.key,
            self.path(family, "/meetings"),
            "meeting",
            {
                "kind": kind,
                "held_on": date.today().isoformat(),
                "attendee_ids": attendees,
                "family_attended": True,
                "decisions": "soak decisions",
                "actions": actions,
            },
        )
        if made is not None:
            family.actions += [str(a) for a in made.get("action_ids", [])]

    def agree_action(self, family: FamilyModel) -> None:
        """An action for the lead."""
        made = self.api.post(
            family.lead.key,
            self.path(family, "/actions"),
            "action",
            {
                "description": "soak action",
                "owner_id": family.lead.id,
                "due_on": (date.today() + timedelta(days=7)).isoformat(),
            },
        )
        if made is not None:
            family.actions.append(str(made["id"]))

    def complete_action(self, family: FamilyModel) -> None:
        """Complete one open action."""
        if family.actions:
            self.finish_action(family, family.actions[0])

    def finish_action(self, family: FamilyModel, action_id: str) -> None:
        """Complete an action; it stays on the list only when the completion was refused as a concurrent change."""
        status, answer = self.api.call(
            "POST",
            family.lead.key,
            self.path(family, f"/actions/{action_id}/completion"),
            "action completion",
            {"note": "done"},
        )
        if not (status == 409 and isinstance(answer, dict) and answer.get("rule") == "concurrent_change"):
            family.actions.remove(action_id)

    def read_own_write(self, family: FamilyModel) -> None:
        """Record a contact and read the family with X-Consistent-With its position (read-your-writes)."""
        made = self.api.post(
            family.lead.key,
            self.path(family, "/contacts"),
            "contact",
            {"kind": "home_visit", "outcome": "seen", "home_entered": True},
        )
        if made is not None:
            self.api.get(family.lead.key, self.path(family), "read own write", consistent_with=made["position"])

    # -------------------------------------------------------------- handovers

    def request_closure(self, family: FamilyModel) -> None:
        """Resolve the actions, ask for closure, complete every manual step; the worker decides."""
        for action_id in list(family.actions):
            self.finish_action(family, action_id)
        made = self.api.post(
            family.lead.key,
            self.path(family, "/closure"),
            "closure",
            {"reason": "needs_met", "outcome_summary": "outcomes met in the soak"},
        )
        if made is None:
            return
        self.shared.count("closure requested")
        family.state, family.request_id, family.since = "closing", str(made["request_id"]), time.monotonic()
        for step in CLOSURE_STEPS_BY_LEAD:
            self.complete_step(family, step, family.lead)
        self.complete_step(family, "manager_signoff", self.people.manager)
        family.next_check = time.monotonic() + 1.0

    def request_transfer(self, family: FamilyModel) -> None:
        """Ask for the lead to pass to another practitioner, who accepts; hold the handover meeting, do the steps."""
        incoming = self.rng.choice([p for p in self.people.practitioners if p.id != family.lead.id])
        for action_id in list(family.actions):
            self.finish_action(family, action_id)
        made = self.api.post(
            family.lead.key,
            self.path(family, "/transfer"),
            "transfer",
            {"to_professional_id": incoming.id, "reason": "caseload"},
        )
        if made is None:
            return
        self.shared.count("transfer requested")
        family.state, family.request_id, family.since = "transferring", str(made["request_id"]), time.monotonic()
        family.incoming = incoming
        self.api.post(incoming.key, self.path(family, "/transfer/acceptance"), "transfer acceptance")
        self.hold_meeting(family, kind="handover")
        for step in TRANSFER_STEPS_BY_LEAD:
            self.complete_step(family, step, family.lead)
        family.next_check = time.monotonic() + 1.0

    def complete_step(self, family: FamilyModel, step: str, by: Person) -> None:
        """Complete one manual handover step."""
        self.api.post(
            by.key,
            self.path(family, "/handover-steps"),
            "handover step",
            {"request_id": family.request_id, "step": step, "evidence": f"{step} done in the soak"},
        )

    def follow_up(self, family: FamilyModel) -> None:
        """See what the worker decided; do what is still missing (signal reviews, steps), or give up in time."""
        kind = "closure" if family.state == "closing" else "transfer"
        view = self.api.get(self.people.coordinator.key, self.path(family, f"/{kind}"), f"{kind} status")
        family.next_check = time.monotonic() + 2.0
        if view is None or str(view.get("request_id")) != family.request_id:
            return
        if view["status"] == "completed":
            self.decided(family, kind)
        elif time.monotonic() - family.since > self.handover_timeout:
            family.state = "stuck"
            self.shared.count(f"{kind} undecided in time")
        elif view["status"] == "blocked":
            self.unblock(family, kind, list(view.get("missing_steps") or []))

    def decided(self, family: FamilyModel, kind: str) -> None:
        """The worker completed the request."""
        self.shared.count(f"{kind} decided")
        if kind == "closure":
            family.state = "closed"
        else:
            assert family.incoming is not None
            family.lead, family.incoming, family.state = family.incoming, None, "open"

    def unblock(self, family: FamilyModel, kind: str, missing: list[str]) -> None:
        """Do what the checklist still misses: review standing signals, redo steps lost to an error."""
        for step in missing:
            if step == "standing_signals_reviewed":
                self.review_signals(family)
            elif step == "manager_signoff":
                self.complete_step(family, step, self.people.manager)
            elif step in CLOSURE_STEPS_BY_LEAD or step in TRANSFER_STEPS_BY_LEAD:
                self.complete_step(family, step, family.lead)
            elif step == "incoming_accepted" and family.incoming is not None:
                self.api.post(family.incoming.key, self.path(family, "/transfer/acceptance"), "transfer acceptance")
            elif step == "handover_meeting_held":
                self.hold_meeting(family, kind="handover")
            elif step in ("open_actions_resolved", "open_actions_reassigned"):
                for action_id in list(family.actions):
                    self.finish_action(family, action_id)

    def review_signals(self, family: FamilyModel) -> None:
        """The manager reviews every standing signal not reviewed since it was last raised."""
        page = self.api.get(self.people.manager.key, self.path(family, "/signals"), "signals") or {}
        for item in page.get("items", []):
            review = item.get("last_review")
            if review is None or not review.get("after_last_raised"):
                self.api.post(
                    self.people.manager.key,
                    self.path(family, "/signal-reviews"),
                    "signal review",
                    {"signal": item["signal"], "decision": "accept_risk", "rationale": "discussed in supervision"},
                )


# ------------------------------------------------------------------ chaos


class Chaos:
    """Kills one of the projector, worker, relay and Redis at random and starts it again; revives the dead."""

    def __init__(self, stack: Stack, seed: int, every: tuple[float, float], downtime: tuple[float, float]):
        self.stack = stack
        self.rng = random.Random(seed + 7)
        self.every = every
        self.downtime = downtime
        self.kills: Counter[str] = Counter()

    def run(self, stop: threading.Event) -> None:
        """Until stopped; whatever is down when it stops is started again."""
        down: str | None = None
        try:
            while not stop.wait(self.rng.uniform(*self.every)):
                down = self.rng.choice(CHAOS_VICTIMS)
                self.stack.kill(down)
                self.kills[down] += 1
                stop.wait(self.rng.uniform(*self.downtime))
                self.stack.start(down)
                down = None
        finally:
            if down is not None:
                self.stack.start(down)


def supervise(stack: Stack, stop: threading.Event) -> None:
    """Restart any process that exits by itself, as a container's restart policy would."""
    while not stop.wait(0.5):
        for name in stack.revive():
            print(f"  {name} exited by itself; started again", flush=True)


# ------------------------------------------------------------------ reading the store


class Store:
    """Read access to the soak's event store and side tables, in this process."""

    def __init__(self, database_url: str, schema: str):
        import psycopg
        from psycopg.rows import dict_row

        from infra.ledger import build_ledger
        from infra.settings import Settings

        self.ledger = build_ledger(Settings(database_url=database_url, _env_file=None))
        self.schema = schema
        self.conn = psycopg.connect(PG_URL, autocommit=True, row_factory=dict_row)

    def close(self) -> None:
        """Close the ledger's pool and the SQL connection."""
        self.ledger.close()
        self.conn.close()

    def head(self) -> int:
        """The last position of the notification log."""
        return int(self.ledger.recorder.max_notification_id() or 0)

    def notifications(self) -> Iterator[Any]:
        """The whole notification log, in order."""
        position = 0
        while True:
            page = self.ledger.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
            if not page:
                return
            yield from page
            position = page[-1].id

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Rows of a query in the soak's schema."""
        with self.conn.cursor() as cursor:
            cursor.execute(f'SET search_path TO "{self.schema}"')
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def tables(self, like: str) -> list[str]:
        """The soak schema's tables whose names match a LIKE pattern."""
        found = self.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name LIKE %s ORDER BY table_name",
            (self.schema, like),
        )
        return [row["table_name"] for row in found]

    def lag(self) -> dict[str, int]:
        """How far behind the head each follower is: every projection (the watchlist among them), the relay."""
        head = self.head()
        lag = {}
        for table in self.tables("pj\\_%tracking"):
            done = self.rows(f"SELECT MAX(notification_id) AS p FROM {table}")[0]["p"] or 0
            lag[table.removesuffix("_tracking")] = head - int(done)
        for name, sql in (("relay", "SELECT MAX(notification_id) AS p FROM taf_relay_tracking"),):
            try:
                lag[name] = head - int(self.rows(sql)[0]["p"] or 0)
            except Exception:  # noqa: BLE001 - a table another version names differently: not followed here
                lag[name] = -1
        return lag


# ------------------------------------------------------------------ checks


@dataclass
class Check:
    """One check's outcome: problems found (the RESULT figure) and the counts behind it."""

    name: str
    problems: int
    detail: str

    def result_line(self) -> str:
        """The bench's closing line for this check (goal: no problems)."""
        return f"RESULT soak_{self.name} {self.problems} goal 0 {'met' if self.problems == 0 else 'short'}"


@dataclass
class Witnesses:
    """What saw the stack's effects from outside: the mail sink and the webhook receiver, and what to match."""

    sink: MailSink
    receiver: HookReceiver
    since: int  # the log position from which every family event is due to the webhook (0: not subscribed)
    references: dict[str, str]  # family id -> reference (email subjects name the reference)
    emails: dict[str, str]  # professional id -> email address


def ids_recorded(store: Store, family_ids: set[str]) -> dict[str, set[str]]:
    """Every id that appears in each family's stored events (its own, the entities it records, the actors)."""
    from domain.canonical import describe_event

    found: dict[str, set[str]] = {}
    for family_id in family_ids:
        text = json.dumps([describe_event(e) for e in store.ledger.family_events(uuid.UUID(family_id))], default=str)
        found[family_id] = set(UUID_TEXT.findall(text))
    return found


def check_writes(acks: list[Ack], log: dict[tuple[str, int], int], recorded: dict[str, set[str]]) -> Check:
    """Every acknowledged write is in the event store: its family has the version answered, and the id it made."""
    missing = [a for a in acks if (a.family_id, a.version) not in log or a.id not in recorded.get(a.family_id, ())]
    moved = [a for a in acks if (a.family_id, a.version) in log and log[(a.family_id, a.version)] > a.position]
    by_kind = Counter(a.what for a in missing)
    detail = (
        f"{len(acks)} acknowledged family writes, {len(missing)} missing from the event store"
        + (f" ({dict(by_kind)})" if missing else "")
        + (f", {len(moved)} stored after the position answered" if moved else "")
    )
    return Check("writes_missing", len(missing) + len(moved), detail)


def expected_notices(store: Store, decided: list[tuple[str, int, str]]) -> Counter[tuple[str, str, str]]:
    """(family, kind, recipient) for each decided handover: the lead and members just before, and a new lead."""
    expected: Counter[tuple[str, str, str]] = Counter()
    for family_id, version, kind in decided:
        before = store.ledger.get_family(uuid.UUID(family_id), version=version - 1)
        people = {str(m.professional_id) for m in before.members.values()}
        if before.lead is not None:
            people.add(str(before.lead.professional_id))
        if kind == "lead_transferred":
            after = store.ledger.get_family(uuid.UUID(family_id), version=version)
            if after.lead is not None:
                people.add(str(after.lead.professional_id))
        for person in people:
            expected[(family_id, kind, person)] += 1
    return expected


def compare_counts(expected: Counter[Any], got: Counter[Any]) -> tuple[int, int]:
    """(missing, extra) between what should be there once each and what is."""
    missing = sum(max(0, n - got[k]) for k, n in expected.items())
    extra = sum(max(0, n - expected[k]) for k, n in got.items())
    return missing, extra


def email_counts(
    received: list[tuple[str, str]], references: dict[str, str], emails: dict[str, str]
) -> Counter[tuple[str, str, str]]:
    """Received decision emails as (family, kind, recipient id), from the address and the subject."""
    family_by_reference = {ref: fid for fid, ref in references.items()}
    person_by_email = {address: pid for pid, address in emails.items()}
    got: Counter[tuple[str, str, str]] = Counter()
    for address, subject in received:
        kind = next((k for words, k in EMAIL_KINDS.items() if words in subject.lower()), None)
        reference = re.search(r"SOAK-[\w-]+", subject)
        if kind and reference and reference.group(0) in family_by_reference:
            got[(family_by_reference[reference.group(0)], kind, person_by_email.get(address, address))] += 1
    return got


def check_notifications(store: Store, decided: list[tuple[str, int, str]], seen: Witnesses) -> Check:
    """Every decided handover notified exactly once per recipient, in the app and by email."""
    expected = expected_notices(store, decided)
    rows = store.rows(
        "SELECT family_id, kind, recipient_id FROM taf_notifications WHERE kind IN (%s, %s)", tuple(DECIDED.values())
    )
    in_app = Counter((r["family_id"], r["kind"], r["recipient_id"]) for r in rows)
    references = seen.references
    with seen.sink.lock:
        received = list(seen.sink.received)
    mailed = email_counts(received, references, seen.emails)
    app_missing, app_extra = compare_counts(expected, in_app)
    mail_missing, mail_extra = compare_counts(expected, mailed)
    short = sorted(
        {(references.get(key[0], key[0]), key[1]) for key, n in expected.items() if min(in_app[key], mailed[key]) < n}
    )
    kinds = Counter(kind for _, _, kind in decided)
    detail = (
        f"{len(decided)} decided handovers ({dict(kinds)}), {sum(expected.values())} notices due; in-app: "
        f"{app_missing} missing, {app_extra} extra; emails: {mail_missing} missing, {mail_extra} duplicated or stray"
        + (f"; {len(short)} families short of a notice, e.g. {short[:3]}" if short else "")
    )
    return Check("notifications_wrong", app_missing + app_extra + mail_missing + mail_extra, detail)


def webhook_problems(expected: list[tuple[str, int]], delivered: list[Delivered]) -> dict[str, int]:
    """Missing, duplicated and out-of-order deliveries of the expected (family, version) events.

    Out of order: an event acknowledged after a later event of the same family was.
    """
    wanted = set(expected)
    seen: Counter[tuple[str, int]] = Counter()
    newest: dict[str, int] = {}
    late = 0
    for item in sorted(delivered, key=lambda d: d.seq):
        key = (item.family_id, item.version)
        if key not in wanted:
            continue
        seen[key] += 1
        if seen[key] == 1 and item.version < newest.get(item.family_id, 0):
            late += 1
        newest[item.family_id] = max(newest.get(item.family_id, 0), item.version)
    return {
        "missing": sum(1 for key in wanted if not seen[key]),
        "duplicated": sum(n - 1 for n in seen.values() if n > 1),
        "out_of_order": late,
    }


def check_webhooks(expected: list[tuple[str, int]], seen: Witnesses) -> Check:
    """Every family event since the subscription delivered exactly once and in order per family."""
    receiver = seen.receiver
    if not seen.since:
        return Check("webhooks_wrong", len(expected) or 1, "the webhook could not be subscribed")
    problems = webhook_problems(expected, receiver.received())
    detail = (
        f"{len(expected)} family events due, {len(receiver.received())} acknowledged deliveries "
        f"({receiver.refused} answered 503 on purpose); "
        + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in problems.items())
    )
    return Check("webhooks_wrong", sum(problems.values()), detail)


def read_model_tables(store: Store) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every read-model table's rows (without serial ids), as multisets."""
    contents = {}
    for table in store.tables("pj\\_%"):
        if table.endswith("_tracking"):
            continue
        rows = store.rows(f"SELECT * FROM {table}")
        contents[table] = Counter(tuple(sorted((k, str(v)) for k, v in r.items() if k != "id")) for r in rows)
    return contents


def check_read_models(stack: Stack, store: Store) -> Check:
    """Each read-model table (the watchlist's too) equals its rebuild from the log (`taf projections rebuild`)."""
    behind = {name: lag for name, lag in store.lag().items() if lag and name != "relay"}
    before = read_model_tables(store)
    rebuilt = stack.run([TAF, "projections", "rebuild"])
    if rebuilt.returncode != 0:
        return Check("read_models_differ", 1, f"taf projections rebuild failed: {rebuilt.stderr[-500:]}")
    after = read_model_tables(store)
    differing = {}
    for table in sorted(set(before) | set(after)):
        missing, extra = compare_counts(after.get(table, Counter()), before.get(table, Counter()))
        if missing or extra:
            differing[table] = missing + extra
    rows = sum(sum(c.values()) for c in after.values())
    detail = f"{len(after)} tables, {rows} rows after the rebuild; " + (
        f"rows differing: {differing}" if differing else "every table equal"
    )
    if behind:
        detail += f" (before the rebuild, behind the head of the log: {behind})"
    return Check("read_models_differ", sum(differing.values()), detail)


def check_audit(stack: Stack) -> Check:
    """`taf audit verify --all` reports no broken chain."""
    verified = stack.run([TAF, "audit", "verify", "--all"])
    found = re.search(r"(\d+) families, (\d+) events checked, (\d+) broken", verified.stdout)
    if found is None or verified.returncode not in (0, 1):
        return Check(
            "audit_broken",
            1,
            f"taf audit verify --all failed ({verified.returncode}): {(verified.stdout + verified.stderr)[-500:]}",
        )
    return Check("audit_broken", int(found.group(3)), found.group(0))


# ------------------------------------------------------------------ the run


@dataclass
class Options:
    """The command line."""

    seconds: float
    seed: int
    threads: int
    settle: float
    handover_timeout: float
    chaos_every: tuple[float, float]
    chaos_downtime: tuple[float, float]
    webhook_failure_rate: float
    keep: bool


def parse(argv: list[str] | None) -> Options:
    """Options from the command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180, help="how long to run commands (default 180)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    parser.add_argument("--threads", type=int, default=4, help="command threads (default 4)")
    parser.add_argument(
        "--settle",
        type=float,
        default=60,
        help="at most this long to let everything catch up after the chaos (default 60)",
    )
    parser.add_argument(
        "--handover-timeout",
        type=float,
        default=60,
        help="a driver stops following a handover the worker has not decided after this long",
    )
    parser.add_argument(
        "--chaos-every",
        type=float,
        nargs=2,
        default=(4.0, 12.0),
        metavar=("MIN", "MAX"),
        help="seconds between kills (default 4 12)",
    )
    parser.add_argument(
        "--chaos-downtime",
        type=float,
        nargs=2,
        default=(0.5, 4.0),
        metavar=("MIN", "MAX"),
        help="seconds a killed process stays down (default 0.5 4)",
    )
    parser.add_argument(
        "--webhook-failure-rate",
        type=float,
        default=0.02,
        help="share of webhook deliveries the receiver answers 503 (default 0.02)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with the processes' logs")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randint(1, 10**6)
    return Options(
        args.seconds,
        seed,
        args.threads,
        args.settle,
        args.handover_timeout,
        tuple(args.chaos_every),
        tuple(args.chaos_downtime),
        args.webhook_failure_rate,
        args.keep,
    )


def pool_env(name: str) -> dict[str, str]:
    """The PostgreSQL pool settings of one process of the stack (or of the soak itself)."""
    size, overflow = POOLS.get(name, DEFAULT_POOL)
    return {"TAF_POSTGRES_POOL_SIZE": str(size), "TAF_POSTGRES_MAX_OVERFLOW": str(overflow)}


def stack_env(workdir: Path, database_url: str, redis_port: int, admin_key: str, smtp_url: str) -> dict[str, str]:
    """The `taf` processes' environment: this stack's settings only (no TAF_* from outside, no .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAF_")}
    env.update(
        TAF_DATABASE_URL=database_url,
        TAF_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        TAF_DATA_DIR=str(workdir),
        TAF_BOOTSTRAP_ADMIN_KEY=admin_key,
        TAF_SMTP_URL=smtp_url,
        TAF_SWEEP_SECONDS="15",  # what Redis forgets, the sweep redoes: soon enough to see within the settle
        TAF_RATE_LIMIT_PER_MINUTE="1000000",
        TAF_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",  # the receiver is on loopback (issue 12's operator setting)
        TAF_LOG_LEVEL="WARNING",
    )
    return env


def start_stack(stack: Stack) -> None:
    """Migrate, then start Redis and every process; fail with the log when the API does not come up."""
    migrated = stack.run([TAF, "migrate"])
    if migrated.returncode != 0:
        raise SystemExit(f"taf migrate failed:\n{migrated.stdout}{migrated.stderr}")
    for name in ("redis", "serve", "projector", "relay", "worker", "beat"):
        stack.start(name)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{stack.api_port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    if not wait_until(healthy, timeout=60):
        raise SystemExit(f"taf serve did not come up:\n{stack.log_tail('serve')}")


def subscribe_webhook(api: Api, people: Directory, receiver: HookReceiver, run: str, timeout: float = 60) -> int:
    """Subscribe the coordinator's webhook and wait until a first family's registration arrives.

    Returns the position from which every family event is due (0 when the subscription was refused).
    """
    made = api.post(people.coordinator.key, "/api/v1/webhooks", "webhook", {"url": receiver.url})
    if made is None:
        print(f"  webhook refused: {api.outcomes.refusals}", flush=True)
        return 0
    canary = api.post(
        people.coordinator.key,
        "/api/v1/families",
        "family",
        {"reference": f"SOAK-{run}-canary", "children": [{"name": "Cat Canary", "date_of_birth": "2020-01-01"}]},
    )
    if canary is None:
        raise SystemExit("could not register the first family")
    arrived = wait_until(lambda: any(d.family_id == canary["family_id"] for d in receiver.received()), timeout)
    print(
        f"  webhook {'live' if arrived else 'silent for ' + str(timeout) + ' s'} "
        f"(first family at position {canary['position']})",
        flush=True,
    )
    return int(canary["position"])


def outstanding(stack: Stack, store: Store, seen: Witnesses) -> str:
    """What the stack still owes after the load ("" when nothing): tasks, followers behind, notices, webhooks."""
    queued, unacked = stack.tasks_waiting() or (0, 0)
    owed = [
        f"{queued} Celery tasks queued" if queued else "",
        f"{unacked} taken by a worker, not acknowledged (a killed worker's return after the visibility timeout)"
        if unacked
        else "",
    ]
    behind = {name: lag for name, lag in store.lag().items() if lag}
    if behind:
        owed.append(f"behind the head of the log: {behind}")
    else:
        index = log_index(store, seen.since)
        notices = check_notifications(store, index.decided, seen).problems
        hooks = webhook_problems(index.due, seen.receiver.received())["missing"] if seen.since else 0
        owed += [f"{notices} notices wrong" if notices else "", f"{hooks} webhook events undelivered" if hooks else ""]
    return "; ".join(o for o in owed if o)


def settle(owed: Callable[[], str], seconds: float) -> None:
    """Wait (at most `seconds`) until the stack owes nothing; say how long it took or what is still owed."""
    started = time.monotonic()
    left = wait_until(lambda: not owed(), timeout=seconds, every=2.0)
    elapsed = time.monotonic() - started
    print(f"settled in {elapsed:.0f} s" if left else f"not settled after {elapsed:.0f} s: {owed()}", flush=True)


@dataclass
class LogIndex:
    """What the checks need from the event log, read in one pass."""

    positions: dict[tuple[str, int], int] = field(default_factory=dict)  # (family, version) -> position
    due: list[tuple[str, int]] = field(default_factory=list)  # family events the webhook owes
    decided: list[tuple[str, int, str]] = field(default_factory=list)  # (family, version, notice kind)
    requested: Counter[str] = field(default_factory=Counter)  # handover requests and their ends, by event


def log_index(store: Store, since: int) -> LogIndex:
    """Index the log: every event's position, the family events since `since`, the handovers."""
    index = LogIndex()
    for notification in store.notifications():
        key = (str(notification.originator_id), int(notification.originator_version))
        index.positions[key] = notification.id
        if not notification.topic.startswith(FAMILY_TOPIC):
            continue
        if since and notification.id >= since:
            index.due.append(key)
        name = notification.topic[len(FAMILY_TOPIC) :]
        if name in DECIDED:
            index.decided.append((*key, DECIDED[name]))
        if name in HANDOVER_EVENTS:
            index.requested[name] += 1
    return index


def run_load(options: Options, stack: Stack, drivers: list[Driver]) -> Chaos:
    """The drivers for `--seconds` with the chaos and the supervisor beside them; all stopped on return."""
    stop_load, stop_chaos = threading.Event(), threading.Event()
    chaos = Chaos(stack, options.seed, options.chaos_every, options.chaos_downtime)
    load = [threading.Thread(target=d.run, args=(stop_load,), daemon=True) for d in drivers]
    keepers = [
        threading.Thread(target=chaos.run, args=(stop_chaos,), daemon=True),
        threading.Thread(target=supervise, args=(stack, stop_chaos), daemon=True),
    ]
    print(f"running {len(drivers)} command threads for {options.seconds:.0f} s under chaos", flush=True)
    for thread in load + keepers:
        thread.start()
    try:
        stop_load.wait(options.seconds)
    finally:
        stop_load.set()
        for thread in load:
            thread.join(120)
        stop_chaos.set()
        for thread in keepers:
            thread.join(30)
    return chaos


def stop_stack(stack: Stack, store: Store) -> None:
    """Stop the API and the workers, let the projector reach the head of the log, stop it."""
    for name in ("serve", "beat", "worker", "relay"):
        stack.stop(name)
    wait_until(lambda: all(lag <= 0 for name, lag in store.lag().items() if name.startswith("pj_")), timeout=30)
    stack.stop("projector")
    crashes = {s.name: s.crashes for s in stack.services.values() if s.crashes}
    if crashes:
        print(f"processes that exited by themselves (and were started again): {crashes}")


def print_answers(outcomes: Outcomes) -> None:
    """The API's answers by status, and each kind of refusal."""
    print(f"answers by status: {dict(sorted(outcomes.answers.items()))}")
    for refusal, count in sorted(outcomes.refusals.items()):
        print(f"  refused: {refusal}: {count}")


def soak(
    options: Options, stack: Stack, store: Store, sink: MailSink, receiver: HookReceiver, admin_key: str, run: str
) -> list[Check]:
    """Set up, run the drivers under chaos, settle, stop the processes and check."""
    outcomes = Outcomes()
    base_url = f"http://127.0.0.1:{stack.api_port}"
    setup_api = Api(base_url, outcomes)
    people = set_up_directory(setup_api, admin_key, run)
    since = subscribe_webhook(setup_api, people, receiver, run)
    setup_api.close()
    shared = Shared()
    drivers = [
        Driver(n, Api(base_url, outcomes), people, shared, options.seed, run, options.handover_timeout)
        for n in range(1, options.threads + 1)
    ]
    chaos = run_load(options, stack, drivers)
    print(
        f"load done: {len(outcomes.acks)} acknowledged writes; kills {dict(chaos.kills)}; "
        f"handovers as the drivers saw them {dict(shared.handovers)}",
        flush=True,
    )
    seen = Witnesses(sink, receiver, since, shared.references, people.emails())
    settle(lambda: outstanding(stack, store, seen), options.settle)
    stop_stack(stack, store)
    print_answers(outcomes)
    index = log_index(store, since)
    print(f"handovers in the log: {dict(index.requested)}")
    return [
        check_writes(outcomes.acks, index.positions, ids_recorded(store, {a.family_id for a in outcomes.acks})),
        check_notifications(store, index.decided, seen),
        check_webhooks(index.due, seen),
        check_read_models(stack, store),
        check_audit(stack),
        Check(
            "facts_refused",
            outcomes.count(lambda k: "concurrent_change" in k),
            "writes without If-Match answered 409 concurrent_change",
        ),
        Check(
            "server_errors",
            sum(n for status, n in outcomes.answers.items() if status >= 500 or status == 0),
            "answers 5xx, or no answer at all",
        ),
    ]


def interrupted(*_: Any) -> None:
    """SIGTERM ends the soak as Ctrl-C does, so every process it started is killed on the way out."""
    raise KeyboardInterrupt


def remove_workdir(workdir: Path, keep: bool) -> None:
    """Remove the temp dir, or say where its logs are kept."""
    if keep:
        print(f"logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def soak_on_own_stack(options: Options, run: str) -> list[Check]:
    """Build the stack (each part's cleanup registered as soon as it exists), soak it, tear it all down."""
    import psycopg

    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="taf-soak-"))
        cleanup.callback(remove_workdir, workdir, options.keep)
        admin = psycopg.connect(PG_URL, autocommit=True)
        cleanup.callback(admin.close)
        schema = f"soak_{run}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        cleanup.callback(admin.execute, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        sink, receiver = MailSink(), HookReceiver(options.webhook_failure_rate, options.seed)
        for server in (sink, receiver):
            threading.Thread(target=server.serve_forever, daemon=True).start()
            cleanup.callback(server.server_close)
            cleanup.callback(server.shutdown)
        admin_key = uuid.uuid4().hex + uuid.uuid4().hex
        database_url = f"{PG_URL}?schema={schema}"
        redis_port, api_port = free_port(), free_port()
        env = stack_env(workdir, database_url, redis_port, admin_key, sink.url)
        stack = Stack(workdir, schema, env, redis_port, api_port)
        cleanup.callback(stack.close)
        start_stack(stack)
        os.environ.update(pool_env("soak"))
        store = Store(database_url, schema)
        cleanup.callback(store.close)
        return soak(options, stack, store, sink, receiver, admin_key, run)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its checks; exit 1 when any check falls short (130 when interrupted)."""
    options = parse(argv)
    run = uuid.uuid4().hex[:6]
    print(f"soak {run}: seed {options.seed}, {options.seconds:.0f} s, {options.threads} threads", flush=True)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        checks = soak_on_own_stack(options, run)
    except KeyboardInterrupt:
        print("interrupted: every process stopped, the schema dropped", flush=True)
        return 130
    for check in checks:
        print(f"{check.name}: {check.detail}")
    for check in checks:
        print(check.result_line())
    return 0 if all(c.problems == 0 for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
