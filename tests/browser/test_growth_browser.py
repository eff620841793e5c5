"""The demo's faltering growth in a real browser: the UK-WHO chart on the family page, and the lead's notice."""

from __future__ import annotations

import time

from tests.browser.conftest import SCREENSHOTS, screenshot, serious_violations, sign_in


def open_ashby(page, server) -> None:
    page.goto(server.url + "/families?q=ASHBY")
    page.get_by_role("link", name="ASHBY-01").click()


def test_the_family_page_draws_baby_ashbys_weights_on_the_uk_who_centile_lines(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "coord@demo.taf.invalid")
    open_ashby(page, server)

    chart = page.locator("svg.taf-growth")
    assert chart.count() == 1 and chart.is_visible()
    assert chart.locator("path.taf-growth-line").count() == 9
    assert chart.locator("circle.taf-growth-mark").count() == 3
    table = page.get_by_role("table", name="Weights of Baby Ashby").inner_text()
    assert "64th" in table and "7th" in table
    assert serious_violations(page) == []
    screenshot(page, "family-page-growth")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("figure:has(svg.taf-growth)").screenshot(path=str(SCREENSHOTS / "growth-chart.png"))


def test_the_lead_finds_the_faltering_growth_notice_in_her_work(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "fsw2@demo.taf.invalid")  # Grace Adeyemi leads ASHBY-01
    subject = "ASHBY-01: high-severity signal: faltering growth"
    deadline = time.monotonic() + 30
    while subject not in page.content() and time.monotonic() < deadline:  # the embedded workers send it
        time.sleep(0.5)
        page.reload()
    assert subject in page.content()
    screenshot(page, "my-work-signal-notice")


def test_sex_and_gestation_are_recorded_from_the_family_page_and_a_bad_gestation_is_shown(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "hv@demo.taf.invalid")
    open_ashby(page, server)
    page.get_by_role("link", name="More things to record").click()
    page.get_by_role("link", name="Record sex and gestation for Mia Ashby").click()
    page.get_by_label("Female").check()
    page.get_by_label("Gestation at birth in weeks").fill("50")
    page.locator("main form button.govuk-button").click()
    assert page.title().startswith("Error: ")
    assert "The gestation at birth must be 22 to 44 weeks" in page.locator(".govuk-error-summary").inner_text()
    assert serious_violations(page) == []
    screenshot(page, "birth-details-with-errors")
    page.get_by_label("Gestation at birth in weeks").fill("38")
    page.get_by_label("And days").fill("5")
    page.locator("main form button.govuk-button").click()
    assert "Sex and gestation recorded" in page.locator(".govuk-notification-banner").inner_text()


def test_the_register_page_offers_each_childs_sex_and_gestation(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "coord@demo.taf.invalid")
    page.goto(server.url + "/families/new")
    assert page.locator("input[name='children-0-sex']").count() == 2
    assert page.locator("#children-3-gestation_weeks").is_visible()
    assert serious_violations(page) == []
    screenshot(page, "register-family")
