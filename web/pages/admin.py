"""Admin: agencies, professionals (role, password, deactivation), API keys and webhooks. Admins only; no case data.

Each change is one small form on its own page, validated with the API's request models
where the API has one, recorded through the ledger, and followed by a redirect with a
confirmation banner. A new API key is shown once, on the page that answers the POST
(never in a URL), and stored only as a hash.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, model_validator
from pydantic import Field as ModelField

from api.schemas.requests import AgencyCreate, ApiKeyCreate, PasswordSet, ProfessionalCreate, ProfessionalDeactivation
from domain.errors import DomainError, UnknownEntityError
from domain.values import AgencyKind, Role
from web.context import CurrentUser, PageError, PostedForm, User, done, page, web_state
from web.directory import Person
from web.forms import Field, FormErrors, domain_error, enum_choices, kept_values, validate
from web.render import DONE_MESSAGES

router = APIRouter()

DONE_MESSAGES.update(
    {
        "agency-added": "Agency added",
        "professional-added": "Professional added",
        "role-changed": "Role changed",
        "password-set": "Password set. Any sessions they had are signed out",
        "professional-deactivated": "Professional deactivated. Their API keys are revoked and they are signed out",
        "key-revoked": "API key revoked. It stops working from the next request",
        "webhook-paused": "Webhook paused. Events are kept and delivered when it is resumed",
        "webhook-resumed": "Webhook resumed",
        "webhook-deleted": "Webhook deleted",
        "delivery-skipped": "Delivery skipped. The family's later events are sent to the webhook again",
    }
)
ROLE_LABELS = {
    "practitioner": "Practitioner",
    "coordinator": "Coordinator",
    "manager": "Manager",
    "auditor": "Auditor",
    "admin": "Admin",
}
ROLE_HINTS = {
    "practitioner": "Records and reads the families they or their agency work with",
    "coordinator": "Reads and records for every family; assigns lead professionals",
    "manager": "Reads and records for their agency's families; signs off handovers; supervision",
    "auditor": "Reads every family and the access log; records nothing",
    "admin": "Runs the directory, API keys and webhooks; sees no case data",
}


def admin_user(user: CurrentUser) -> User:
    """The signed-in person if they are an admin (403 otherwise)."""
    if user.role is not Role.ADMIN:
        raise PageError(403)
    return user


AdminUser = Annotated[User, Depends(admin_user)]


class RoleChange(BaseModel):
    """A professional's new role (the web's own form: the API has no role change)."""

    role: Role


class PasswordChoice(PasswordSet):
    """A password typed twice."""

    password_confirm: Annotated[str, ModelField(max_length=1_000)] = ""

    @model_validator(mode="after")
    def _same(self) -> PasswordChoice:
        if self.password != self.password_confirm:
            raise ValueError("the passwords do not match")
        return self


def _changed(request: Request, professional_id: UUID | None = None) -> None:
    """After a directory change: names read fresh, sessions ended when asked."""
    web_state(request).directory.refresh()
    if professional_id is not None:
        web_state(request).sessions.end_all(professional_id)


def _form(
    request: Request,
    user: User,
    *,
    title: str,
    fields: list[Field],
    back: tuple[str, str],
    button: str,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    caption: str = "",
    intro: str = "",
    warning: str = "",
    danger: bool = False,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "admin_form.html",
        user,
        status=status,
        title=title,
        fields=fields,
        values=values or {},
        errors=errors or FormErrors(),
        back=back,
        button=button,
        caption=caption,
        intro=intro,
        warning=warning,
        danger=danger,
        action=request.url.path,
    )


def _person(request: Request, professional_id: UUID) -> Person:
    person = web_state(request).directory.person(professional_id)
    if person is None:
        raise PageError(404)
    return person


def _password_mismatch(errors: FormErrors) -> FormErrors:
    fixed = FormErrors(dict(errors.by_field), [])
    for message in errors.general:
        if "do not match" in message:
            fixed.add("password_confirm", "The passwords do not match")
        else:
            fixed.general.append(message)
    return fixed


# ------------------------------------------------------------------ overview


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, user: AdminUser) -> HTMLResponse:
    """What the admin runs: agencies, professionals, API keys, webhooks, with how many of each."""
    directory = web_state(request).directory
    keys = request.app.state.ledger.api_keys()
    return page(
        request,
        "admin.html",
        user,
        title="Admin",
        agencies=len(directory.agencies()),
        people=len(directory.people()),
        keys=sum(1 for k in keys if not k.revoked),
        webhooks=len(request.app.state.webhooks.webhooks()),
    )


# ------------------------------------------------------------------ agencies

AGENCY_FIELDS = [
    Field("name", "Name", required=True),
    Field("kind", "Kind of agency", "radios", choices=enum_choices(AgencyKind, {"gp": "GP practice"})),
]


@router.get("/admin/agencies", response_class=HTMLResponse)
def agencies(request: Request, user: AdminUser) -> HTMLResponse:
    """Every agency in the directory."""
    directory = web_state(request).directory
    counts: dict[UUID, int] = {}
    for p in directory.people():
        counts[p.agency_id] = counts.get(p.agency_id, 0) + 1
    return page(request, "admin_agencies.html", user, title="Agencies", agencies=directory.agencies(), counts=counts)


@router.get("/admin/agencies/new", response_class=HTMLResponse)
def agency_form(request: Request, user: AdminUser) -> HTMLResponse:
    """The form to add an agency."""
    return _form(
        request,
        user,
        title="Add an agency",
        fields=AGENCY_FIELDS,
        back=("/admin/agencies", "agencies"),
        button="Add agency",
    )


@router.post("/admin/agencies/new", response_class=HTMLResponse)
def add_agency(request: Request, user: AdminUser, form: PostedForm) -> Response:
    """Add an agency, or show what is wrong."""
    body, errors = validate(AgencyCreate, AGENCY_FIELDS, form)
    if body is not None:
        try:
            request.app.state.ledger.register_agency(user.id, body.name, body.kind)
        except DomainError as error:
            domain_error(errors, AGENCY_FIELDS, error)
        else:
            _changed(request)
            return done("/admin/agencies", "agency-added")
    return _form(
        request,
        user,
        title="Add an agency",
        fields=AGENCY_FIELDS,
        back=("/admin/agencies", "agencies"),
        button="Add agency",
        values=kept_values(AGENCY_FIELDS, form),
        errors=errors,
        status=400,
    )


# ------------------------------------------------------------------ professionals


def _role_field(hint: str = "") -> Field:
    return Field(
        "role",
        "Role",
        "radios",
        hint=hint,
        choices=[(r.value, f"{ROLE_LABELS[r.value]}: {_lower_first(ROLE_HINTS[r.value])}") for r in Role],
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _professional_fields(request: Request) -> list[Field]:
    agencies = [(str(a.id), a.name) for a in web_state(request).directory.agencies()]
    return [
        Field("name", "Full name", required=True),
        Field("email", "Email address", "email", hint="They sign in with it"),
        Field("agency_id", "Agency", "select", choices=agencies),
        _role_field(),
        Field(
            "is_system",
            "Is this an agency's computer system rather than a person?",
            "yesno",
            hint="A system account acts for its whole agency through an API key and cannot sign in",
        ),
    ]


@router.get("/admin/professionals", response_class=HTMLResponse)
def professionals(request: Request, user: AdminUser) -> HTMLResponse:
    """Every professional with their role, agency and whether they are active."""
    return page(
        request,
        "admin_professionals.html",
        user,
        title="Professionals",
        people=web_state(request).directory.people(),
        role_labels=ROLE_LABELS,
    )


@router.get("/admin/professionals/new", response_class=HTMLResponse)
def professional_form(request: Request, user: AdminUser) -> HTMLResponse:
    """The form to add a professional."""
    return _form(
        request,
        user,
        title="Add a professional",
        fields=_professional_fields(request),
        back=("/admin/professionals", "professionals"),
        button="Add professional",
        values={"is_system": "no"},
    )


@router.post("/admin/professionals/new", response_class=HTMLResponse)
def add_professional(request: Request, user: AdminUser, form: PostedForm) -> Response:
    """Add a professional, then go to their page (to set a password or issue a key)."""
    fields = _professional_fields(request)
    body, errors = validate(ProfessionalCreate, fields, form)
    if body is not None:
        try:
            professional_id = request.app.state.ledger.register_professional(
                user.id, body.name, body.agency_id, body.role, body.email, body.is_system
            )
        except DomainError as error:
            domain_error(errors, fields, error)
        else:
            _changed(request)
            return done(f"/admin/professionals/{professional_id}", "professional-added")
    return _form(
        request,
        user,
        title="Add a professional",
        fields=fields,
        back=("/admin/professionals", "professionals"),
        button="Add professional",
        values=kept_values(fields, form),
        errors=errors,
        status=400,
    )


@router.get("/admin/professionals/{professional_id}", response_class=HTMLResponse)
def professional(request: Request, professional_id: UUID, user: AdminUser) -> HTMLResponse:
    """One professional: who they are, what they may do, their API keys, and what the admin can change."""
    person = _person(request, professional_id)
    keys = request.app.state.ledger.api_keys(professional_id)
    return page(
        request,
        "admin_professional.html",
        user,
        title=person.name,
        person=person,
        keys=keys,
        role_labels=ROLE_LABELS,
        role_hints=ROLE_HINTS,
        is_me=person.id == user.id,
    )


def _simple_form(path: str, title: str, button: str) -> Any:
    """Decorate a function returning (fields, extra page context) as the GET of a form on a professional."""

    def wrap(fields_for: Any) -> Any:
        def show(request: Request, professional_id: UUID, user: AdminUser) -> HTMLResponse:
            person = _person(request, professional_id)
            fields, context = fields_for(person)
            return _form(
                request,
                user,
                title=title,
                fields=fields,
                caption=person.name,
                back=(f"/admin/professionals/{person.id}", person.name),
                button=button,
                **context,
            )

        show.__doc__ = f"The form: {title.lower()}."
        router.add_api_route(
            f"/admin/professionals/{{professional_id}}/{path}", show, methods=["GET"], response_class=HTMLResponse
        )
        return fields_for

    return wrap


@_simple_form("role", "Change role", "Change role")
def _role_form(person: Person) -> tuple[list[Field], dict[str, Any]]:
    return [_role_field(f"Now: {ROLE_LABELS.get(person.role, person.role)}")], {"values": {"role": person.role}}


@_simple_form("password", "Set a password", "Set password")
def _password_form(person: Person) -> tuple[list[Field], dict[str, Any]]:
    return PASSWORD_FIELDS, {
        "intro": "At least 10 characters. Give it to them in person or by phone, never by "
        "email. Any sessions they have now are signed out."
    }


def _deactivation_warning(person: Person) -> str:
    return (
        f"{person.name} will be signed out at once, their API keys will stop working, and they can no longer "
        "lead a family, join a team or own an action. This cannot be undone here."
    )


@_simple_form("deactivation", "Deactivate", "Deactivate")
def _deactivation_form(person: Person) -> tuple[list[Field], dict[str, Any]]:
    return DEACTIVATION_FIELDS, {"danger": True, "warning": _deactivation_warning(person)}


PASSWORD_FIELDS = [
    Field("password", "New password", "password", required=True),
    Field("password_confirm", "Type the new password again", "password", required=True),
]
DEACTIVATION_FIELDS = [
    Field("reason", "Reason", "textarea", hint="For example, left the service on 3 March 2026", required=True)
]


def _refused(
    request: Request,
    user: User,
    person: Person,
    title: str,
    button: str,
    fields: list[Field],
    form: Any,
    errors: FormErrors,
    **context: Any,
) -> HTMLResponse:
    return _form(
        request,
        user,
        title=title,
        fields=fields,
        caption=person.name,
        button=button,
        back=(f"/admin/professionals/{person.id}", person.name),
        values=kept_values(fields, form),
        errors=errors,
        status=400,
        **context,
    )


@router.post("/admin/professionals/{professional_id}/role", response_class=HTMLResponse)
def change_role(request: Request, professional_id: UUID, user: AdminUser, form: PostedForm) -> Response:
    """Give a professional another role."""
    person = _person(request, professional_id)
    fields = [_role_field()]
    body, errors = validate(RoleChange, fields, form)
    if body is not None and person.id == user.id and body.role is not Role.ADMIN:
        errors.add("role", "You cannot take away your own admin role. Ask another admin")
    elif body is not None:
        request.app.state.ledger.change_role(user.id, person.id, body.role)
        _changed(request)
        return done(f"/admin/professionals/{person.id}", "role-changed")
    return _refused(request, user, person, "Change role", "Change role", fields, form, errors)


@router.post("/admin/professionals/{professional_id}/password", response_class=HTMLResponse)
def set_password(request: Request, professional_id: UUID, user: AdminUser, form: PostedForm) -> Response:
    """Set a professional's web password; their sessions end."""
    person = _person(request, professional_id)
    body, errors = validate(PasswordChoice, PASSWORD_FIELDS, form)
    errors = _password_mismatch(errors)
    if body is not None:
        try:
            request.app.state.ledger.set_password(user.id, person.id, body.password)
        except DomainError as error:
            domain_error(errors, PASSWORD_FIELDS, error)
        else:
            _changed(request, person.id if person.id != user.id else None)
            return done(f"/admin/professionals/{person.id}", "password-set")
    return _refused(request, user, person, "Set a password", "Set password", PASSWORD_FIELDS, form, errors)


