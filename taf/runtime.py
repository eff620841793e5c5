"""Wiring: the tables every process needs (`taf migrate`), and the bootstrap admin."""

from __future__ import annotations

import logging
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.application import TafLedger
from domain.professional import api_key_id
from domain.values import AgencyKind, Role
from infra.ledger import build_ledger
from infra.settings import Settings

log = logging.getLogger("taf")

BOOTSTRAP_AGENCY_ID = uuid5(NAMESPACE_URL, "taf-ledger:bootstrap-agency")
BOOTSTRAP_ADMIN_ID = uuid5(NAMESPACE_URL, "taf-ledger:bootstrap-admin")
SYSTEM_ID = UUID(int=0)


def migrate(settings: Settings) -> None:
    """Create the event store, access-log, workers', read-model and webhook tables (once; safe to repeat)."""
    from projections.runner import ProjectionSet
    from web.sessions import SessionStore, SignInThrottle
    from workers.periodic import PeriodicWork
    from workers.store import migrate_worker_tables

    ledger = build_ledger(settings, create_tables=True)
    try:
        migrate_worker_tables(ledger)
        PeriodicWork(ledger, settings).create_tables()
        ProjectionSet(ledger, create_tables=True)
        SessionStore(ledger).create_table()
        SignInThrottle(ledger).create_table()
    finally:
        ledger.close()


def bootstrap_admin(ledger: TafLedger, settings: Settings) -> None:
    """Make TAF_BOOTSTRAP_ADMIN_KEY the bootstrap admin's only valid key, creating the account if needed.

    The variable is the key's only authority: at every start, any other key of the bootstrap
    admin (an earlier value of the variable) is revoked, and all of them when it is unset.
    A revoked key stays revoked, so setting the variable back to an old value does not revive it.
    """
    key = settings.bootstrap_admin_key.get_secret_value() if settings.bootstrap_admin_key else ""
    if not key:
        if ledger.exists(BOOTSTRAP_ADMIN_ID) and ledger.revoke_other_keys(SYSTEM_ID, BOOTSTRAP_ADMIN_ID):
            log.info("bootstrap admin key revoked: TAF_BOOTSTRAP_ADMIN_KEY is not set")
        return
    if not ledger.exists(BOOTSTRAP_AGENCY_ID):
        ledger.register_agency(SYSTEM_ID, "Platform administration", AgencyKind.OTHER, agency_id=BOOTSTRAP_AGENCY_ID)
    if not ledger.exists(BOOTSTRAP_ADMIN_ID):
        ledger.register_professional(
            SYSTEM_ID,
            "Bootstrap administrator",
            BOOTSTRAP_AGENCY_ID,
            Role.ADMIN,
            is_system=True,
            professional_id=BOOTSTRAP_ADMIN_ID,
        )
    ledger.install_key(key, BOOTSTRAP_ADMIN_ID)
    if ledger.revoke_other_keys(SYSTEM_ID, BOOTSTRAP_ADMIN_ID, keep=api_key_id(key)):
        log.info("earlier bootstrap admin keys revoked: TAF_BOOTSTRAP_ADMIN_KEY changed")
    if ledger.actor_for_key(key) is None:
        log.error("TAF_BOOTSTRAP_ADMIN_KEY names a key that was revoked; set a new value")
    else:
        log.info("bootstrap admin key installed")
