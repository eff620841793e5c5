"""Growth as clinicians measure it: UK-WHO centiles (rcpchgrowth) stored on each weight, and NICE NG75.

The weights are hand-picked for a girl born at term on BORN and weighed at birth and at
8 weeks; each test first checks the centile rcpchgrowth gives the weight (so the case
sits in the band it is about), then what the rule says.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidValueError
from domain.family import Family
from domain.growth import Centile, centile_spaces_fallen, faltering, spaces_of_concern, weight_centile
from domain.signals import SignalThresholds, faltering_growth, infant_weight_drop
from domain.values import BirthDetails, Channel, Child, Meta, Role, Sex

BORN = date(2026, 1, 5)
EIGHT_WEEKS = BORN + timedelta(days=56)
AGENCY, PERSON = uuid4(), uuid4()


def meta(on: date) -> Meta:
    return Meta(PERSON, AGENCY, Role.PRACTITIONER, Channel.API, on)


class Girl:
    """A family with one girl, weighed through the aggregate's own command."""

    def __init__(self, sex: Sex | None = Sex.FEMALE, weeks: int | None = 40, days: int | None = 0) -> None:
        self.child_id = uuid4()
        child = Child(self.child_id, "Ada", date_of_birth=BORN, sex=sex, gestation_weeks=weeks, gestation_days=days)
        self.family = Family(
            family_id=uuid4(),
            meta=meta(BORN),
            reference="TAF-G",
            children=[child],
            carers=[],
            address="1 Mill Lane",
            housing=None,
            languages=[],
        )

    def weigh(self, on: date, kg: float) -> int:
        self.family.measure_growth(meta(on), self.child_id, kg)
        return self.family.version


def centile_at(on: date, kg: float) -> Centile:
    found = weight_centile(Sex.FEMALE, BORN, on, kg, 40, 0)
    assert found is not None
    return found


# ------------------------------------------------------------------ centiles on the event


def test_a_weight_is_recorded_with_its_uk_who_centile_and_sds() -> None:
    girl = Girl()
    girl.weigh(EIGHT_WEEKS, 5.0)
    event = girl.family.collect_events()[-1]
    assert type(event).__name__ == "GrowthMeasured"
    assert (event.centile, event.sds, event.term_assumed) == (50.25, 0.006, False)


def test_a_preterm_birth_is_corrected_for_gestation() -> None:
    girl = Girl(weeks=34)
    girl.weigh(EIGHT_WEEKS, 3.9)
    event = girl.family.collect_events()[-1]
    assert event.centile == 73.38
    assert centile_at(EIGHT_WEEKS, 3.9).centile == 3.09  # the same weight at term


def test_without_the_sex_the_weight_has_no_centile() -> None:
    girl = Girl(sex=None)
    girl.weigh(EIGHT_WEEKS, 5.0)
    event = girl.family.collect_events()[-1]
    assert (event.centile, event.sds) == (None, None)


def test_without_the_gestation_the_centile_is_for_a_term_birth_and_says_so() -> None:
    girl = Girl(weeks=None, days=None)
    girl.weigh(EIGHT_WEEKS, 5.0)
    event = girl.family.collect_events()[-1]
    assert (event.centile, event.term_assumed) == (50.25, True)


def test_birth_details_recorded_later_give_later_weights_their_centiles() -> None:
    girl = Girl(sex=None, weeks=None, days=None)
    girl.family.record_birth_details(meta(BORN), girl.child_id, BirthDetails(Sex.FEMALE, 40, 0))
    girl.weigh(EIGHT_WEEKS, 5.0)
    assert girl.family.collect_events()[-1].centile == 50.25


@pytest.mark.parametrize(
    ("weeks", "days", "rule"),
    [
        (21, 0, "gestation_range"),
        (45, 0, "gestation_range"),
        (40, 7, "gestation_range"),
        (None, 3, "gestation_weeks_required"),
    ],
)
def test_a_gestation_the_charts_cannot_plot_is_refused(weeks: int | None, days: int | None, rule: str) -> None:
    girl = Girl()
    with pytest.raises(InvalidValueError) as refused:
        girl.family.record_birth_details(meta(BORN), girl.child_id, BirthDetails(Sex.FEMALE, weeks, days))
    assert refused.value.rule == rule
    assert girl.family.collect_events()[1:] == []


# ------------------------------------------------------------------ NG75 at each band


def test_spaces_are_counted_in_two_thirds_of_an_sds() -> None:
    assert centile_spaces_fallen(0.0, -2 / 3) == 1
    assert centile_spaces_fallen(0.0, -0.66) == 0
    assert centile_spaces_fallen(0.0, 0.5) == 0
    assert [spaces_of_concern(s) for s in (-1.34, -1.33, 1.33, 1.34)] == [1, 2, 2, 3]


