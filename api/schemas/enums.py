"""The closed sets the API names in its answers and bodies, as enums the OpenAPI document lists.

Each is built from the domain's own list, so a signal, a step or an event type added there is in the
document at once.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from domain.checklists import CLOSURE_STEPS, TRANSFER_STEPS
from domain.family import Family
from domain.signals import SIGNAL_NAMES

_EVENT_BASES = {"Event", "Created"}
FAMILY_EVENT_NAMES: tuple[str, ...] = tuple(
    sorted(
        name
        for name, value in vars(Family).items()
        if isinstance(value, type) and issubclass(value, Family.Event) and name not in _EVENT_BASES
    )
)
STEP_NAMES: tuple[str, ...] = tuple(dict.fromkeys(spec.step for spec in (*CLOSURE_STEPS, *TRANSFER_STEPS)))

SignalName = Enum("SignalName", {name: name for name in SIGNAL_NAMES}, type=str)  # type: ignore[misc]
SignalName.__doc__ = "The name of a signal rule (DOMAIN.md, Signals)."

EventType = Enum("EventType", {name: name for name in FAMILY_EVENT_NAMES}, type=str)  # type: ignore[misc]
EventType.__doc__ = "The name of a family event (its class in domain/family.py)."

# The same names as a Literal, for request bodies: the route gets the plain string.
EventTypeName = Literal[FAMILY_EVENT_NAMES]  # type: ignore[valid-type]
HandoverStepName = Literal[STEP_NAMES]  # type: ignore[valid-type]

HandoverStep = Enum("HandoverStep", {name: name for name in STEP_NAMES}, type=str)  # type: ignore[misc]
HandoverStep.__doc__ = "A step of the closure or transfer checklist (DOMAIN.md, Handover)."

ChronologyKind = Literal["fact", "opinion", "self_report", "third_party_report"]
FamilyStatus = Literal["open", "closed"]
DeliveryStatus = Literal["pending", "delivered", "failed", "skipped"]
DeliveryResult = Literal[
    "delivered",
    "http_3xx",
    "http_4xx",
    "http_5xx",
    "timeout",
    "connection_refused",
    "connection_error",
    "tls_error",
    "dns_error",
    "refused_address",
    "refused_scheme",
]
