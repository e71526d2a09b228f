"""The projector's own controls, from the keyboard, and the round timer."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_live_session import Within, log_in, posted
from tests.conftest import make_cause, make_group, make_session, make_user


@pytest.fixture
def room(transactional_db):
    fran = make_user("fran")
    session = make_session(make_group("Riverside", facilitators=[fran]))
    make_cause(session, "Drivers speed on Main Street")
    return fran, session


def font_size(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")


def test_text_size_theme_and_full_screen_from_the_keyboard(browsing, room, screenshot):
    fran, session = room
    console = browsing.page("console")
    log_in(console, fran, f"/s/{session.public_id}/console/")
    projector = browsing.page(
        {"width": 1280, "height": 720}, storage_state=console.context.storage_state()
    )
    projector.goto(f"/s/{session.public_id}/present/")
    normal = font_size(projector)
    projector.keyboard.press("+")
    projector.keyboard.press("+")
    assert font_size(projector) == pytest.approx(normal * 1.2, rel=0.02)
    projector.keyboard.press("-")
    assert font_size(projector) == pytest.approx(normal * 1.1, rel=0.02)
    projector.keyboard.press("t")
    expect(projector.locator("body")).to_have_class("projector theme-dark")
    screenshot(projector, "projector-dark-1280.png")
    projector.keyboard.press("f")
    projector.wait_for_function("document.fullscreenElement !== null")
    projector.keyboard.press("f")
    projector.wait_for_function("document.fullscreenElement === null")
    # The choices stay with this browser.
    projector.reload()
    assert font_size(projector) == pytest.approx(normal * 1.1, rel=0.02)
    expect(projector.locator("body")).to_have_class("projector theme-dark")
    browsing.assert_no_errors()


def test_the_facilitator_starts_a_round_timer_that_the_projector_counts_down(browsing, room):
    fran, session = room
    console = browsing.page("phone")  # the facilitator steers from a phone
    log_in(console, fran, f"/s/{session.public_id}/console/")
    projector = browsing.page("projector", storage_state=console.context.storage_state())
    projector.goto(f"/s/{session.public_id}/present/")
    expect(projector.locator("#timer")).to_be_hidden()
    console.select_option("#timer-minutes", "2")
    within = posted(console, "/timer/", console.get_by_role("button", name="Start the timer").click)
    expect(projector.locator("#timer")).to_have_text("2:00", timeout=within())
    expect(projector.locator("#timer")).to_have_text("1:58", timeout=4000)
    within = posted(
        console, "/timer/stop/", console.get_by_role("button", name="Stop the timer").click
    )
    expect(projector.locator("#timer")).to_be_hidden(timeout=within())
    # A short round runs out: the projector says so.
    session.start_timer(1)
    expect(projector.locator("#timer")).to_have_text("Time is up", timeout=Within(4)())
    browsing.assert_no_errors()
