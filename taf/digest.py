"""Anchoring head hashes outside the database: signed digests of the families' chains, and checks against them.

A family's hash chain shows that nothing inside its stream was changed, but not that its
last events were not deleted (a shorter chain still verifies) nor that the whole stream
was not rewritten with freshly computed hashes. A digest records every family's version
and head hash at one moment, signed with an Ed25519 key the database never holds. Kept
where the database's administrators cannot write, it lets `taf audit verify --against`
show a truncated tail (a lower version), a rewritten chain (another hash at the anchored
version) and a missing family, and a digest altered after signing fails its signature.

Signing uses pycryptodome (`Crypto.Signature.eddsa`), which eventsourcing's `crypto`
extra already installs for the event cipher.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from domain.agency import Agency
from domain.application import TafLedger
from domain.errors import UnknownEntityError
from domain.evolution import STORED_TOPICS
from domain.nhs import ChildNumber
from domain.professional import ApiKey, Professional
from taf.audit import SCAN_PAGE, FamilyCheck, verify_families

FORMAT = "taf-audit-digest/1"
# The aggregates without a hash chain, by the name of the event that creates them.
CREATED_BY: dict[type[Any], str] = {
    Agency: "AgencyRegistered",
    Professional: "ProfessionalRegistered",
    ApiKey: "ApiKeyIssued",
    ChildNumber: "Registered",
}
# Their created events' topics, under every module path they were stored with.
OTHER_CREATED_TOPICS = sorted(f"{topic}.{CREATED_BY[cls]}" for topic, cls in STORED_TOPICS.items() if cls in CREATED_BY)


class DigestError(ValueError):
    """A digest or key that cannot be read."""


@dataclass(frozen=True)
class Anchor:
    """One family's chain as the digest saw it: its version and the hash at that version."""

    family_id: str
    version: int
    head_hash: str


@dataclass(frozen=True)
class StreamAnchor:
    """An aggregate without a hash chain (agency, professional, API key, NHS number): version and stream hash."""

    aggregate_id: str
    kind: str
    version: int
    stream_hash: str  # SHA-256 over each stored event's version, topic and stored bytes, in order


