"""In-app notifications (a table) and emails about handovers and high-severity signals.

Handover notices go to the lead and TAF members; a high-severity signal raised for a family
goes to its lead or, without one, to the early-help coordinators whose scope covers it (they
allocate leads).

Idempotent per event: each (event, recipient) is one row, inserted once. A row's email is
claimed before it is sent (a lease, so two workers never send the same one), then marked as
emailed; a failed send gives the claim back for the sweep. A crash between the SMTP hand-over
and the mark sends that one email again once the lease has run out, with the same Message-ID.
Emails name the family by its reference only, never the children.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import unquote, urlparse
from uuid import UUID

from domain import scope
from domain.application import TafLedger
from domain.errors import UnknownEntityError
from domain.signals import Severity
from domain.values import Actor, Channel, RequestStatus, Role
from workers import directory
from workers.store import Effect, WorkerStore

log = logging.getLogger("taf.workers.notifications")

SENDER = "TAF Ledger <no-reply@taf-ledger.invalid>"
MESSAGE_DOMAIN = "taf-ledger.invalid"
# Longer than any hand-over to the SMTP server takes (each SMTP step times out after 10 s),
# so a claim still running is never taken over; a claim left by a crash is taken after it.
EMAIL_CLAIM = timedelta(seconds=60)

HANDOVER_BLOCKED = "handover_blocked"
EPISODE_CLOSED = "episode_closed"
LEAD_TRANSFERRED = "lead_transferred"
HANDOVER_STALLED = "handover_stalled"
SIGNAL_RAISED = "signal_raised"


@dataclass(frozen=True)
class Email:
    """One outgoing email."""

    to: str
    subject: str
    body: str
    message_id: str | None = None


class Mailer(Protocol):
    """Where emails go: an SMTP server, the log, or a test's fake."""

    def send(self, email: Email) -> None:
        """Send one email (raise if it could not be handed over)."""


class LogMailer:
    """Writes emails to the log (the embedded default, and whenever no SMTP server is set)."""

    def send(self, email: Email) -> None:
        """Log the email instead of sending it."""
        log.info("email to %s: %s\n%s", email.to, email.subject, email.body)


class SmtpMailer:
    """Sends emails through an SMTP server given as smtp://[user:pass@]host[:port] (smtps:// for TLS)."""

    def __init__(self, url: str, timeout: float = 10.0):
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps"):
            raise ValueError("TAF_SMTP_URL must be smtp://host:port or smtps://host:port")
        self.tls = parsed.scheme == "smtps"
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (465 if self.tls else 25)
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.timeout = timeout

    def send(self, email: Email) -> None:
        """Hand one email to the SMTP server."""
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = email.to
        message["Subject"] = email.subject
        if email.message_id:
            message["Message-ID"] = email.message_id
        message.set_content(email.body)
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


def mailer_for(smtp_url: str | None) -> Mailer:
    """SMTP when TAF_SMTP_URL is set, the log otherwise."""
    return SmtpMailer(smtp_url) if smtp_url else LogMailer()


@dataclass(frozen=True)
class Notice:
    """What to tell people about one handover event."""

    key: str
    family_id: UUID
    kind: str
    subject: str
    body: str


def handover_notice(
    ledger: TafLedger, family_id: UUID, version: int, event: str, request_id: UUID, missing_steps: list[str]
) -> tuple[Notice, list[UUID]] | None:
    """The notice for a HandoverBlocked, EpisodeClosed or LeadProfessionalTransferred event and its recipients.

    Recipients are the lead and the TAF members as they were just before the event (a
    closure ends the team), plus the incoming lead of a transfer. A request blocked again
    with fewer steps missing (someone is working through it) is not news: None.
    """
    before = ledger.get_family(family_id, version=version - 1)
    request = before.requests.get(str(request_id))
    if event == "HandoverBlocked" and request is not None and request.status is RequestStatus.BLOCKED:
        return None
    kind_word = request.kind.value if request is not None else "handover"
    recipients = _team(before)
    ref = before.reference
    if event == "HandoverBlocked":
        kind = HANDOVER_BLOCKED
        subject = f"{ref}: {kind_word} request blocked"
        body = f"The {kind_word} request for {ref} is blocked. Steps still missing: {', '.join(missing_steps)}."
    elif event == "EpisodeClosed":
        kind = EPISODE_CLOSED
        subject = f"{ref}: episode closed"
        body = f"Every closure step was done and the episode for {ref} is now closed."
    else:
        kind = LEAD_TRANSFERRED
        subject = f"{ref}: lead professional transferred"
        body = f"Every transfer step was done and the lead professional for {ref} has changed."
        if request is not None and request.to_professional_id and request.to_professional_id not in recipients:
            recipients.append(request.to_professional_id)
    return Notice(f"{family_id}:{version}", family_id, kind, subject, body), recipients


