"""Forms for the facts and decisions recorded on a family: each declared once, served by one pair of routes.

A form is a `FamilyForm`: where it lives (under the family's page), its fields, the API's
request model that validates it, and the application-service call that records it. GET
shows the form; POST validates with the API's model, records through the ledger, and
redirects to the family page with a confirmation banner (post/redirect/get), or shows the
form again with the error summary, the messages next to the fields and the values kept.
Nothing is recorded when anything is wrong.

A form about one thing of the family (an action, a referral, a child) has `{item_id}` in
its path and an `item` lookup: an id the family does not have answers 404. Choices,
titles, which fields show and who may use the form can all depend on the `FormContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from api.schemas.requests import Fact
from domain.application import Recorded, TafLedger, When
from domain.errors import DomainError, NotPermittedError, UnknownEntityError
from domain.family import Family
from domain.values import Actor, Role
from web.context import (
    CurrentUser,
    PageError,
    PostedForm,
    User,
    done,
    page,
    readable_family,
    web_state,
    writable_family,
)
from web.directory import Directory
from web.forms import Field, FormErrors, domain_error, kept_values, leaves, validate
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
    params: Mapping[str, str] = field(default_factory=dict)  # the page's query parameters
    read_models: Any = None
    item: Any = None  # what `item_id` names, once looked up
    ledger: Any = None  # the application service, for choices it computes (items carried forward)
    settings: Any = None

    def param(self, name: str) -> str:
        """A query parameter of the page (empty when absent)."""
        return str(self.params.get(name, "") or "")

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
        return [
            (str(p.id), f"{p.name} ({p.agency_name})")
            for p in self.directory.people()
            if p.active
            and not p.is_system
            and p.role not in ("admin", "auditor")
            and (roles is None or p.role in {r.value for r in roles})
        ]

    def agencies(self) -> list[tuple[str, str]]:
        """Every agency as choices."""
        return [(str(a.id), a.name) for a in self.directory.agencies()]

    def people(self) -> list[tuple[str, str]]:
        """The team first, then everyone else who may work with families, as choices."""
        team = self.team()
        ids = {value for value, _ in team}
        return team + [(value, label) for value, label in self.professionals() if value not in ids]

    def not_in_team(self) -> list[tuple[str, str]]:
        """People who may join the team: not the lead and not already a member."""
        ids = {value for value, _ in self.team()}
        return [(value, label) for value, label in self.professionals() if value not in ids]

    def not_lead(self) -> list[tuple[str, str]]:
        """People who could take over as lead professional (anyone but the current lead)."""
        lead = str(self.family.lead.professional_id) if self.family.lead else ""
        return [(value, label) for value, label in self.people() if value != lead]

    def person_label(self, professional_id: UUID | None) -> str:
        """A person's name and agency."""
        return self._person_label(professional_id) if professional_id else ""

    def _person_label(self, professional_id: UUID) -> str:
        person = self.directory.person(professional_id)
        return f"{person.name} ({person.agency_name})" if person else str(professional_id)


Submit = Callable[[TafLedger, Actor, FormContext, Any], Recorded]


@dataclass(frozen=True)
class FamilyForm:
    """A form recording one fact or decision on a family."""

    name: str  # the key of its confirmation banner
    path: str  # under /families/{family_id}/, e.g. "contacts/new" or "actions/{item_id}/completion"
    title: str | Callable[[FormContext], str]
    model: type[BaseModel]
    fields: Sequence[Field]
    submit: Submit
    done_message: str
    button: str | Callable[[FormContext], str] = ""  # empty: the title
    intro: str = ""
    roles: frozenset[Role] | None = None  # who may use it (403 for others); None: anyone who records case data
    extra: Callable[[FormContext], dict[str, Any]] | None = None  # JSON fields the page adds itself
    initial: Callable[[FormContext], dict[str, Any]] = field(default=lambda ctx: {})
    item: Callable[[FormContext], Any] | None = None  # looks up {item_id} in the family (None: 404)
    refusal: Callable[[FormContext], str | None] | None = None  # why this person may not use it here (403)
    describe: Callable[[FormContext], list[tuple[str, str]]] | None = None  # what the form is about
    build: Callable[[FormContext, dict[str, Any]], dict[str, Any]] | None = None  # reshapes the JSON body
    when_field: str = "occurred_on"  # the date input a "not in the future" refusal belongs to
    warning: bool = False  # the button undoes or ends something (a red GOV.UK warning button)

    def title_for(self, ctx: FormContext) -> str:
        """The page's title and h1 in this context."""
        return self.title(ctx) if callable(self.title) else self.title

    def button_for(self, ctx: FormContext) -> str:
        """The submit button's text in this context."""
        text = self.button(ctx) if callable(self.button) else self.button
        return text or self.title_for(ctx)

    def fields_for(self, ctx: FormContext) -> list[Field]:
        """The fields the page shows in this context."""
        return [f for f in self.fields if f.is_shown(ctx)]


