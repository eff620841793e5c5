"""Registration and the family's members: children, births, address, postcode, matches, the area."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidValueError, RuleViolationError
from domain.family.base import FamilyBase, require_text
from domain.state import Move, moves_rules_read
from domain.values import Child, Housing, Meta


class Members(FamilyBase):
    """The commands about the family and its members, and their events."""

    def add_child(self, meta: Meta, child: Child) -> None:
        """Add a child, born or expected."""
        require_text(child.name, "name", "child_name_required")
        if str(child.child_id) in self.children:
            raise RuleViolationError("child already recorded", rule="child_exists")
        self._child_added(meta=meta, child=child)

    @event("ChildAdded")
    def _child_added(self, meta: Meta, child: Child) -> None:
        self._add_child_state(child, self.next_version)

    def record_birth(self, meta: Meta, child_id: UUID, born_on: date) -> None:
        """Record that an expected child was born (once: a correction changes the date)."""
        child = self.child(child_id)
        if child.date_of_birth is not None:
            raise RuleViolationError(
                f"this child's birth is already recorded (born on {child.date_of_birth.isoformat()}); "
                "send a correction to change it",
                rule="child_already_born",
            )
        if born_on > meta.occurred_on:
            raise InvalidValueError("born_on is in the future", rule="occurred_in_future", field="born_on")
        self._child_born(meta=meta, child_id=child_id, born_on=born_on)

    @event("ChildBorn")
    def _child_born(self, meta: Meta, child_id: UUID, born_on: date) -> None:
        child = self.children[str(child_id)]
        child.date_of_birth = born_on
        child.born_version = self.next_version

    def record_postcode(self, meta: Meta, postcode: str) -> None:
        """Record the postcode of the family's address (used to match a child by name and date of birth)."""
        require_text(postcode, "postcode", "postcode_required")
        if len(postcode.strip()) > 10:
            raise InvalidValueError("postcode is at most 10 characters", rule="postcode_invalid", field="postcode")
        self._postcode_recorded(meta=meta, postcode=postcode.strip().upper())

    @event("PostcodeRecorded")
    def _postcode_recorded(self, meta: Meta, postcode: str) -> None:
        self.postcode = postcode

    def record_match(self, meta: Meta, child_id: UUID, by: str) -> bool:
        """Record that the actor's agency found this family by a child; False when it had already."""
        self.child(child_id)
        if child_id in self.matched.get(str(meta.actor_agency_id), []):
            return False
        self._matched(meta=meta, child_id=child_id, by=by)
        return True

    @event("FamilyMatched")
    def _matched(self, meta: Meta, child_id: UUID, by: str) -> None:
        self.matched.setdefault(str(meta.actor_agency_id), []).append(child_id)

    def change_address(self, meta: Meta, address: str, housing: Housing) -> None:
        """Record a move or a change of housing status."""
        require_text(address, "address", "address_required")
        self._address_changed(meta=meta, address=address, housing=housing)

    @event("AddressChanged")
    def _address_changed(self, meta: Meta, address: str, housing: Housing) -> None:
        self.address = address
        self.housing = housing
        self.postcode = ""  # the old postcode is no longer the family's; a new one follows when known
        self.moves = moves_rules_read([*self.moves, Move(meta.occurred_on, housing, self.next_version)])

    def leave_area(self, meta: Meta, destination: str) -> None:
        """Record that the family has left the area (a fact: never refused)."""
        require_text(destination, "destination", "destination_required")
        self._left_area(meta=meta, destination=destination)

    @event("FamilyLeftArea")
    def _left_area(self, meta: Meta, destination: str) -> None:
        self.in_area = False
        self.destination = destination

    def return_to_area(self, meta: Meta, address: str, housing: Housing) -> None:
        """Record that the family has come back to the area."""
        require_text(address, "address", "address_required")
        self._returned(meta=meta, address=address, housing=housing)

    @event("FamilyReturned")
    def _returned(self, meta: Meta, address: str, housing: Housing | None) -> None:
        self.in_area = True
        self.postcode = ""
        self.arrived_on = meta.occurred_on
        self.address = address
        self.housing = housing
        self.moves = moves_rules_read([*self.moves, Move(meta.occurred_on, housing, self.next_version)])
