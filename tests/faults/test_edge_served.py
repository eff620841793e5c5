"""Issue 12, defects 11, 6 and 1 (the web): the edge of `taf serve` as a user starts it, API and web pages.

Unknown body fields were silently ignored (a misspelt `occured_on` recorded the fact as of
today), numbers were read as dates, dates before 1900 or centuries ahead were accepted, plans
and meetings named agencies and people nobody had registered, bodies had no size limit and two
families could share a reference. Each is now refused with a problem naming the field or rule.

The chronology CSV answered 500 for a reference like `Zoë😀` (the header could not be encoded),
a quote in it injected header parameters and a CR LF dropped the connection: Content-Disposition
is now built by a library (RFC 6266, `filename*` beside an ASCII `filename`), and references with
control characters are refused at registration. The web forms refuse control characters with
the API's own models, in the page's error summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import httpx
import pytest
from contentdisp import parse

from tests.e2e.api_client import Directory, Person, Server, register_family, start_server, stop_server
from tests.web.pages import error_summary, field_error

LIMIT = 4096
REFERENCES = ["Zoë😀", 'ASHBY"; filename="evil.exe', "Ünal ‘B’ 01", "50%-A;B"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`taf serve` with a small body limit, so a test need not send a megabyte."""
    running = start_server(tmp_path_factory.mktemp("edge"), TAF_MAX_BODY_BYTES=str(LIMIT))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def coord(server: Server) -> Person:
    """A coordinator of a new agency."""
    directory = Directory(server)
    return directory.person(directory.agency(), "coordinator")


