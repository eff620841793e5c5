"""The faster transcoder reads stored bytes as the library's transcoder does, and writes the same bytes."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

from domain.transcodings import TafTranscoder, register_all

OLD_STORE = Path(__file__).resolve().parents[1] / "fixtures" / "store-ca74b78.sqlite"


def transcoder(cls: type[JSONTranscoder]) -> JSONTranscoder:
    """A transcoder of the given class with every transcoding the ledger registers."""
    made = cls()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        made.register(transcoding)
    register_all(made)
    return made


def stored_states() -> list[bytes]:
    """Every event and snapshot payload in the store written by commit ca74b78's code."""
    with sqlite3.connect(OLD_STORE) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [bytes(row[0]) for t in tables if t.endswith("events") for row in db.execute(f"SELECT state FROM {t}")]


def test_every_stored_payload_decodes_to_the_same_objects_and_encodes_to_the_same_bytes() -> None:
    library, ours = transcoder(JSONTranscoder), transcoder(TafTranscoder)
    states = stored_states()
    assert len(states) > 100

    for state in states:
        decoded = ours.decode(state)
        assert decoded == library.decode(state)
        assert ours.encode(decoded) == library.encode(decoded)


def test_big_integers_nan_and_odd_text_decode_as_the_library_decodes_them() -> None:
    library, ours = transcoder(JSONTranscoder), transcoder(TafTranscoder)
    for value in (
        2**70,
        -(2**65),
        float("nan"),
        "emoji \U0001f600 and \u2028",
        [{"n": 2**64}, {"_data_": 1}],
    ):
        state = library.encode({"value": value, "tagged": [{"date": datetime.date(2026, 1, 2)}]})

        decoded, expected = ours.decode(state), library.decode(state)

        assert repr(decoded) == repr(expected)
        assert ours.encode(decoded) == state


def test_plain_and_nested_tagged_values_decode_as_the_library_decodes_them() -> None:
    library, ours = transcoder(JSONTranscoder), transcoder(TafTranscoder)
    state = (
        b'{"a": [[{"_type_": "uuid_hex", "_data_": "0bd5e1b8c3b841b3b8f9400a27b512f1"}]], "b": {"_data_": 1}, "c": 1.5}'
    )

    assert ours.decode(state) == library.decode(state)
    assert ours.decode(b"[1, 2]") == [1, 2] and ours.decode(b'"x"') == "x"
