"""Issue 12, defect 1 (the edge): control characters, surrogates and NUL never get past the API or the web forms.

One NUL in a contact's notes used to be recorded (201) and then stop every read model on
PostgreSQL; `GET /families?q=a%00b` answered 500 there. Now text fields refuse them with a
422 naming the field, multi-line text keeps tab, CR and LF, and a NUL in a query or path
parameter answers 422 naming the parameter.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

import api.schemas.requests as requests
from tests.e2e.app_client import World, start_world
from tests.faults.edge_worlds import TODAY, contacts, coordinator, family, postgres_world

CONTACT = {"kind": "home_visit", "outcome": "seen", "occurred_on": "2026-05-20"}


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    """The app over a fresh SQLite file."""
    yield from start_world(tmp_path, TODAY)


@pytest.fixture
def pg_world(tmp_path, postgres_url) -> Iterator[World]:
    """The app over PostgreSQL, where NUL cannot be stored."""
    yield from postgres_world(tmp_path, postgres_url)


@pytest.mark.postgres
def test_notes_refuse_control_characters_and_surrogates_but_keep_tab_and_crlf(pg_world) -> None:
    coord = coordinator(pg_world)
    family_id = family(coord)
    for notes in ("a\u0000b", "bell\u0007", "esc\u001b[31m", "del\u007f", "c1\u0085", "lone\ud800", "\ufffe"):
        answer = coord.client.post(
            f"/api/v1/families/{family_id}/contacts",  # JSON escapes carry a lone surrogate
            content=json.dumps({**CONTACT, "notes": notes}),
            headers={"Authorization": f"Bearer {coord.key}", "Content-Type": "application/json"},
        )
        assert answer.status_code == 422, (notes, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["loc"] for e in answer.json()["errors"]] == [["body", "notes"]]
    assert contacts(coord, family_id) == []
    notes = "Seen at home.\r\n\tRuby well.\nNext visit in May."
    coord.write(f"/api/v1/families/{family_id}/contacts", {**CONTACT, "notes": notes})
    assert [c["data"]["notes"] for c in contacts(coord, family_id)] == [notes]


def test_single_line_fields_refuse_every_control_character_even_a_line_break(world) -> None:
    coord = coordinator(world)
    child = {"name": "Ruby", "date_of_birth": "2026-03-01"}
    for reference in ("ASH\r\nBY", "A\tB", "A\u0000"):
        answer = coord.post("/api/v1/families", {"children": [child], "reference": reference})
        assert answer.status_code == 422, answer.text
        assert [e["loc"] for e in answer.json()["errors"]] == [["body", "reference"]]
    answer = coord.post("/api/v1/families", {"children": [{**child, "name": "Ruby\nX"}]})
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["errors"]] == [["body", "children", 0, "name"]]
    assert coord.get("/api/v1/families").json()["items"] == []


@pytest.mark.postgres
def test_nul_in_a_query_or_path_parameter_is_a_422_naming_it_not_a_500(pg_world) -> None:
    coord = coordinator(pg_world)
    family(coord, "ASHBY-NUL")
    for path, loc in (
        ("/api/v1/families?q=a%00b", ["query", "q"]),
        ("/api/v1/families?status=open&q=%00", ["query", "q"]),
        ("/api/v1/actions?owner_id=%00", ["query", "owner_id"]),
        ("/api/v1/families/%00/chronology", ["path"]),
    ):
        answer = coord.get(path)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["loc"] for e in answer.json()["errors"]] == [loc]
    assert coord.get("/api/v1/families", params={"q": "ASHBY"}).status_code == 200


def _text_kinds(annotation: object) -> Iterator[object]:
    """Each `str` inside a field's annotation, with the metadata that wraps it (Annotated layers flattened)."""
    if annotation is str:
        yield None
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        if base is str:
            yield tuple(meta)
            return
        for found in _text_kinds(base):
            yield (*meta, *(found or ()))
        return
    for arg in typing.get_args(annotation):
        yield from _text_kinds(arg)


def test_every_text_field_of_every_request_model_is_single_line_or_multi_line() -> None:
    single, multi = typing.get_args(requests.SingleLine)[1], typing.get_args(requests.MultiLine)[1]
    models = [
        m
        for m in vars(requests).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == requests.__name__
    ]
    assert len(models) > 40
    plain = []
    for model in models:
        hints = typing.get_type_hints(model, include_extras=True)
        for name in model.model_fields:
            for meta in _text_kinds(hints[name]):
                if meta is None or not (single in meta or multi in meta):
                    plain.append(f"{model.__name__}.{name}")
    assert plain == []
