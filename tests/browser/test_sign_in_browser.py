"""Signing in with a real browser: the newcomer's first page, the keyboard, accessibility, no JavaScript."""

from __future__ import annotations

from tests.browser.conftest import screenshot, serious_violations, sign_in


def test_the_newcomer_opens_the_sign_in_page_and_sees_the_demo_logins(server, context) -> None:
    page = context.new_page()
    page.goto(server.url + "/")
    assert page.url == server.url + "/sign-in"
    assert page.locator("h1").inner_text() == "Sign in to TAF Ledger"
    assert page.get_by_role("cell", name="coord@demo.taf.invalid").is_visible()
    screenshot(page, "sign-in")
    assert serious_violations(page) == []


def test_signing_in_with_the_keyboard_alone_reaches_my_work(server, context) -> None:
    page = context.new_page()
    page.goto(server.url + "/sign-in")
    for _ in range(5):  # past the skip link and the service name, to the first field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    page.keyboard.type("coord@demo.taf.invalid")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password")
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/")
    assert page.locator("h1").inner_text() == "My work"
    screenshot(page, "my-work")
    assert serious_violations(page) == []


def test_a_wrong_password_shows_the_error_summary_and_keeps_the_email(server, context) -> None:
    page = context.new_page()
    page.goto(server.url + "/sign-in")
    page.get_by_label("Email address").fill("fsw2@demo.taf.invalid")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.title().startswith("Error: ")
    assert page.locator(".govuk-error-summary__title").inner_text() == "There is a problem"
    assert page.get_by_label("Email address").input_value() == "fsw2@demo.taf.invalid"
    assert serious_violations(page) == []


def test_the_session_cookie_is_httponly_and_samesite(server, context) -> None:
    page = context.new_page()
    sign_in(page, server, "coord@demo.taf.invalid")
    (cookie,) = [c for c in context.cookies() if c["name"] == "taf_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("taf_session") == -1


def test_signing_in_and_out_works_without_javascript(server, chromium) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, server, "manager@demo.taf.invalid")
        assert page.locator("h1").inner_text() == "My work"
        page.get_by_role("button", name="Sign out").click()
        assert page.url.endswith("/sign-in")
    finally:
        context.close()
