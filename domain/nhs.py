"""NHS numbers: the modulus 11 check digit, and one small aggregate per number known to the platform.

An NHS number is ten digits; the tenth is a check digit over the first nine (weights 10 down
to 2; 11 minus the remainder of the sum by 11, where 11 means 0 and 10 means no valid number).
A child's number belongs to one family only: `ChildNumber` has a deterministic id (uuid5 of the
number) and is saved in the same `save()` as the family event that names the child, so the
event store's own uniqueness refuses a second family with the same number.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError

NHS_NAMESPACE = UUID("6f1c0f8e-2f4b-5a57-9c1e-4b1d3c0a9e21")
_SEPARATORS = str.maketrans("", "", " -")


def check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit of nine digits, or None when no check digit is possible (remainder 1)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def is_valid_nhs_number(value: str) -> bool:
    """Whether a string is ten digits whose last is the modulus 11 check digit of the first nine."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:9]) == int(value[9])


def nhs_number(value: str, field: str = "nhs_number") -> str:
    """The NHS number as ten digits (spaces and hyphens dropped), or InvalidValueError naming the field."""
    digits = value.translate(_SEPARATORS)
    if not is_valid_nhs_number(digits):
        raise InvalidValueError(
            "an NHS number is 10 digits ending in its modulus 11 check digit", rule="nhs_number_invalid", field=field
        )
    return digits


class ChildNumber(Aggregate):
    """One NHS number known to the platform, and the family and child it belongs to."""

    @staticmethod
    def create_id(nhs_number: str, **_: Any) -> UUID:
        """The id is derived from the number, so two registrations of it collide in the store."""
        return child_number_id(nhs_number)

    @event("Registered")
    def __init__(self, nhs_number: str, family_id: UUID, child_id: UUID) -> None:
        self.nhs_number = nhs_number
        self.family_id = family_id
        self.child_id = child_id


def child_number_id(number: str) -> UUID:
    """The deterministic id of the aggregate holding an NHS number."""
    return uuid5(NHS_NAMESPACE, number)


__all__ = ["ChildNumber", "check_digit", "child_number_id", "is_valid_nhs_number", "nhs_number"]
