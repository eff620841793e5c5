"""Signing in and out, sessions and CSRF, as a person at the browser would meet them."""

from __future__ import annotations

from tests.web.pages import error_summary, field_error, h1, web_service


def test_a_newcomer_lands_on_the_sign_in_page_with_the_demo_logins(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        browser = service.browser()
        first = browser.get("/")
        assert first.status_code == 303 and first.headers["location"] == "/sign-in"
        page = browser.get("/sign-in")
        assert h1(page.text) == "Sign in to TAF Ledger"
        assert "coord@demo.taf.invalid" in page.text and "demo-password" in page.text


def test_the_sign_in_page_shows_no_demo_logins_outside_demo_mode(tmp_path, clock) -> None:
    with web_service(tmp_path, clock, demo=False) as service:
        service.demo()
        page = service.browser().get("/sign-in")
        assert "coord@demo.taf.invalid" not in page.text and "Demo logins" not in page.text


def test_signing_in_starts_an_httponly_samesite_session_and_shows_my_work(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        browser = service.browser()
        browser.get("/sign-in")
        response = browser.post("/sign-in", {"email": "coord@demo.taf.invalid", "password": "demo-password"})
        cookie = response.headers["set-cookie"]
        assert response.status_code == 303
        assert "taf_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert h1(browser.get("/").text) == "My work"


def test_a_wrong_password_is_refused_with_the_error_summary(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        browser = service.browser()
        browser.get("/sign-in")
        response = browser.post("/sign-in", {"email": "coord@demo.taf.invalid", "password": "not-the-password"})
        assert response.status_code == 400
        assert error_summary(response.text) == ["Enter a correct email address and password"]
        assert field_error(response.text, "email") == "Enter a correct email address and password"
        assert "<title>Error: Sign in" in response.text
        assert 'value="coord@demo.taf.invalid"' in response.text
        assert browser.get("/").status_code == 303


def test_repeated_failures_lock_the_account_for_a_while(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        browser = service.browser()
        browser.get("/sign-in")
        for _ in range(5):
            browser.post("/sign-in", {"email": "fsw@demo.taf.invalid", "password": "wrong-password"})
        locked = browser.post("/sign-in", {"email": "fsw@demo.taf.invalid", "password": "demo-password"})
        assert locked.status_code == 429
        assert "Too many failed sign-in attempts" in error_summary(locked.text)[0]


def test_a_form_without_its_csrf_token_is_refused(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        browser = service.sign_in("coord@demo.taf.invalid")
        refused = browser.post("/sign-out", {}, csrf=False)
        assert refused.status_code == 403
        assert h1(browser.get("/").text) == "My work"  # still signed in: the forged sign-out did nothing


def test_signing_out_ends_the_session_on_the_server(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        browser = service.sign_in("coord@demo.taf.invalid")
        session = browser.client.cookies.get("taf_session")
        assert browser.post("/sign-out", {}).status_code == 303
        replay = service.browser()
        replay.client.cookies.set("taf_session", session)
        assert replay.get("/").status_code == 303  # the old cookie no longer signs anyone in
