"""Every API route that writes claims the Idempotency-Key: a route without it would silently ignore the key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.deps import idempotency_key
from infra.settings import Settings
from taf.service import create_service

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that take a POST but record nothing, so a repeat is already safe without a key.
NOT_WRITES = {"/api/v1/families/match": "a search by NHS number or name and date of birth: it records nothing"}


def _routes(routes: Iterable[object]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        yield from _routes(getattr(route, "routes", None) or ())  # a mount or an included router
        yield from _routes(getattr(getattr(route, "original_router", None), "routes", None) or ())


def _claims_key(dependant: Dependant) -> bool:
    return dependant.call is idempotency_key or any(_claims_key(d) for d in dependant.dependencies)


def test_every_writing_api_route_claims_the_idempotency_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'taf.sqlite'}", _env_file=None)
    app = create_service(settings)
    writing = [r for r in _routes(app.routes) if r.path.startswith("/api/") and r.methods & WRITES]
    assert len(writing) > 60, "the walk found the API's routes"
    ignoring = sorted(
        f"{sorted(r.methods)} {r.path}" for r in writing if r.path not in NOT_WRITES and not _claims_key(r.dependant)
    )
    assert ignoring == [], "these routes would ignore an Idempotency-Key"