@router.post("/admin/professionals/{professional_id}/deactivation", response_class=HTMLResponse)
def deactivate(request: Request, professional_id: UUID, user: AdminUser, form: PostedForm) -> Response:
    """Deactivate a professional: keys revoked, sessions ended at once, no more leading or actions."""
    person = _person(request, professional_id)
    body, errors = validate(ProfessionalDeactivation, DEACTIVATION_FIELDS, form)
    if body is not None and person.id == user.id:
        errors.add(None, "You cannot deactivate yourself. Ask another admin")
    elif body is not None:
        try:
            request.app.state.ledger.deactivate_professional(user.id, person.id, body.reason)
        except DomainError as error:
            domain_error(errors, DEACTIVATION_FIELDS, error)
        else:
            _changed(request, person.id)
            return done(f"/admin/professionals/{person.id}", "professional-deactivated")
    return _refused(
        request,
        user,
        person,
        "Deactivate",
        "Deactivate",
        DEACTIVATION_FIELDS,
        form,
        errors,
        danger=True,
        warning=_deactivation_warning(person),
    )


# ------------------------------------------------------------------ API keys


def _key_fields(request: Request) -> list[Field]:
    people = [(str(p.id), f"{p.name} ({p.agency_name})") for p in web_state(request).directory.people() if p.active]
    return [
        Field(
            "professional_id",
            "Who the key acts as",
            "select",
            choices=people,
            hint="The key can do exactly what this person or system account may do",
        )
    ]


