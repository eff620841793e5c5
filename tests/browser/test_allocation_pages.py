"""The Needs a lead page, a lead proposal, and the step-up and disagreement part of the family page, in Chromium."""

from __future__ import annotations

from tests.browser.conftest import screenshot, serious_violations, sign_in


def test_a_coordinator_proposes_a_lead_from_needs_a_lead(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "coord@demo.taf.invalid")
    page.get_by_role("link", name="Needs a lead").click()
    assert page.locator("h1").inner_text() == "Needs a lead"
    row = page.locator("tr", has_text="MORGAN-01")
    assert "An open episode without a lead" in row.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "needs-a-lead")

    row.get_by_role("link", name="Propose a lead").click()
    page.get_by_role("button", name="Propose a lead professional").click()
    assert page.title().startswith("Error: ")
    assert "There is a problem" in page.locator(".govuk-error-summary").inner_text()
    screenshot(page, "lead-proposal-error")
    page.get_by_label("Proposed lead professional").select_option(label="Joy Okafor (Northfield Maternity Unit)")
    page.get_by_label("Reason").fill("The midwife knows the mother best before the birth.")
    with page.expect_navigation():
        page.get_by_role("button", name="Propose a lead professional").click()
    assert "Lead professional proposed" in page.locator(".govuk-notification-banner").inner_text()
    assert "was proposed as lead professional" in page.locator("main").inner_text()


def test_the_family_page_shows_the_step_up_and_the_disagreement(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "manager@demo.taf.invalid")
    page.goto(server.url + "/families?q=ASHBY")
    page.get_by_role("link", name="ASHBY-01").click()
    section = page.locator("#escalation")
    assert section.inner_text() == "Step-up and disagreements"
    main = page.locator("main").inner_text()
    assert "Returned to early help" in main and "Disagreement, level 2" in main
    assert serious_violations(page) == []
    screenshot(page, "family-step-up-and-disagreements")
    part = page.locator("#escalation").bounding_box()
    assert part is not None
    page.screenshot(
        path=str(screenshot(page, "family-step-up-and-disagreements").with_name("family-escalation-part.png")),
        full_page=True,
        clip={"x": 0, "y": part["y"] - 20, "width": 1200, "height": 520},
    )
    page.get_by_role("link", name="Resolve the disagreement").click()
    assert page.locator("h1").inner_text() == "Resolve the disagreement"
    screenshot(page, "resolve-disagreement")
