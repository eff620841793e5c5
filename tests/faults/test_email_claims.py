"""Issue 12, defect 2: an email is sent once, however many workers reach it at the same time."""

from __future__ import annotations

import threading
import uuid

from domain.application import TafLedger
from domain.values import Role
from tests.conftest import FakeClock, Team
from tests.integration.workers_harness import family_with_team, request_closure, wait_until
from workers.handover import NOTIFY, SWEEP, Job, WorkerContext, run_job
from workers.notifications import Email
from workers.relay import Relay
from workers.store import WorkerStore


class SlowMailer:
    """The outbound mail edge, faked: a hand-over to the SMTP server that lasts until the test lets it finish."""

    def __init__(self) -> None:
        self.sending = threading.Event()
        self.finish = threading.Event()
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        """Wait to be let through, then keep the email."""
        self.sending.set()
        self.finish.wait(10)
        self.sent.append(email)


class MailSink:
    """The outbound mail edge, faked: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        """Keep the email."""
        self.sent.append(email)


def test_an_email_one_worker_is_sending_is_not_sent_again_by_another(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    lena = ledger.register_professional(
        uuid.UUID(int=0), "Lena", team.early_help, Role.PRACTITIONER, email="lena@example.org"
    )
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.join_team(team.coordinator, fid, lena)
    ledger.evaluate_request(fid, request_closure(ledger, team, fid))
    handed: list[Job] = []
    Relay(ledger, store, handed.extend).run_once()
    [notice] = [job for job in handed if job.name == NOTIFY]
    slow, other = SlowMailer(), MailSink()
    first = threading.Thread(target=run_job, args=(WorkerContext(ledger, store, slow), notice))
    first.start()
    try:
        wait_until(slow.sending.is_set, timeout=10)
        second = WorkerContext(ledger, WorkerStore(ledger), other)

        run_job(second, notice)  # the same task delivered again to a second worker
        run_job(second, Job(SWEEP))  # and that worker's sweep
    finally:
        slow.finish.set()
        first.join(10)

    assert [email.to for email in slow.sent + other.sent] == ["lena@example.org"]
