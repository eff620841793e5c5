"""Forms: declared once (fields, labels, choices), rendered by one template, validated by the API's models.

A form's values arrive as strings. They are turned into the JSON the API would receive
(empty means absent, a GOV.UK date input's three boxes become one ISO date, checkboxes a
list, yes/no radios a boolean) and validated with the same pydantic model, in JSON mode,
so the page and the API accept and refuse exactly the same input. Errors come back per
field with GOV.UK-style messages; the values typed are kept for the page to show again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

Choices = Sequence[tuple[str, str]]
ChoiceSource = Choices | Callable[[Any], Choices]

CSRF_FIELD = "csrf_token"
TEXT_KINDS = ("text", "textarea", "email", "password", "number")


def enum_choices(kind: type[Enum], labels: dict[str, str] | None = None) -> Choices:
    """Radio or select choices for an enum: its values, labelled in sentence case."""
    labels = labels or {}
    return [(m.value, labels.get(m.value, str(m.value).replace("_", " ").capitalize())) for m in kind]


@dataclass(frozen=True)
class Field:
    """One field of a form: its name in the API model, its label on the page, how it is entered."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, email, password, number, date, radios, select, checkboxes, yesno, hidden
    hint: str = ""
    choices: ChoiceSource = ()
    required: bool = False
    width: str = ""  # a GOV.UK width class suffix, e.g. "10" or "one-half"

    def options(self, context: Any) -> Choices:
        """The choices, computed from the page's context when they depend on it."""
        return self.choices(context) if callable(self.choices) else self.choices


@dataclass
class FormErrors:
    """Messages per field (in the form's field order) and messages about the whole form."""

    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    def add(self, name: str | None, message: str) -> None:
        """Attach a message to a field (or to the whole form when the field is not on it)."""
        if name and name not in self.by_field:
            self.by_field[name] = message
        elif not name:
            self.general.append(message)


def _date_value(values: FormData, name: str) -> str | None:
    parts = [str(values.get(f"{name}-{p}", "")).strip() for p in ("day", "month", "year")]
    if not any(parts):
        single = str(values.get(name, "")).strip()
        return single or None
    day, month, year = parts
    if day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4:
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return "/".join(parts)  # not a date: the model refuses it and the page says so


def to_json(fields: Iterable[Field], values: FormData) -> dict[str, Any]:
    """The JSON body the API would receive for these form values (empty means absent)."""
    body: dict[str, Any] = {}
    for f in fields:
        if f.kind == "date":
            value: Any = _date_value(values, f.name)
        elif f.kind == "checkboxes":
            value = [str(v) for v in values.getlist(f.name) if str(v).strip()]
        elif f.kind == "yesno":
            raw = str(values.get(f.name, "")).strip()
            value = {"yes": True, "no": False}.get(raw, raw or None)
        else:
            raw = values.get(f.name)
            value = None if raw is None or str(raw).strip() == "" else str(raw)
            if value is not None and f.kind in TEXT_KINDS and f.kind != "password":
                value = value.strip()
            if value is not None and f.kind == "number":
                try:
                    value = json.loads(value)
                except ValueError:
                    pass  # left as text: the model says it is not a number
        if value is not None:
            body[f.name] = value
    return body


def kept_values(fields: Iterable[Field], values: FormData) -> dict[str, Any]:
    """What the person typed, to fill the form again (passwords are never sent back)."""
    kept: dict[str, Any] = {}
    for f in fields:
        if f.kind == "password":
            continue
        if f.kind == "date":
            for part in ("day", "month", "year"):
                kept[f"{f.name}-{part}"] = str(values.get(f"{f.name}-{part}", ""))
        elif f.kind == "checkboxes":
            kept[f.name] = [str(v) for v in values.getlist(f.name)]
        else:
            kept[f.name] = str(values.get(f.name, ""))
    return kept


def date_parts(value: Any) -> dict[str, str]:
    """A date as the three boxes of a GOV.UK date input."""
    if value is None or value == "":
        return {"day": "", "month": "", "year": ""}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def _message(f: Field, error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    label = f.label[0].lower() + f.label[1:] if f.label else f.name
    if kind == "missing" or (kind == "string_too_short" and error.get("input", "") == ""):
        return f"Select {label}" if f.kind in ("radios", "select", "checkboxes", "yesno") else f"Enter {label}"
    if f.kind == "date" or "date" in kind:
        return f"{f.label} must be a real date, for example 27 3 2026"
    if kind in ("enum", "uuid_parsing", "uuid_type", "literal_error"):
        return f"Select {label}"
    if kind in ("bool_parsing", "bool_type"):
        return f"Select yes or no for {label}"
    if kind.startswith("int") or kind.startswith("float") or kind.startswith("decimal"):
        return f"{f.label} must be a number" if "parsing" in kind or "type" in kind else f"{f.label}: {error['msg']}"
    if kind == "string_too_long":
        return f"{f.label} must be {error.get('ctx', {}).get('max_length', 'fewer')} characters or fewer"
    return f"{f.label}: {error.get('msg', 'is not valid')}"


def validate(model: type[BaseModel], fields: Sequence[Field], values: FormData,
             extra: dict[str, Any] | None = None) -> tuple[Any, FormErrors]:
    """Validate form values with the API's model; returns (model or None, errors)."""
    body = to_json(fields, values)
    if extra:
        body.update(extra)
    errors = FormErrors()
    by_name = {f.name: f for f in fields}
    try:
        return model.model_validate_json(json.dumps(body)), errors
    except ValidationError as error:
        for item in error.errors():
            loc = [str(p) for p in item.get("loc", ())]
            name = loc[0] if loc else None
            f = by_name.get(name or "")
            if f is None:
                errors.add(None, f"{'.'.join(loc) or 'form'}: {item.get('msg', 'is not valid')}")
            else:
                errors.add(f.name, _message(f, item))
        return None, errors


def domain_error(errors: FormErrors, fields: Sequence[Field], error: Exception) -> FormErrors:
    """Put a domain refusal next to its field when the form has it, else above the form."""
    detail = getattr(error, "detail", str(error))
    message = detail[0].upper() + detail[1:] if detail else "This could not be recorded"
    name = getattr(error, "field", None)
    if name is not None and "." in name:
        name = name.split(".", 1)[0]
    errors.add(name if name in {f.name for f in fields} else None, message)
    return errors
