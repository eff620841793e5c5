"""Handover checklists: every closure and transfer request, with each step's state.

The steps come from `domain.checklists.evaluate` on the family's state, which this
projection keeps itself: the family aggregate, folded from the log by the events' own
`mutate`, saved as a snapshot in `pj_checklist_state` in the same transaction as the
rows. A pending or blocked request is evaluated as of its family's last recorded event;
a completed or withdrawn one as of the event that ended it, and then stays as it was.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex
from eventsourcing.utils import get_topic

from domain import checklists
from domain.family import Family
from domain.state import RequestState
from domain.transcodings import TafTranscoder, register_all
from domain.values import RequestStatus
from projections.base import TafProjection, iso, sid
from projections.store import Tx

CACHE_SIZE = 2000
FAMILY_TOPIC = get_topic(Family)


def _transcoder() -> TafTranscoder:
    transcoder = TafTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    register_all(transcoder)
    return transcoder


def request_rows(family: Family, request: RequestState) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The request row and its step rows, evaluated on the family as it stands, as of its last event."""
    evaluated_on = family.modified_on.date()
    steps = checklists.evaluate(family, request, evaluated_on)
    head = (
        str(request.request_id),
        str(family.id),
        request.kind.value,
        request.status.value,
        str(request.requested_by),
        iso(request.requested_on),
        sid(request.to_professional_id),
        iso(evaluated_on),
        family.version,
    )
    rows = [
        (str(request.request_id), seq, s.step, int(s.done), s.reason, s.evidence, int(s.manual))
        for seq, s in enumerate(steps)
    ]
    return head, rows


class HandoverChecklists(TafProjection):
    """Closure and transfer requests and their steps, for GET /families/{id}/closure and /transfer."""

    name = "pj_handover_checklists"
    table_names = ("pj_checklist_state", "pj_checklist_request", "pj_checklist_step")
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_checklist_state ("
        "family_id TEXT NOT NULL PRIMARY KEY, version BIGINT NOT NULL, recorded_at TEXT NOT NULL, "
        "state TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS pj_checklist_request ("
        "request_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, "
        "requested_by TEXT NOT NULL, requested_on TEXT NOT NULL, to_professional_id TEXT, "
        "evaluated_on TEXT NOT NULL, family_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_checklist_request_family_ix ON pj_checklist_request (family_id, kind)",
        "CREATE TABLE IF NOT EXISTS pj_checklist_step ("
        "request_id TEXT NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, done INTEGER NOT NULL, "
        "reason TEXT NOT NULL, evidence TEXT NOT NULL, manual INTEGER NOT NULL, PRIMARY KEY (request_id, seq))",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self._transcoder = _transcoder()
        self._cache: OrderedDict[UUID, Family] = OrderedDict()
        self._touched: dict[UUID, Family] = {}

    # ------------------------------------------------------------- family state

    def _seal(self, data: bytes) -> str:
        """The stored text of a state: encrypted (base64) when the event store encrypts."""
        if self.cipher is None:
            return data.decode("utf-8")
        return "aes:" + base64.b64encode(self.cipher.encrypt(data)).decode("ascii")

    def _unseal(self, text: str) -> bytes:
        if text.startswith("aes:"):
            if self.cipher is None:
                raise RuntimeError("checklist state is encrypted but no cipher key is configured")
            return bytes(self.cipher.decrypt(base64.b64decode(text[4:])))
        return text.encode("utf-8")

    def _load(self, tx: Tx, family_id: UUID) -> Family | None:
        row = tx.one(
            "SELECT version, recorded_at, state FROM pj_checklist_state WHERE family_id = ?", (str(family_id),)
        )
        if row is None:
            return None
        from datetime import datetime

        snapshot = Snapshot(
            originator_id=family_id,
            originator_version=int(row["version"]),
            timestamp=datetime.fromisoformat(row["recorded_at"]),
            topic=FAMILY_TOPIC,
            state=self._transcoder.decode(self._unseal(row["state"])),
        )
        family = snapshot.mutate(None)
        assert isinstance(family, Family)
        return family

    def _family_before(self, tx: Tx, e: Any) -> Family | None:
        family = self._touched.get(e.originator_id) or self._cache.get(e.originator_id)
        if family is None or family.version != e.originator_version - 1:
            family = self._load(tx, e.originator_id)
        if family is not None and family.version != e.originator_version - 1:
            raise RuntimeError(
                f"checklist state of family {e.originator_id} is at version {family.version}, "
                f"cannot apply version {e.originator_version}"
            )
        return family

    def _handler(self, event: Any) -> Any:
        return HandoverChecklists._apply if isinstance(event, Family.Event) else None

    def _apply(self, tx: Tx, e: Any, pos: int) -> None:
        family = None if e.originator_version == 1 else self._family_before(tx, e)
        family = e.mutate(family)
        assert isinstance(family, Family)
        self._touched[family.id] = family
        for request in family.requests.values():
            if request.ended_version == family.version:
                self._write_request(tx, family, request)

    def _write_request(self, tx: Tx, family: Family, request: RequestState) -> None:
        head, rows = request_rows(family, request)
        tx.execute(
            "INSERT INTO pj_checklist_request (request_id, family_id, kind, status, requested_by, requested_on, "
            "to_professional_id, evaluated_on, family_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, "
            "evaluated_on = excluded.evaluated_on, family_version = excluded.family_version",
            head,
        )
        tx.execute("DELETE FROM pj_checklist_step WHERE request_id = ?", (head[0],))
        tx.executemany(
            "INSERT INTO pj_checklist_step (request_id, seq, step, done, reason, evidence, manual) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def begin_batch(self, tx: Tx) -> None:
        self._touched = {}

    def end_batch(self, tx: Tx) -> None:
        for family in self._touched.values():
            for request in family.requests.values():
                if request.status in (RequestStatus.PENDING, RequestStatus.BLOCKED):
                    self._write_request(tx, family, request)
            snapshot = Snapshot.take(family)
            tx.execute(
                "INSERT INTO pj_checklist_state (family_id, version, recorded_at, state) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (family_id) DO UPDATE SET version = excluded.version, "
                "recorded_at = excluded.recorded_at, state = excluded.state",
                (
                    str(family.id),
                    family.version,
                    family.modified_on.isoformat(),
                    self._seal(self._transcoder.encode(snapshot.state)),
                ),
            )
            self._cache[family.id] = family
            self._cache.move_to_end(family.id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self._touched = {}

    def abort_batch(self) -> None:
        for family_id in self._touched:
            self._cache.pop(family_id, None)
        self._touched = {}