class TestFalteringGrowthBands:
    def test_below_the_9th_centile_at_birth_one_space_is_a_concern(self) -> None:
        assert centile_at(BORN, 2.85).centile == 8.36
        assert centile_at(EIGHT_WEEKS, 3.8).sds == -2.061  # 1.03 spaces down
        assert centile_at(EIGHT_WEEKS, 3.9).sds == -1.868  # 0.73 of a space down
        falling = Girl()
        birth = falling.weigh(BORN, 2.85)
        now = falling.weigh(EIGHT_WEEKS, 3.8)
        signal = faltering_growth(falling.family, EIGHT_WEEKS)
        assert signal is not None and signal.event_versions == [birth, now] and signal.since == EIGHT_WEEKS
        assert "fell 1 centile space(s) from a birth weight below the 9th centile" in signal.explanation
        assert "2.85 kg on 2026-01-05 (v2), 8th centile (SDS -1.38)" in signal.explanation
        assert "3.8 kg on 2026-03-02 (v3), 2nd centile (SDS -2.06)" in signal.explanation
        steady = Girl()
        steady.weigh(BORN, 2.85)
        steady.weigh(EIGHT_WEEKS, 3.9)
        assert faltering_growth(steady.family, EIGHT_WEEKS) is None

    def test_from_the_9th_to_the_91st_two_spaces_are_a_concern(self) -> None:
        assert centile_at(BORN, 3.4).centile == 48.78
        assert centile_at(EIGHT_WEEKS, 4.1).sds == -1.494  # 2.19 spaces down
        assert centile_at(EIGHT_WEEKS, 4.2).sds == -1.314  # 1.92 spaces down
        falling = Girl()
        falling.weigh(BORN, 3.4)
        falling.weigh(EIGHT_WEEKS, 4.1)
        signal = faltering_growth(falling.family, EIGHT_WEEKS)
        assert signal is not None
        assert "fell 2 centile space(s) from a birth weight between the 9th and 91st centiles" in signal.explanation
        assert "NG75 concern at 2 or more" in signal.explanation
        steady = Girl()
        steady.weigh(BORN, 3.4)
        steady.weigh(EIGHT_WEEKS, 4.2)
        assert faltering_growth(steady.family, EIGHT_WEEKS) is None

    def test_above_the_91st_three_spaces_are_a_concern(self) -> None:
        assert centile_at(BORN, 4.3).centile == 97.51
        assert centile_at(EIGHT_WEEKS, 4.9).sds == -0.148  # 3.16 spaces down
        assert centile_at(EIGHT_WEEKS, 5.0).sds == 0.006  # 2.93 spaces down
        falling = Girl()
        falling.weigh(BORN, 4.3)
        falling.weigh(EIGHT_WEEKS, 4.9)
        signal = faltering_growth(falling.family, EIGHT_WEEKS)
        assert signal is not None
        assert "fell 3 centile space(s) from a birth weight above the 91st centile" in signal.explanation
        steady = Girl()
        steady.weigh(BORN, 4.3)
        steady.weigh(EIGHT_WEEKS, 5.0)
        assert faltering_growth(steady.family, EIGHT_WEEKS) is None

    def test_a_current_weight_below_the_2nd_centile_is_a_concern_whatever_the_birth_weight(self) -> None:
        assert centile_at(BORN, 2.6).sds == -2.038
        assert centile_at(EIGHT_WEEKS, 3.7).centile == 1.2  # 0.33 of a space down: no fall to speak of
        assert centile_at(EIGHT_WEEKS, 3.8).centile == 1.97
        low = Girl()
        low.weigh(BORN, 2.6)
        low.weigh(EIGHT_WEEKS, 3.7)
        signal = faltering_growth(low.family, EIGHT_WEEKS)
        assert signal is not None and signal.explanation.endswith("is below the 2nd centile.")
        assert "fell" not in signal.explanation
        unknown_birth = Girl()
        unknown_birth.weigh(EIGHT_WEEKS, 3.7)
        assert faltering_growth(unknown_birth.family, EIGHT_WEEKS) is not None
        assert faltering(None, centile_at(EIGHT_WEEKS, 3.9)) is None


class TestFalteringGrowthWhen:
    def test_not_judged_in_the_first_two_weeks(self) -> None:
        girl = Girl()
        girl.weigh(BORN, 3.4)
        thirteen, fourteen = BORN + timedelta(days=13), BORN + timedelta(days=14)
        girl.weigh(thirteen, 2.6)
        assert faltering_growth(girl.family, thirteen) is None
        girl.weigh(fourteen, 2.6)
        assert faltering_growth(girl.family, fourteen) is not None
        assert faltering_growth(girl.family, fourteen, SignalThresholds(faltering_growth_from_days=15)) is None

    def test_a_recovery_at_the_latest_weight_clears_it(self) -> None:
        girl = Girl()
        girl.weigh(BORN, 3.4)
        girl.weigh(EIGHT_WEEKS - timedelta(days=14), 3.5)
        assert faltering_growth(girl.family, EIGHT_WEEKS - timedelta(days=14)) is not None
        girl.weigh(EIGHT_WEEKS, 4.8)
        assert faltering_growth(girl.family, EIGHT_WEEKS) is None

    def test_a_birth_weight_recorded_late_is_still_the_birth_weight(self) -> None:
        girl = Girl()
        girl.weigh(EIGHT_WEEKS, 4.1)
        girl.weigh(BORN, 3.4)  # recorded after, measured before
        signal = faltering_growth(girl.family, EIGHT_WEEKS)
        assert signal is not None and "fell 2 centile space(s)" in signal.explanation


class TestInfantWeightDropStaysForTheOthers:
    def test_a_child_on_centiles_is_judged_by_faltering_growth_only(self) -> None:
        girl = Girl()
        girl.weigh(EIGHT_WEEKS, 5.0)
        girl.weigh(EIGHT_WEEKS + timedelta(days=7), 4.9)
        assert infant_weight_drop(girl.family, EIGHT_WEEKS + timedelta(days=7)) is None

    @pytest.mark.parametrize(("sex", "weeks"), [(None, 40), (Sex.FEMALE, None)])
    def test_without_sex_or_gestation_a_drop_is_infant_weight_drop(self, sex: Sex | None, weeks: int | None) -> None:
        girl = Girl(sex=sex, weeks=weeks, days=None)
        girl.weigh(BORN, 3.4)
        girl.weigh(EIGHT_WEEKS, 3.3)
        assert infant_weight_drop(girl.family, EIGHT_WEEKS) is not None
        assert faltering_growth(girl.family, EIGHT_WEEKS) is None
