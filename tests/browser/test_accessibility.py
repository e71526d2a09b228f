"""WCAG 2.2 AA: axe-core finds nothing on any page, in any state, phone or desktop.

axe-core comes with axe-playwright-python and runs offline in Debian's
Chromium. Playwright evaluates it through the DevTools protocol, which our
strict Content-Security-Policy does not govern, so the pages are audited with
their real CSP on. Each audit runs every axe rule that is on by default (WCAG
2.0, 2.1 and 2.2 A and AA, and the best practices: landmarks, heading order,
unique ids...).
"""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from sessions.models import Action, Cause, Invitation, Session
from tests.browser.conftest import VIEWPORTS
from tests.browser.test_live_session import join_by_link
from tests.conftest import (
    make_agreed_action,
    make_cause,
    make_group,
    make_session,
    make_user,
)

AXE = Axe()
# Every WCAG 2.0 to 2.2 A and AA rule, the best practices, and the rules axe
# 4.12 leaves off by default: target size (WCAG 2.2) and duplicate ids.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": [
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
            "wcag22a",
            "wcag22aa",
            "best-practice",
        ],
    },
    "rules": {
        rule: {"enabled": True} for rule in ("duplicate-id", "duplicate-id-active", "target-size")
    },
    "resultTypes": ["violations"],
}

# Pages at a phone's size and a laptop's; the projector at the smallest
# projector we plan for and at full HD.
SIZES = {
    "small": {"page": VIEWPORTS["phone"], "projector": {"width": 1280, "height": 720}},
    "large": {"page": VIEWPORTS["console"], "projector": VIEWPORTS["projector"]},
}


class Audit:
    """Run axe on pages as the test goes; report every violation at the end."""

    def __init__(self, size: str):
        self.size = size
        self.found: dict[str, str] = {}
        self.audited: list[str] = []

    def __call__(self, page, state: str) -> None:
        page.wait_for_load_state("load")
        results = AXE.run(page, options=AXE_OPTIONS)
        self.audited.append(state)
        if results.violations_count:
            self.found[state] = results.generate_report()

    def assert_clean(self) -> None:
        report = "\n\n".join(f"== {state} ({self.size})\n{r}" for state, r in self.found.items())
        assert not self.found, f"axe found violations in {len(self.found)} states:\n{report}"


@pytest.fixture(params=list(SIZES))
def audit(request):
    return Audit(request.param)


@pytest.fixture
def room(transactional_db):
    """A follow-up session with a tree, a focus, a hidden and a pending
    answer; the session it follows has a plan with an overdue action."""
    fran = make_user("fran")
    group = make_group("Riverside", facilitators=[fran])
    earlier = make_session(group, title="Last spring", open=False)
    make_agreed_action(
        earlier, "Ask the council for street lights", due=timezone.localdate() - timedelta(days=9)
    )
    make_agreed_action(
        earlier,
        "Walk the children to school",
        owner="Parents' association",
        owner_outside=True,
        due=timezone.localdate() + timedelta(days=20),
    )
    session = make_session(group, follows=earlier, names="optional")
    speeding = make_cause(session, "Drivers speed on Main Street", matters_most=True)
    make_cause(session, "The road is wide and straight", speeding, can_change="yes")
    make_cause(session, "Nobody enforces the speed limit", speeding, who_can_change="outside")
    lights = make_cause(session, "No street lights at the corner", matters_most=True)
    make_cause(session, "Aliens did it").hide()
    session.ask_why(speeding)
    return fran, group, earlier, session, speeding, lights


