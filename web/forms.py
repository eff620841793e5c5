"""Forms: declared once (fields, labels, choices), rendered by one template, validated by the API's models.

A form's values arrive as strings. They are turned into the JSON the API would receive
(empty means absent, a GOV.UK date input's three boxes become one ISO date, checkboxes a
list, yes/no radios a boolean) and validated with the same pydantic model, in JSON mode,
so the page and the API accept and refuse exactly the same input. Errors come back per
field with GOV.UK-style messages; the values typed are kept for the page to show again.

Nested bodies are declared as fields too: `rows` (a list of objects entered as a few
repeated rows, such as a meeting's new actions: inputs `actions-0-description`, ...;
empty rows are left out), `group` (one object, such as GCP2 grades: `grades-safety`) and
`lines` (a list of strings, one per line of a textarea). An error the model reports at
a nested place (`actions.1.due_on`) is shown next to the input of that row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

Choices = Sequence[tuple[str, str]]
ChoiceSource = Choices | Callable[[Any], Choices]

CSRF_FIELD = "csrf_token"
TEXT_KINDS = ("text", "textarea", "email", "password", "number")
CHOICE_KINDS = ("radios", "select", "checkboxes", "yesno")
NESTED_KINDS = ("rows", "group")


def enum_choices(kind: type[Enum], labels: dict[str, str] | None = None) -> Choices:
    """Radio or select choices for an enum: its values, labelled in sentence case."""
    labels = labels or {}
    return [(m.value, labels.get(m.value, str(m.value).replace("_", " ").capitalize())) for m in kind]


@dataclass(frozen=True)
class Field:
    """One field of a form: its name in the API model, its label on the page, how it is entered."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, email, password, number, date, radios, select, checkboxes, yesno,
    #                     hidden, lines (a list, one per line), rows (repeated parts), group (one object of parts)
    hint: str = ""
    choices: ChoiceSource = ()
    required: bool = False
    width: str = ""  # a GOV.UK width class suffix, e.g. "10" or "one-half"
    parts: Sequence[Field] = ()  # the fields of each row (rows) or of the object (group)
    count: int = 0  # how many rows the page offers (rows)
    item: str = ""  # what one row is called, e.g. "Action" (rows: "Action 1", "Action 2" ...)
    invalid: str = ""  # the message for a value that is not valid (instead of the model's); for choices, also absent
    prefix: str = ""  # said before this field's messages (a row's parts: "Action 2")
    inline: bool = False  # radios side by side
    shown: Callable[[Any], bool] | None = None  # whether the page shows it, from the form's context

    def options(self, context: Any) -> Choices:
        """The choices, computed from the page's context when they depend on it."""
        return self.choices(context) if callable(self.choices) else self.choices

    def part(self, part: Field, row: int | None = None) -> Field:
        """One part of a rows or group field, named and labelled for the page."""
        name = f"{self.name}-{part.name}" if row is None else f"{self.name}-{row}-{part.name}"
        prefix = f"{self.item} {row + 1}" if row is not None and self.item else self.prefix
        return replace(part, name=name, prefix=prefix)

    def rows(self) -> list[list[Field]]:
        """The inputs of each row of a rows field."""
        return [[self.part(p, row) for p in self.parts] for row in range(self.count)]

    def members(self) -> list[Field]:
        """The inputs of a group field."""
        return [self.part(p) for p in self.parts]

    def is_shown(self, context: Any) -> bool:
        """Whether the page shows this field in this context."""
        return self.shown is None or bool(self.shown(context))


def leaves(fields: Iterable[Field]) -> list[Field]:
    """The inputs of these fields, rows and groups expanded, in page order."""
    found: list[Field] = []
    for f in fields:
        if f.kind == "rows":
            found += [leaf for row in f.rows() for leaf in row]
        elif f.kind == "group":
            found += f.members()
        else:
            found.append(f)
    return found