@router.get("/admin/api-keys", response_class=HTMLResponse)
def api_keys(request: Request, user: AdminUser) -> HTMLResponse:
    """Every API key: whom it acts as, when it was issued, whether it is revoked."""
    keys = sorted(request.app.state.ledger.api_keys(), key=lambda k: (k.revoked, -k.issued_at.timestamp()))
    return page(
        request, "admin_api_keys.html", user, title="API keys", keys=keys, directory=web_state(request).directory
    )


@router.get("/admin/api-keys/new", response_class=HTMLResponse)
def api_key_form(request: Request, user: AdminUser, professional: str = "") -> HTMLResponse:
    """The form to issue an API key."""
    return _form(
        request,
        user,
        title="Issue an API key",
        fields=_key_fields(request),
        button="Issue key",
        back=("/admin/api-keys", "API keys"),
        values={"professional_id": professional},
        intro="The key is shown once, on the next page. Only a hash of it is kept.",
    )


@router.post("/admin/api-keys/new", response_class=HTMLResponse)
def issue_api_key(request: Request, user: AdminUser, form: PostedForm) -> Response:
    """Issue a key and show it this once (the page is not cached; the key is never in a URL)."""
    fields = _key_fields(request)
    body, errors = validate(ApiKeyCreate, fields, form)
    if body is not None:
        person = web_state(request).directory.person(body.professional_id)
        if person is None or not person.active:
            errors.add("professional_id", "Select who the key acts as")
        else:
            key = request.app.state.ledger.issue_api_key(user.id, person.id)
            return page(request, "admin_api_key_issued.html", user, title="API key issued", key=key, person=person)
    return _form(
        request,
        user,
        title="Issue an API key",
        fields=fields,
        button="Issue key",
        back=("/admin/api-keys", "API keys"),
        values=kept_values(fields, form),
        errors=errors,
        status=400,
    )


