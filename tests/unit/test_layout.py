"""DESIGN.md's layering: domain/ imports no framework and no outer layer."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"fastapi", "starlette", "celery", "redis", "api", "web", "workers", "projections", "taf", "pydantic"}


def test_domain_imports_no_framework_or_outer_layer() -> None:
    offenders = []
    for path in Path(__file__).resolve().parents[2].joinpath("domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
