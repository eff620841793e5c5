"""Assessments: GCP2 grades are whole numbers 1 to 5; an assessment resolves once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.errors import InvalidValueError
from domain.values import AssessmentKind, AssessmentStatus, Gcp2Grades
from tests.unit.builders import LEAD, FamilyBuilder, assert_refused, emitted, event_names, in_episode

GOOD = Gcp2Grades(physical_care=3, safety=3, love=3, esteem=3)
AREAS = ("physical_care", "safety", "love", "esteem")


@pytest.mark.parametrize("grade", [1, 5])
@pytest.mark.parametrize("area", AREAS)
def test_gcp2_grades_at_the_ends_of_the_scale_are_accepted(area: str, grade: int) -> None:
    builder = in_episode().assessment()
    family = builder.build()

    family.complete_assessment(LEAD.meta(), builder.assessment_ids[0], "findings", replace(GOOD, **{area: grade}))

    (completed,) = emitted(family)
    assert event_names([completed]) == ["AssessmentCompleted"]
    assert getattr(completed.grades, area) == grade
    assert family.assessments[str(builder.assessment_ids[0])].status is AssessmentStatus.COMPLETED


@pytest.mark.parametrize("grade", [0, 6, 2.5, True, -1, "3"], ids=["0", "6", "2.5", "True", "-1", "str"])
@pytest.mark.parametrize("area", AREAS)
def test_gcp2_grades_other_than_whole_numbers_1_to_5_are_refused(area: str, grade: object) -> None:
    builder = in_episode().assessment()
    family = builder.build()

    error = assert_refused(
        family,
        lambda: family.complete_assessment(
            LEAD.meta(),
            builder.assessment_ids[0],
            "findings",
            replace(GOOD, **{area: grade}),  # type: ignore[arg-type]
        ),
        "gcp2_grade_range",
        InvalidValueError,
    )
    assert error.field == f"grades.{area}"


def test_a_gcp2_without_grades_is_refused() -> None:
    builder = in_episode().assessment(AssessmentKind.GCP2_ANTENATAL)
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_assessment(LEAD.meta(), builder.assessment_ids[0], "", None),
        "gcp2_grades_required",
        InvalidValueError,
    )


def test_an_early_help_assessment_completes_without_grades() -> None:
    builder = in_episode().assessment(AssessmentKind.EARLY_HELP)
    family = builder.build()

    family.complete_assessment(LEAD.meta(), builder.assessment_ids[0], "needs identified", None)

    assert event_names(emitted(family)) == ["AssessmentCompleted"]


def test_a_recommendation_is_recorded_even_without_an_open_episode() -> None:
    builder = FamilyBuilder().assessment()

    assert builder.family.assessments[str(builder.assessment_ids[0])].episode_id is None


def test_starting_twice_is_refused() -> None:
    builder = in_episode().assessment()
    builder.family.start_assessment(LEAD.meta(), builder.assessment_ids[0])
    family = builder.build()

    assert_refused(
        family, lambda: family.start_assessment(LEAD.meta(), builder.assessment_ids[0]), "assessment_already_started"
    )


def test_a_declined_assessment_cannot_then_be_completed() -> None:
    builder = in_episode().assessment()
    builder.family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "mother refused")
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_assessment(LEAD.meta(), builder.assessment_ids[0], "", GOOD),
        "assessment_already_resolved",
    )


def test_declining_needs_a_reason() -> None:
    builder = in_episode().assessment()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], " "),
        "reason_required",
        InvalidValueError,
    )
