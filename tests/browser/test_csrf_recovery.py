"""A stale CSRF token on the phone and the console: the page says what
happened, fetches a fresh token and sends the same request again, once, and
nothing typed is lost (static/js/csrf.js)."""

import pytest
from playwright.sync_api import expect

from sessions.models import Cause
from tests.browser.test_live_session import join_by_link, log_in
from tests.conftest import make_group, make_session, make_user

RESENT = "This page had been open for a long time, so it was sent again."
FAILED = "This could not be sent. Please reload the page and send it again."


@pytest.fixture
def room(transactional_db):
    fran = make_user("fran")
    return fran, make_session(make_group("Riverside", facilitators=[fran]))


def refused_posts(page) -> list[int]:
    """The statuses of the page's posts, as they come."""
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.request.method == "POST" else None)
    return statuses


def test_a_phone_whose_csrf_cookie_is_gone_sends_its_answer_once_by_itself(
    browsing, room, screenshot
):
    _fran, session = room
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    text = "The crossing light is too short for old people"
    posts = refused_posts(phone)

    phone.context.clear_cookies(name="csrftoken")
    phone.fill("#id_text", text)
    phone.get_by_role("button", name="Send", exact=True).click()

    expect(phone.locator("#mine")).to_contain_text(text)
    expect(phone.locator("#csrf-notice")).to_have_text(RESENT)
    expect(phone.locator("#id_text")).to_have_value("")
    assert posts[:2] == [403, 302] or posts[:2] == [403, 200], posts
    assert Cause.objects.filter(session=session, text=text).count() == 1
    screenshot(phone, "phone-csrf-resent.png")

    # The page now holds the fresh token: the next answer goes straight through.
    phone.fill("#id_text", "Cars turn without looking")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#mine")).to_contain_text("Cars turn without looking")
    assert 403 not in posts[2:], posts
    browsing.forgive("403")
    browsing.assert_no_errors()


def test_a_phone_that_cannot_get_a_fresh_token_says_so_and_keeps_the_text(
    browsing, room, screenshot
):
    _fran, session = room
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    text = "Nobody repaints the zebra crossing"
    phone.route("**/csrf/", lambda route: route.abort("internetdisconnected"))

    phone.context.clear_cookies(name="csrftoken")
    phone.fill("#id_text", text)
    phone.get_by_role("button", name="Send", exact=True).click()

    notice = phone.locator("#csrf-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(FAILED)
    expect(phone.locator("#id_text")).to_have_value(text)
    assert not Cause.objects.filter(session=session, text=text).exists()
    screenshot(phone, "phone-csrf-failed.png")
    browsing.forgive("403")
    browsing.forgive("csrf")
    browsing.assert_no_errors()


def test_a_console_whose_token_was_rotated_adds_the_answer_once_by_itself(
    browsing, room, screenshot
):
    fran, session = room
    console = browsing.page("console")
    log_in(console, fran, f"/s/{session.public_id}/console/")
    posts = refused_posts(console)
    text = "Written down for someone without a phone"

    # Another login in the same browser, say, rotated the token.
    console.context.add_cookies(
        [{"name": "csrftoken", "value": "R" * 32, "url": browsing.base_url}]
    )
    console.fill("#add-text", text)
    console.get_by_role("button", name="Add", exact=True).click()

    expect(console.locator("#csrf-notice")).to_have_text(RESENT)
    expect(console.locator("main")).to_contain_text(text)
    assert posts[0] == 403, posts
    assert 403 not in posts[1:], posts
    assert Cause.objects.filter(session=session, text=text).count() == 1
    screenshot(console, "console-csrf-resent.png")
    browsing.forgive("403")
    browsing.assert_no_errors()
