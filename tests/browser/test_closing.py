"""Closing joining and ending the session, live, on every screen of the room."""

from playwright.sync_api import expect

from tests.browser.test_live_session import join_by_link, log_in, posted, send
from tests.conftest import make_group, make_session, make_user

ROOM = {
    "console": {"width": 1366, "height": 768},
    "projector": {"width": 1920, "height": 1080},
    "phone": {"width": 360, "height": 640},
}


def test_closing_joining_keeps_the_room_going_and_ending_thanks_everyone(browsing, screenshot):
    fran = make_user("fran")
    session = make_session(make_group(facilitators=[fran]))
    code = session.join_code
    console = browsing.page(ROOM["console"])
    log_in(console, fran, f"/s/{session.public_id}/console/")
    projector = browsing.page(ROOM["projector"])
    log_in(projector, fran, f"/s/{session.public_id}/present/")
    phone = browsing.page(ROOM["phone"])
    join_by_link(phone, code, session)
    expect(projector.locator("#join .code")).to_be_visible()

    posted(console, "/close/", console.get_by_role("button", name="Close joining").click)
    expect(projector.locator("#join")).to_contain_text("Joining is closed")
    expect(projector.locator("#join .code")).to_have_count(0)
    expect(projector.locator("#question")).to_contain_text("Why does this happen?")
    expect(console.locator("#status")).to_contain_text("Joining closed")
    # The phone already in goes on: its question and its form stay.
    expect(phone.locator("#prompt")).to_contain_text("Why does this happen?")
    send(phone, "The street is dark at night")
    expect(projector.locator("#tree")).to_contain_text("The street is dark")
    screenshot(console, "closing-console-joining-closed-1366.png")
    screenshot(projector, "closing-projector-joining-closed-1920.png")
    screenshot(phone, "closing-phone-joining-closed-360.png")

    late = browsing.page(ROOM["phone"])
    late.goto(f"/join/{code}/")
    expect(late.locator("h1")).to_have_text("Joining is closed")
    expect(late.locator(".error")).to_contain_text("Joining is closed for this session.")
    screenshot(late, "closing-late-joiner-360.png")
    assert len(browsing.forgive(f"/join/{code}/: console: Failed to load resource")) == 1

    posted(console, "/end/", console.get_by_role("button", name="End the session").click)
    expect(phone.locator("#prompt h1")).to_have_text("The session has ended.")
    expect(phone.locator("#prompt")).to_contain_text("Thank you for taking part.")
    expect(phone.locator("#id_text")).to_be_hidden()
    expect(phone.locator("#mine .withdraw")).to_be_hidden()
    expect(projector.locator("#question")).to_contain_text("The session has ended.")
    expect(console.locator("#status")).to_contain_text("The session has ended")
    screenshot(console, "closing-console-ended-1366.png")
    screenshot(projector, "closing-projector-ended-1920.png")
    screenshot(phone, "closing-phone-ended-360.png")
    projector.keyboard.press("t")
    screenshot(projector, "closing-projector-ended-dark-1920.png")
    browsing.assert_no_errors()
