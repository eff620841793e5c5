"""Register a family with its children (born or expected), carers, address and housing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from api.schemas.requests import FamilyCreate, birth_details
from domain import scope
from domain.application import ChildInput
from domain.errors import DomainError
from domain.values import Carer
from web.context import CurrentUser, PageError, PostedForm, User, done, page
from web.forms import Field, FormErrors, domain_error, filled_rows, kept_values, leaves, validate
from web.pages.facts import BIRTH_FIELDS, HOUSING
from web.render import DONE_MESSAGES

router = APIRouter()
DONE_MESSAGES["family-registered"] = "Family registered"

CHILDREN = Field(
    "children",
    "Children",
    "rows",
    count=4,
    item="Child",
    invalid="Enter the name of at least one child",
    hint="Give a date of birth, or an expected date for a child not born yet. Leave rows empty if not needed.",
    parts=[
        Field("name", "Name", "text"),
        Field("date_of_birth", "Date of birth", "date", hint="For example, 27 3 2026."),
        Field("expected_on", "Expected date", "date", hint="Only for a child not born yet."),
        *BIRTH_FIELDS,
    ],
)
FIELDS = [
    Field(
        "reference",
        "Reference",
        "text",
        width="10",
        hint="Your service's reference for the family. Leave empty to be given one.",
    ),
    CHILDREN,
    Field(
        "carers",
        "Carers",
        "rows",
        count=2,
        item="Carer",
        hint="Adults caring for the children.",
        parts=[
            Field("name", "Name", "text"),
            Field("relationship", "Relationship", "text", hint="For example, mother or grandfather."),
        ],
    ),
    Field("address", "Address", "textarea"),
    Field("housing", "Housing", "radios", choices=HOUSING),
    Field("languages", "Languages", "lines", hint="Languages spoken at home, one per line."),
]


def _may_register(user: User) -> None:
    if not scope.records_case_data(user.actor):
        raise PageError(403)


def _show(request: Request, user: User, values: dict[str, Any], errors: FormErrors, status: int = 200) -> Response:
    return page(
        request,
        "new_family.html",
        user,
        status=status,
        title="Register a family",
        fields=FIELDS,
        summary_fields=leaves(FIELDS),
        values=values,
        errors=errors,
        context=None,
    )


def _check_children(body: FamilyCreate, posted: FormData, today: Any, errors: FormErrors) -> None:
    """The domain's rules for each child, shown next to the row they are about."""
    rows = filled_rows(CHILDREN, posted)
    for index, child in enumerate(body.children):
        inputs = {f.name.rsplit("-", 1)[1]: f for f in CHILDREN.rows()[rows[index]]}
        if child.date_of_birth is None and child.expected_on is None:
            errors.add(
                inputs["date_of_birth"].name, f"Child {rows[index] + 1}: enter a date of birth or an expected date"
            )
        elif child.date_of_birth is not None and child.expected_on is not None:
            errors.add(
                inputs["expected_on"].name,
                f"Child {rows[index] + 1}: leave the expected date empty for a child already born",
            )
        elif child.date_of_birth is not None and child.date_of_birth > today:
            errors.add(
                inputs["date_of_birth"].name, f"Child {rows[index] + 1}: date of birth must be today or in the past"
            )


@router.get("/families/new", response_class=HTMLResponse)
def new_family(request: Request, user: CurrentUser) -> Response:
    """The form to register a family."""
    _may_register(user)
    return _show(request, user, {}, FormErrors())


@router.post("/families/new", response_class=HTMLResponse)
def register_family(request: Request, user: CurrentUser, posted: PostedForm) -> Response:
    """Register the family and go to its page; or show what is wrong, with nothing recorded."""
    _may_register(user)
    ledger = request.app.state.ledger
    body, errors = validate(FamilyCreate, FIELDS, posted)
    if body is not None:
        _check_children(body, posted, ledger.clock.today(), errors)
    if body is not None and not errors:
        try:
            recorded = ledger.register_family(
                user.actor,
                [ChildInput(c.name, c.date_of_birth, c.expected_on, birth=birth_details(c)) for c in body.children],
                carers=[Carer(c.name, c.relationship) for c in body.carers],
                address=body.address,
                housing=body.housing,
                languages=body.languages,
                reference=body.reference,
            )
        except DomainError as error:
            domain_error(errors, FIELDS, error)
        else:
            return done(f"/families/{recorded.family_id}", "family-registered")
    return _show(request, user, kept_values(FIELDS, posted), errors, status=400)
