"""A long unbroken word wraps wherever typed text shows: nothing grows wider than
the screen, and nothing is cut off."""

import pytest

from tests.browser.test_live_session import join_by_link, log_in
from tests.conftest import make_agreed_action, make_cause, make_group, make_session, make_user

WORD = "Unbroken" * 35  # 280 characters, no space


@pytest.fixture
def room(transactional_db):
    fran = make_user("fran")
    session = make_session(
        make_group("Riverside", facilitators=[fran]),
        title="T" * 120,
        situation="Young people keep getting hurt at " + "S" * 120,
    )
    top = make_cause(session, WORD, matters_most=True)
    make_cause(session, "B" * 280, top)
    session.ask_why(top)
    # Its cause is "Cause of: " and the text: 280 characters in all.
    make_agreed_action(session, "A" * 270, owner="O" * 120, first_step="F" * 280)
    return fran, session


def overflowing(page) -> list[str]:
    """Elements of typed text whose words run out of their own box."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[dir="auto"], .text, h1, .asked')]
            .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
            .filter(el => getComputedStyle(el).display !== 'inline')
            .map(el => el.tagName + '.' + el.className)"""
    )


def widest(page) -> dict:
    """How wide the page is, and whether any element with typed text runs past the window."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const past = [...document.querySelectorAll('[dir], .text, .user-text, td, li')]
            .filter(el => el.offsetParent !== null)
            .filter(el => el.getBoundingClientRect().right > width + 1)
            .map(el => el.tagName + '.' + el.className);
          const page = document.documentElement.scrollWidth;
          return {window: width, page: page, past: past.slice(0, 5)};
        }"""
    )


def test_the_console_at_1366_px_stays_as_wide_as_the_screen(browsing, room, screenshot):
    fran, session = room
    page = browsing.page({"width": 1366, "height": 768})
    log_in(page, fran, f"/s/{session.public_id}/console/")
    page.wait_for_selector(".console-tree")
    screenshot(page, "long-word-console-1366.png")
    seen = widest(page)
    assert seen["page"] <= seen["window"], seen
    assert seen["past"] == [], seen
    assert overflowing(page) == []


@pytest.mark.parametrize("phase", ["why", "act"])
def test_the_projector_wraps_a_long_word_instead_of_cutting_it_off(
    browsing, room, screenshot, phase
):
    fran, session = room
    session.set_phase(phase)
    console = browsing.page("console")
    log_in(console, fran, f"/s/{session.public_id}/console/")
    projector = browsing.page("projector", storage_state=console.context.storage_state())
    projector.goto(f"/s/{session.public_id}/present/")
    projector.wait_for_selector("main")
    screenshot(projector, f"long-word-projector-{phase}.png")
    seen = widest(projector)
    assert seen["page"] <= seen["window"], seen
    # How the tree fits the screen is the tree's own layout; here, every
    # text wraps inside its box, and the question and the situation show whole.
    assert overflowing(projector) == []
    for region in ["h1", ".question"]:
        box = projector.locator(region).first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= seen["window"], region
    if phase == "act":
        box = projector.locator(".target-cause").first.bounding_box()
        assert box["x"] + box["width"] <= seen["window"]


def test_the_phone_wraps_a_long_word(browsing, room, screenshot):
    _fran, session = room
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    phone.wait_for_selector(".question")
    screenshot(phone, "long-word-phone.png")
    seen = widest(phone)
    assert seen["page"] <= seen["window"], seen
    assert seen["past"] == [], seen
    assert overflowing(phone) == []