def as_user(context, user, base_url: str) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def test_phone_pages_in_every_phase(browsing, room, audit, screenshot):
    _fran, _group, _earlier, session, speeding, _lights = room
    phone = browsing.page(SIZES[audit.size]["page"])

    phone.goto("/join/")
    audit(phone, "join")
    phone.fill("#id_code", "WRONG1")
    phone.get_by_role("button", name="Join").click()
    expect(phone.locator(".error")).to_be_visible()
    audit(phone, "join, wrong code")

    phone.goto(f"/join/{session.join_code}/")
    expect(phone.locator("#id_name")).to_be_visible()
    audit(phone, "join, name")
    join_by_link(phone, session.join_code, session)

    phone.fill("#id_text", "The speed limit signs are hidden by trees")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#mine")).to_contain_text("hidden by trees")
    # An empty answer, past the browser's own check: the server says what is wrong.
    phone.evaluate("document.getElementById('id_text').removeAttribute('required')")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#compose .error")).to_be_visible()
    audit(phone, "phone, why?, answer sent, error")
    screenshot(phone, f"a11y-phone-why-{audit.size}.png")

    session.set_phase(Session.Phase.REFLECT)
    phone.goto(f"/p/{session.public_id}/")
    phone.get_by_role("button", name="Put a dot on “Drivers speed").click()
    expect(phone.locator("#mydots")).to_contain_text("You have 2 dots left.")
    audit(phone, "phone, reflect, voting")
    screenshot(phone, f"a11y-phone-reflect-{audit.size}.png")

    session.reveal_votes()
    phone.goto(f"/p/{session.public_id}/")
    expect(phone.locator(".ranked")).to_contain_text("Drivers speed")
    audit(phone, "phone, reflect, revealed")

    session.set_phase(Session.Phase.ACT)
    phone.goto(f"/p/{session.public_id}/")
    expect(phone.locator("#action-form")).to_be_visible()
    audit(phone, "phone, act")
    screenshot(phone, f"a11y-phone-act-{audit.size}.png")

    session.add_action("Ask for a speed camera", [speeding.pk]).agree(
        owner="Amina", owner_outside=False, first_step="Write to the council", due=None
    )
    session.set_phase(Session.Phase.AGREE)
    phone.goto(f"/p/{session.public_id}/")
    expect(phone.locator(".plan-list")).to_contain_text("speed camera")
    audit(phone, "phone, agree")

    session.set_phase(Session.Phase.REVIEW)
    phone.goto(f"/p/{session.public_id}/")
    expect(phone.locator(".plan-list")).to_contain_text("street lights")
    audit(phone, "phone, review")

    session.end()
    phone.goto(f"/p/{session.public_id}/")
    expect(phone.locator("#prompt h1")).to_have_text("The session has ended.")
    audit(phone, "phone, closed")

    assert len(audit.audited) == 10
    audit.assert_clean()
    # The wrong code and the empty answer were meant to be refused.
    assert len(browsing.forgive("400")) == 3
    browsing.assert_no_errors()


def test_projector_in_every_phase(browsing, room, audit, screenshot):
    fran, _group, _earlier, session, speeding, lights = room
    context = browsing.context(SIZES[audit.size]["projector"])
    as_user(context, fran, browsing.base_url)
    projector = context.new_page()
    url = f"/s/{session.public_id}/present/"

    projector.goto(url)
    expect(projector.locator(f"#tree .is-focus > #cause-{speeding.pk}")).to_be_visible()
    audit(projector, "projector, why?, focus")
    projector.keyboard.press("t")
    audit(projector, "projector, why?, dark")
    projector.keyboard.press("t")

    session.set_phase(Session.Phase.REFLECT)
    participant = session.participants.create()
    session.vote(participant, lights.pk, 1)
    projector.goto(url)
    expect(projector.locator("#question .progress")).to_contain_text("1 person has voted")
    audit(projector, "projector, reflect, voting")
    session.reveal_votes()
    projector.goto(url)
    top = projector.locator("#tree .diagram .is-top", has_text="No street lights")
    expect(top).to_contain_text("Most dots: #1")
    audit(projector, "projector, reflect, revealed")
    session.set_board("matters", False)
    projector.goto(url)
    expect(projector.locator("#tree .filter-label")).to_be_visible()
    audit(projector, "projector, reflect, filtered")

    session.add_action("Ask for a speed camera", [speeding.pk])
    session.set_phase(Session.Phase.ACT)
    projector.goto(url)
    expect(projector.locator("#plan")).to_contain_text("speed camera")
    audit(projector, "projector, act")

    Action.objects.get(text="Ask for a speed camera").agree(
        owner="Amina", owner_outside=True, first_step="Write to the council", due=None
    )
    session.add_action("Paint a zebra crossing", [lights.pk])
    session.set_phase(Session.Phase.AGREE)
    projector.goto(url)
    expect(projector.locator("#plan .plan-list")).to_contain_text("speed camera")
    audit(projector, "projector, agree")

    session.set_phase(Session.Phase.REVIEW)
    session.start_timer(180)
    projector.goto(url)
    # Three minutes, or a few seconds less on a slow machine.
    expect(projector.locator("#timer")).to_have_text(re.compile(r"^(3:00|2:[45]\d)$"))
    audit(projector, "projector, review, timer")
    screenshot(projector, f"a11y-projector-review-{audit.size}.png")

    assert len(audit.audited) == 8
    audit.assert_clean()
    browsing.assert_no_errors()


