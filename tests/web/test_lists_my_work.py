"""My work: families, overdue actions, handover steps waiting with links to their forms, signals, notifications."""

from __future__ import annotations

from domain.values import ClosureReason
from tests.web.pages import h1, text_of, web_service
from workers.notifications import LogMailer, Notice, deliver
from workers.store import WorkerStore


def _person(service, key: str):
    from web.directory import Directory

    return next(p for p in Directory(service.ledger).people() if p.email == f"{key}@demo.taf.invalid")


def test_the_lead_sees_families_overdue_actions_and_the_transfer_steps_to_complete(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        demo = service.demo()
        service.wait_for_projections()
        bright = demo.family_ids[1]
        page = service.sign_in("school@demo.taf.invalid").get("/")
        assert h1(page.text) == "My work"
        text = text_of(page.text)
        assert "BRIGHT-01 Lead" in text
        assert "Arrange attendance support BRIGHT-01 22 May 2026 Overdue" in text  # the demo's action, 10 days ago
        assert "Handover meeting held" in text
        assert f'href="/families/{bright}/handover-steps/new?request_id=' in page.text
        assert "step=handover_meeting_held" in page.text


def test_the_incoming_lead_is_asked_to_accept_the_transfer(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        demo = service.demo()
        service.wait_for_projections()
        page = service.sign_in("fsw@demo.taf.invalid").get("/")
        assert "Accept the transfer of lead professional" in text_of(page.text)
        assert f'href="/families/{demo.family_ids[1]}/transfer/acceptance"' in page.text


def test_a_manager_is_asked_to_sign_off_a_closure_in_their_agency(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        demo = service.demo()
        ashby = demo.family_ids[0]
        lead = service.ledger.actor_for(_person(service, "fsw2").id)
        closure = service.ledger.request_closure(lead, ashby, ClosureReason.NEEDS_MET, "Going well.")
        service.wait_for_projections()
        page = service.sign_in("manager@demo.taf.invalid").get("/")
        assert "Manager sign-off" in text_of(page.text)
        assert f"/families/{ashby}/handover-steps/new?request_id={closure.id}&amp;step=manager_signoff" in page.text
        police = service.sign_in("police@demo.taf.invalid").get("/")
        assert "Manager sign-off" not in text_of(police.text)


def test_signals_on_my_families_show_with_their_explanations(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        text = text_of(service.sign_in("fsw2@demo.taf.invalid").get("/").text)
        assert "Signals on my families" in text
        assert "Unverified claim" in text and "ASHBY-01" in text


def test_notifications_show_and_mark_as_read_only_for_their_recipient(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        demo = service.demo()
        fsw2 = _person(service, "fsw2")
        notice = Notice(
            "test:1",
            demo.family_ids[0],
            "handover_blocked",
            "ASHBY-01: a notice for Grace only",
            "Steps still missing: family_informed.",
        )
        deliver(service.ledger, WorkerStore(service.ledger), LogMailer(), notice, [fsw2.id])
        service.wait_for_projections()
        key = f"test:1:{fsw2.id}"

        other = service.sign_in("fsw@demo.taf.invalid")
        assert "a notice for Grace only" not in other.get("/").text
        other.post("/notifications/read", {"key": key})  # someone else's key changes nothing

        browser = service.sign_in("fsw2@demo.taf.invalid")
        page = browser.get("/")
        assert "ASHBY-01: a notice for Grace only" in text_of(page.text)
        assert "Mark as read" in text_of(page.text)
        unread = {n.key for n in service.app.state.notifications.for_professional(fsw2.id, unread_only=True)}
        assert browser.post("/notifications/read", {"key": key}, csrf=False).status_code == 403
        answer = browser.post("/notifications/read", {"key": key})
        assert answer.status_code == 303 and answer.headers["location"] == "/?done=notification-read"
        after = browser.get(answer.headers["location"])
        assert "Notification marked as read" in text_of(after.text)
        assert "ASHBY-01: a notice for Grace only" in text_of(after.text)
        # Only that one is read: the demo's own notices to Grace (its high-severity signals) stay unread.
        still = {n.key for n in service.app.state.notifications.for_professional(fsw2.id, unread_only=True)}
        assert key in unread and key not in still and unread - {key} <= still


def test_an_admin_sees_my_work_without_case_data(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        page = service.sign_in("admin@demo.taf.invalid").get("/")
        assert page.status_code == 200 and "My families" not in page.text and "Notifications" in page.text


def test_a_coordinator_is_shown_the_open_families_without_a_lead(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        page = service.sign_in("coord@demo.taf.invalid").get("/")
        assert "1 open family has no lead professional" in text_of(page.text)
        assert 'href="/families?status=open&amp;without_lead=yes"' in page.text
        assert "no lead professional" not in text_of(service.sign_in("hv@demo.taf.invalid").get("/").text)
