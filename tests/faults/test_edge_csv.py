"""Issue 12, defect 6: the chronology CSV download names its file after any family reference safely.

`Zoë😀` as a reference answered 500 on the CSV download (the header could not be encoded), a
quote injected header parameters, and a CR LF dropped the connection. Content-Disposition is
now built by a library (RFC 6266, `filename*` in UTF-8 with an ASCII `filename` fallback),
and references with control characters are refused when the family is registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from contentdisp import parse

from tests.e2e.api_client import Directory, Server, register_family, start_server, stop_server

REFERENCES = ["Zoë😀", 'ASHBY"; filename="evil.exe', "Ünal ‘B’ 01", "50%-A;B"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`taf serve` as a user starts it."""
    running = start_server(tmp_path_factory.mktemp("csv"))
    try:
        yield running
    finally:
        stop_server(running)


def test_the_api_csv_download_names_the_file_after_any_reference(server) -> None:
    directory = Directory(server)
    coord = directory.person(directory.agency(), "coordinator")
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


def test_a_reference_with_a_line_break_is_refused_at_registration(server) -> None:
    directory = Directory(server)
    coord = directory.person(directory.agency(), "coordinator")
    answer = coord.post(
        "/api/v1/families",
        {"children": [{"name": "Baby", "date_of_birth": "2026-01-10"}], "reference": "ASHBY\r\nSet-Cookie: x=1"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["body", "reference"]
    listed = coord.get("/api/v1/families", params={"q": "ASHBY"}).json()["items"]
    assert [f for f in listed if "Set-Cookie" in f["reference"]] == []


def signed_in(server: Server, email: str, password: str) -> httpx.Client:
    """A browser signed in to the web pages of the server (its session cookie kept)."""
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
    password = "a long enough password"
    assert (
        directory.admin.post(f"/api/v1/professionals/{coord.id}/password", json={"password": password}).status_code
        == 204
    )
    email = next(
        p["email"]
        for p in directory.admin.get("/api/v1/professionals", params={"limit": 500}).json()["items"]
        if p["id"] == coord.id
    )
    browser = signed_in(server, email, password)
    try:
        answer = browser.get(f"/families/{family_id}/chronology.csv")
    finally:
        browser.close()
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-disposition"].isascii()
    assert parse(answer.headers["content-disposition"], strict=True).filename == "chronology-Zoë😀 web.csv"
