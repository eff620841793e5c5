"""An agency system's webhook receiver on loopback, written as the README tells integrators to.

It verifies every delivery with the `standardwebhooks` library and the webhook's secret
(signature and a timestamp within five minutes), processes each `webhook-id` once (a
retry or a redelivery of one it has is acknowledged, not processed again), and can be
told to be down (503) to play an outage.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Captured:
    """One request as it arrived: its headers and raw body."""

    headers: dict[str, str]
    body: bytes


@dataclass
class VerifyingReceiver:
    """Verifies with the library, processes each message id once, answers 503 while `down`."""

    secret: str | bytes = b""
    down: bool = False
    processed: list[dict[str, Any]] = field(default_factory=list)  # event bodies, in the order processed
    duplicates: list[str] = field(default_factory=list)  # webhook-ids acknowledged again, not processed
    rejected: list[str] = field(default_factory=list)  # why each refused request was refused
    captured: list[Captured] = field(default_factory=list)  # every verified request, for replay tests
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.receive(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        """What the endpoint does with one request; its answer's status."""
        if self.down:
            return 503
        try:
            event = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as refused:
            with self._lock:
                self.rejected.append(str(refused))
            return 400
        message_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        with self._lock:
            self.captured.append(Captured(headers, body))
            if message_id in self._seen:
                self.duplicates.append(message_id)
                return 200  # acknowledged: processed already
            self._seen.add(message_id)
            self.processed.append(event)
        return 204

    def stop(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()


def body_of(captured: Captured) -> dict[str, Any]:
    """A captured request's JSON body."""
    return dict(json.loads(captured.body))


@pytest.fixture
def verifying_receiver() -> Iterator[VerifyingReceiver]:
    receiver = VerifyingReceiver()
    yield receiver
    receiver.stop()
