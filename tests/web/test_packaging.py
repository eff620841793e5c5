"""The front end ships: pinned npm packages, and a wheel that carries every template and static file."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_front_end_packages_are_pinned_in_the_committed_lock_file() -> None:
    manifest = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    wanted = {**manifest["dependencies"], **manifest.get("devDependencies", {})}
    assert {"govuk-frontend", "htmx.org"} <= set(manifest["dependencies"])
    for name, version in wanted.items():
        assert version[0].isdigit(), f"{name} is not pinned to one version: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
        assert lock["packages"][f"node_modules/{name}"]["integrity"].startswith("sha512-")


def test_the_wheel_carries_every_template_and_static_file(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("taf_ledger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {
        f"{package}/templates/{p.name}"
        for package in ("web", "api")
        for p in (ROOT / package / "templates").glob("*.html")
    }
    static = {
        f"web/{p.relative_to(ROOT / 'web').as_posix()}"
        for p in (ROOT / "web" / "static").rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    assert {"api/templates/chronology.html"} <= templates <= names, sorted(templates - names)
    assert {"web/static/app.css", "web/static/govuk/govuk-frontend.min.js", "web/static/htmx.min.js"} <= names
    assert static <= names, sorted(static - names)
