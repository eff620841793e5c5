"""Forms for recorded facts: contacts, and (as they are added) the other facts of the API."""

from __future__ import annotations

from typing import Any

from api.schemas.requests import ContactIn
from domain.application import Recorded, TafLedger
from domain.values import Actor, ContactKind, ContactOutcome
from web.forms import Field, enum_choices
from web.pages.forms import FamilyForm, FormContext, register, when

DATE_HINT = "For example, 27 3 2026. Leave empty for today."

CONTACT_FIELDS = [
    Field("occurred_on", "Date", "date", hint=DATE_HINT),
    Field("kind", "Kind of contact", "radios", choices=enum_choices(ContactKind), required=True),
    Field("outcome", "Outcome", "radios", required=True, choices=enum_choices(ContactOutcome, {
        "no_access": "No access", "was_not_brought": "Was not brought", "family_cancelled": "Cancelled by the family",
    })),
    Field("child_ids_seen", "Children seen", "checkboxes", hint="Only children seen face to face.",
          choices=FormContext.children),
    Field("home_entered", "Was the home entered?", "yesno"),
    Field("planned", "Was the contact planned?", "yesno"),
    Field("notes", "Description", "textarea", hint="What happened, in plain words."),
    Field("date_uncertain", "Is the date uncertain?", "yesno"),
]


def _record_contact(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_contact(actor, ctx.family.id, body.kind, body.outcome, body.child_ids_seen,
                                 body.home_entered, body.planned, body.notes, when(body))


register(
    FamilyForm("contact", "contacts/new", "Record a contact", ContactIn, CONTACT_FIELDS, _record_contact,
               "Contact recorded", intro="Record every contact, including visits where nobody was seen."),
)
