"""The fault suite (issue 12): each test breaks something a hostile or careless user could break.

Every test here is marked `fault`; `.ci/run` runs them with the rest. Tests that need their own
redis-server or processes start them through `tests/integration/workers_harness.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.fault)
