"""Registration and the family's members: children, births, address, postcode, matches, the area."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.canonical import added
from domain.errors import InvalidValueError, RuleViolationError
from domain.family.base import FamilyBase, require_text
from domain.state import ChildState, Move, moves_rules_read
from domain.values import BirthDetails, Child, Housing, Meta, Sex

GESTATION_WEEKS = (22, 44)  # the preterm to post-term range the UK-WHO charts plot


def check_gestation(weeks: int | None, days: int | None) -> None:
    """Refuse a gestation the charts cannot plot: weeks 22 to 44, days 0 to 6, days only with weeks."""
    if weeks is not None and not GESTATION_WEEKS[0] <= weeks <= GESTATION_WEEKS[1]:
        raise InvalidValueError(
            "the gestation at birth must be 22 to 44 weeks", rule="gestation_range", field="gestation_weeks"
        )
    if days is not None and not 0 <= days <= 6:
        raise InvalidValueError(
            "the days beyond the whole weeks must be 0 to 6", rule="gestation_range", field="gestation_days"
        )
    if days is not None and weeks is None:
        raise InvalidValueError(
            "give the whole weeks of gestation as well as the days",
            rule="gestation_weeks_required",
            field="gestation_weeks",
        )


def _note_birth_details(child: ChildState, details: BirthDetails) -> None:
    """Keep what is given; a gestation given in weeks alone means that many weeks and no days."""
    if details.sex is not None:
        child.sex = details.sex
    if details.gestation_weeks is not None:
        child.gestation_weeks = details.gestation_weeks
        child.gestation_days = details.gestation_days or 0


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

    def record_birth(self, meta: Meta, child_id: UUID, born_on: date, details: BirthDetails | None = None) -> None:
        """Record that an expected child was born, with sex and gestation when known (once: corrections change it)."""
        child = self.child(child_id)
        if child.date_of_birth is not None:
            raise RuleViolationError(
                f"this child's birth is already recorded (born on {child.date_of_birth.isoformat()}); "
                "send a correction to change it",
                rule="child_already_born",
            )
        if born_on > meta.occurred_on:
            raise InvalidValueError("born_on is in the future", rule="occurred_in_future", field="born_on")
        details = details or BirthDetails()
        check_gestation(details.gestation_weeks, details.gestation_days)
        self._child_born(
            meta=meta,
            child_id=child_id,
            born_on=born_on,
            sex=details.sex,
            gestation_weeks=details.gestation_weeks,
            gestation_days=details.gestation_days,
        )

    class ChildBorn(Aggregate.Event):
        """A birth; the sex and gestation were added later (growth centiles need them)."""

        meta: Meta
        child_id: UUID
        born_on: date
        sex: Sex | None = added(None)
        gestation_weeks: int | None = added(None)
        gestation_days: int | None = added(None)

    @event(ChildBorn)
    def _child_born(
        self,
        meta: Meta,
        child_id: UUID,
        born_on: date,
        sex: Sex | None = None,
        gestation_weeks: int | None = None,
        gestation_days: int | None = None,
    ) -> None:
        child = self.children[str(child_id)]
        child.date_of_birth = born_on
        child.born_version = self.next_version
        _note_birth_details(child, BirthDetails(sex, gestation_weeks, gestation_days))

    def record_birth_details(self, meta: Meta, child_id: UUID, details: BirthDetails) -> None:
        """Record a child's sex and gestation at birth (a fact; what is given replaces what was known)."""
        self.child(child_id)
        check_gestation(details.gestation_weeks, details.gestation_days)
        if details.sex is None and details.gestation_weeks is None:
            raise InvalidValueError(
                "give the sex, the gestation or both", rule="birth_details_required", field="gestation_weeks"
            )
        self._birth_details_recorded(
            meta=meta,
            child_id=child_id,
            sex=details.sex,
            gestation_weeks=details.gestation_weeks,
            gestation_days=details.gestation_days,
        )

    @event("BirthDetailsRecorded")
    def _birth_details_recorded(
        self,
        meta: Meta,
        child_id: UUID,
        sex: Sex | None,
        gestation_weeks: int | None,
        gestation_days: int | None,
    ) -> None:
        _note_birth_details(self.children[str(child_id)], BirthDetails(sex, gestation_weeks, gestation_days))

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