def stalled_notice(ledger: TafLedger, family_id: UUID, request_id: UUID) -> tuple[Notice, list[UUID]]:
    """The handover_stalled notice for a request blocked too long, and its recipients."""
    family = ledger.get_family(family_id)
    request = family.requests[str(request_id)]
    ref = family.reference
    since = request.blocked_since.isoformat() if request.blocked_since else "unknown"
    notice = Notice(
        f"stalled:{request_id}:{since}",
        family_id,
        HANDOVER_STALLED,
        f"{ref}: {request.kind.value} request stalled",
        f"The {request.kind.value} request for {ref} has been blocked since {since}. "
        f"Steps still missing: {', '.join(request.missing_steps)}.",
    )
    return notice, _team(family)


def signal_notice(
    ledger: TafLedger, store: WorkerStore, family_id: UUID, version: int, signal: str
) -> tuple[Notice, list[UUID]] | None:
    """The notice for a high-severity SignalRaised (the event at `version`) and its recipients.

    One notice per signal raised: a signal already standing as high that is recorded again
    (another fact behind it, a new `since`) is not news, so None; so is one raised as medium.
    Recipients: the lead as the event found them or, without one, the early-help coordinators
    whose scope covers the family. The notice names the family by its reference only.
    """
    family = ledger.get_family(family_id, version=version)
    raised = family.standing_signals.get(signal)
    if raised is None or raised.raised_version != version or raised.severity != Severity.HIGH.value:
        return None
    before = ledger.get_family(family_id, version=version - 1).standing_signals.get(signal)
    if before is not None and before.severity == Severity.HIGH.value:
        return None
    ref = family.reference
    words = signal.replace("_", " ")
    if family.lead is not None:
        recipients = [family.lead.professional_id]
        who = "You are the lead professional."
    else:
        recipients = early_help_coordinators(ledger, store, family)
        who = "The family has no lead professional: please consider allocating one."
    notice = Notice(
        f"signal:{family_id}:{version}",
        family_id,
        SIGNAL_RAISED,
        f"{ref}: high-severity signal: {words}",
        f"A high-severity signal ({words}) was raised for {ref} on {raised.raised_on.isoformat()}. {who} "
        "Open the family's record in TAF Ledger to see what fired it.",
    )
    return notice, recipients


def early_help_coordinators(ledger: TafLedger, store: WorkerStore, family: Any) -> list[UUID]:
    """The active coordinators (people, not system accounts) of early-help agencies whose scope covers the family."""
    found: list[UUID] = []
    for person in directory.early_help_coordinators(ledger, store):
        actor = Actor(person.professional_id, person.agency_id, Role.COORDINATOR, Channel.WORKER)
        if scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids):
            found.append(person.professional_id)
    return found


def _team(family: Any) -> list[UUID]:
    people: list[UUID] = []
    if family.lead is not None:
        people.append(family.lead.professional_id)
    for member in family.members.values():
        if member.professional_id not in people:
            people.append(member.professional_id)
    return people


def deliver(
    ledger: TafLedger,
    store: WorkerStore,
    mailer: Mailer,
    notice: Notice,
    recipients: list[UUID],
    done: Effect | None = None,
) -> int:
    """Record the notice for each recipient (once) and email those not emailed yet; returns emails sent.

    `done`, the effect this delivery does, is marked done in the transaction of the in-app rows.
    """
    now = datetime.now(UTC)
    emails = {recipient: _email_of(ledger, recipient) for recipient in recipients}
    with store.transaction() as cursor:
        for recipient in recipients:
            store.execute(
                cursor,
                "INSERT INTO {notifications} (notification_key, recipient_id, family_id, kind, subject, body,"
                " email, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notification_key) DO NOTHING",
                (
                    f"{notice.key}:{recipient}",
                    str(recipient),
                    str(notice.family_id),
                    notice.kind,
                    notice.subject,
                    notice.body,
                    emails[recipient],
                    now.isoformat(),
                ),
            )
        if done is not None:
            store.mark_done(cursor, done, now)
    return send_unsent(store, mailer, notice.key)


