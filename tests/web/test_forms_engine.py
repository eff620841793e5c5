"""The form engine's nested fields: repeated rows, groups and lines become the API's JSON, errors go to their row."""

from __future__ import annotations

from starlette.datastructures import FormData

from api.schemas.requests import AssessmentCompletion, MeetingIn, PlanIn
from web.forms import Field, domain_error, filled_rows, kept_values, leaves, to_json, validate

ACTIONS = Field(
    "actions",
    "New actions",
    "rows",
    count=3,
    item="Action",
    parts=[
        Field("description", "Description"),
        Field("owner_id", "Owner", "select"),
        Field("due_on", "Due date", "date"),
    ],
)
MEETING = [Field("kind", "Kind of meeting", "radios"), Field("held_on", "Date held", "date"), ACTIONS]
OWNER = "9a1b8d4e-0000-4000-8000-000000000001"


def form(*items: tuple[str, str]) -> FormData:
    """Posted form values."""
    return FormData(list(items))


def test_rows_become_a_list_leaving_out_empty_rows() -> None:
    values = form(
        ("actions-1-description", "Visit"),
        ("actions-1-owner_id", OWNER),
        ("actions-1-due_on-day", "3"),
        ("actions-1-due_on-month", "6"),
        ("actions-1-due_on-year", "2026"),
    )
    assert to_json([ACTIONS], values) == {
        "actions": [{"description": "Visit", "owner_id": OWNER, "due_on": "2026-06-03"}]
    }
    assert filled_rows(ACTIONS, values) == [1]
    assert to_json([ACTIONS], form()) == {}


def test_an_error_in_a_row_goes_to_the_input_of_the_row_the_person_filled() -> None:
    values = form(
        ("kind", "taf"),
        ("held_on", "2026-05-01"),
        ("actions-2-description", "Visit"),
        ("actions-2-owner_id", OWNER),
        ("actions-2-due_on-day", "40"),
        ("actions-2-due_on-month", "6"),
        ("actions-2-due_on-year", "2026"),
    )
    body, errors = validate(MeetingIn, MEETING, values)
    assert body is None
    assert errors.by_field == {"actions-2-due_on": "Action 3: due date must be a real date, for example 27 3 2026"}
    assert kept_values(MEETING, values)["actions-2-due_on-day"] == "40"
    assert [f.name for f in leaves([ACTIONS])][:3] == [
        "actions-0-description",
        "actions-0-owner_id",
        "actions-0-due_on",
    ]


def test_a_group_becomes_one_object_and_its_errors_go_to_its_parts() -> None:
    grades = Field(
        "grades",
        "Grades",
        "group",
        parts=[
            Field(name, name.replace("_", " ").capitalize(), "radios", invalid=f"Select a grade for {name}")
            for name in ("physical_care", "safety", "love", "esteem")
        ],
    )
    values = form(("grades-physical_care", "1"), ("grades-safety", "6"), ("grades-love", "2"), ("grades-esteem", "3"))
    body, errors = validate(AssessmentCompletion, [grades], values)
    assert body is None and errors.by_field == {"grades-safety": "Select a grade for safety"}
    good, _ = validate(
        AssessmentCompletion,
        [grades],
        form(*[(f"grades-{n}", "2") for n in ("physical_care", "safety", "love", "esteem")]),
    )
    assert good.grades.safety == 2
    assert validate(AssessmentCompletion, [grades], form())[0].grades is None  # absent, as the API reads it


def test_lines_become_a_list_and_a_domain_refusal_finds_its_input() -> None:
    outcomes = Field("outcomes", "Outcomes", "lines")
    body, _ = validate(PlanIn, [outcomes], form(("outcomes", "Ruby seen weekly\r\n\r\n  GP registered  ")))
    assert body.outcomes == ["Ruby seen weekly", "GP registered"]
    _, errors = validate(PlanIn, [outcomes], form(("outcomes", " \n ")))
    assert errors.by_field == {"outcomes": "Enter outcomes"}

    class Refusal(Exception):
        field = "actions.0.due_on"
        rule = "x"
        detail = "due date is wrong"

    assert domain_error(type(errors)(), MEETING, Refusal()).by_field == {"actions-0-due_on": "Due date is wrong"}