def test_console_in_every_phase(browsing, room, audit, screenshot):
    fran, _group, _earlier, session, speeding, lights = room
    context = browsing.context(SIZES[audit.size]["page"])
    as_user(context, fran, browsing.base_url)
    console = context.new_page()
    url = f"/s/{session.public_id}/console/"
    someone = session.participants.create(name="Dana")
    make_cause(session, "The bus stop is at the corner", author=someone, state="pending")

    console.goto(url)
    console.locator("#hidden-causes summary").click()
    console.locator("#shortcuts summary").click()
    expect(console.locator("#pending")).to_contain_text("bus stop")
    audit(console, "console, why?, pending and hidden")
    screenshot(console, f"a11y-console-why-{audit.size}.png")

    session.set_phase(Session.Phase.REFLECT)
    session.vote(someone, lights.pk, 1)
    console.goto(url)
    audit(console, "console, reflect, voting")
    session.reveal_votes()
    console.goto(url)
    audit(console, "console, reflect, revealed")

    session.set_phase(Session.Phase.ACT)
    session.add_action("Ask for a speed camera", [speeding.pk])
    session.add_action("Paint a zebra crossing", [lights.pk], author=someone, key="k1")
    Action.objects.filter(text="Paint a zebra crossing").update(state="pending")
    session.add_action("Close the road", [lights.pk]).hide()
    console.goto(url)
    console.locator("#hidden-actions summary").click()
    audit(console, "console, act, pending, ideas, hidden")

    Action.objects.get(text="Ask for a speed camera").agree(
        owner="Amina", owner_outside=False, first_step="Write to the council", due=None
    )
    session.add_action("Lower the speed limit", [speeding.pk]).agree(
        owner="Council", owner_outside=True, first_step="", due=timezone.localdate()
    )
    session.set_phase(Session.Phase.AGREE)
    session.start_timer(60)
    console.goto(url)
    expect(console.locator(".plan-console li")).to_have_count(2)
    audit(console, "console, agree, plan, timer")
    screenshot(console, f"a11y-console-agree-{audit.size}.png")

    session.set_phase(Session.Phase.REVIEW)
    console.goto(url)
    audit(console, "console, review")

    assert len(audit.audited) == 6
    audit.assert_clean()
    browsing.assert_no_errors()


def test_organizing_pages(browsing, room, audit, screenshot):
    fran, group, earlier, session, speeding, lights = room
    size = SIZES[audit.size]["page"]

    anonymous = browsing.page(size)
    anonymous.goto("/")
    audit(anonymous, "home, anonymous")
    anonymous.goto("/accounts/login/")
    audit(anonymous, "login")
    anonymous.fill("#id_username", "fran")
    anonymous.fill("#id_password", "wrong")
    anonymous.get_by_role("button", name="Log in").click()
    expect(anonymous.locator(".error")).to_be_visible()
    audit(anonymous, "login, wrong password")
    anonymous.goto("/no/such/page/")
    audit(anonymous, "404")

    context = browsing.context(size)
    as_user(context, fran, browsing.base_url)
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Your groups")).to_be_visible()
    expect(page.get_by_role("heading", name="Open now")).to_be_visible()
    audit(page, "dashboard")
    screenshot(page, f"a11y-dashboard-{audit.size}.png")

    page.goto(f"/g/{group.public_id}/")
    expect(page.locator(".is-overdue")).to_have_count(1)
    page.locator(".is-overdue summary").click()
    audit(page, "group, open and overdue actions")
    screenshot(page, f"a11y-group-{audit.size}.png")

    page.goto(f"/g/{group.public_id}/sessions/new/")
    audit(page, "new session")
    page.get_by_role("button", name="Create the session").click()
    expect(page.locator(".error").first).to_be_visible()
    audit(page, "new session, errors")
    page.goto(f"/g/{group.public_id}/sessions/new/?follows={earlier.public_id}")
    audit(page, "follow-up session")
    page.goto(f"/s/{earlier.public_id}/copy/")
    audit(page, "copy")

    answer = Cause.objects.get(text="The road is wide and straight")
    page.goto(f"/s/{session.public_id}/causes/{answer.pk}/")
    audit(page, "cause")
    action = session.add_action("Ask for a speed camera", [speeding.pk, lights.pk])
    session.add_action("Ask for a camera", [speeding.pk])
    page.goto(f"/s/{session.public_id}/actions/{action.pk}/")
    audit(page, "action")

    action.agree(owner="Rosa", owner_outside=False, first_step="Write", due=None)
    page.goto(f"/s/{session.public_id}/summary/")
    expect(page.get_by_role("link", name="Download PDF (A4)")).to_be_visible()
    audit(page, "summary")
    empty = make_session(group, title="Nothing yet", open=False)
    page.goto(f"/s/{empty.public_id}/summary/")
    audit(page, "summary, empty")

    page.goto(f"/s/{session.public_id}/delete/")
    audit(page, "delete session")
    page.goto(f"/g/{group.public_id}/delete/")
    audit(page, "delete group")

    # An organizer may look at the projector but not use the console: 403.
    olga = make_user("olga")
    make_group("Hilltop", facilitators=[olga])
    group.memberships.create(user=olga, role="organizer")
    organizer = browsing.context(size)
    as_user(organizer, olga, browsing.base_url)
    forbidden = organizer.new_page()
    response = forbidden.goto(f"/s/{session.public_id}/console/")
    assert response.status == 403
    audit(forbidden, "403")

    assert len(audit.audited) == 17
    audit.assert_clean()
    # The 404, the empty form and the 403 were meant to be refused.
    for status in ("404", "400", "403"):
        assert len(browsing.forgive(f"status of {status}")) == 1
    browsing.assert_no_errors()


