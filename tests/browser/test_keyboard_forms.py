"""Forms completed with the keyboard alone: Tab to each field, type, arrows for radios, Space for boxes, Enter."""

from __future__ import annotations

from tests.browser.conftest import sign_in


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching the selector has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate_handle("document.activeElement").as_element().evaluate("(el, s) => el.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_contact_is_recorded_with_the_keyboard_alone(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "fsw@demo.taf.invalid")
    page.goto(server.url + "/families?q=ASHBY")
    page.get_by_role("link", name="ASHBY-01").click()
    page.get_by_role("link", name="Record a contact").click()
    tab_to(page, "#occurred_on-day")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("11")
    page.keyboard.press("Tab")
    page.keyboard.type("2026")
    tab_to(page, "input[name=kind]")
    page.keyboard.press("Space")  # the first kind: home visit
    tab_to(page, "input[name=outcome]")
    page.keyboard.press("ArrowDown")  # from seen to no access, as a radio group moves
    tab_to(page, "#notes")
    page.keyboard.type("Nobody answered; a neighbour said the family was out.")
    tab_to(page, "main form button.govuk-button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Contact recorded" in page.locator(".govuk-notification-banner").inner_text()
    page.get_by_role("link", name="Full chronology and contact picture").click()
    assert page.get_by_text("Nobody answered; a neighbour said the family was out.").count() >= 1
