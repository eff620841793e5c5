"""Driving the web pages in process: the whole service over a fresh SQLite store, a fake clock, signed-in sessions.

with web_service(tmp_path, clock) as service:
    ids = service.demo()                        # the demo directory and families
    coord = service.sign_in("coord@demo.taf.invalid")
    page = coord.get(f"/families/{family_id}")
    page = coord.post(f"/families/{family_id}/contacts/new", {"kind": "phone", ...})  # adds the CSRF token
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes.watchlist import scan_watchlist
from domain.application import TafLedger
from infra.settings import Settings
from taf.demo import DEMO_PASSWORD, DemoResult, load_demo_data
from taf.service import create_service

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TAGS = re.compile(r"<[^>]+>")


def text_of(markup: str) -> str:
    """The visible text of some HTML, whitespace collapsed (what a person reads)."""
    without_scripts = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", markup, flags=re.S)
    return " ".join(html.unescape(_TAGS.sub(" ", without_scripts)).split())


def h1(markup: str) -> str:
    """The text of the page's h1."""
    found = re.search(r"<h1[^>]*>(.*?)</h1>", markup, flags=re.S)
    return text_of(found.group(1)) if found else ""


def error_summary(markup: str) -> list[str]:
    """The messages in the page's error summary (empty when there is none)."""
    found = re.search(r'<div class="govuk-error-summary".*?</ul>', markup, flags=re.S)
    if not found:
        return []
    return [text_of(item) for item in re.findall(r"<li>(.*?)</li>", found.group(0), flags=re.S)]


def field_error(markup: str, name: str) -> str:
    """The message shown above a field (empty when there is none)."""
    found = re.search(rf'<p id="{re.escape(name)}-error" class="govuk-error-message">(.*?)</p>', markup, flags=re.S)
    return text_of(found.group(1)).removeprefix("Error:").strip() if found else ""


@dataclass
class Browser:
    """One signed-in (or signed-out) browser: its own cookies, and the CSRF token of its session."""

    client: TestClient
    csrf_token: str = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET a page (redirects not followed unless asked)."""
        kwargs.setdefault("follow_redirects", False)
        response = self.client.get(path, **kwargs)
        found = _CSRF.search(response.text)
        if found:
            self.csrf_token = found.group(1)
        return response

    def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """POST a form with the session's CSRF token (unless csrf=False)."""
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        expanded: list[tuple[str, str]] = []
        for key, value in items:
            if isinstance(value, list | tuple):
                expanded += [(key, str(v)) for v in value]
            else:
                expanded.append((key, str(value)))
        if csrf:
            if not self.csrf_token:
                self.get("/")
            expanded.append(("csrf_token", self.csrf_token))
        kwargs.setdefault("follow_redirects", False)
        form: dict[str, list[str]] = {}
        for key, value in expanded:
            form.setdefault(key, []).append(value)
        return self.client.post(path, data=form, **kwargs)


@dataclass
class WebService:
    """The service in process, and ways to sign people in."""

    app: FastAPI
    base: TestClient

    @property
    def ledger(self) -> TafLedger:
        """The application service behind the pages."""
        ledger: TafLedger = self.app.state.ledger
        return ledger

    def demo(self) -> DemoResult:
        """Load the fictional demo directory and families."""
        return load_demo_data(self.ledger)

    def browser(self) -> Browser:
        """A new browser with no cookies."""
        return Browser(TestClient(self.app, base_url="http://testserver"))

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> Browser:
        """A new browser, signed in as this person (asserts that signing in worked)."""
        browser = self.browser()
        browser.get("/sign-in")
        response = browser.post("/sign-in", {"email": email, "password": password})
        assert response.status_code == 303, error_summary(response.text) or response.text[:500]
        browser.get("/")
        return browser

    def wait_for_projections(self) -> None:
        """Wait until the signal worker has recorded today's signals and the read models have caught up."""
        scan_watchlist(self.app)  # signals are events the worker records (issue 11); the watchlist follows them
        position = self.ledger.recorder.max_notification_id() or 0
        self.app.state.read_models.wait_for(position, timeout=10)


@contextmanager
def web_service(tmp_path: Path, clock: Any = None, demo: bool = True, workers: bool = True) -> Iterator[WebService]:
    """The whole service (API and pages) over a fresh SQLite store in tmp_path (workers=False: no worker thread)."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'taf.sqlite'}",
        _env_file=None,
        in_process_workers=workers,
    )
    app = create_service(settings, clock=clock, demo=demo)
    with TestClient(app) as base:
        yield WebService(app, base)
