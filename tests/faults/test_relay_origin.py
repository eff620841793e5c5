"""Issue 12, defect 13: workers started afresh on an existing log do not resend the past.

The embedded workers (the same relay and task bodies as the Celery transport) start on a
store whose log already holds decided and pending closures, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid

from domain.application import TafLedger
from domain.values import RequestKind, Role
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.workers_harness import (
    complete_manual_closure_steps,
    family_with_team,
    request_closure,
    request_status,
    wait_until,
)
from workers.embedded import start_embedded
from workers.notifications import Email, notifications_for
from workers.relay import relay_lag


class MailSink:
    """The outbound mail edge, faked: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        """Keep the email."""
        self.sent.append(email)


def test_workers_started_on_an_old_log_tell_no_one_of_old_closures_but_complete_a_pending_one(
    store_settings: Settings, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    lena = ledger.register_professional(
        uuid.UUID(int=0), "Lena", team.early_help, Role.PRACTITIONER, email="lena@example.org"
    )
    closed, _ = family_with_team(ledger, team, clock.today())
    ledger.join_team(team.coordinator, closed, lena)
    closed_rid = request_closure(ledger, team, closed)
    complete_manual_closure_steps(ledger, team, closed, closed_rid)
    ledger.evaluate_request(closed, closed_rid)
    pending, _ = family_with_team(ledger, team, clock.today())
    ledger.join_team(team.coordinator, pending, lena)
    pending_rid = request_closure(ledger, team, pending)
    ledger.evaluate_request(pending, pending_rid)  # blocked (told before these workers existed)
    complete_manual_closure_steps(ledger, team, pending, pending_rid)  # done, but never evaluated since
    sink = MailSink()

    workers = start_embedded(store_settings, ledger, sink)
    try:
        wait_until(lambda: request_status(ledger, pending, RequestKind.CLOSURE) == "completed", timeout=30)
        store = workers.context.store
        # the embedded relay runs each batch's jobs before it moves on: no lag, nothing left to run
        wait_until(lambda: relay_lag(ledger, store) == 0 and sink.sent, timeout=30)
    finally:
        workers.stop()

    assert request_status(ledger, closed, RequestKind.CLOSURE) == "completed"
    for person in (team.lead.professional_id, team.member.professional_id, lena):
        assert [(n.family_id, n.kind) for n in notifications_for(store, person)] == [(pending, "episode_closed")]
    assert [email.subject for email in sink.sent] == [f"{ledger.get_family(pending).reference}: episode closed"]
