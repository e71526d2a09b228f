"""No page of the app scrolls sideways on a phone: at 320 and 360 px, every
page's scrollWidth is the window's width, whatever the step of the session."""

import pytest
from django.conf import settings

from sessions.models import Cause, Session
from tests.browser.test_live_session import join_by_link, log_in
from tests.conftest import make_agreed_action, make_cause, make_group, make_session, make_user

WIDTHS = [320, 360]


def sideways(page) -> dict | None:
    """The page's width and what sticks out, if the page scrolls sideways."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const scroll = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
          if (scroll <= width) return null;
          const past = [...document.querySelectorAll('body *')]
            .map(el => [el, el.getBoundingClientRect().right])
            .filter(([el, right]) => right > width + 0.5)
            .sort((a, b) => b[1] - a[1])
            .map(([el, right]) => `${el.tagName}.${el.className}#${el.id} ${right.toFixed(0)}`);
          return {window: width, scroll: scroll, past: past.slice(0, 4)};
        }"""
    )


@pytest.fixture
def room(transactional_db):
    fran = make_user("fran")
    group = make_group("Riverside youth and families committee", facilitators=[fran])
    earlier = make_session(group, title="Last spring")
    make_agreed_action(earlier, "Ask the council for street lights", owner="The city council")
    session = make_session(group, follows=earlier)
    top = make_cause(session, "No street lights at the corner")
    below = make_cause(session, "The council has no budget for lights this year", top)
    below.tag(
        matters_most=True,
        can_change=Cause.CanChange.UNSURE,
        who_can_change=Cause.WhoCanChange.OUTSIDE,
        actor="The regional transport authority's road safety department",
        smaller_part=True,
    )
    deeper = make_cause(session, "Nobody asks them", below)
    deepest = make_cause(session, "Meetings are in the day, when people work", deeper)
    # Chips whose words do not break: a nowrap chip deep in the tree is what overflowed.
    deepest.tag(who_can_change=Cause.WhoCanChange.OUTSIDE, smaller_part=True, can_change="unsure")
    make_cause(session, "Cars drive too fast", matters_most=True)
    session.ask_why(below)
    make_agreed_action(session, "Write to the transport authority", owner="Amina")
    return fran, group, session, top


@pytest.mark.layout
@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways_on_a_narrow_phone(browsing, room, width):
    fran, group, session, top = room
    size = {"width": width, "height": 640}
    sid = session.public_id
    facilitator = browsing.page(size)
    log_in(facilitator, fran, "/")
    anonymous = browsing.page(size)
    phone = browsing.page(size)
    join_by_link(phone, session.join_code, session)
    action = session.actions.get(agreed=True)

    problems = {}

    def check(page, path: str, name: str = "") -> None:
        page.goto(path)
        page.wait_for_load_state("load")
        found = sideways(page)
        if found:
            problems[f"{name or path} at {width}px"] = found

    for path in ["/", "/join/", f"/join/{session.join_code}/", "/accounts/login/"]:
        check(anonymous, path)
    for path in [
        "/",
        f"/g/{group.public_id}/",
        f"/g/{group.public_id}/sessions/new/",
        f"/g/{group.public_id}/delete/",
        f"/s/{sid}/copy/",
        f"/s/{sid}/delete/",
        f"/s/{sid}/causes/{top.pk}/",
        f"/s/{sid}/actions/{action.pk}/",
        f"/s/{sid}/summary/",
    ]:
        check(facilitator, path)
    for phase in ["review", "why", "reflect", "revealed", "act", "agree"]:
        if phase == "revealed":
            session.reveal_votes()
        else:
            session.set_phase(phase)
        # The console and the phones in each language: some say more in a chip.
        for language in [code for code, _name in settings.LANGUAGES]:
            for page in (facilitator, phone):
                page.context.add_cookies(
                    [{"name": "django_language", "value": language, "url": browsing.base_url}]
                )
            check(facilitator, f"/s/{sid}/console/", f"console, {phase}, {language}")
            check(phone, f"/p/{sid}/", f"phone, {phase}, {language}")
        check(facilitator, f"/s/{sid}/present/", f"projector, {phase}")
        check(facilitator, f"/s/{sid}/summary/", f"summary, {phase}")
    Session.objects.filter(pk=session.pk).update(names="required")
    check(anonymous, f"/join/{session.join_code}/", "name form")
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    browsing.assert_no_errors()
