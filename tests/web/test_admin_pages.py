"""Admin pages: only admins, no case data; agencies, professionals, passwords, deactivation, API keys, webhooks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from domain.application import ChildInput
from domain.values import ContactKind, ContactOutcome, Role
from tests.web.pages import error_summary, field_error, h1, text_of, web_service
from web.directory import Directory
from workers.outbound import OutboundPolicy
from workers.webhooks import MAX_ATTEMPTS, WebhookStore


def _id(service, email_key: str):
    return next(p.id for p in Directory(service.ledger).people() if p.email == f"{email_key}@demo.taf.invalid")


def test_admin_pages_refuse_everyone_but_admins_and_admins_cannot_open_a_family(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        demo = service.demo()
        fsw = _id(service, "fsw")
        for email in ("coord@demo.taf.invalid", "auditor@demo.taf.invalid", "manager@demo.taf.invalid"):
            browser = service.sign_in(email)
            for path in (
                "/admin",
                "/admin/agencies",
                "/admin/professionals",
                f"/admin/professionals/{fsw}",
                "/admin/api-keys",
                "/admin/api-keys/new",
                "/admin/webhooks",
            ):
                assert browser.get(path).status_code == 403, (email, path)
            assert browser.post(f"/admin/professionals/{fsw}/deactivation", {"reason": "x"}).status_code == 403
            assert browser.post("/admin/api-keys/new", {"professional_id": str(fsw)}).status_code == 403
        assert service.ledger.get_professional(fsw).active
        admin = service.sign_in("admin@demo.taf.invalid")
        assert h1(admin.get("/admin").text) == "Admin"
        assert admin.get(f"/families/{demo.family_ids[0]}").status_code == 403
        assert "Admin" in text_of(admin.get("/").text)


def test_an_admin_adds_an_agency_and_a_missing_name_records_nothing(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        admin = service.sign_in("admin@demo.taf.invalid")
        before = len(Directory(service.ledger).agencies())
        refused = admin.post("/admin/agencies/new", {"name": "", "kind": "housing"})
        assert refused.status_code == 400 and error_summary(refused.text) == ["Enter name"]
        assert field_error(refused.text, "name") == "Enter name"
        assert len(Directory(service.ledger).agencies()) == before
        added = admin.post("/admin/agencies/new", {"name": "Northfield <Housing>", "kind": "housing"})
        assert added.status_code == 303 and added.headers["location"] == "/admin/agencies?done=agency-added"
        page = admin.get(added.headers["location"])
        assert "Agency added" in text_of(page.text) and "Northfield &lt;Housing&gt;" in page.text


def test_an_admin_adds_a_professional_sets_a_password_and_they_can_sign_in(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        admin = service.sign_in("admin@demo.taf.invalid")
        agency = next(a for a in Directory(service.ledger).agencies() if a.name == "Oakway Children's Centre")
        added = admin.post(
            "/admin/professionals/new",
            {
                "name": "Rosa Lind",
                "email": "rosa@example.org",
                "agency_id": str(agency.id),
                "role": "practitioner",
                "is_system": "no",
            },
        )
        assert added.status_code == 303
        path = added.headers["location"].split("?")[0]
        page = admin.get(added.headers["location"])
        assert h1(page.text) == "Rosa Lind" and "Professional added" in text_of(page.text)
        mismatch = admin.post(path + "/password", {"password": "a-long-password", "password_confirm": "other"})
        assert mismatch.status_code == 400 and field_error(mismatch.text, "password_confirm") == (
            "The passwords do not match"
        )
        short = admin.post(path + "/password", {"password": "short", "password_confirm": "short"})
        assert short.status_code == 400 and "at least 10 characters" in field_error(short.text, "password")
        assert (
            admin.post(
                path + "/password", {"password": "a-long-password", "password_confirm": "a-long-password"}
            ).status_code
            == 303
        )
        rosa = service.sign_in("rosa@example.org", "a-long-password")
        assert h1(rosa.get("/").text) == "My work"


def test_an_admin_changes_a_role(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        admin = service.sign_in("admin@demo.taf.invalid")
        fsw = _id(service, "fsw")
        assert admin.post(f"/admin/professionals/{fsw}/role", {"role": "manager"}).status_code == 303
        assert service.ledger.get_professional(fsw).role is Role.MANAGER
        own = admin.post(f"/admin/professionals/{_id(service, 'admin')}/role", {"role": "practitioner"})
        assert own.status_code == 400 and "your own admin role" in field_error(own.text, "role")


def test_deactivation_ends_a_signed_in_session_at_once_and_revokes_their_keys(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        demo = service.demo()
        fsw = _id(service, "fsw")
        key = next(login.api_key for login in demo.logins if login.email.startswith("fsw@"))
        assert service.base.get("/api/v1/families", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        worker = service.sign_in("fsw@demo.taf.invalid")
        assert h1(worker.get("/").text) == "My work"
        admin = service.sign_in("admin@demo.taf.invalid")
        confirm = admin.get(f"/admin/professionals/{fsw}/deactivation")
        assert "will be signed out at once" in text_of(confirm.text)
        empty = admin.post(f"/admin/professionals/{fsw}/deactivation", {"reason": ""})
        assert empty.status_code == 400 and field_error(empty.text, "reason") == "Enter reason"
        assert service.ledger.get_professional(fsw).active
        answer = admin.post(f"/admin/professionals/{fsw}/deactivation", {"reason": "Left the service"})
        assert answer.status_code == 303
        assert "Deactivated" in text_of(admin.get(answer.headers["location"]).text)
        next_request = worker.get("/families")
        assert next_request.status_code == 303 and next_request.headers["location"].startswith("/sign-in")
        assert service.base.get("/api/v1/families", headers={"Authorization": f"Bearer {key}"}).status_code == 401
        assert all(k.revoked for k in service.ledger.api_keys(fsw))
        refused = service.browser()
        refused.get("/sign-in")
        assert (
            refused.post("/sign-in", {"email": "fsw@demo.taf.invalid", "password": "demo-password"}).status_code == 400
        )


def test_an_admin_cannot_deactivate_themselves(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        admin = service.sign_in("admin@demo.taf.invalid")
        me = _id(service, "admin")
        refused = admin.post(f"/admin/professionals/{me}/deactivation", {"reason": "Oops"})
        assert refused.status_code == 400 and "cannot deactivate yourself" in error_summary(refused.text)[0]
        assert service.ledger.get_professional(me).active


def test_an_issued_key_is_shown_once_works_against_the_api_and_can_be_revoked(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        admin = service.sign_in("admin@demo.taf.invalid")
        hv = _id(service, "hv")
        issued = admin.post("/admin/api-keys/new", {"professional_id": str(hv)})
        assert issued.status_code == 200 and "API key issued" in text_of(issued.text)
        assert "no-store" in issued.headers["cache-control"]
        key = re.search(r'id="api-key">([^<]+)</p>', issued.text).group(1)
        api = {"Authorization": f"Bearer {key}"}
        assert service.base.get("/api/v1/families", headers=api).status_code == 200
        listing = admin.get("/admin/api-keys")
        assert key not in listing.text and "Sarah Lund" in text_of(listing.text)
        key_id = next(
            k.id
            for k in service.ledger.api_keys(hv)
            if not k.revoked and k.issued_at == max(x.issued_at for x in service.ledger.api_keys(hv))
        )
        revoked = admin.post(f"/admin/api-keys/{key_id}/revocation", {"back": "/admin/api-keys"})
        assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/api-keys?done=key-revoked"
        assert service.base.get("/api/v1/families", headers=api).status_code == 401
        assert admin.post("/admin/api-keys/new", {"professional_id": ""}).status_code == 400


def test_webhooks_are_listed_paused_resumed_and_deleted(tmp_path, clock) -> None:
    with web_service(tmp_path, clock, workers=False) as service:  # deliveries only through the test's transport
        service.demo()
        # the app's tables, with DNS answering a public address for the receiver's name
        hooks = WebhookStore(service.ledger, OutboundPolicy(resolve=lambda host, port: ["93.184.216.34"]))
        hv = service.ledger.actor_for(_id(service, "hv"))
        hook = hooks.register(hv.professional_id, "https://hv.example.org/hook", [], datetime.now(UTC))
        family = service.ledger.register_family(hv, [ChildInput("Kit Test", date_of_birth=clock.today())])
        service.ledger.record_contact(hv, family.family_id, ContactKind.PHONE, ContactOutcome.SEEN)
        hooks.dispatch(lambda actor, fam: True, datetime.now(UTC))
        sent: list[bytes] = []
        client = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r.content) or httpx.Response(204)))

        admin = service.sign_in("admin@demo.taf.invalid")
        page = admin.get("/admin/webhooks")
        assert "https://hv.example.org/hook" in page.text and "Sarah Lund" in text_of(page.text)
        assert "Kit Test" not in page.text  # no payloads
        assert admin.post(f"/admin/webhooks/{hook.id}/pause", {}).status_code == 303
        assert "Paused" in text_of(admin.get("/admin/webhooks").text)
        assert hooks.deliver_due(client) == 0 and sent == []
        assert admin.post(f"/admin/webhooks/{hook.id}/resume", {}).status_code == 303
        assert hooks.deliver_due(client) > 0 and sent
        assert "Delete this webhook?" in text_of(admin.get(f"/admin/webhooks/{hook.id}/delete").text)
        assert admin.post(f"/admin/webhooks/{hook.id}/delete", {}).status_code == 303
        assert hooks.webhook(hook.id) is None and "No webhooks" in text_of(admin.get("/admin/webhooks").text)


def test_an_admin_sees_a_webhooks_failed_deliveries_and_skips_one(tmp_path, clock) -> None:
    with web_service(tmp_path, clock, workers=False) as service:  # deliveries only through the test's transport
        service.demo()
        hooks = WebhookStore(service.ledger, OutboundPolicy(resolve=lambda host, port: ["93.184.216.34"]))
        hv = service.ledger.actor_for(_id(service, "hv"))
        hook = hooks.register(hv.professional_id, "https://hv.example.org/hook", ["ContactRecorded"], datetime.now(UTC))
        family = service.ledger.register_family(hv, [ChildInput("Kit Test", date_of_birth=clock.today())])
        for note in ("lost", "after"):
            service.ledger.record_contact(hv, family.family_id, ContactKind.PHONE, ContactOutcome.SEEN, notes=note)
        now = datetime.now(UTC)
        hooks.dispatch(lambda actor, fam: fam.id == family.family_id, now)  # this family only
        sent: list[bytes] = []
        down = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
        for attempt in range(MAX_ATTEMPTS):
            hooks.deliver_due(down, now + timedelta(hours=attempt))
        admin = service.sign_in("admin@demo.taf.invalid")

        listed = text_of(admin.get("/admin/webhooks").text)
        failed_page = admin.get(f"/admin/webhooks/{hook.id}/failed")
        screenshot(service, admin, "/admin/webhooks", "admin-webhooks-with-failed")
        screenshot(service, admin, f"/admin/webhooks/{hook.id}/failed", "admin-webhook-failed")
        [failed] = hooks.failed_deliveries(hook.id)
        skipped = admin.post(f"/admin/webhooks/{hook.id}/deliveries/{failed.id}/skip", {})
        up = httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r.content) or httpx.Response(204)))
        hooks.deliver_due(up, now + timedelta(days=1))

        assert "1 failed delivery" in listed
        assert h1(failed_page.text) == "Failed deliveries" and "ContactRecorded" in failed_page.text
        assert "Kit Test" not in failed_page.text and "lost" not in failed_page.text  # no payloads
        assert skipped.status_code == 303
        assert "No failed deliveries" in text_of(admin.get(f"/admin/webhooks/{hook.id}/failed").text)
        assert [d.status for d in hooks.delivery_log(hook.id)] == ["skipped", "delivered"]
        assert len(sent) == 1 and b"after" in sent[0]
        assert admin.post(f"/admin/webhooks/{hook.id}/deliveries/{failed.id}/skip", {}).status_code == 404


def screenshot(service, browser, path: str, name: str) -> None:
    """A Chromium screenshot of a page as the signed-in browser sees it (test-screenshots/, git-ignored)."""
    from playwright.sync_api import sync_playwright

    def from_app(route) -> None:
        request = route.request
        answer = browser.client.get(request.url.replace("http://testserver", ""))
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.content)

    Path("test-screenshots").mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            tab = chromium.new_page(viewport={"width": 1100, "height": 900})
            tab.route("http://testserver/**", from_app)
            tab.goto(f"http://testserver{path}")
            tab.screenshot(path=f"test-screenshots/{name}.png", full_page=True)
        finally:
            chromium.close()
