"""The growth chart: weights on the UK-WHO centile lines (web/growth_chart.py), and the forms and page around it."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from domain.application import When
from domain.values import BirthDetails, Sex
from tests.web.family_setup import family_with_team, people_events, recorded
from tests.web.pages import error_summary, text_of, web_service
from web.growth_chart import Weight, corrected_age_years, growth_chart

BORN = date(2026, 1, 5)


def weights(*pairs: tuple[int, float]) -> list[Weight]:
    return [Weight(BORN + timedelta(days=d), kg, None, None, False) for d, kg in pairs]


def test_the_chart_has_the_nine_uk_who_centile_lines_in_order_with_the_50th_drawn_strongest() -> None:
    chart = growth_chart(Sex.FEMALE, BORN, 40, 0, weights((0, 3.4), (56, 4.1)))
    assert [line.label for line in chart.lines] == [
        "0.4th",
        "2nd",
        "9th",
        "25th",
        "50th",
        "75th",
        "91st",
        "98th",
        "99.6th",
    ]
    assert [line.main for line in chart.lines].count(True) == 1 and chart.lines[4].main
    assert [line.dashed for line in chart.lines] == [True, False, False, False, False, False, False, False, True]
    ends = [line.label_y for line in chart.lines]
    assert ends == sorted(ends, reverse=True)  # heavier centiles higher up the chart (smaller y)


def test_a_weight_falling_across_centiles_is_drawn_below_the_lines_it_crossed() -> None:
    chart = growth_chart(Sex.FEMALE, BORN, 40, 0, weights((0, 3.4), (56, 4.1)))
    birth, now = chart.marks
    assert chart.plot_left <= birth.x < now.x <= chart.plot_right
    y_at = {line.label: _y_near(line.path, now.x) for line in chart.lines}
    assert y_at["9th"] < now.y < y_at["2nd"]  # 4.1 kg at 8 weeks: between the 2nd and 9th lines (6.75th centile)
    assert chart.span_label == "Corrected age, birth to 6 months"


def test_the_span_grows_with_the_child_and_a_preterm_age_is_corrected() -> None:
    assert growth_chart(Sex.MALE, BORN, 40, 0, weights((250, 8.0))).span_label.endswith("1 year")
    assert growth_chart(Sex.MALE, BORN, 40, 0, weights((500, 10.0))).span_label.endswith("2 years")
    assert corrected_age_years(BORN, BORN + timedelta(days=70), 30, 0) == 0.0
    assert corrected_age_years(BORN, BORN + timedelta(days=70), 38, 0) == 70 / 365.25
    preterm = growth_chart(Sex.MALE, BORN, 30, 0, weights((0, 1.4), (70, 3.3)))
    assert preterm.x_ticks[0].label == "-10 wk"  # born ten weeks before term
    assert preterm.plot_left <= preterm.marks[0].x < preterm.plot_left + 2


def _y_near(path: str, x: float) -> float:
    pairs = [tuple(map(float, p.split(","))) for p in path.split() if "," in p]
    return min(pairs, key=lambda p: abs(p[0] - x))[1]


def test_the_family_page_draws_the_chart_and_lists_each_weight_with_its_centile(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        hv = story.actor(service, "hv")
        ledger = service.ledger
        ledger.record_birth_details(hv, story.family_id, story.child_id, BirthDetails(Sex.FEMALE, 39, 4))
        ledger.measure_growth(hv, story.family_id, story.child_id, 3.3, When(date(2026, 3, 1)))
        ledger.measure_growth(hv, story.family_id, story.child_id, 4.4, When(date(2026, 5, 20)))
        service.wait_for_projections()
        coord = service.sign_in("coord@demo.taf.invalid")

        page = coord.get(f"/families/{story.family_id}").text

        assert "Growth: Ruby Test" in page and 'class="taf-growth"' in page
        assert page.count('class="taf-growth-mark"') == 2
        text = text_of(page)
        assert "born at 39+4 weeks" in text
        assert "1 March 2026 3.3 kg 46th -0.10" in text
        assert "20 May 2026 4.4 kg 4th -1.78" in text


def test_sex_and_gestation_are_recorded_through_their_form_and_bad_ones_are_refused(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        hv = service.sign_in("hv@demo.taf.invalid")
        path = f"/families/{story.family_id}/children/{story.child_id}/birth-details/new"
        form = hv.get(path)
        assert form.status_code == 200 and "Gestation at birth in weeks" in form.text
        before = recorded(service, story.family_id)

        refused = hv.post(path, {"sex": "female", "gestation_weeks": "50", "gestation_days": ""})
        assert refused.status_code == 400
        assert error_summary(refused.text) == ["The gestation at birth must be 22 to 44 weeks"]
        assert recorded(service, story.family_id) == before

        done = hv.post(path, {"sex": "female", "gestation_weeks": "34", "gestation_days": "2"})
        assert done.status_code == 303
        event = people_events(service, story.family_id)[-1]
        assert type(event).__name__ == "BirthDetailsRecorded"
        assert (event.sex, event.gestation_weeks, event.gestation_days) == (Sex.FEMALE, 34, 2)


def test_a_family_registered_through_the_web_can_give_a_childs_sex_and_gestation(tmp_path, clock) -> None:
    from tests.web.test_forms_facts import REGISTRATION

    with web_service(tmp_path, clock) as service:
        service.demo()
        coord = service.sign_in("coord@demo.taf.invalid")
        form = {**REGISTRATION, "children-0-sex": "male", "children-0-gestation_weeks": "35"}
        response = coord.post("/families/new", form)
        assert response.status_code == 303
        family_id = response.headers["location"].split("/")[2].split("?")[0]
        children = {c.name: c for c in service.ledger.get_family(UUID(family_id)).children.values()}
        amir = children["Amir Test"]
        assert (amir.sex, amir.gestation_weeks, amir.gestation_days) == (Sex.MALE, 35, 0)
        assert children["Baby Test"].sex is None