FORMS: list[FamilyForm] = []


def when(body: Any, specific: date | datetime | None = None) -> When:
    """When a fact happened, as the API reads it (a body without `occurred_on`, such as a meeting, gives its date)."""
    if isinstance(body, Fact):
        return body.when(specific)
    return When(occurred_on=specific, date_uncertain=bool(getattr(body, "date_uncertain", False)))


def form_context(request: Request, user: User, family_id: UUID, item_id: UUID | None = None) -> FormContext:
    """The context of a form on a family this person may record for (403 or 404 otherwise)."""
    family = writable_family(request, user, family_id)
    return FormContext(
        family,
        web_state(request).directory,
        user,
        item_id,
        request.app.state.ledger.clock.today(),
        params=dict(request.query_params),
        read_models=request.app.state.read_models,
        ledger=request.app.state.ledger,
        settings=request.app.state.settings,
    )


def _show(
    request: Request, form: FamilyForm, ctx: FormContext, values: dict[str, Any], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    fields = form.fields_for(ctx)
    action = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return page(
        request,
        "form.html",
        ctx.user,
        status=status,
        title=form.title_for(ctx),
        form=form,
        family=ctx.family,
        fields=fields,
        summary_fields=leaves(fields),
        values=values,
        errors=errors,
        context=ctx,
        action=action,
        button=form.button_for(ctx),
        described=form.describe(ctx) if form.describe else [],
    )


def _checked(form: FamilyForm, ctx: FormContext) -> FormContext:
    """Who may use the form and what it is about: 403 or 404 before anything is shown or recorded."""
    if form.roles is not None and ctx.user.role not in form.roles:
        raise PageError(403)
    if form.item is not None:
        item = form.item(ctx)
        if item is None:
            raise PageError(404)
        ctx = replace(ctx, item=item)
    if form.refusal is not None:
        reason = form.refusal(ctx)
        if reason:
            raise PageError(403, reason)
    return ctx


def _get(form: FamilyForm) -> Callable[..., Response]:
    def show_form(request: Request, family_id: UUID, user: CurrentUser, item_id: UUID | None = None) -> Response:
        ctx = _checked(form, form_context(request, user, family_id, item_id))
        readable_family(request, user, family_id, form.path)  # the form shows the family's record: a logged read
        return _show(request, form, ctx, form.initial(ctx), FormErrors())

    return show_form


def _post(form: FamilyForm) -> Callable[..., Response]:
    def submit_form(
        request: Request, family_id: UUID, user: CurrentUser, posted: PostedForm, item_id: UUID | None = None
    ) -> Response:
        ctx = _checked(form, form_context(request, user, family_id, item_id))
        return record(request, form, ctx, posted)

    return submit_form


def record(request: Request, form: FamilyForm, ctx: FormContext, posted: FormData) -> Response:
    """Validate with the API's model, record through the ledger, and redirect; or show what is wrong."""
    fields = form.fields_for(ctx)
    build = form.build
    body, errors = validate(
        form.model,
        fields,
        posted,
        form.extra(ctx) if form.extra else None,
        (lambda b: build(ctx, b)) if build is not None else None,
    )
    status = 400
    if body is not None:
        try:
            form.submit(request.app.state.ledger, ctx.user.actor, ctx, body)
        except UnknownEntityError as error:
            if error.field in (None, "family_id"):
                raise PageError(404) from None
            domain_error(errors, fields, error, form.when_field)
        except DomainError as error:
            domain_error(errors, fields, error, form.when_field)
            if isinstance(error, NotPermittedError):
                status = 403
        else:
            return done(f"/families/{ctx.family.id}", form.name)
    readable_family(request, ctx.user, ctx.family.id, form.path)  # shown again with the family's record: logged
    return _show(request, form, ctx, kept_values(fields, posted), errors, status=status)


def register(*forms: FamilyForm) -> None:
    """Serve these forms under their families' pages."""
    for form in forms:
        FORMS.append(form)
        DONE_MESSAGES[form.name] = form.done_message
        path = "/families/{family_id}/" + form.path
        router.add_api_route(path, _get(form), methods=["GET"], response_class=HTMLResponse, name=f"{form.name}-form")
        router.add_api_route(
            path, _post(form), methods=["POST"], response_class=HTMLResponse, name=f"{form.name}-submit"
        )