def send_unsent(store: WorkerStore, mailer: Mailer, key: str | None = None) -> int:
    """Email every notification (of one notice, or all) not emailed yet and not claimed; returns how many were sent."""
    query = (
        "SELECT notification_key, email, subject, body FROM {notifications}"
        " WHERE emailed_at IS NULL AND email <> '' AND (email_claimed_at IS NULL OR email_claimed_at < ?)"
    )
    params: tuple[str, ...] = ((datetime.now(UTC) - EMAIL_CLAIM).isoformat(),)
    if key is not None:
        query += " AND notification_key LIKE ?"
        params += (f"{key}:%",)
    unsent = store.fetchall(query + " ORDER BY created_at", params)
    sent = 0
    for row in unsent:
        if not _claim(store, row["notification_key"]):
            continue  # another worker is sending it, or has sent it since the query
        try:
            mailer.send(Email(row["email"], row["subject"], row["body"], message_id(row["notification_key"])))
        except smtplib.SMTPRecipientsRefused:
            # One refused address must not hold back everyone else's mail; the sweep tries it again.
            log.warning("mail server refused %s for notification %s", row["email"], row["notification_key"])
            _release(store, row["notification_key"])
            continue
        except BaseException:
            _release(store, row["notification_key"])
            raise
        sent += 1
        _set(store, "emailed_at = ?", datetime.now(UTC).isoformat(), row["notification_key"])
    return sent


def message_id(notification_key: str) -> str:
    """The Message-ID of a notification's email: the same on every attempt, so a resent copy is recognisable."""
    return f"<{hashlib.sha256(notification_key.encode()).hexdigest()[:32]}@{MESSAGE_DOMAIN}>"


def _claim(store: WorkerStore, notification_key: str) -> bool:
    now = datetime.now(UTC)
    with store.transaction() as cursor:
        store.execute(
            cursor,
            "UPDATE {notifications} SET email_claimed_at = ? WHERE notification_key = ? AND emailed_at IS NULL"
            " AND (email_claimed_at IS NULL OR email_claimed_at < ?)",
            (now.isoformat(), notification_key, (now - EMAIL_CLAIM).isoformat()),
        )
        return bool(cursor.rowcount == 1)


def _release(store: WorkerStore, notification_key: str) -> None:
    _set(store, "email_claimed_at = ?", None, notification_key)


def _set(store: WorkerStore, assignment: str, value: str | None, notification_key: str) -> None:
    with store.transaction() as cursor:
        store.execute(
            cursor, f"UPDATE {{notifications}} SET {assignment} WHERE notification_key = ?", (value, notification_key)
        )


def _email_of(ledger: TafLedger, professional_id: UUID) -> str:
    try:
        return ledger.get_professional(professional_id).email or ""
    except UnknownEntityError:
        return ""


@dataclass(frozen=True)
class InAppNotification:
    """A notification as a professional sees it in the app."""

    key: str
    family_id: UUID
    kind: str
    subject: str
    body: str
    created_at: str
    read: bool


def notifications_for(store: WorkerStore, professional_id: UUID, unread_only: bool = False) -> list[InAppNotification]:
    """A professional's notifications, newest first."""
    query = "SELECT * FROM {notifications} WHERE recipient_id = ?"
    if unread_only:
        query += " AND read_at IS NULL"
    rows = store.fetchall(query + " ORDER BY created_at DESC, notification_key", (str(professional_id),))
    return [
        InAppNotification(
            row["notification_key"],
            UUID(row["family_id"]),
            row["kind"],
            row["subject"],
            row["body"],
            row["created_at"],
            row["read_at"] is not None,
        )
        for row in rows
    ]


def mark_read(store: WorkerStore, professional_id: UUID, key: str) -> None:
    """Mark one of a professional's notifications as read."""
    with store.transaction() as cursor:
        store.execute(
            cursor,
            "UPDATE {notifications} SET read_at = ?"
            " WHERE notification_key = ? AND recipient_id = ? AND read_at IS NULL",
            (datetime.now(UTC).isoformat(), key, str(professional_id)),
        )
