"""Commands per second through the REST API against eventsourcing's raw save rate, in the same run.

Starts `taf serve` as a user would (a subprocess on a free port), registers families over
HTTP, then records contacts on many families from several concurrent clients. The
baselines record the same events on a fresh store of the same kind in this process:
  raw save:     the aggregate is kept in memory, one event triggered and `save()`d per command;
  application:  `TafLedger.record_contact` (load, check, save) per command.
Prints commands/s for each and the ratios.

    .venv/bin/python bench/http_bench.py [--families 50] [--commands 1000] [--clients 8] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.application import ChildInput, TafLedger, When  # noqa: E402
from domain.values import Actor, AgencyKind, ContactKind, ContactOutcome, Role  # noqa: E402
from taf.runtime import build_ledger  # noqa: E402
from taf.settings import Settings  # noqa: E402
from tests.e2e.api_client import ADMIN_KEY, Directory, free_port  # noqa: E402

PG_URL = os.environ.get("TAF_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONTACT = {"kind": "phone", "outcome": "seen", "notes": "bench"}


def start(url: str, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `taf serve` on this store and wait until it answers."""
    taf = shutil.which("taf", path=str(Path(sys.executable).parent)) or "taf"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TAF_")}, "TAF_DATABASE_URL": url,
           "TAF_DATA_DIR": str(directory), "TAF_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
           "TAF_RATE_LIMIT_PER_MINUTE": "10000000", "TAF_LOG_LEVEL": "WARNING"}
    subprocess.run([taf, "migrate"], env=env, cwd=directory, check=True, capture_output=True)
    port = free_port()
    log = (directory / "server.log").open("wb")
    process = subprocess.Popen([taf, "serve", "--port", str(port)], env=env, cwd=directory, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("taf serve did not start")


def http_rate(base: str, families: int, commands: int, clients: int) -> float:
    """Contacts recorded per second over HTTP by concurrent clients on many families."""
    from tests.e2e.api_client import Server

    server = Server(base, Path("."), Path("."), None)  # type: ignore[arg-type]
    directory = Directory(server)
    person = directory.person(directory.agency(), "coordinator")
    expected_on = (date.today() + timedelta(days=100)).isoformat()  # an unborn child is due within a year
    ids = [person.post("/api/v1/families", {"children": [{"name": "B", "expected_on": expected_on}]}).json()["id"]
           for _ in range(families)]
    per_client = commands // clients
    errors: list[str] = []

    def work(n: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {person.key}"}, timeout=60) as http:
            for i in range(per_client):
                family_id = ids[(n * per_client + i) % len(ids)]
                answer = http.post(f"/api/v1/families/{family_id}/contacts", json=CONTACT)
                if answer.status_code != 201:
                    errors.append(answer.text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed commands, e.g. {errors[0]}")
    return per_client * clients / elapsed


def baselines(settings: Settings, families: int, commands: int) -> tuple[float, float]:
    """(raw save rate, application command rate) for the same events on a fresh store."""
    ledger: TafLedger = build_ledger(settings, create_tables=True)
    try:
        system = uuid.UUID(int=0)
        agency = ledger.register_agency(system, "Bench", AgencyKind.EARLY_HELP)
        actor = ledger.actor_for(ledger.register_professional(system, "Bench", agency, Role.COORDINATOR))
        assert isinstance(actor, Actor)
        unborn = ChildInput("B", expected_on=date.today() + timedelta(days=100))
        ids = [ledger.register_family(actor, [unborn]).family_id for _ in range(families)]
        in_memory = [ledger.get_family(i) for i in ids]
        meta = ledger._meta(actor, When())  # noqa: SLF001 - the bench builds events as the service does
        started = time.perf_counter()
        for i in range(commands):
            family = in_memory[i % families]
            family.record_contact(meta, uuid.uuid4(), ContactKind.PHONE, ContactOutcome.SEEN, [], False, True, "bench")
            ledger.save(family)
        raw = commands / (time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(commands):
            ledger.record_contact(actor, ids[i % families], ContactKind.PHONE, ContactOutcome.SEEN, notes="bench")
        application = commands / (time.perf_counter() - started)
        return raw, application
    finally:
        ledger.close()


def run(kind: str, url_for: object, args: argparse.Namespace) -> None:
    """Run the HTTP bench and the baselines on one kind of store, and print the figures."""
    directory = Path(tempfile.mkdtemp(prefix=f"taf-bench-{kind}-"))
    server_url, baseline_url, cleanup = url_for(directory)  # type: ignore[operator]
    try:
        process, base = start(server_url, directory)
        try:
            http = http_rate(base, args.families, args.commands, args.clients)
        finally:
            process.terminate()
            process.wait(timeout=10)
        settings = Settings(data_dir=directory, database_url=baseline_url, _env_file=None)
        raw, application = baselines(settings, args.families, args.commands)
    finally:
        cleanup()
        shutil.rmtree(directory, ignore_errors=True)
    print(f"{kind:<10} HTTP {http:8.1f} cmd/s ({args.clients} clients) | raw save {raw:8.1f} ev/s | "
          f"application {application:8.1f} cmd/s | HTTP/raw {http / raw:5.2f} | HTTP/application "
          f"{http / application:5.2f}")


def sqlite_urls(directory: Path) -> tuple[str, str, object]:
    """A SQLite file for the server and another for the baseline."""
    return f"sqlite:///{directory / 'server.sqlite'}", f"sqlite:///{directory / 'baseline.sqlite'}", lambda: None


def postgres_urls(directory: Path) -> tuple[str, str, object]:
    """Two fresh PostgreSQL schemas, dropped afterwards."""
    import psycopg

    conn = psycopg.connect(PG_URL, autocommit=True)
    schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    for schema in schemas:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def cleanup() -> None:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()

    return f"{PG_URL}?schema={schemas[0]}", f"{PG_URL}?schema={schemas[1]}", cleanup


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=50)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    args = parser.parse_args()
    run("sqlite", sqlite_urls, args)
    if args.postgres:
        run("postgresql", postgres_urls, args)


if __name__ == "__main__":
    main()
