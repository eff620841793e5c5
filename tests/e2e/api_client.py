"""The REST API as a user starts and calls it: `taf serve` in a subprocess, httpx clients per professional."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

ADMIN_KEY = "bootstrap-admin-key-for-tests"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running `taf serve`."""

    url: str
    db_path: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def client(self, key: str | None) -> httpx.Client:
        """An HTTP client sending this API key."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def log(self) -> str:
        """What the server logged so far."""
        return self.log_path.read_text(errors="replace")


def start_server(directory: Path, **env: str) -> Server:
    """Start `taf serve` on a free port with a fresh SQLite file, and wait until it answers."""
    port = free_port()
    db_path = directory / "taf.sqlite"
    log_path = directory / "server.log"
    taf = shutil.which("taf", path=str(Path(sys.executable).parent)) or "taf"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TAF_")},
        "TAF_DATABASE_URL": f"sqlite:///{db_path}",
        "TAF_DATA_DIR": str(directory),
        "TAF_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "TAF_RATE_LIMIT_PER_MINUTE": "100000",
        "TAF_LOG_LEVEL": "WARNING",
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [taf, "serve", "--port", str(port)], cwd=directory, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", db_path, log_path, process)
    deadline = time.monotonic() + 90  # a bound for a loaded machine, not a timing claim
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"taf serve exited: {server.log()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"taf serve did not start: {server.log()}")


def stop_server(server: Server) -> None:
    """Stop the server and fail if it ever answered with an unexpected error."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
    assert "unhandled error" not in server.log(), server.log()


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per test module; each test makes its own agencies, people and families."""
    server = start_server(tmp_path_factory.mktemp("api"))
    try:
        yield server
    finally:
        stop_server(server)


@dataclass
class Person:
    """A professional with an API key and a client acting as them."""

    id: str
    agency_id: str
    role: str
    key: str
    http: httpx.Client

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        """POST as this person."""
        return self.http.post(path, json=json, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET as this person."""
        return self.http.get(path, **kwargs)

    def delete(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        """DELETE as this person (with an optional body)."""
        return self.http.request("DELETE", path, json=json, **kwargs)


@dataclass
class Directory:
    """Makes agencies and professionals through the API, as the bootstrap admin."""

    server: Server
    admin: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.admin = self.server.client(ADMIN_KEY)

    def agency(self, kind: str = "early_help", name: str | None = None) -> str:
        """A new agency's id."""
        answer = self.admin.post("/api/v1/agencies", json={"name": name or f"Agency {uuid4().hex[:6]}", "kind": kind})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def person(
        self, agency_id: str, role: str = "practitioner", is_system: bool = False, name: str | None = None
    ) -> Person:
        """A new professional with an API key."""
        answer = self.admin.post(
            "/api/v1/professionals",
            json={
                "name": name or f"{role.title()} {uuid4().hex[:6]}",
                "agency_id": agency_id,
                "role": role,
                "email": f"{uuid4().hex[:8]}@example.org",
                "is_system": is_system,
            },
        )
        assert answer.status_code == 201, answer.text
        professional_id = str(answer.json()["id"])
        issued = self.admin.post("/api/v1/api-keys", json={"professional_id": professional_id})
        assert issued.status_code == 201, issued.text
        key = str(issued.json()["key"])
        return Person(professional_id, agency_id, role, key, self.server.client(key))


def register_family(person: Person, **extra: Any) -> dict[str, Any]:
    """Register a family with one baby through the API; returns the answer's JSON."""
    body = {
        "children": [{"name": "Baby", "date_of_birth": "2026-01-10"}],
        "carers": [{"name": "Mum", "relationship": "mother"}],
        "address": "1 High Street",
        "housing": "temporary",
        **extra,
    }
    answer = person.post("/api/v1/families", body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def is_problem(answer: httpx.Response, status: int, rule: str | None = None) -> bool:
    """Whether the answer is a problem+json with this status (and rule)."""
    if answer.status_code != status or not answer.headers["content-type"].startswith("application/problem+json"):
        return False
    body = answer.json()
    return (
        body["status"] == status
        and bool(body["title"])
        and "detail" in body
        and (rule is None or body.get("rule") == rule)
    )
