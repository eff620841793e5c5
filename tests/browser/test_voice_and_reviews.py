"""The child's voice and a universal review recorded in Chromium, with JavaScript, pages checked with axe-core."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, serious_violations, sign_in


def test_the_childs_voice_is_recorded_from_the_family_page_and_read_in_the_chronology(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "fsw2@demo.taf.invalid")
    page.goto(server.url + "/families?q=ASHBY")
    page.get_by_role("link", name="ASHBY-01").click()
    expect(page.get_by_role("heading", name="ASHBY-01")).to_be_visible()
    expect(page.get_by_text("Household circumstances")).to_have_count(1)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Record the child's voice for Baby Ashby").click()
    page.get_by_role("button", name="Record the child's voice for Baby Ashby").click()
    assert page.locator(".govuk-error-summary").get_by_text("There is a problem").count() == 1
    assert serious_violations(page) == []
    screenshot(page, "child-voice-form-with-errors")
    page.get_by_label("Observed: what the child's day-to-day life is like").check()
    page.get_by_label("What the child said, showed or was seen to experience").fill(
        "Baby settled quickly when held and fed well; cot now has clean bedding."
    )
    page.get_by_role("button", name="Record the child's voice for Baby Ashby").click()
    assert "Child's voice recorded" in page.locator(".govuk-notification-banner").inner_text()
    screenshot(page, "family-page-voices-and-circumstances")
    page.goto(page.url.split("?")[0] + "/record")
    page.get_by_role("link", name="Record a universal health review for Baby Ashby").click()
    page.get_by_label("6 to 8 week review").check()
    page.get_by_label("Completed").check()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Record a universal health review for Baby Ashby").click()
    assert "Universal review recorded" in page.locator(".govuk-notification-banner").inner_text()
    page.get_by_role("link", name="Full chronology and contact picture").click()
    assert page.get_by_text("Child's day-to-day experience observed: Baby settled quickly").count() >= 1
    assert page.get_by_text("6 to 8 week review: completed").count() >= 1
