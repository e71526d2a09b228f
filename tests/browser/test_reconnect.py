"""The server goes away and comes back: open pages catch up by themselves.

A projector and a phone are open; the server stops; while it is down, other
processes keep committing (here the test commits through the ORM, which is
exactly what another server process does, on SQLite as on PostgreSQL); the
server comes back on the same port. Nobody reloads anything.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_live_session import join_by_link, log_in, question, send, under
from tests.conftest import make_group, make_session, make_user

# From the server's return to both pages showing everything: the browser's
# own retry (the stream says `retry:` 1000 to 3000 ms) plus a snapshot.
CATCH_UP_MS = 6000
OFFLINE = re.compile(r"(^|\s)is-offline(\s|$)")


@pytest.fixture
def room(transactional_db):
    """A facilitator and an open session in their group."""
    fran = make_user("fran")
    return fran, make_session(make_group("Riverside", facilitators=[fran]))


def test_pages_show_the_notice_while_the_server_is_down_then_catch_up_by_themselves(
    browsing, asgi_server, room
):
    fran, session = room
    sid = session.public_id
    projector = browsing.page("projector")
    log_in(projector, fran, f"/s/{sid}/present/")
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    send(phone, "Aliens did it")
    aliens = session.causes.get(text="Aliens did it")
    expect(projector.locator(under(None, aliens))).to_have_text(aliens.text)

    pages = {"projector": projector, "phone": phone}
    failed: dict[str, list[str]] = {name: [] for name in pages}
    for name, page in pages.items():
        expect(page.locator(".offline-notice")).not_to_be_visible()
        page.evaluate("window.neverReloaded = true")
        page.on(
            "requestfailed",
            lambda request, name=name: (
                "/stream/" in request.url and failed[name].append(request.url)
            ),
        )

    asgi_server.stop()
    for page in pages.values():
        expect(page.locator("body")).to_have_class(OFFLINE, timeout=3000)
        expect(page.locator(".offline-notice")).to_be_visible()
        expect(page.locator(".offline-notice")).to_have_text("Reconnecting…")

    # Meanwhile, through another process: two answers, a hidden joke (the
    # phone's own answer) and a new question.
    session.refresh_from_db()
    lights = session.add_cause("No street lights at the corner")
    speeding = session.add_cause("Drivers speed on Main Street")
    aliens.hide()
    session.ask_why(lights)

    # The pages try again while the server is down, and still say so.
    deadline = time.monotonic() + 5
    while not all(failed.values()) and time.monotonic() < deadline:
        phone.wait_for_timeout(100)
    assert all(failed.values()), f"No page tried to reconnect within 5 s: {failed}"
    for page in pages.values():
        expect(page.locator(".offline-notice")).to_be_visible()

    asgi_server.start()
    for page in pages.values():
        expect(page.locator(".offline-notice")).not_to_be_visible(timeout=CATCH_UP_MS)
        expect(page.locator("body")).not_to_have_class(OFFLINE)

    # The projector: both answers, the new question, and no joke.
    for cause in (lights, speeding):
        expect(projector.locator(under(None, cause))).to_have_text(cause.text)
    expect(projector.locator(f"#tree #cause-{aliens.pk}")).to_have_count(0)
    expect(projector.locator("#question h2")).to_have_text(question(lights.text))
    expect(projector.locator("#tree .cause .text")).to_have_count(2)
    # The phone: the new question, the board it knows of, its hidden answer.
    expect(phone.locator("#prompt .question")).to_have_text(question(lights.text))
    expect(phone.locator("#prompt")).to_have_attribute("data-question", str(lights.pk))
    # Its form was empty, so it follows the room to the new question.
    expect(phone.locator("#answer-form input[name=parent]")).to_have_value(str(lights.pk))
    shown = phone.locator("#states").get_attribute("data-shown").split()
    assert {str(lights.pk), str(speeding.pk)} <= set(shown)
    expect(phone.locator(f'#mine [data-cause="{aliens.pk}"] .state-hidden')).to_be_visible()

    session.refresh_from_db()
    for name, page in pages.items():
        assert page.evaluate("window.neverReloaded") is True, f"The {name} page was reloaded"
        assert int(page.locator("body").get_attribute("data-seq")) == session.last_seq, name
    assert browsing.forgive("/stream/"), "The cut streams should have shown as console errors."
    browsing.assert_no_errors()
