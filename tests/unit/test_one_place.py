"""Each fact in one place (issue 16): the chronology row, the checklist's infant interval, insecure housing."""

from __future__ import annotations

from dataclasses import fields

import pytest
from pydantic import ValidationError

from api.schemas.lists import ChronologyItem
from domain.chronology import ChronologyEntry
from domain.signals import DEFAULT_THRESHOLDS, FIXED_THRESHOLDS
from infra.settings import Settings

NAMES = {"child_names", "source_agency_name", "source_professional_name", "recorded_by_name"}


def test_the_api_chronology_item_is_the_domain_row_with_the_names_beside_its_ids() -> None:
    """`domain.chronology.ChronologyEntry` defines the row; the API shows its fields (the family is in the path)."""
    row = {f.name for f in fields(ChronologyEntry)} - {"family_id"}
    assert set(ChronologyItem.model_fields) == row | NAMES


def test_settings_refuse_the_checklist_interval_and_take_the_other_thresholds() -> None:
    assert FIXED_THRESHOLDS == ("infant_seen_within_days",) and DEFAULT_THRESHOLDS.infant_seen_within_days == 28
    with pytest.raises(ValidationError, match="\\['infant_seen_within_days'\\] are fixed"):
        Settings(signal_thresholds={"infant_seen_within_days": 14})
    assert Settings(signal_thresholds={"contact_interval_days": 21}).thresholds().contact_interval_days == 21
