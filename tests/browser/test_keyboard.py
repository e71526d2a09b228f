"""The whole facilitation from the keyboard alone: no mouse, no clicks."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions.models import Action, Cause, Session
from tests.conftest import make_cause, make_group, make_session, make_user


@pytest.fixture
def room(transactional_db):
    fran = make_user("fran")
    session = make_session(make_group("Riverside", facilitators=[fran]))
    make_cause(session, "Drivers speed on Main Street")
    make_cause(session, "No street lights at the corner")
    return fran, session


def fresh(session) -> Session:
    return Session.objects.get(pk=session.pk)


def tab_to(page, text: str, limit: int = 80) -> None:
    """Press Tab until the focused element says `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "document.activeElement === document.body ? null : document.activeElement.innerText"
        )
        if focused is not None and text in focused:
            return
    raise AssertionError(f"Tab never reached {text!r}")


def test_a_facilitator_runs_the_session_from_the_keyboard(browsing, room):
    _fran, session = room
    console = browsing.page("console")
    console.goto(f"/accounts/login/?next=/s/{session.public_id}/console/")
    expect(console.locator("#id_username")).to_be_focused()
    console.keyboard.type("fran")
    console.keyboard.press("Tab")
    console.keyboard.type("fran-password")
    with console.expect_navigation():
        console.keyboard.press("Enter")
    assert console.url.endswith(f"/s/{session.public_id}/console/")
    keys = console.keyboard

    # J moves to the first cause, Enter asks "But why?" about it.
    speed = Cause.objects.get(text__startswith="Drivers")
    keys.press("j")
    expect(console.locator(f"#why-{speed.pk}")).to_be_focused()
    keys.press("Enter")
    expect(console.locator("#cquestion")).to_contain_text("But why…")
    assert fresh(session).focus_id == speed.pk

    # A writes an answer for someone; Ctrl+Enter sends it.
    keys.press("a")
    expect(console.locator("#add-text")).to_be_focused()
    keys.type("Nobody enforces the limit")
    keys.press("Control+Enter")
    expect(console.locator("#ctree")).to_contain_text("Nobody enforces the limit")
    assert Cause.objects.get(text="Nobody enforces the limit").parent_id == speed.pk

    # Hide with Tab and Enter, then U undoes it.
    lights = Cause.objects.get(text__startswith="No street")
    console.locator("body").focus()
    tab_to(console, "Hide")  # the first Hide: the focused cause's own
    keys.press("Enter")
    expect(console.locator("#undo")).to_be_visible()
    keys.press("u")
    expect(console.locator("#undo")).to_be_hidden()
    assert Cause.objects.filter(state="visible").count() == 3

    # Steps: 2 reflect, R reveal, 3 act.
    keys.press("2")
    expect(console.locator("#phase-reflect")).to_have_attribute("aria-current", "step")
    keys.press("r")
    expect(console.locator("#unreveal")).to_be_visible()
    assert fresh(session).votes_revealed
    keys.press("3")
    expect(console.locator("#phase-act")).to_have_attribute("aria-current", "step")

    # W writes down an action; Tab to a cause, Space ticks it, Ctrl+Enter sends.
    keys.press("w")
    expect(console.locator("#action-text")).to_be_focused()
    keys.type("Ask the council for lamps")
    keys.press("Tab")  # the first cause's checkbox follows the text box
    keys.press("Space")
    keys.press("Control+Enter")
    expect(console.locator("#acts")).to_contain_text("Ask the council for lamps")
    lamps = Action.objects.get()

    # 4 agree: Tab to the idea's link, Enter, fill the plan, Enter saves.
    keys.press("4")
    expect(console.locator("#phase-agree")).to_have_attribute("aria-current", "step")
    console.locator("body").focus()
    tab_to(console, "Agree, edit, merge")
    keys.press("Enter")
    console.wait_for_url(f"**/actions/{lamps.pk}/")
    # Autofocus lands at a rendering update, which may come after "load".
    expect(console.locator("#agree-owner")).to_be_focused()
    keys.type("Rosa")
    keys.press("Tab")
    keys.press("Tab")
    keys.type("Write to the council")
    keys.press("Tab")
    # A date input in an English browser takes month, day, year; "By when"
    # refuses a date before today, so the date is a week ahead.
    due = timezone.localdate() + timedelta(days=7)
    keys.type(due.strftime("%m%d%Y"))
    keys.press("Enter")
    console.wait_for_url(f"**/s/{session.public_id}/console/")
    lamps.refresh_from_db()
    assert (lamps.agreed, lamps.owner, lamps.first_step, str(lamps.due)) == (
        True,
        "Rosa",
        "Write to the council",
        due.isoformat(),
    )
    assert lights.pk  # untouched
    browsing.assert_no_errors()