def test_new_answers_are_announced_without_moving_the_focus(browsing, room):
    """A polite status on the console and the phone says what arrived; the
    focus stays where the person is typing."""
    fran, _group, _earlier, session, _speeding, _lights = room
    context = browsing.context("console")
    as_user(context, fran, browsing.base_url)
    console = context.new_page()
    console.goto(f"/s/{session.public_id}/console/")
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)

    status = console.locator("#announce")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_be_empty()
    console.locator("#add-text").fill("Half-written by the facilitator")

    phone.fill("#id_text", "Drivers are in a hurry")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(status).to_have_text("New answer: Drivers are in a hurry.")
    assert console.evaluate("document.activeElement.id") == "add-text"
    expect(console.locator("#add-text")).to_have_value("Half-written by the facilitator")
    expect(phone.locator("#announce")).to_have_text("Sent: Drivers are in a hurry.")

    # Held answers are news too.
    session.set_moderation("hold", False)
    phone.fill("#id_text", "The lights are badly timed")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(status).to_have_text("New answer: The lights are badly timed.")

    # A new question reaches the phone's reader, not its focus.
    phone.locator("#id_text").fill("Half-")
    hurry = Cause.objects.get(text="Drivers are in a hurry")
    session.ask_why(hurry)
    expect(phone.locator("#announce")).to_have_text("But why… “Drivers are in a hurry”?")
    assert phone.evaluate("document.activeElement.id") == "id_text"
    expect(phone.locator("#id_text")).to_have_value("Half-")
    # Big regions are not live: only the small status speaks.
    for page in (console, phone):
        live = page.locator("[aria-live=polite], [aria-live=assertive], [role=status]")
        assert live.evaluate_all("els => els.every(e => e.textContent.length < 200)")
    browsing.assert_no_errors()


def test_motion_stops_for_people_who_ask_for_less(browsing, room):
    fran, _group, _earlier, session, _speeding, _lights = room
    durations = {}
    for motion in ("no-preference", "reduce"):
        context = browsing.context("projector", reduced_motion=motion)
        as_user(context, fran, browsing.base_url)
        projector = context.new_page()
        projector.goto(f"/s/{session.public_id}/present/")
        durations[motion] = projector.locator(".projector-tools").evaluate(
            "e => getComputedStyle(e).transitionDuration"
        )
    assert durations == {"no-preference": "0.2s", "reduce": "0s"}


def test_account_pages(browsing, room, audit, screenshot):
    """Invitations (with their QR codes), opening one, and the password pages."""
    fran, group, _earlier, _session, _speeding, _lights = room
    size = SIZES[audit.size]["page"]
    olga = make_user("olga")
    group.memberships.create(user=olga, role="organizer")
    invitation = Invitation.invite(group, "facilitator", fran)
    Invitation.reset_password(group, olga, fran)

    context = browsing.context(size)
    as_user(context, fran, browsing.base_url)
    page = context.new_page()
    page.goto(f"/g/{group.public_id}/invitations/")
    expect(page.locator(".qr svg")).to_have_count(2)
    audit(page, "invitations")
    screenshot(page, f"a11y-invitations-{audit.size}.png")
    page.goto("/accounts/password_change/")
    audit(page, "password change")

    newcomer = browsing.page(size)
    link = f"/invite/{invitation.selector}/{invitation.verifier}/"
    newcomer.goto(link)
    audit(newcomer, "invitation")
    screenshot(newcomer, f"a11y-invitation-{audit.size}.png")
    newcomer.fill("#id_username", "nina")
    newcomer.fill("#id_password1", "12345678")
    newcomer.fill("#id_password2", "12345678")
    newcomer.get_by_role("button", name="Create my account and join").click()
    expect(newcomer.locator(".error").first).to_be_visible()
    audit(newcomer, "invitation, weak password")
    newcomer.goto("/invite/nosuch/link/")
    audit(newcomer, "invitation, broken link")
    newcomer.goto("/accounts/password_reset/")
    audit(newcomer, "password reset without e-mail")

    assert len(audit.audited) == 6
    audit.assert_clean()
    for status in ("400", "404"):
        assert len(browsing.forgive(f"status of {status}")) == 1
    browsing.assert_no_errors()