def first_input(f: Field) -> Field:
    """The input a message about the whole field links to (a nested field's first part)."""
    if f.kind == "rows":
        return f.rows()[0][0]
    if f.kind == "group":
        return f.members()[0]
    return f


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


def _leaf_value(f: Field, values: FormData) -> Any:
    """One input's value as JSON (None when empty)."""
    if f.kind == "date":
        return _date_value(values, f.name)
    if f.kind == "checkboxes":
        return [str(v) for v in values.getlist(f.name) if str(v).strip()] or None
    if f.kind == "yesno":
        answer = str(values.get(f.name, "")).strip()
        return {"yes": True, "no": False}.get(answer, answer or None)
    if f.kind == "lines":
        lines = [line.strip() for line in str(values.get(f.name, "")).splitlines() if line.strip()]
        return lines or None
    raw = values.get(f.name)
    value = None if raw is None or str(raw).strip() == "" else str(raw)
    if value is not None and f.kind in TEXT_KINDS and f.kind != "password":
        value = value.strip()
    if value is not None and f.kind == "number":
        try:
            value = json.loads(value)
        except ValueError:
            pass  # left as text: the model says it is not a number
    return value


def _object(parts: Sequence[tuple[str, Field]], values: FormData) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, leaf in parts:
        value = _leaf_value(leaf, values)
        if value is not None:
            found[name] = value
    return found


def filled_rows(f: Field, values: FormData) -> list[int]:
    """The rows of a rows field with anything typed in them (the others are left out)."""
    return [
        row
        for row, inputs in enumerate(f.rows())
        if _object([(p.name, leaf) for p, leaf in zip(f.parts, inputs, strict=True)], values)
    ]


def to_json(fields: Iterable[Field], values: FormData) -> dict[str, Any]:
    """The JSON body the API would receive for these form values (empty means absent)."""
    body: dict[str, Any] = {}
    for f in fields:
        value: Any
        if f.kind == "rows":
            items = [
                _object([(p.name, leaf) for p, leaf in zip(f.parts, inputs, strict=True)], values)
                for inputs in f.rows()
            ]
            value = [item for item in items if item] or None
        elif f.kind == "group":
            value = _object([(p.name, f.part(p)) for p in f.parts], values) or None
        elif f.kind == "checkboxes":
            value = _leaf_value(f, values) or []
        else:
            value = _leaf_value(f, values)
        if value is not None:
            body[f.name] = value
    return body


def kept_values(fields: Iterable[Field], values: FormData) -> dict[str, Any]:
    """What the person typed, to fill the form again (passwords are never sent back)."""
    kept: dict[str, Any] = {}
    for f in leaves(fields):
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


BOUNDS = {
    "greater_than_equal": ("ge", "{} or more"),
    "greater_than": ("gt", "more than {}"),
    "less_than_equal": ("le", "{} or less"),
    "less_than": ("lt", "less than {}"),
}


def _message(f: Field, error: Mapping[str, Any]) -> str:
    text = _plain_message(f, error)
    return f"{f.prefix}: {text[0].lower()}{text[1:]}" if f.prefix else text