@router.post("/admin/api-keys/{key_id}/revocation")
def revoke_api_key(request: Request, key_id: UUID, user: AdminUser, form: PostedForm) -> Response:
    """Revoke a key; it stops working from the next request."""
    try:
        request.app.state.ledger.revoke_api_key(user.id, key_id)
    except UnknownEntityError:
        raise PageError(404) from None
    except DomainError:
        pass  # already revoked: the result the admin wanted
    _changed(request)
    back = str(form.get("back", ""))
    return done(back if back.startswith("/admin/") else "/admin/api-keys", "key-revoked")


# ------------------------------------------------------------------ webhooks


@router.get("/admin/webhooks", response_class=HTMLResponse)
def webhooks(request: Request, user: AdminUser) -> HTMLResponse:
    """Every webhook subscription (never a payload): where, for whom, which events, paused or not."""
    store = request.app.state.webhooks
    return page(
        request,
        "admin_webhooks.html",
        user,
        title="Webhooks",
        hooks=store.webhooks(),
        paused=store.paused_ids(),
        failed=store.failed_counts(),
        directory=web_state(request).directory,
    )


def _hook(request: Request, webhook_id: UUID) -> Any:
    hook = request.app.state.webhooks.webhook(webhook_id)
    if hook is None:
        raise PageError(404)
    return hook


