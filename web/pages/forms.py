"""Forms for the facts and decisions recorded on a family: each declared once, served by one pair of routes.

A form is a `FamilyForm`: where it lives (under the family's page), its fields, the API's
request model that validates it, and the application-service call that records it. GET
shows the form; POST validates with the API's model, records through the ledger, and
redirects to the family page with a confirmation banner (post/redirect/get), or shows the
form again with the error summary, the messages next to the fields and the values kept.
Nothing is recorded when anything is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from domain.application import Recorded, TafLedger, When
from domain.errors import DomainError, UnknownEntityError
from domain.family import Family
from domain.values import Actor, Role
from web.context import CurrentUser, PageError, PostedForm, User, done, page, web_state, writable_family
from web.directory import Directory
from web.forms import Field, FormErrors, domain_error, kept_values, validate
from web.render import DONE_MESSAGES

router = APIRouter()


@dataclass(frozen=True)
class FormContext:
    """What a form's choices and submission may depend on: the family, the directory, the item, the person."""

    family: Family
    directory: Directory
    user: User
    item_id: UUID | None
    today: date

    def children(self) -> list[tuple[str, str]]:
        """The family's children as choices."""
        return [(str(c.child_id), c.name) for c in self.family.children.values()]

    def team(self) -> list[tuple[str, str]]:
        """The lead and TAF members as choices."""
        ids: list[UUID] = []
        if self.family.lead is not None:
            ids.append(self.family.lead.professional_id)
        ids += [m.professional_id for m in self.family.members.values() if m.professional_id not in ids]
        return [(str(i), self._person_label(i)) for i in ids]

    def professionals(self, roles: Sequence[Role] | None = None) -> list[tuple[str, str]]:
        """Every active person in the directory (optionally of some roles) as choices."""
        return [(str(p.id), f"{p.name} ({p.agency_name})") for p in self.directory.people()
                if p.active and not p.is_system and p.role not in ("admin", "auditor")
                and (roles is None or p.role in {r.value for r in roles})]

    def agencies(self) -> list[tuple[str, str]]:
        """Every agency as choices."""
        return [(str(a.id), a.name) for a in self.directory.agencies()]

    def _person_label(self, professional_id: UUID) -> str:
        person = self.directory.person(professional_id)
        return f"{person.name} ({person.agency_name})" if person else str(professional_id)


Submit = Callable[[TafLedger, Actor, FormContext, Any], Recorded]


@dataclass(frozen=True)
class FamilyForm:
    """A form recording one fact or decision on a family."""

    name: str  # the key of its confirmation banner
    path: str  # under /families/{family_id}/, e.g. "contacts/new" or "actions/{item_id}/completion"
    title: str
    model: type[BaseModel]
    fields: Sequence[Field]
    submit: Submit
    done_message: str
    button: str = "Save"
    intro: str = ""
    roles: frozenset[Role] | None = None  # who may use it (403 for others); None: anyone who records case data
    extra: Callable[[FormContext], dict[str, Any]] | None = None  # JSON fields the page adds itself
    initial: Callable[[FormContext], dict[str, Any]] = field(default=lambda ctx: {})


FORMS: list[FamilyForm] = []


def when(body: Any, specific: date | datetime | None = None) -> When:
    """When a fact happened: a specific date field wins over `occurred_on` (as the API reads it)."""
    occurred = specific if specific is not None else getattr(body, "occurred_on", None)
    return When(occurred_on=occurred, date_uncertain=bool(getattr(body, "date_uncertain", False)))


def _context(request: Request, user: User, family_id: UUID, item_id: UUID | None) -> FormContext:
    family = writable_family(request, user, family_id)
    return FormContext(family, web_state(request).directory, user, item_id, request.app.state.ledger.clock.today())


def _show(request: Request, form: FamilyForm, ctx: FormContext, values: dict[str, Any], errors: FormErrors,
          status: int = 200) -> HTMLResponse:
    return page(request, "form.html", ctx.user, status=status, title=form.title, form=form, family=ctx.family,
                fields=form.fields, values=values, errors=errors, context=ctx,
                action=request.url.path)


def _allowed(form: FamilyForm, user: User) -> None:
    if form.roles is not None and user.role not in form.roles:
        raise PageError(403)


def _get(form: FamilyForm) -> Callable[..., Response]:
    def show_form(request: Request, family_id: UUID, user: CurrentUser, item_id: UUID | None = None) -> Response:
        ctx = _context(request, user, family_id, item_id)
        _allowed(form, user)
        return _show(request, form, ctx, form.initial(ctx), FormErrors())

    return show_form


def _post(form: FamilyForm) -> Callable[..., Response]:
    def submit_form(request: Request, family_id: UUID, user: CurrentUser, posted: PostedForm,
                    item_id: UUID | None = None) -> Response:
        ctx = _context(request, user, family_id, item_id)
        _allowed(form, user)
        return record(request, form, ctx, posted)

    return submit_form


def record(request: Request, form: FamilyForm, ctx: FormContext, posted: FormData) -> Response:
    """Validate with the API's model, record through the ledger, and redirect; or show what is wrong."""
    body, errors = validate(form.model, form.fields, posted, form.extra(ctx) if form.extra else None)
    if body is not None:
        try:
            form.submit(request.app.state.ledger, ctx.user.actor, ctx, body)
        except UnknownEntityError as error:
            if error.field in (None, "family_id"):
                raise PageError(404) from None
            domain_error(errors, form.fields, error)
        except DomainError as error:
            domain_error(errors, form.fields, error)
        else:
            return done(f"/families/{ctx.family.id}", form.name)
    return _show(request, form, ctx, kept_values(form.fields, posted), errors, status=400)


def register(*forms: FamilyForm) -> None:
    """Serve these forms under their families' pages."""
    for form in forms:
        FORMS.append(form)
        DONE_MESSAGES[form.name] = form.done_message
        path = "/families/{family_id}/" + form.path.replace("{item_id}", "{item_id}")
        router.add_api_route(path, _get(form), methods=["GET"], response_class=HTMLResponse,
                             name=f"{form.name}-form")
        router.add_api_route(path, _post(form), methods=["POST"], response_class=HTMLResponse,
                             name=f"{form.name}-submit")
