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

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from domain.application import TafLedger
from domain.errors import UnknownEntityError
from taf.audit import FamilyCheck, verify_families

FORMAT = "taf-audit-digest/1"


class DigestError(ValueError):
    """A digest or key that cannot be read."""


@dataclass(frozen=True)
class Anchor:
    """One family's chain as the digest saw it: its version and the hash at that version."""

    family_id: str
    version: int
    head_hash: str


@dataclass(frozen=True)
class Digest:
    """Every family's anchor at one log position, signed."""

    created_at: str
    log_position: int
    families: tuple[Anchor, ...]
    public_key: str  # hex of the raw 32-byte Ed25519 public key
    signature: str = ""  # hex of the Ed25519 signature over `signed_bytes()`

    def signed_bytes(self) -> bytes:
        """What the signature covers: the digest without its signature, as canonical JSON."""
        body = {k: v for k, v in self.as_dict().items() if k != "signature"}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def as_dict(self) -> dict[str, Any]:
        """The digest as JSON-ready data."""
        return {"format": FORMAT, **asdict(self), "families": [asdict(a) for a in self.families]}

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
            return cls(
                str(data["created_at"]),
                int(data["log_position"]),
                families,
                str(data["public_key"]),
                str(data["signature"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, DigestError):
                raise
            raise DigestError(f"not a readable digest: {error}") from error


@dataclass(frozen=True)
class Finding:
    """Something wrong found against a digest: which family (none for the digest itself), what, details."""

    family_id: str | None
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
    unsigned = Digest(datetime.now(UTC).isoformat(), position, anchors, public_key_hex(key))
    signature = eddsa.new(key, "rfc8032").sign(unsigned.signed_bytes()).hex()
    return Digest(unsigned.created_at, position, anchors, unsigned.public_key, signature), results


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


def check_digest(
    ledger: TafLedger,
    digest: Digest,
    trusted_key: str | None,
    family_id: UUID | None = None,
    on_checked: Callable[[Anchor], None] | None = None,
) -> list[Finding]:
    """Everything wrong against the digest: its signature, then each family it anchors (or just one)."""
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
    return findings