def recorded(person: Person, family_id: str) -> list[str]:
    """The types of the family's events, oldest first."""
    answer = person.get(f"/api/v1/families/{family_id}/events", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    return [e["type"] for e in answer.json()["items"]]


def refused(answer: httpx.Response, status: int = 422) -> list[list[Any]]:
    """The places a problem answer names (asserting it is one)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return [e["loc"] for e in answer.json().get("errors", [])]


def test_an_unknown_body_field_is_refused_by_name_and_nothing_is_recorded(coord) -> None:
    family_id = register_family(coord)["id"]
    before = recorded(coord, family_id)
    answer = coord.post(
        f"/api/v1/families/{family_id}/contacts", {"kind": "home_visit", "outcome": "seen", "occured_on": "2026-01-02"}
    )
    assert refused(answer) == [["body", "occured_on"]]
    assert "occured_on" in answer.json()["detail"]
    assert recorded(coord, family_id) == before


def with_episode(person: Person) -> str:
    """A registered family with an open episode (so plans and meetings are recorded); its id."""
    family_id = str(register_family(person)["id"])
    assert person.post(f"/api/v1/families/{family_id}/episodes", {"level": 2}).status_code == 201
    return family_id


def test_numbers_are_not_dates_and_dates_have_bounds(coord) -> None:
    family_id = with_episode(coord)
    before = recorded(coord, family_id)
    contacts = f"/api/v1/families/{family_id}/contacts"
    for when in (1_700_000_000, 0.5, 0, "1700000000"):
        assert refused(coord.post(contacts, {"kind": "phone", "outcome": "seen", "occurred_on": when})) == [
            ["body", "occurred_on"]
        ]
    early = coord.post(contacts, {"kind": "phone", "outcome": "seen", "occurred_on": "1899-12-31"})
    assert refused(early) == [["body", "occurred_on"]]
    assert "1900-01-01" in early.json()["errors"][0]["msg"]
    far = coord.post(f"/api/v1/families/{family_id}/plans", {"outcomes": ["Ruby seen"], "review_by": "2126-01-01"})
    assert refused(far) == [["body", "review_by"]] and far.json()["rule"] == "date_too_far_ahead"
    unborn = coord.post(f"/api/v1/families/{family_id}/children", {"name": "Next", "expected_on": "2031-01-01"})
    assert refused(unborn) == [["body", "expected_on"]]
    born = coord.post(f"/api/v1/families/{family_id}/children", {"name": "Old", "date_of_birth": "1899-01-01"})
    assert refused(born) == [["body", "date_of_birth"]]
    assert recorded(coord, family_id) == before
    known_at = coord.get(f"/api/v1/families/{family_id}/chronology", params={"known_at": "1700000000"})
    assert refused(known_at) == [["query", "known_at"]]


def test_plans_and_meetings_refuse_agencies_and_people_nobody_registered(coord) -> None:
    family_id = with_episode(coord)
    before = recorded(coord, family_id)
    plan = coord.post(
        f"/api/v1/families/{family_id}/plans",
        {
            "outcomes": ["Ruby seen"],
            "contact_every_days": [{"agency_id": coord.agency_id, "days": 14}, {"agency_id": str(uuid4()), "days": 7}],
        },
    )
    assert refused(plan) == [["body", "contact_every_days", "1", "agency_id"]]
    assert plan.json()["rule"] == "unknown_agency"
    meeting = coord.post(
        f"/api/v1/families/{family_id}/meetings",
        {"kind": "taf", "held_on": "2026-05-01", "attendee_ids": [coord.id, str(uuid4())]},
    )
    assert refused(meeting) == [["body", "attendee_ids", "1"]]
    assert meeting.json()["rule"] == "unknown_professional"
    assert recorded(coord, family_id) == before


def test_a_body_past_the_limit_is_refused_before_it_is_read(server, coord) -> None:
    family_id = register_family(coord)["id"]
    before = recorded(coord, family_id)
    contacts = f"/api/v1/families/{family_id}/contacts"
    big = {"kind": "phone", "outcome": "seen", "notes": "x" * LIMIT}
    assert refused(coord.post(contacts, big), 413) == []
    assert coord.post(contacts, big).json()["rule"] == "body_too_large"

    def chunks() -> Iterator[bytes]:
        yield b'{"kind": "phone", "outcome": "seen", "notes": "'
        for _ in range(8):
            yield b"y" * 1024
        yield b'"}'

    streamed = coord.post(contacts, content=chunks(), headers={"Content-Type": "application/json"})
    assert refused(streamed, 413) == []
    form = httpx.post(f"{server.url}/sign-in", data={"email": "a@b.c", "password": "p" * LIMIT})
    assert form.status_code == 413
    assert recorded(coord, family_id) == before


def test_a_second_family_with_the_same_reference_is_refused_even_in_a_race(server, coord) -> None:
    register_family(coord, reference="ASHBY-01")
    for same in ("ASHBY-01", " ashby-01 ", "ＡＳＨＢＹ-01"):
        answer = coord.post(
            "/api/v1/families", {"children": [{"name": "Baby", "date_of_birth": "2026-01-10"}], "reference": same}
        )
        assert refused(answer, 409) == [] and answer.json()["rule"] == "family_reference_taken"
    reference = f"RACE-{uuid4().hex[:6]}"
    body = {"children": [{"name": "Baby", "date_of_birth": "2026-01-10"}], "reference": reference}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: coord.post("/api/v1/families", body), range(8)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    listed = coord.get(
        "/api/v1/families",
        params={"q": reference},
        headers={"X-Consistent-With": str(max(a.json().get("position", 0) for a in answers if a.status_code == 201))},
    )
    assert [f["reference"] for f in listed.json()["items"]] == [reference]


def test_the_api_csv_download_names_the_file_after_any_reference(coord) -> None:
    for reference in REFERENCES:
        family_id = register_family(coord, reference=reference)["id"]
        answer = coord.get(f"/api/v1/families/{family_id}/chronology", headers={"Accept": "text/csv"})
        assert answer.status_code == 200, (reference, answer.text)
        assert answer.text.startswith("occurred_on,")
        disposition = parse(answer.headers["content-disposition"], strict=True)
        assert disposition.type == "attachment"
        assert disposition.filename == f"chronology-{reference}.csv".replace('"', "_")
        assert set(disposition.params) <= {"filename", "filename*"}  # nothing injected
        assert answer.headers["content-disposition"].isascii()  # an ASCII fallback beside filename*


def test_a_reference_with_a_line_break_is_refused_at_registration(coord) -> None:
    answer = coord.post(
        "/api/v1/families",
        {"children": [{"name": "Baby", "date_of_birth": "2026-01-10"}], "reference": "ASHBY\r\nSet-Cookie: x=1"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["body", "reference"]
    listed = coord.get("/api/v1/families", params={"q": "ASHBY"}).json()["items"]
    assert [f for f in listed if "Set-Cookie" in f["reference"]] == []


def signed_in(server: Server, directory: Directory, person: Person) -> httpx.Client:
    """A browser signed in to the web pages as this person (a password set for them first)."""
    password = "a long enough password"
    assert (
        directory.admin.post(f"/api/v1/professionals/{person.id}/password", json={"password": password}).status_code
        == 204
    )
    listed = directory.admin.get("/api/v1/professionals", params={"limit": 500}).json()["items"]
    email = next(p["email"] for p in listed if p["id"] == person.id)
    browser = httpx.Client(base_url=server.url, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/sign-in").text)
    assert token is not None
    answer = browser.post("/sign-in", data={"email": email, "password": password, "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text[:500]
    return browser


def test_the_web_csv_download_keeps_the_reference_in_its_file_name(server) -> None:
    directory = Directory(server)
    coord = directory.person(directory.agency(), "coordinator")
    family_id = register_family(coord, reference="Zoë😀 web")["id"]
    browser = signed_in(server, directory, coord)
    try:
        answer = browser.get(f"/families/{family_id}/chronology.csv")
    finally:
        browser.close()
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-disposition"].isascii()
    assert parse(answer.headers["content-disposition"], strict=True).filename == "chronology-Zoë😀 web.csv"


def test_a_web_form_shows_a_control_character_in_its_error_summary_and_search_refuses_nul(server) -> None:
    directory = Directory(server)
    coord = directory.person(directory.agency(), "coordinator")
    family_id = with_episode(coord)
    before = recorded(coord, family_id)
    browser = signed_in(server, directory, coord)
    try:
        form = browser.get(f"/families/{family_id}/contacts/new")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert form.status_code == 200 and token is not None
        answer = browser.post(
            f"/families/{family_id}/contacts/new",
            data={"csrf_token": token.group(1), "kind": "home_visit", "outcome": "seen", "notes": "Ruby well\u0000"},
        )
        search = browser.get("/families", params={"q": "ASHBY\u0000"})
    finally:
        browser.close()
    assert answer.status_code == 400
    message = "Description must not contain control characters (such as U+0000)"
    assert error_summary(answer.text) == [message]
    assert field_error(answer.text, "notes") == message
    assert recorded(coord, family_id) == before
    assert search.status_code == 400 and "text/html" in search.headers["content-type"]
    assert "cannot be used (U+0000)" in search.text and "Content-Security-Policy" in search.headers
