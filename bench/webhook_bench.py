"""Webhook delivery to one subscriber over a busy log: families' batches at once, against one at a time.

    .venv/bin/python -m bench.webhook_bench [--families 20] [--contacts 25] [--latency-ms 20]

A fresh SQLite store holds F families with C contacts each; a receiver on loopback answers
every delivery after a fixed latency (a receiver across a network). Two webhooks of one
owner take every event; each is drained in turn (the other paused) by `deliver_due`:

- baseline: one family's batch at a time (`FAMILIES_AT_ONCE = 1`), each family in log order;
- batches: up to `FAMILIES_AT_ONCE` families' batches at the same time, each in log order.

It prints events per second for both and checks each family's events arrived in order.
The closing lines: the speed-up of batches over the baseline (goal 2), and the events per
second one subscriber takes (goal 100, with the default latency).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

import workers.webhooks as webhooks  # noqa: E402
from bench.results import Figure, print_results  # noqa: E402
from domain.application import ChildInput  # noqa: E402
from domain.values import AgencyKind, ContactKind, ContactOutcome, Role  # noqa: E402
from infra.ledger import build_ledger  # noqa: E402
from infra.settings import Settings  # noqa: E402
from workers.outbound import OutboundPolicy  # noqa: E402
from workers.periodic import can_see  # noqa: E402


class SlowReceiver:
    """Answers 204 to every POST after `latency` seconds; keeps the (webhook path, family, version) it got."""

    def __init__(self, latency: float):
        self.got: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(latency)
                with receiver.lock:
                    receiver.got.append((self.path, body["family_id"], body["version"]))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def in_order(got: list[tuple[str, str, int]], path: str) -> bool:
    """Whether every family's events reached this webhook in version order, none twice."""
    versions: dict[str, list[int]] = defaultdict(list)
    for where, family, version in got:
        if where == path:
            versions[family].append(version)
    return all(v == sorted(set(v)) for v in versions.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=25)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir:
        settings = Settings(data_dir=workdir, database_url=f"sqlite:///{workdir}/bench.sqlite", _env_file=None)
        ledger = build_ledger(settings, create_tables=True)
        system = uuid.UUID(int=0)
        agency = ledger.register_agency(system, "Early Help", AgencyKind.EARLY_HELP)
        actor = ledger.actor_for(ledger.register_professional(system, "Sam System", agency, Role.PRACTITIONER))
        assert actor is not None
        receiver = SlowReceiver(args.latency_ms / 1000)
        store = webhooks.WebhookStore(ledger, OutboundPolicy.allowing(["127.0.0.1"]))
        store.create_tables()
        now = datetime.now(UTC)
        baseline = store.register(actor.professional_id, f"{receiver.url}/baseline", [], now)
        batches = store.register(actor.professional_id, f"{receiver.url}/batches", [], now)
        for n in range(args.families):
            fid = ledger.register_family(actor, [ChildInput(f"Child {n}", date_of_birth=now.date())]).family_id
            for _ in range(args.contacts):
                ledger.record_contact(actor, fid, ContactKind.PHONE, ContactOutcome.SEEN)
        queued = store.dispatch(can_see, now) // 2
        print(f"{args.families} families, {queued} events per webhook, receiver latency {args.latency_ms:g} ms")

        rates = {}
        with httpx.Client() as client:
            for hook, other, at_once in ((baseline, batches, 1), (batches, baseline, webhooks.FAMILIES_AT_ONCE)):
                store.pause(other.id, now)
                store.resume(hook.id)
                webhooks.FAMILIES_AT_ONCE = at_once
                started = time.perf_counter()
                while store.deliver_due(client, datetime.now(UTC)):
                    pass
                rates[at_once] = queued / (time.perf_counter() - started)
                path = urlpath(hook.url)
                assert in_order(receiver.got, path), f"{path}: a family's events out of order"
                assert sum(1 for where, _, _ in receiver.got if where == path) == queued, f"{path}: events missing"
                print(f"  {at_once} famil{'y' if at_once == 1 else 'ies'} at once: {rates[at_once]:.0f} events/s")
        receiver.server.shutdown()
        ledger.close()

    best = max(rates)
    print_results(
        [
            Figure("webhook_family_batches_speedup", rates[best] / rates[1], 2.0),
            Figure("webhook_events_per_second_one_subscriber", rates[best], 100.0),
        ]
    )


def urlpath(url: str) -> str:
    return httpx.URL(url).path


if __name__ == "__main__":
    main()
