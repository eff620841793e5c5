"""Schemathesis against /openapi.json: no server error and no answer outside the documented schema."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.api_client import ADMIN_KEY, Directory, Server, api_server, register_family

__all__ = ["api_server"]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
DIRECTORY_PATHS = ("/api/v1/agencies", "/api/v1/professionals", "/api/v1/api-keys")


@dataclass
class Context:
    """Where the generated requests go: a real family, a coordinator's key and the admin key."""

    url: str
    family_id: str
    coordinator_key: str


@pytest.fixture(scope="module")
def context(api_server: Server) -> Context:
    directory = Directory(api_server)
    coordinator = directory.person(directory.agency(), "coordinator")
    family = register_family(coordinator)
    assert coordinator.post(f"/api/v1/families/{family['id']}/episodes", {"level": 2}).status_code == 201
    return Context(api_server.url, family["id"], coordinator.key)


def check_operation(operation: schemathesis.APIOperation, context: Context) -> None:
    """Generate a few valid requests for one operation and check every answer against the document."""

    @given(case=operation.as_strategy())
    @settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def run(case: schemathesis.Case) -> None:
        if "family_id" in (case.path_parameters or {}):
            case.path_parameters["family_id"] = context.family_id
        key = ADMIN_KEY if case.path.startswith(DIRECTORY_PATHS) else context.coordinator_key
        case.call_and_validate(base_url=context.url, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

    run()


def test_every_operation_answers_within_its_documented_schema(api_server: Server, context: Context) -> None:
    # pytest 9 does not run schemathesis' own pytest plugin, so each operation gets its own hypothesis run.
    schema = schemathesis.openapi.from_url(f"{api_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        check_operation(operation, context)
