"""Schemathesis counts in pytest's closing summary, so a quiet run (`.ci/run`) still shows them."""

from __future__ import annotations

from typing import Any

COUNTS: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per schemathesis run: role, operations, cases, failures."""
    if COUNTS:
        terminalreporter.section("schemathesis")
        for line in COUNTS:
            terminalreporter.write_line(line)