def _plain_message(f: Field, error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    label = f.label[0].lower() + f.label[1:] if f.label else f.name
    if kind == "missing" or (kind in ("string_too_short", "too_short") and error.get("input", "") in ("", [])):
        if f.invalid and f.kind in CHOICE_KINDS:
            return f.invalid  # a choice's own prompt says what to select
        return f"Select {label}" if f.kind in CHOICE_KINDS else f"Enter {label}"
    if f.invalid:
        return f.invalid
    if kind == "text_control_character":
        return f"{f.label} must not contain control characters (such as {error.get('ctx', {}).get('character')})"
    if kind == "date_too_early":
        return f"{f.label} must be on or after 1 January 1900"
    if f.kind == "date" or "date" in kind:
        return f"{f.label} must be a real date, for example 27 3 2026"
    if kind in ("enum", "uuid_parsing", "uuid_type", "literal_error"):
        return f"Select {label}"
    if kind in ("bool_parsing", "bool_type"):
        return f"Select yes or no for {label}"
    if kind in BOUNDS:
        key, template = BOUNDS[kind]
        return f"{f.label} must be {template.format(error.get('ctx', {}).get(key, ''))}"
    if kind.startswith("int") or kind.startswith("float") or kind.startswith("decimal"):
        return f"{f.label} must be a number" if "parsing" in kind or "type" in kind else f"{f.label}: {error['msg']}"
    if kind == "string_too_long":
        return f"{f.label} must be {error.get('ctx', {}).get('max_length', 'fewer')} characters or fewer"
    if kind == "too_long":
        return f"{f.label}: enter no more than {error.get('ctx', {}).get('max_length', 'a few')}"
    return f"{f.label}: {error.get('msg', 'is not valid')}"


def _nested_input(f: Field, loc: Sequence[Any], values: FormData) -> Field:
    """The input of a nested field that an error at `loc` (after the field's name) is about."""
    if f.kind == "rows" and len(loc) >= 2 and isinstance(loc[0], int):
        filled = filled_rows(f, values)
        row = filled[loc[0]] if loc[0] < len(filled) else 0
        part = next((p for p in f.parts if p.name == str(loc[1])), None)
        return f.part(part, row) if part is not None else first_input(f)
    if f.kind == "group" and loc:
        part = next((p for p in f.parts if p.name == str(loc[0])), None)
        return f.part(part) if part is not None else first_input(f)
    return first_input(f)


def validate(
    model: type[BaseModel],
    fields: Sequence[Field],
    values: FormData,
    extra: dict[str, Any] | None = None,
    build: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[Any, FormErrors]:
    """Validate form values with the API's model; returns (model or None, errors).

    `extra` adds JSON fields the page sets itself; `build` may reshape the body first.
    """
    body = to_json(fields, values)
    if extra:
        body.update(extra)
    if build is not None:
        body = build(body)
    errors = FormErrors()
    by_name = {f.name: f for f in fields}
    try:
        return model.model_validate_json(json.dumps(body)), errors
    except ValidationError as error:
        for item in error.errors():
            loc = list(item.get("loc", ()))
            f = by_name.get(str(loc[0]) if loc else "")
            if f is None:
                errors.add(None, f"{'.'.join(str(p) for p in loc) or 'form'}: {item.get('msg', 'is not valid')}")
            elif f.kind in NESTED_KINDS:
                leaf = _nested_input(f, loc[1:], values)
                whole = len(loc) == 1
                if whole and f.invalid:
                    errors.add(leaf.name, f.invalid)
                else:
                    errors.add(leaf.name, _message(f if whole else leaf, item))
            else:
                errors.add(f.name, _message(f, item))
        return None, errors


def domain_error(
    errors: FormErrors, fields: Sequence[Field], error: Exception, when_field: str = "occurred_on"
) -> FormErrors:
    """Put a domain refusal next to its field when the form has it, else above the form."""
    detail = getattr(error, "detail", str(error))
    message = detail[0].upper() + detail[1:] if detail else "This could not be recorded"
    name = getattr(error, "field", None)
    inputs = {f.name: f for f in leaves(fields)}
    by_name = {f.name: f for f in fields}
    if getattr(error, "rule", "") == "occurred_in_future" and name in ("occurred_on", when_field):
        name = when_field if when_field in inputs else name
        if name in inputs:
            message = f"{inputs[name].label} must be today or in the past"
    target: str | None = None
    if name:
        dashed = name.replace(".", "-")
        head = name.split(".", 1)[0]
        if dashed in inputs:
            target = dashed
        elif name in inputs:
            target = name
        elif head in by_name and by_name[head].kind in NESTED_KINDS:
            target = first_input(by_name[head]).name
        elif head in inputs:
            target = head
    errors.add(target, message)
    return errors
