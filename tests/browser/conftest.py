"""A real server and a real browser for each test module.

`taf serve --demo` runs as a process on a free port over a fresh SQLite store, with its
in-process projections and workers, exactly as `bin/run` starts it. Chromium is Debian's
(`/usr/bin/chromium`), driven by Playwright. Without Chromium the tests skip locally and
fail under CI. Screenshots go to `test-screenshots/` (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("TAF_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"
PASSWORD = "demo-password"
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `taf serve`: where it answers, its store, and what it printed."""

    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def api_key(self, role: str) -> str:
        """The demo API key printed for the first person of a role."""
        found = re.search(rf"^\s*{role}\s+.*API key: (\S+)", self.log(), flags=re.M)
        assert found, f"no {role} key in the server's output"
        return found.group(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`taf serve --demo` on a free port over a fresh store, stopped after the module."""
    data_dir = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = dict(
        os.environ,
        TAF_DATA_DIR=str(data_dir),
        TAF_DATABASE_URL=f"sqlite:///{data_dir / 'taf.sqlite'}",
        TAF_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TAF_REDIS_URL", None)
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from taf.cli import main; main()", "serve", "--demo", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=data_dir,
        )
    running = Server(f"http://127.0.0.1:{port}", data_dir, log_path, process)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"taf serve exited with {process.returncode}:\n{running.log()}")
        try:
            if httpx.get(running.url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"taf serve did not answer within {START_TIMEOUT} s:\n{running.log()}")
        time.sleep(0.2)
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's Chromium under Playwright (skips locally without it; fails under CI)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM}: bin/setup dev installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: the browser tests must run)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(chromium: object) -> Iterator[object]:
    """A fresh browser context (its own cookies) with JavaScript on."""
    ctx = chromium.new_context(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


def sign_in(page: object, server: Server, email: str) -> None:
    """Sign in through the sign-in page as a person would."""
    page.goto(server.url + "/sign-in")  # type: ignore[attr-defined]
    page.get_by_label("Email address").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(server.url + "/")  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot under test-screenshots/ (git-ignored) and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def serious_violations(page: object) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page, described."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
