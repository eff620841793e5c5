"""The child index: children by name and date of birth (and the family's postcode), for the match.

`POST /families/match` finds a child by name and date of birth here rather than by reading
every family's stream; NHS numbers are found through their own aggregate instead.
"""

from __future__ import annotations

from typing import Any

from projections.base import TafProjection, iso
from projections.store import Tx


def name_key(name: str) -> str:
    """A name as compared by the match: lower case, single spaces."""
    return " ".join(name.lower().split())


def postcode_key(postcode: str) -> str:
    """A postcode as compared by the match: upper case, no spaces."""
    return "".join(postcode.upper().split())


class ChildIndex(TafProjection):
    """One row per child: family, name key, date of birth and the family's postcode key."""

    name = "pj_child_index"
    table_names = ("pj_child_index",)
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_child_index ("
        "child_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, name_key TEXT NOT NULL, "
        "date_of_birth TEXT, postcode TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_child_index_name_ix ON pj_child_index (name_key, date_of_birth)",
        "CREATE INDEX IF NOT EXISTS pj_child_index_family_ix ON pj_child_index (family_id)",
    )

    def _add(self, tx: Tx, family_id: str, child: Any, postcode: str) -> None:
        tx.execute(
            "INSERT INTO pj_child_index (child_id, family_id, name_key, date_of_birth, postcode) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (child_id) DO NOTHING",
            (str(child.child_id), family_id, name_key(child.name), iso(child.date_of_birth), postcode),
        )

    def on_Family_FamilyRegistered(self, tx: Tx, e: Any, pos: int) -> None:
        for child in e.children:
            self._add(tx, str(e.originator_id), child, "")

    def on_Family_ChildAdded(self, tx: Tx, e: Any, pos: int) -> None:
        family_id = str(e.originator_id)
        row = tx.one("SELECT postcode FROM pj_child_index WHERE family_id = ? LIMIT 1", (family_id,))
        self._add(tx, family_id, e.child, row["postcode"] if row is not None else "")

    def on_Family_ChildBorn(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute("UPDATE pj_child_index SET date_of_birth = ? WHERE child_id = ?", (iso(e.born_on), str(e.child_id)))

    def on_Family_AddressChanged(self, tx: Tx, e: Any, pos: int) -> None:
        """A move: the old postcode is no longer the family's (a PostcodeRecorded follows when it is known)."""
        tx.execute("UPDATE pj_child_index SET postcode = '' WHERE family_id = ?", (str(e.originator_id),))

    on_Family_FamilyReturned = on_Family_AddressChanged

    def on_Family_PostcodeRecorded(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "UPDATE pj_child_index SET postcode = ? WHERE family_id = ?",
            (postcode_key(e.postcode), str(e.originator_id)),
        )
