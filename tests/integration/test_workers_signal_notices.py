"""High-severity signals reach people: the lead, or the early-help coordinators, in the app and by email.

Derived from the log like every other effect: the relay owes one notice per SignalRaised,
the notice job marks itself done with its in-app rows, and a job Redis forgot is handed on
again by the sweep.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from domain.application import ChildInput, TafLedger, When
from domain.values import Actor, AgencyKind, BirthDetails, ContactKind, ContactOutcome, Role, Sex
from tests.conftest import FakeClock, Team
from tests.integration.test_workers_notifications import FakeSmtpServer, smtp
from workers.handover import NOTIFY_SIGNAL, SWEEP, Job, WorkerContext, run_job
from workers.notifications import LogMailer, mailer_for, notifications_for
from workers.relay import Relay
from workers.store import WorkerStore

__all__ = ["smtp"]


def person(ledger: TafLedger, agency: uuid.UUID, role: Role, name: str, active: bool = True) -> Actor:
    pid = ledger.register_professional(uuid.UUID(int=0), name, agency, role, email=f"{name.lower()}@example.org")
    if not active:
        ledger.deactivate_professional(uuid.UUID(int=0), pid, "left the service")
        return Actor(pid, agency, role)
    actor = ledger.actor_for(pid)
    assert actor is not None
    return actor


def faltering_family(ledger: TafLedger, team: Team, today: date, lead: Actor | None = None) -> uuid.UUID:
    """A girl of eight weeks, born at term on the 50th centile and now on the 7th: faltering_growth (high)."""
    born = today - timedelta(days=56)
    child = ChildInput("Ada", date_of_birth=born, birth=BirthDetails(Sex.FEMALE, 40, 0))
    recorded = ledger.register_family(team.coordinator, [child], reference=f"REF-{uuid.uuid4().hex[:6]}")
    fid, child_id = recorded.id, recorded.extra_ids[0]
    if lead is not None:
        ledger.open_episode(team.coordinator, fid, 2)
        ledger.assign_lead(team.coordinator, fid, lead.professional_id)
    ledger.measure_growth(team.coordinator, fid, child_id, 3.4, When(born))
    ledger.measure_growth(team.coordinator, fid, child_id, 4.1)
    assert "SignalRaised" in ledger.record_signals(fid)
    assert "faltering_growth" in ledger.get_family(fid).standing_signals
    return fid


def notice_jobs(ledger: TafLedger, store: WorkerStore) -> list[Job]:
    handed: list[Job] = []
    Relay(ledger, store, handed.extend).run_once()
    return [job for job in handed if job.name == NOTIFY_SIGNAL]


def test_the_lead_gets_one_notice_and_one_email_naming_the_family_by_reference(
    ledger: TafLedger, team: Team, clock: FakeClock, smtp: FakeSmtpServer
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, mailer_for(smtp.url))
    lead = person(ledger, team.early_help, Role.PRACTITIONER, "Lena")
    coordinator = person(ledger, team.early_help, Role.COORDINATOR, "Cora")
    fid = faltering_family(ledger, team, clock.today(), lead)
    reference = ledger.get_family(fid).reference

    jobs = notice_jobs(ledger, store)
    for job in jobs + jobs:
        run_job(context, job)

    [(to, message)] = smtp.messages
    assert to == ["lena@example.org"]
    assert message["Subject"] == f"{reference}: high-severity signal: faltering growth"
    text = message.get_payload()
    assert reference in text and "Ada" not in text
    [notice] = notifications_for(store, lead.professional_id)
    assert notice.kind == "signal_raised" and notice.family_id == fid
    assert notifications_for(store, coordinator.professional_id) == []


def test_without_a_lead_the_early_help_coordinators_in_scope_are_told(
    ledger: TafLedger, team: Team, clock: FakeClock, smtp: FakeSmtpServer
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, mailer_for(smtp.url))
    health_coordinator = person(ledger, team.health, Role.COORDINATOR, "Hana")
    cora = person(ledger, team.early_help, Role.COORDINATOR, "Cora")
    gone = person(ledger, team.early_help, Role.COORDINATOR, "Gwen", active=False)
    practitioner = person(ledger, team.early_help, Role.PRACTITIONER, "Pat")
    other_eh = ledger.register_agency(uuid.UUID(int=0), "Early Help North", AgencyKind.EARLY_HELP)
    nina = person(ledger, other_eh, Role.COORDINATOR, "Nina")
    fid = faltering_family(ledger, team, clock.today())

    for job in notice_jobs(ledger, store):
        run_job(context, job)

    reference = ledger.get_family(fid).reference
    about_growth = f"{reference}: high-severity signal: faltering growth"
    # The unseen, unregistered infant raises other high signals too, each its own notice.
    assert sorted(to[0] for to, m in smtp.messages if m["Subject"] == about_growth) == [
        "cora@example.org",
        "nina@example.org",
    ]
    assert about_growth in [n.subject for n in notifications_for(store, team.coordinator.professional_id)]
    for nobody in (health_coordinator, gone, practitioner):
        assert notifications_for(store, nobody.professional_id) == []
    cora_notices = {n.subject: n for n in notifications_for(store, cora.professional_id)}
    assert "no lead professional" in cora_notices[about_growth].body
    assert {n.family_id for n in notifications_for(store, nina.professional_id)} == {fid}


def test_the_coordinators_told_are_those_of_the_directory_as_it_stands_at_each_notice(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, LogMailer())
    cora = person(ledger, team.early_help, Role.COORDINATOR, "Cora")
    pat = person(ledger, team.early_help, Role.PRACTITIONER, "Pat")
    first = faltering_family(ledger, team, clock.today())
    for job in notice_jobs(ledger, store):
        run_job(context, job)

    ledger.deactivate_professional(uuid.UUID(int=0), cora.professional_id, "left the service")
    ledger.change_role(uuid.UUID(int=0), pat.professional_id, Role.COORDINATOR)
    nina = person(ledger, team.early_help, Role.COORDINATOR, "Nina")
    second = faltering_family(ledger, team, clock.today())
    for job in notice_jobs(ledger, store):
        run_job(context, job)

    def told_about(who: Actor) -> set[uuid.UUID]:
        return {n.family_id for n in notifications_for(store, who.professional_id)}

    assert (told_about(cora), told_about(pat), told_about(nina)) == ({first}, {second}, {second})


def test_a_signal_recorded_again_while_it_stands_is_not_news(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, LogMailer())
    lead = person(ledger, team.early_help, Role.PRACTITIONER, "Lena")
    fid = faltering_family(ledger, team, clock.today(), lead)
    for job in notice_jobs(ledger, store):
        run_job(context, job)
    child_id = next(iter(ledger.get_family(fid).children.values())).child_id
    clock.advance(days=14)
    ledger.measure_growth(team.coordinator, fid, child_id, 4.2)  # still faltering, with a new weight behind it
    assert ledger.record_signals(fid) == ["SignalRaised"]

    for job in notice_jobs(ledger, store):
        run_job(context, job)

    assert len(notifications_for(store, lead.professional_id)) == 1


def test_a_medium_signal_owes_no_notice(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    fid = ledger.register_family(team.coordinator, [ChildInput("Sam", date_of_birth=date(2022, 1, 1))]).id
    for _ in range(2):
        ledger.record_contact(team.coordinator, fid, ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS)
    assert "SignalRaised" in ledger.record_signals(fid)
    assert ledger.get_family(fid).standing_signals["was_not_brought_pattern"].severity == "medium"

    assert notice_jobs(ledger, store) == []


def test_a_notice_redis_forgot_is_sent_by_the_sweep(
    ledger: TafLedger, team: Team, clock: FakeClock, smtp: FakeSmtpServer
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(ledger, store, mailer_for(smtp.url), effect_grace=timedelta(0))
    lead = person(ledger, team.early_help, Role.PRACTITIONER, "Lena")
    faltering_family(ledger, team, clock.today(), lead)
    lost: list[Job] = []
    Relay(ledger, store, lost.extend).run_once()  # handed to a broker that then restarts empty
    assert any(job.name == NOTIFY_SIGNAL for job in lost)

    run_job(context, Job(SWEEP))
    run_job(context, Job(SWEEP))

    assert [to for to, _ in smtp.messages] == [["lena@example.org"]]
    assert len(notifications_for(store, lead.professional_id)) == 1
