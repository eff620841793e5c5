"""The Professional aggregate (a person or an agency system account) and API keys.

Who held which role when is part of the audit, so roles change by events too.
Secrets are stored only as hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, RuleViolationError
from domain.values import Role

API_KEY_NAMESPACE = uuid5(NAMESPACE_URL, "taf-ledger:api-key")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class Professional(Aggregate):
    """A professional (or system account) belonging to one agency, with one role."""

    @staticmethod
    def create_id(professional_id: UUID) -> UUID:
        """The stream id is the professional id chosen by the application."""
        return professional_id

    @event("ProfessionalRegistered")
    def __init__(
        self,
        professional_id: UUID,
        name: str,
        agency_id: UUID,
        role: Role,
        email: str,
        is_system: bool,
        actor_id: UUID,
    ) -> None:
        self.name = name
        self.agency_id = agency_id
        self.role = role
        self.email = email
        self.is_system = is_system
        self.password_hash: str | None = None
        self.active = True

    @classmethod
    def register(
        cls,
        professional_id: UUID,
        name: str,
        agency_id: UUID,
        role: Role,
        email: str,
        is_system: bool,
        actor_id: UUID,
    ) -> Professional:
        """Register a professional; the name must not be empty."""
        if not name.strip():
            raise InvalidValueError("name must not be empty", rule="name_required", field="name")
        return cls(
            professional_id=professional_id,
            name=name.strip(),
            agency_id=agency_id,
            role=role,
            email=email.strip(),
            is_system=is_system,
            actor_id=actor_id,
        )

    def change_role(self, role: Role, actor_id: UUID) -> None:
        """Give the professional another role."""
        self._role_changed(role=role, actor_id=actor_id)

    @event("RoleChanged")
    def _role_changed(self, role: Role, actor_id: UUID) -> None:
        self.role = role

    def set_password(self, password: str, actor_id: UUID, salt: str | None = None) -> None:
        """Set the password for the web front end (stored as a salted scrypt hash)."""
        if len(password) < 10:
            raise InvalidValueError(
                "password must be at least 10 characters", rule="password_too_short", field="password"
            )
        self._password_set(password_hash=hash_password(password, salt), actor_id=actor_id)

    @event("PasswordSet")
    def _password_set(self, password_hash: str, actor_id: UUID) -> None:
        self.password_hash = password_hash

    def deactivate(self, reason: str, actor_id: UUID) -> None:
        """Deactivate the professional: they can no longer sign in, use a key, lead or be assigned."""
        if not reason.strip():
            raise InvalidValueError("give a reason for deactivating", rule="reason_required", field="reason")
        if not self.active:
            raise RuleViolationError("professional is already deactivated", rule="professional_inactive")
        self._deactivated(reason=reason.strip(), actor_id=actor_id)

    @event("ProfessionalDeactivated")
    def _deactivated(self, reason: str, actor_id: UUID) -> None:
        self.active = False

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return self.password_hash is not None and verify_password(password, self.password_hash)


class ApiKey(Aggregate):
    """An API key, found by the hash of its secret; the secret itself is never stored."""

    @staticmethod
    def create_id(key_hash: str) -> UUID:
        """The stream id is derived from the key's hash, so a key is found without an index."""
        return uuid5(API_KEY_NAMESPACE, key_hash)

    @event("ApiKeyIssued")
    def __init__(self, key_hash: str, professional_id: UUID, actor_id: UUID) -> None:
        self.key_hash = key_hash
        self.professional_id = professional_id
        self.revoked = False

    def revoke(self, actor_id: UUID) -> None:
        """Revoke the key."""
        if self.revoked:
            raise RuleViolationError("key already revoked", rule="key_revoked")
        self._revoked(actor_id=actor_id)

    @event("ApiKeyRevoked")
    def _revoked(self, actor_id: UUID) -> None:
        self.revoked = True


def new_api_key() -> str:
    """A new random API key (shown once to the caller)."""
    return "taf_" + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of an API key: SHA-256 is enough for 256 random bits."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_id(key: str) -> UUID:
    """The id of the API key with this secret (its stream id)."""
    return ApiKey.create_id(hash_api_key(key))


def hash_password(password: str, salt: str | None = None) -> str:
    """A salted scrypt hash of a password."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), **_SCRYPT).hex()
    return f"scrypt${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against its stored hash in constant time."""
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), **_SCRYPT).hex()
    return hmac.compare_digest(candidate, digest)
