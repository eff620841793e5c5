"""Weights as clinicians read them: UK-WHO centiles and SDS, and NICE NG75's faltering growth.

Centiles and SDS come from the Royal College of Paediatrics and Child Health's own library
(`rcpchgrowth`, the UK-WHO reference), corrected for gestation. They are computed once,
when a weight is recorded, and stored on its event: the rules and the scan only compare
stored numbers.

The UK-WHO chart's centile lines (0.4th, 2nd, 9th, 25th, 50th, 75th, 91st, 98th, 99.6th)
are 2/3 of a standard deviation apart; a "centile space" is the band between two lines, so
a fall in SDS counts the spaces crossed. NICE guideline NG75 (faltering growth, 1.2) is
concerned by a fall across one or more centile spaces from a birth weight below the 9th
centile, two or more from the 9th to the 91st, three or more above the 91st, and by a
current weight below the 2nd centile whatever the birth weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, cast

from domain.values import Sex

CENTILE_SPACE_SDS = 2 / 3
CENTILE_LINES: tuple[float, ...] = (0.4, 2, 9, 25, 50, 75, 91, 98, 99.6)
LINE_SDS: dict[float, float] = {line: (i - 4) * CENTILE_SPACE_SDS for i, line in enumerate(CENTILE_LINES)}
TERM_WEEKS = 40
BELOW_9TH_SDS = LINE_SDS[9]
ABOVE_91ST_SDS = LINE_SDS[91]
BELOW_2ND_SDS = LINE_SDS[2]
_EPSILON = 1e-9  # a fall of exactly N spaces (as SDS arithmetic rounds it) counts as N


@dataclass(frozen=True)
class Centile:
    """Where a weight sits on the UK-WHO chart: its centile (0 to 100) and SDS."""

    centile: float
    sds: float


def weight_centile(
    sex: Sex,
    date_of_birth: date,
    measured_on: date,
    weight_kg: float,
    gestation_weeks: int | None = None,
    gestation_days: int | None = None,
) -> Centile | None:
    """A weight's centile and SDS for age (corrected for gestation; term when not known); None outside the charts."""
    if measured_on < date_of_birth:
        return None
    Measurement = _rcpchgrowth().Measurement
    try:
        result = Measurement(
            birth_date=date_of_birth,
            measurement_method="weight",
            observation_date=measured_on,
            observation_value=float(weight_kg),
            reference="uk-who",
            sex=sex.value,
            gestation_weeks=TERM_WEEKS if gestation_weeks is None else gestation_weeks,
            gestation_days=0 if gestation_weeks is None else (gestation_days or 0),
        ).measurement
    except Exception:  # a weight is a fact, never refused: off the library's charts it just has no centile
        return None
    values = cast(dict[str, Any], result["measurement_calculated_values"])
    sds, centile = values.get("corrected_sds"), values.get("corrected_centile")
    if sds is None or centile is None or not math.isfinite(float(sds)):
        return None
    return Centile(centile=round(float(centile), 2), sds=round(float(sds), 3))


def weight_for_sds(sex: Sex, age_years: float, sds: float) -> float | None:
    """The weight (kg) at an SDS for a corrected age on the UK-WHO chart (the centile lines); None off the chart."""
    try:
        value = _rcpchgrowth().measurement_from_sds(
            reference="uk-who", requested_sds=sds, measurement_method="weight", sex=sex.value, age=age_years
        )
    except Exception:  # off the chart (the library raises several kinds): no point there
        return None
    return None if value is None else float(value)


@lru_cache(maxsize=1)
def _rcpchgrowth() -> Any:
    """The library, imported on first use (it reads its reference tables when imported)."""
    import rcpchgrowth

    return rcpchgrowth


def warm_up() -> None:
    """Load the library and its UK-WHO tables now (seconds on a busy machine), so the first weight need not wait."""
    weight_centile(Sex.FEMALE, date(2026, 1, 1), date(2026, 2, 1), 4.0)


def centile_spaces_fallen(birth_sds: float, current_sds: float) -> int:
    """How many whole centile spaces a weight has fallen across since birth (0 when it rose)."""
    return max(0, math.floor((birth_sds - current_sds) / CENTILE_SPACE_SDS + _EPSILON))


def spaces_of_concern(birth_sds: float) -> int:
    """NG75: the fall, in centile spaces, that is a concern for a birth weight at this SDS."""
    if birth_sds < BELOW_9TH_SDS:
        return 1
    if birth_sds > ABOVE_91ST_SDS:
        return 3
    return 2


def birth_band(birth_sds: float) -> str:
    """The NG75 band of a birth weight, in words."""
    if birth_sds < BELOW_9TH_SDS:
        return "below the 9th centile"
    if birth_sds > ABOVE_91ST_SDS:
        return "above the 91st centile"
    return "between the 9th and 91st centiles"


@dataclass(frozen=True)
class Faltering:
    """Why a child's growth is faltering as NG75 defines it."""

    spaces_fallen: int
    spaces_of_concern: int | None  # None when only the current weight (below the 2nd centile) is the concern
    below_2nd: bool


def faltering(birth: Centile | None, current: Centile) -> Faltering | None:
    """NG75: a fall across the centile spaces the birth weight's band allows, or a weight below the 2nd centile."""
    below_2nd = current.sds < BELOW_2ND_SDS
    if birth is None:
        return Faltering(0, None, True) if below_2nd else None
    fallen = centile_spaces_fallen(birth.sds, current.sds)
    concern = spaces_of_concern(birth.sds)
    if fallen >= concern or below_2nd:
        return Faltering(fallen, concern if fallen >= concern else None, below_2nd)
    return None


def centile_words(centile: float) -> str:
    """A centile as people say it: '50th', '2nd', '0.4th', '99.6th'; off the chart '<0.4th' and '>99.6th'."""
    if centile < 0.4:
        return "<0.4th"
    if centile > 99.6:
        return ">99.6th"
    if centile < 1 or centile > 99:
        return f"{centile:.1f}th"
    whole = round(centile)
    suffix = "th" if 10 <= whole % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{whole}{suffix}"
