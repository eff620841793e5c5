"""Notifications about handovers: in-app rows and emails, once per event and recipient."""

from __future__ import annotations

import email
import logging
import socketserver
import threading
import uuid
from collections.abc import Iterator
from email.message import Message

import pytest

from domain.application import TafLedger
from domain.values import Actor, Role
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.workers_harness import (
    complete_manual_closure_steps,
    family_with_team,
    free_port,
    request_closure,
)
from workers.handover import NOTIFY, SWEEP, Job, WorkerContext, run_job
from workers.notifications import LogMailer, mailer_for, mark_read, notifications_for
from workers.relay import Relay
from workers.store import WorkerStore


class FakeSmtpServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP to accept messages and keep them (the outbound edge, faked)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[tuple[list[str], Message]] = []

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.server_address[1]}"


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        def reply(text: str) -> None:
            self.wfile.write(f"{text}\r\n".encode())

        reply("220 fake smtp")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.upper()
            if verb.startswith("RCPT"):
                address = command.split(":", 1)[1].strip(" <>")
                if address.startswith("gone"):
                    reply("550 no such mailbox")
                    continue
                recipients.append(address)
                reply("250 ok")
            elif verb == "DATA":
                reply("354 go on")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.server.messages.append((recipients, email.message_from_bytes(body)))  # type: ignore[attr-defined]
                recipients = []
                reply("250 queued")
            elif verb == "QUIT":
                reply("221 bye")
                return
            else:
                reply("250 ok")


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    server = FakeSmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _with_email(ledger: TafLedger, team: Team, name: str) -> Actor:
    pid = ledger.register_professional(
        uuid.UUID(int=0), name, team.early_help, Role.PRACTITIONER, email=f"{name.lower()}@example.org"
    )
    actor = ledger.actor_for(pid)
    assert actor is not None
    return actor


def _notify_jobs(ledger: TafLedger, store: WorkerStore) -> list[Job]:
    handed: list[Job] = []
    Relay(ledger, store, handed.extend).run_once()
    return [job for job in handed if job.name == NOTIFY]


def test_lead_and_members_get_one_email_each_when_the_closure_completes(
    ledger: TafLedger, team: Team, clock: FakeClock, smtp: FakeSmtpServer
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, mailer_for(smtp.url))
    lena = _with_email(ledger, team, "Lena")
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.join_team(team.coordinator, fid, lena.professional_id)
    rid = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, rid)
    ledger.evaluate_request(fid, rid)
    jobs = _notify_jobs(ledger, store)

    for job in jobs + jobs:
        run_job(context, job)

    assert [(to, message["Subject"]) for to, message in smtp.messages] == [
        (["lena@example.org"], f"{ledger.get_family(fid).reference}: episode closed")
    ]
    assert [n.kind for n in notifications_for(store, lena.professional_id)] == ["episode_closed"]
    assert [n.kind for n in notifications_for(store, team.lead.professional_id)] == ["episode_closed"]


def test_without_an_smtp_server_emails_go_to_the_log(
    ledger: TafLedger, team: Team, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, mailer_for(Settings(_env_file=None).smtp_url))
    lena = _with_email(ledger, team, "Lena")
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.join_team(team.coordinator, fid, lena.professional_id)
    rid = request_closure(ledger, team, fid)
    ledger.evaluate_request(fid, rid)

    with caplog.at_level(logging.INFO, logger="taf.workers.notifications"):
        for job in _notify_jobs(ledger, store):
            run_job(context, job)

    assert isinstance(context.mailer, LogMailer)
    assert "email to lena@example.org" in caplog.text
    assert "blocked" in caplog.text


def test_a_request_blocked_again_with_fewer_steps_missing_is_not_notified_again(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, LogMailer())
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    ledger.evaluate_request(fid, rid)
    ledger.complete_step(team.lead, fid, rid, "family_informed", "letter sent")
    ledger.evaluate_request(fid, rid)

    for job in _notify_jobs(ledger, store):
        run_job(context, job)

    assert [n.kind for n in notifications_for(store, team.lead.professional_id)] == ["handover_blocked"]


def test_a_notification_marked_read_is_no_longer_unread(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.evaluate_request(fid, request_closure(ledger, team, fid))
    for job in _notify_jobs(ledger, store):
        run_job(WorkerContext(ledger, store, LogMailer()), job)
    [notice] = notifications_for(store, team.lead.professional_id, unread_only=True)

    mark_read(store, team.lead.professional_id, notice.key)

    assert notifications_for(store, team.lead.professional_id, unread_only=True) == []
    assert [n.read for n in notifications_for(store, team.lead.professional_id)] == [True]


def test_emails_that_failed_while_smtp_was_down_are_sent_by_the_next_sweep(
    ledger: TafLedger, team: Team, clock: FakeClock, smtp: FakeSmtpServer
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, mailer_for(f"smtp://127.0.0.1:{free_port()}"))
    lena = _with_email(ledger, team, "Lena")
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.join_team(team.coordinator, fid, lena.professional_id)
    ledger.evaluate_request(fid, request_closure(ledger, team, fid))
    [job] = _notify_jobs(ledger, store)
    with pytest.raises(OSError):
        run_job(context, job)

    context.mailer = mailer_for(smtp.url)
    run_job(context, Job(SWEEP))
    run_job(context, Job(SWEEP))

    assert [to for to, _ in smtp.messages] == [["lena@example.org"]]


def test_an_address_the_mail_server_refuses_does_not_hold_back_other_emails(
    ledger: TafLedger, team: Team, clock: FakeClock, smtp: FakeSmtpServer
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, mailer_for(smtp.url))
    gone, lena = _with_email(ledger, team, "Gone"), _with_email(ledger, team, "Lena")
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.join_team(team.coordinator, fid, gone.professional_id)
    ledger.join_team(team.coordinator, fid, lena.professional_id)
    rid = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, rid)
    ledger.evaluate_request(fid, rid)

    for job in _notify_jobs(ledger, store):
        run_job(context, job)

    assert [to for to, _ in smtp.messages] == [["lena@example.org"]]
