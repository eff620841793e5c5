"""NHS numbers: the modulus 11 check digit, and one family per number."""

from __future__ import annotations

from datetime import date

import pytest

from domain.application import ChildInput, TafLedger
from domain.errors import ChildAlreadyRegisteredError, InvalidValueError
from domain.nhs import check_digit, child_number_id, is_valid_nhs_number, nhs_number
from tests.conftest import Team

VALID = ("9434765919", "9434765870", "4010232137", "0000000000")


@pytest.mark.parametrize("number", VALID)
def test_a_number_ending_in_its_check_digit_is_valid(number: str) -> None:
    assert is_valid_nhs_number(number)


@pytest.mark.parametrize("number", ["9434765918", "9434765910", "4010232136", "4010232138"])
def test_a_number_with_the_wrong_check_digit_is_invalid(number: str) -> None:
    assert not is_valid_nhs_number(number)


@pytest.mark.parametrize("number", ["943476591", "94347659190", "", "943476591a", "９４３４７６５９１９"])
def test_anything_but_ten_ascii_digits_is_invalid(number: str) -> None:
    assert not is_valid_nhs_number(number)


def test_a_remainder_of_one_gives_no_check_digit_so_no_number_is_valid() -> None:
    first_nine = next(f"{n:09d}" for n in range(1000) if check_digit(f"{n:09d}") is None)
    assert not any(is_valid_nhs_number(first_nine + str(d)) for d in range(10))


def test_check_digit_eleven_becomes_zero() -> None:
    assert check_digit("000000000") == 0
    assert is_valid_nhs_number("0000000000")


def test_spaces_and_hyphens_are_dropped_before_checking() -> None:
    assert nhs_number("943 476 5919") == "9434765919"
    assert nhs_number("943-476-5919") == "9434765919"


def test_an_invalid_number_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValueError) as refused:
        nhs_number("9434765918", "children.0.nhs_number")
    assert refused.value.rule == "nhs_number_invalid"
    assert refused.value.field == "children.0.nhs_number"


def test_the_number_aggregate_id_is_the_same_for_the_same_number() -> None:
    assert child_number_id("9434765919") == child_number_id("9434765919") != child_number_id("9434765870")


def test_a_registered_child_carries_its_number_and_is_found_by_it(ledger: TafLedger, team: Team) -> None:
    recorded = ledger.register_family(team.coordinator, [ChildInput("Ann", date(2026, 1, 5), None, "943 476 5919")])
    family = ledger.get_family(recorded.family_id)
    (child,) = family.children.values()
    assert child.nhs_number == "9434765919"
    assert ledger.find_child("9434765919") == (recorded.family_id, child.child_id)
    assert ledger.find_child("9434765870") is None


def test_a_second_family_with_a_known_number_is_refused_and_records_nothing(ledger: TafLedger, team: Team) -> None:
    first = ledger.register_family(team.coordinator, [ChildInput("Ann", date(2026, 1, 5), None, "9434765919")])
    head = ledger.recorder.max_notification_id()
    with pytest.raises(ChildAlreadyRegisteredError) as refused:
        ledger.register_family(team.lead, [ChildInput("Anne", date(2026, 1, 5), None, "9434765919")])
    assert refused.value.family_id == first.family_id
    assert refused.value.rule == "child_already_registered"
    assert ledger.recorder.max_notification_id() == head


def test_adding_a_child_with_a_known_number_is_refused(ledger: TafLedger, team: Team) -> None:
    first = ledger.register_family(team.coordinator, [ChildInput("Ann", date(2026, 1, 5), None, "9434765919")])
    other = ledger.register_family(team.coordinator, [ChildInput("Bo", date(2025, 1, 5))])
    with pytest.raises(ChildAlreadyRegisteredError) as refused:
        ledger.add_child(team.coordinator, other.family_id, ChildInput("Ann", date(2026, 1, 5), None, "9434765919"))
    assert refused.value.family_id == first.family_id
    assert ledger.get_family(other.family_id).version == other.version


def test_a_child_added_with_a_new_number_claims_it(ledger: TafLedger, team: Team) -> None:
    family = ledger.register_family(team.coordinator, [ChildInput("Bo", date(2025, 1, 5))])
    added = ledger.add_child(team.coordinator, family.family_id, ChildInput("Cy", date(2026, 2, 1), None, "9434765870"))
    assert ledger.find_child("9434765870") == (family.family_id, added.id)


def test_the_same_number_twice_in_one_registration_is_invalid(ledger: TafLedger, team: Team) -> None:
    with pytest.raises(InvalidValueError) as refused:
        ledger.register_family(
            team.coordinator,
            [
                ChildInput("Ann", date(2026, 1, 5), None, "9434765919"),
                ChildInput("Bo", date(2026, 1, 5), None, "9434765919"),
            ],
        )
    assert refused.value.rule == "nhs_number_repeated"