@router.post("/admin/webhooks/{webhook_id}/pause")
def pause_webhook(request: Request, webhook_id: UUID, user: AdminUser, form: PostedForm) -> Response:
    """Stop delivering to a webhook (events wait, in order)."""
    hook = _hook(request, webhook_id)
    request.app.state.webhooks.pause(hook.id, request.app.state.ledger.clock.now())
    return done("/admin/webhooks", "webhook-paused")


@router.post("/admin/webhooks/{webhook_id}/resume")
def resume_webhook(request: Request, webhook_id: UUID, user: AdminUser, form: PostedForm) -> Response:
    """Deliver to a paused webhook again."""
    hook = _hook(request, webhook_id)
    request.app.state.webhooks.resume(hook.id)
    return done("/admin/webhooks", "webhook-resumed")


@router.get("/admin/webhooks/{webhook_id}/delete", response_class=HTMLResponse)
def delete_webhook_page(request: Request, webhook_id: UUID, user: AdminUser) -> HTMLResponse:
    """Ask before deleting a webhook."""
    hook = _hook(request, webhook_id)
    return page(
        request,
        "admin_webhook_delete.html",
        user,
        title="Delete webhook",
        hook=hook,
        owner=web_state(request).directory.person_name(hook.professional_id),
    )


@router.post("/admin/webhooks/{webhook_id}/delete")
def delete_webhook(request: Request, webhook_id: UUID, user: AdminUser, form: PostedForm) -> Response:
    """Delete a webhook and the deliveries still queued for it."""
    hook = _hook(request, webhook_id)
    request.app.state.webhooks.delete(hook.id)
    return done("/admin/webhooks", "webhook-deleted")


@router.get("/admin/webhooks/{webhook_id}/failed", response_class=HTMLResponse)
def failed_deliveries(request: Request, webhook_id: UUID, user: AdminUser) -> HTMLResponse:
    """A webhook's failed deliveries (never a payload), each holding back its family's later events."""
    hook = _hook(request, webhook_id)
    failed = request.app.state.webhooks.failed_deliveries(hook.id)
    return page(
        request,
        "admin_webhook_failed.html",
        user,
        title="Failed deliveries",
        hook=hook,
        owner=web_state(request).directory.person_name(hook.professional_id),
        failed=failed,
    )


@router.post("/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/skip")
def skip_delivery(request: Request, webhook_id: UUID, delivery_id: int, user: AdminUser, form: PostedForm) -> Response:
    """Give up a failed delivery for good, so its family's later events go to the webhook."""
    hook = _hook(request, webhook_id)
    if not request.app.state.webhooks.skip(hook.id, delivery_id):
        raise PageError(404)
    return done(f"/admin/webhooks/{hook.id}/failed", "delivery-skipped")
