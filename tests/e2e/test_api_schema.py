"""The OpenAPI document says what the server takes and answers: names, examples, headers, problems.

Schemathesis runs every check against the served document in tests/contract/test_schemathesis.py;
these tests read the document itself and try the refusals it promises on a running server.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from api import schemas
from api.app import create_app
from api.schemas.examples import REQUEST_EXAMPLES
from tests.e2e.api_client import Directory, Person, Server, api_server, is_problem, register_family

__all__ = ["api_server"]

BODY_MODELS: dict[str, type[BaseModel]] = {
    name: model
    for module in (importlib.import_module(f"api.schemas.{m.name}") for m in pkgutil.iter_modules(schemas.__path__))
    for name, model in vars(module).items()
    if isinstance(model, type) and issubclass(model, BaseModel) and name in REQUEST_EXAMPLES
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_operation_ids_are_readable_and_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(i[0].islower() and "_" not in i for i in ids)
    by_route = {(path, method): op["operationId"] for path, method, op in operations(document)}
    assert by_route[("/api/v1/families/{family_id}/contacts", "post")] == "recordContact"
    assert by_route[("/api/v1/families/{family_id}/closure", "post")] == "requestClosure"
    assert by_route[("/api/v1/families/{family_id}/chronology", "get")] == "getChronology"


def test_every_request_body_has_an_example_its_model_accepts(document: dict[str, Any]) -> None:
    for _, _, op in operations(document):
        if "requestBody" not in op:
            continue
        content = op["requestBody"]["content"]["application/json"]
        assert "example" in content, op["operationId"]
    for name, example in REQUEST_EXAMPLES.items():
        BODY_MODELS[name].model_validate(example)


def test_every_problem_names_its_rule(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert "rule" in problem["required"]
    for path, _, op in operations(document):
        if path.startswith("/api/"):
            assert {"401", "403", "404", "406", "422", "429"} <= set(op["responses"]), op["operationId"]
            assert ("415" in op["responses"]) == ("requestBody" in op), op["operationId"]


def test_headers_the_server_sends_are_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "Location" in paths["/api/v1/families"]["post"]["responses"]["201"]["headers"]
    assert "Location" in paths["/api/v1/families/{family_id}/closure"]["post"]["responses"]["202"]["headers"]
    contact = paths["/api/v1/families/{family_id}/contacts"]["post"]["responses"]
    assert {"ETag", "Idempotent-Replayed"} <= set(contact["201"]["headers"])
    assert "WWW-Authenticate" in contact["401"]["headers"] and "Retry-After" in contact["429"]["headers"]
    chronology = paths["/api/v1/families/{family_id}/chronology"]["get"]
    assert "Retry-After" in chronology["responses"]["503"]["headers"]
    assert any(p["name"] == "X-Consistent-With" for p in chronology["parameters"])


def test_no_parameter_is_documented_as_null(document: dict[str, Any]) -> None:
    for _, _, op in operations(document):
        for parameter in op.get("parameters", []):
            assert {"type": "null"} not in parameter["schema"].get("anyOf", []), (op["operationId"], parameter)


def test_closed_sets_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("SignalName", "EventType", "HandoverStep", "Channel", "EpisodeKind", "RequestStatus"):
        assert schemas[name]["enum"], name
    assert set(schemas["ChronologyItem"]["properties"]["kind"]["enum"]) == {
        "fact",
        "opinion",
        "self_report",
        "third_party_report",
    }
    assert schemas["DeliveryView"]["properties"]["status"]["enum"] == ["pending", "delivered", "failed", "skipped"]


@pytest.fixture(scope="module")
def coordinator(api_server: Server) -> Person:
    directory = Directory(api_server)
    return directory.person(directory.agency(), "coordinator")


def test_a_body_that_is_not_json_is_415(coordinator: Person) -> None:
    family = register_family(coordinator)
    answer = coordinator.http.post(
        f"/api/v1/families/{family['id']}/contacts",
        content=b"kind=home_visit&outcome=seen",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert is_problem(answer, 415, "unsupported_media_type")
    assert coordinator.get(f"/api/v1/families/{family['id']}").json()["version"] == 1


def test_an_accept_the_route_cannot_answer_is_406(coordinator: Person) -> None:
    family = register_family(coordinator)
    answer = coordinator.get(f"/api/v1/families/{family['id']}", headers={"Accept": "text/csv"})
    assert is_problem(answer, 406, "not_acceptable")
    chronology = coordinator.get(f"/api/v1/families/{family['id']}/chronology", headers={"Accept": "text/csv"})
    assert chronology.status_code == 200 and chronology.headers["content-type"].startswith("text/csv")
    assert coordinator.get("/api/v1/families", headers={"Accept": "application/*"}).status_code == 200


def test_405_allows_every_method_of_the_path(api_server: Server, coordinator: Person) -> None:
    family = register_family(coordinator)
    answer = coordinator.http.put(f"/api/v1/families/{family['id']}/closure", json={})
    assert is_problem(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "DELETE, GET, POST"
    anonymous = httpx.patch(f"{api_server.url}/api/v1/families", timeout=30)
    assert is_problem(anonymous, 405) and anonymous.headers["allow"] == "GET, POST"


def test_schema_refusals_name_request_invalid(coordinator: Person) -> None:
    family = register_family(coordinator)
    answer = coordinator.get(f"/api/v1/families/{family['id']}/chronology", params={"known_at": "0.5"})
    assert is_problem(answer, 422, "request_invalid")
    assert answer.json()["errors"][0]["loc"] == ["query", "known_at"]
    unknown = coordinator.get("/api/v1/nowhere")
    assert is_problem(unknown, 404, "not_found")
