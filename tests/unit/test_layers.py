"""The layers point down (README, "Architecture"): a test fails when an import points up.

    taf/  (composition root, command line)          may import anything below
      |
    api/   web/   workers/   projections/           outer layers: domain/ and infra/,
      |      |       |            |                 sideways only as SIDEWAYS names
    infra/  (settings, ledger construction, side store, access log, write lock)
      |
    domain/ (the model: stdlib and libraries only, no framework)

Every import counts, including those inside functions. Nothing but taf/ (and tests/,
bench/) imports taf/: the outer layers never reach the composition root.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each layer and the project packages it may import (besides itself, the stdlib and libraries).
OUTER = frozenset({"domain", "infra"})
LAYERS: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "infra": frozenset({"domain"}),
    "projections": OUTER,
    "workers": OUTER,
    "api": OUTER,
    "web": OUTER,
    "taf": frozenset({"domain", "infra", "projections", "workers", "api", "web"}),
}

# Sideways arrows between outer layers: (importing module prefix, imported module prefix, why).
SIDEWAYS: tuple[tuple[str, str, str], ...] = (
    ("api", "projections", "the API serves the read models and starts the in-process projector (embedded mode)"),
    ("web", "projections", "the pages read the read models"),
    ("web", "api.schemas", "web forms validate with the API's request models: one definition of a request"),
    ("api.app", "workers.embedded", "the embedded mode runs the workers in the API's process"),
    ("api", "workers.webhooks", "webhooks are managed through the API and delivered by the workers: one store"),
    ("api", "workers.outbound", "a webhook URL the delivery policy would refuse is refused when it is registered"),
    ("api.routes.watchlist", "workers.periodic", "scan_watchlist runs the signal worker's scan in process (by hand)"),
)

# Top-level packages outside the layers (they may import anything).
NOT_LAYERS = {"tests", "bench", "node_modules"}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every absolute import in a module, with its line, including imports inside functions."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def allowed(importer: str, imported: str) -> bool:
    layer, target = importer.split(".")[0], imported.split(".")[0]
    if target not in LAYERS or target == layer or target in LAYERS[layer]:
        return True
    return any(within(importer, source) and within(imported, goal) for source, goal, _ in SIDEWAYS)


def arrows() -> list[tuple[str, int, str]]:
    """(importing module, line, imported module) for every import of the project's layered packages."""
    found = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            importer = module_name(path)
            found += [(importer, line, imported) for line, imported in imported_modules(path.read_text())]
    return found


def test_every_top_level_package_has_a_layer() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - NOT_LAYERS
    assert packages == set(LAYERS), "a new package needs its place in LAYERS (and in the README's diagram)"


def test_no_import_points_up_or_sideways_unless_named() -> None:
    upward = [
        f"{importer}:{line} imports {imported}"
        for importer, line, imported in arrows()
        if not allowed(importer, imported)
    ]
    assert upward == [], "imports that point up, at taf/, or sideways without a reason in SIDEWAYS"


def test_only_the_composition_root_imports_taf() -> None:
    assert [f"{i}:{n} imports {m}" for i, n, m in arrows() if within(m, "taf") and not within(i, "taf")] == []


def test_every_sideways_arrow_is_still_used() -> None:
    """A reason kept for an arrow that no longer exists would make the list a wish list."""
    used = {
        (source, goal)
        for importer, _, imported in arrows()
        for source, goal, _ in SIDEWAYS
        if within(importer, source) and within(imported, goal)
    }
    assert [(s, g) for s, g, _ in SIDEWAYS if (s, g) not in used] == []


def test_imports_inside_functions_count() -> None:
    source = "import os\n\ndef later():\n    from taf.runtime import migrate\n    return migrate\n"
    assert imported_modules(source) == [(1, "os"), (4, "taf.runtime")]
    assert not allowed("projections.runner", "taf.runtime")
    assert not allowed("api.routes.reading", "web.render")
    assert not allowed("infra.settings", "projections.store")
    assert allowed("web.pages.forms", "api.schemas.requests") and not allowed("api.app", "web.app")