@dataclass(frozen=True)
class Digest:
    """Every family's and every other aggregate's anchor at one log position, signed."""

    created_at: str
    log_position: int
    families: tuple[Anchor, ...]
    public_key: str  # hex of the raw 32-byte Ed25519 public key
    signature: str = ""  # hex of the Ed25519 signature over `signed_bytes()`
    aggregates: tuple[StreamAnchor, ...] = ()

    def signed_bytes(self) -> bytes:
        """What the signature covers: the digest without its signature, as canonical JSON."""
        body = {k: v for k, v in self.as_dict().items() if k != "signature"}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def as_dict(self) -> dict[str, Any]:
        """The digest as JSON-ready data."""
        return {
            "format": FORMAT,
            **asdict(self),
            "families": [asdict(a) for a in self.families],
            "aggregates": [asdict(a) for a in self.aggregates],
        }

    def to_json(self) -> str:
        """The digest file's text."""
        return json.dumps(self.as_dict(), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Digest:
        """Read a digest file (DigestError when it is not one)."""
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise DigestError(f"not a {FORMAT} file")
            families = tuple(
                Anchor(str(UUID(a["family_id"])), int(a["version"]), str(a["head_hash"])) for a in data["families"]
            )
            aggregates = tuple(
                StreamAnchor(str(UUID(a["aggregate_id"])), str(a["kind"]), int(a["version"]), str(a["stream_hash"]))
                for a in data["aggregates"]
            )
            return cls(
                str(data["created_at"]),
                int(data["log_position"]),
                families,
                str(data["public_key"]),
                str(data["signature"]),
                aggregates,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, DigestError):
                raise
            raise DigestError(f"not a readable digest: {error}") from error


@dataclass(frozen=True)
class Finding:
    """Something wrong found against a digest: about what, which problem, details."""

    subject: str | None  # a family id, "<kind> <id>" for another aggregate, None for the digest itself
    problem: str  # signature | missing | truncated | rewritten | broken | not_in_digest
    detail: str


def signing_key(text: str) -> ECC.EccKey:
    """An Ed25519 private key from its 32-byte seed in hex, or a PEM block (DigestError otherwise)."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = ECC.import_key(text)
        else:
            key = eddsa.import_private_key(bytes.fromhex(text))
    except ValueError as error:
        raise DigestError("TAF_AUDIT_SIGNING_KEY must be an Ed25519 key: a 32-byte seed in hex, or PEM") from error
    if key.curve != "Ed25519" or not key.has_private():
        raise DigestError("TAF_AUDIT_SIGNING_KEY must be an Ed25519 private key")
    return key


def new_signing_key() -> tuple[str, str]:
    """A fresh key pair: the private seed and the public key, both in hex."""
    key = ECC.generate(curve="ed25519")
    return key.seed.hex(), public_key_hex(key)


def public_key_hex(key: ECC.EccKey) -> str:
    """The raw public key, in hex."""
    return bytes(key.public_key().export_key(format="raw")).hex()


def _anchor(result: FamilyCheck) -> Anchor | None:
    """The anchor of a checked family: its whole chain, or the part before a break (None if nothing verified)."""
    check = result.check
    version = check.events_checked if check.valid else (check.broken_at_version or 1) - 1
    if version < 1:
        return None
    return Anchor(str(result.family_id), version, check.head_hash)


def other_aggregates(ledger: TafLedger) -> Iterator[tuple[UUID, str]]:
    """The id and kind of every aggregate without a hash chain, found by its created event in the log."""
    start: int | None = None
    while True:
        page = ledger.recorder.select_notifications(
            start, SCAN_PAGE, topics=OTHER_CREATED_TOPICS, inclusive_of_start=False
        )
        for notification in page:
            yield UUID(str(notification.originator_id)), notification.topic.rpartition(":")[2].partition(".")[0].lower()
        if len(page) < SCAN_PAGE:
            return
        start = page[-1].id


def stream_state(ledger: TafLedger, aggregate_id: UUID, up_to: int | None = None) -> tuple[int, str]:
    """An aggregate's last stored version (up to a version) and the hash of its stored events to there."""
    digest = hashlib.sha256()
    version = 0
    for stored in ledger.recorder.select_events(aggregate_id, lte=up_to):
        version = stored.originator_version
        digest.update(f"{version}\n{stored.topic}\n".encode() + hashlib.sha256(stored.state).digest())
    return version, digest.hexdigest()


def stream_anchors(ledger: TafLedger) -> tuple[StreamAnchor, ...]:
    """The anchors of every aggregate without a hash chain."""
    return tuple(
        StreamAnchor(str(aggregate_id), kind, *stream_state(ledger, aggregate_id))
        for aggregate_id, kind in other_aggregates(ledger)
    )


def make_digest(
    ledger: TafLedger,
    key: ECC.EccKey,
    ids: Iterable[UUID],
    on_checked: Callable[[FamilyCheck], None] | None = None,
) -> tuple[Digest, list[FamilyCheck]]:
    """Verify each family's chain and sign a digest of their anchors; also return the checks (some may be broken)."""
    position = ledger.recorder.max_notification_id() or 0
    results = verify_families(ledger, ids, on_checked)
    anchors = tuple(a for a in map(_anchor, results) if a is not None)
    others = stream_anchors(ledger)
    unsigned = Digest(datetime.now(UTC).isoformat(), position, anchors, public_key_hex(key), "", others)
    signature = eddsa.new(key, "rfc8032").sign(unsigned.signed_bytes()).hex()
    return Digest(unsigned.created_at, position, anchors, unsigned.public_key, signature, others), results


def signature_finding(digest: Digest, trusted_key: str | None) -> Finding | None:
    """Whether the digest is signed by the trusted key (or, without one, by the key it names)."""
    if trusted_key is not None and trusted_key.strip().lower() != digest.public_key.lower():
        return Finding(None, "signature", f"signed by key {digest.public_key}, not the trusted key {trusted_key}")
    try:
        public = eddsa.import_public_key(bytes.fromhex(digest.public_key))
        eddsa.new(public, "rfc8032").verify(digest.signed_bytes(), bytes.fromhex(digest.signature))
    except ValueError:
        return Finding(None, "signature", "the digest's signature does not verify: it was altered or forged")
    return None


def check_family(ledger: TafLedger, anchor: Anchor) -> Finding | None:
    """Compare one family's chain today with its anchor in the digest."""
    family_id = UUID(anchor.family_id)
    try:
        check = ledger.verify_chain(family_id, at_version=anchor.version)
    except UnknownEntityError:
        return Finding(anchor.family_id, "missing", f"no events; the digest has version {anchor.version}")
    if not check.valid and (check.broken_at_version or 0) <= anchor.version:
        return Finding(
            anchor.family_id,
            "broken",
            f"chain broken at version {check.broken_at_version}, within the digest's {anchor.version}",
        )
    if check.events_checked < anchor.version:
        return Finding(
            anchor.family_id, "truncated", f"version {check.events_checked} is lower than the digest's {anchor.version}"
        )
    if check.hash_at_version != anchor.head_hash:
        return Finding(
            anchor.family_id,
            "rewritten",
            f"hash at version {anchor.version} is {check.hash_at_version}, the digest has {anchor.head_hash}",
        )
    if not check.valid:
        return Finding(
            anchor.family_id,
            "broken",
            f"chain broken at version {check.broken_at_version}, after the digest's {anchor.version}",
        )
    return None


def check_stream(ledger: TafLedger, anchor: StreamAnchor) -> Finding | None:
    """Compare an aggregate without a hash chain with its anchor in the digest."""
    version, stream_hash = stream_state(ledger, UUID(anchor.aggregate_id), up_to=anchor.version)
    what = f"{anchor.kind} {anchor.aggregate_id}"
    if version == 0:
        return Finding(what, "missing", f"no events; the digest has version {anchor.version}")
    if version < anchor.version:
        return Finding(what, "truncated", f"version {version} is lower than the digest's {anchor.version}")
    if stream_hash != anchor.stream_hash:
        return Finding(what, "rewritten", f"its events up to version {anchor.version} differ from the digest's")
    return None


def check_digest(
    ledger: TafLedger,
    digest: Digest,
    trusted_key: str | None,
    family_id: UUID | None = None,
    on_checked: Callable[[Anchor], None] | None = None,
) -> list[Finding]:
    """Everything wrong against the digest: its signature, each family (or just one), the other aggregates."""
    findings = [f for f in [signature_finding(digest, trusted_key)] if f is not None]
    anchors = [a for a in digest.families if family_id is None or a.family_id == str(family_id)]
    if family_id is not None and not anchors:
        findings.append(Finding(str(family_id), "not_in_digest", "the digest does not anchor this family"))
    for anchor in anchors:
        finding = check_family(ledger, anchor)
        if finding is not None:
            findings.append(finding)
        if on_checked is not None:
            on_checked(anchor)
    if family_id is None:
        findings.extend(f for f in (check_stream(ledger, a) for a in digest.aggregates) if f is not None)
    return findings
