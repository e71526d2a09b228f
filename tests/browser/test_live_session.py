"""A whole "But why?" round in real browsers: console, projector, three phones.

Every change must reach the projector and the phones over the live stream
within a second of the request that made it, with no reload.
"""

import time

import pytest
from playwright.sync_api import expect

from sessions.models import Cause, Session
from tests.conftest import make_cause, make_group, make_session, make_user

# How long a change may take to show on another screen, from the response
# to the request that made it.
LIVE_SECONDS = 1.0


class Within:
    """A deadline from now: each expect() gets only what is left of it."""

    def __init__(self, seconds: float = LIVE_SECONDS):
        self.start = time.monotonic()
        self.deadline = self.start + seconds

    def __call__(self) -> float:
        """Milliseconds left (at least 1), as Playwright's timeout."""
        return max(1.0, (self.deadline - time.monotonic()) * 1000)


def posted(page, path_end: str, act) -> Within:
    """Run `act` (a click), wait for the POST it makes, and start the clock."""

    def is_the_post(response):
        return response.request.method == "POST" and response.url.split("?")[0].endswith(path_end)

    with page.expect_response(is_the_post) as response:
        act()
    status = response.value.status
    assert status in {200, 302}, f"POST …{path_end} answered {status}"
    return Within()


def log_in(page, user, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f"{user.username}-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_path}")


def join_by_typing(phone, typed_code: str, session: Session) -> None:
    phone.goto("/join/")
    phone.fill("#id_code", typed_code)
    # One tap: an anonymous session's question comes straight away.
    phone.get_by_role("button", name="Join").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")


def join_by_link(phone, code: str, session: Session) -> None:
    phone.goto(f"/join/{code}/")
    join_here(phone, session)


def join_here(phone, session: Session) -> None:
    phone.get_by_role("button", name="Join").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")


def send(phone, text: str) -> Within:
    phone.fill("#id_text", text)
    within = posted(phone, "/answers/", phone.get_by_role("button", name="Send", exact=True).click)
    expect(phone.locator("#mine")).to_contain_text(text)
    expect(phone.locator("#id_text")).to_have_value("")
    return within


def cause(session: Session, text: str) -> Cause:
    return Cause.objects.get(session=session, text=text)


def under(parent: Cause | None, child: Cause) -> str:
    """The projector's element for `child` (in the outline under the drawing),
    only if it sits right under `parent`."""
    return f'#tree li.node[data-parent="{parent.pk if parent else ""}"] > #cause-{child.pk}'


def question(text: str) -> str:
    return f"But why… “{text}”?"


@pytest.fixture
def room(transactional_db):
    """A facilitator and an open session in their group."""
    fran = make_user("fran")
    group = make_group("Riverside", facilitators=[fran])
    return fran, make_session(group)


def test_a_round_of_but_why_reaches_every_screen_live(browsing, room, screenshot):
    fran, session = room
    sid = session.public_id

    console = browsing.page("console")
    log_in(console, fran, f"/s/{sid}/console/")
    expect(console.locator("#status .code")).to_have_text(session.spaced_join_code)

    projector = browsing.page("projector", storage_state=console.context.storage_state())
    projector.goto(f"/s/{sid}/present/")
    expect(projector.locator("#tree .empty")).to_be_visible()
    projector.evaluate("window.neverReloaded = true")

    # Three phones join: the code typed as shown, the QR code's link, the code
    # typed carelessly.
    shown_code = projector.locator("#join .code").inner_text()
    assert shown_code == session.spaced_join_code
    ana, ben, cleo = (browsing.page("phone") for _ in range(3))
    join_by_typing(ana, shown_code, session)
    join_by_link(ben, session.join_code, session)
    code = session.join_code.lower()
    join_by_typing(cleo, f" {code[:3]}-{code[3:]} ", session)
    within = Within()
    assert session.participants.count() == 3
    expect(projector.locator("#join .joined")).to_have_text("3 people joined", timeout=within())
    for phone in (ana, ben, cleo):
        expect(phone.locator("#prompt .question")).to_have_text("Why does this happen?")

    # Why? Each answer is on the projector within a second of being sent.
    first_round = [
        (ana, "Drivers speed on Main Street"),
        (ben, "No street lights at the corner"),
        (cleo, "The street lights are broken"),
        (ben, "Aliens did it"),
    ]
    for phone, text in first_round:
        within = send(phone, text)
        expect(projector.locator(under(None, cause(session, text)))).to_have_text(
            text, timeout=within()
        )
    speeding = cause(session, "Drivers speed on Main Street")
    assert all(cause(session, text).parent_id is None for _, text in first_round)

    # But why? Every phone and the projector ask about the chosen cause.
    within = posted(
        console,
        f"/causes/{speeding.pk}/focus/",
        console.locator(f"#cause-{speeding.pk}").get_by_role("button", name="But why?").click,
    )
    for phone in (ana, ben, cleo):
        expect(phone.locator("#prompt .question")).to_have_text(
            question(speeding.text), timeout=within()
        )
    expect(projector.locator("#question h2")).to_have_text(
        question(speeding.text), timeout=within()
    )
    expect(projector.locator(f"#tree li.is-focus > #cause-{speeding.pk}")).to_be_visible(
        timeout=within()
    )
    session.refresh_from_db()
    assert session.focus_id == speeding.pk

    # The answers now go under the focused cause.
    second_round = [
        (ana, "The road is wide and straight"),
        (ben, "Nobody enforces the speed limit"),
        (cleo, "The bus stop is right at the corner"),
    ]
    for phone, text in second_round:
        within = send(phone, text)
        answer = cause(session, text)
        assert answer.parent_id == speeding.pk
        expect(projector.locator(under(speeding, answer))).to_have_text(text, timeout=within())

    # A deeper question about a duplicate, then the duplicate is merged: its
    # answer and the question follow it to the cause it duplicates.
    lights = cause(session, "No street lights at the corner")
    broken = cause(session, "The street lights are broken")
    within = posted(
        console,
        f"/causes/{broken.pk}/focus/",
        console.locator(f"#cause-{broken.pk}").get_by_role("button", name="But why?").click,
    )
    expect(cleo.locator("#prompt .question")).to_have_text(question(broken.text), timeout=within())
    within = send(cleo, "The council has no money for repairs")
    money = cause(session, "The council has no money for repairs")
    assert money.parent_id == broken.pk
    expect(projector.locator(under(broken, money))).to_be_visible(timeout=within())

    # The merge is done in place, in the console's dialog: no page load.
    console.locator(f"#cause-{broken.pk}").get_by_role("link", name="Edit, merge, move").click()
    dialog = console.locator("#cause-dialog")
    expect(dialog.locator("#merge-target")).to_be_visible()
    dialog.locator("#merge-target").select_option(str(lights.pk))
    dialog.locator("#keep-other").check()
    within = posted(
        console,
        f"/causes/{broken.pk}/merge/",
        dialog.get_by_role("button", name="Merge", exact=True).click,
    )
    expect(projector.locator(f"#tree #cause-{broken.pk}")).to_have_count(0, timeout=within())
    expect(projector.locator("#tree").get_by_text(broken.text, exact=True)).not_to_be_visible(
        timeout=within()
    )
    expect(projector.locator(under(lights, money))).to_be_visible(timeout=within())
    expect(projector.locator("#question h2")).to_have_text(question(lights.text), timeout=within())
    for phone in (ana, ben, cleo):
        expect(phone.locator("#prompt .question")).to_have_text(
            question(lights.text), timeout=within()
        )
    broken.refresh_from_db()
    money.refresh_from_db()
    assert (broken.state, broken.merged_into_id) == ("merged", lights.pk)
    assert money.parent_id == lights.pk

    # Hide a joke: gone from the projector, and its author's phone says so.
    console.wait_for_url(f"**/s/{sid}/console/")
    aliens = cause(session, "Aliens did it")
    expect(ben.locator(f'#mine [data-cause="{aliens.pk}"] .state-visible')).to_be_visible()
    within = posted(
        console,
        f"/causes/{aliens.pk}/hide/",
        console.locator(f"#cause-{aliens.pk}").get_by_role("button", name="Hide").click,
    )
    expect(projector.locator(f"#tree #cause-{aliens.pk}")).to_have_count(0, timeout=within())
    expect(projector.locator("#tree").get_by_text(aliens.text, exact=True)).not_to_be_visible(
        timeout=within()
    )
    expect(ben.locator(f'#mine [data-cause="{aliens.pk}"] .state-hidden')).to_be_visible(
        timeout=within()
    )
    expect(console.locator("#hidden-causes")).to_contain_text(aliens.text)
    aliens.refresh_from_db()
    assert aliens.state == "hidden"

    # Move a cause that answered the wrong question up to the situation.
    bus_stop = cause(session, "The bus stop is right at the corner")
    console.locator(f"#cause-{bus_stop.pk}").get_by_role("link", name="Edit, merge, move").click()
    expect(dialog.locator("#move-target")).to_be_visible()
    dialog.locator("#move-target").select_option("")
    within = posted(
        console,
        f"/causes/{bus_stop.pk}/move/",
        dialog.get_by_role("button", name="Move", exact=True).click,
    )
    bus_stop.refresh_from_db()
    assert bus_stop.parent_id is None
    expect(projector.locator(under(None, bus_stop))).to_have_text(bus_stop.text, timeout=within())
    expect(projector.locator(under(speeding, bus_stop))).to_have_count(0, timeout=within())

    # The projector was never reloaded; it shows exactly the visible tree.
    assert projector.evaluate("window.neverReloaded") is True
    visible = set(
        Cause.objects.filter(session=session, state="visible").values_list("text", flat=True)
    )
    expect(projector.locator("#tree .cause .text")).to_have_count(len(visible))
    assert set(projector.locator("#tree .cause .text").all_inner_texts()) == visible

    screenshot(projector, "projector-1920.png")
    screenshot(ana, "phone-360.png")
    browsing.assert_no_errors()


def test_a_phone_catches_up_after_a_restart_behind_a_proxy_that_said_502(
    browsing, asgi_server, room
):
    """A deploy: the stream is cut, a proxy answers 502 (so the browser's own
    EventSource gives up), and the server comes back with news."""
    _fran, session = room
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    expect(phone.locator("#prompt .question")).to_have_text("Why does this happen?")
    expect(phone.locator(".offline-notice")).not_to_be_visible()
    phone.evaluate("window.neverReloaded = true")

    refused = []

    def bad_gateway(route):
        refused.append(route.request.url)
        route.fulfill(status=502, body="Bad gateway")

    phone.route("**/stream/**", bad_gateway)
    asgi_server.stop()
    expect(phone.locator(".offline-notice")).to_be_visible()
    lights = make_cause(session, "No street lights at the corner")
    session.ask_why(lights)
    deadline = time.monotonic() + 5
    while not refused and time.monotonic() < deadline:
        phone.wait_for_timeout(50)
    assert refused, "The browser did not try to reconnect within 5 s."

    asgi_server.start()
    phone.unroute("**/stream/**")
    # live.js tries again a second after the 502, with the cursor it has.
    expect(phone.locator("#prompt .question")).to_have_text(question(lights.text), timeout=3000)
    expect(phone.locator(".offline-notice")).not_to_be_visible()
    assert phone.evaluate("window.neverReloaded") is True
    forgiven = browsing.forgive("/stream/")
    assert forgiven, "The cut stream and the 502 should have shown as console errors."
    browsing.assert_no_errors()


# Sixty causes worded as a real room words them (tests/browser/test_projector_tree.py
# grows its trees from them).
SIXTY = [
    "Drivers speed on Main Street",
    "No street lights at the corner",
    "Children cross between parked cars",
    "The bus stop is right at the corner",
    "Nobody reports the near misses to the council",
    "The road is wide and straight, so it feels safe to go fast",
    "Nobody enforces the speed limit",
    "The lights were never repaired after the storm",
    "The council does not know that the lights are out",
    "Parked cars block the view of the crossing",
    "There is no crossing where children actually cross",
    "The bus stop was moved there during the roadworks and never moved back",
    "People wait in the road when the shelter is full",
    "People do not know whom to call",
    "Reporting takes too long on the council's website",
    "It was built as a through road for lorries in the 1970s",
    "There are no speed bumps",
    "The police station closed",
    "Speed cameras were removed to save money",
    "The repair budget was cut",
    "Repairs go to the main roads first",
    "Residents assume someone else has reported it",
    "Nobody walks there at night to notice",
    "There is not enough parking for the shops",
    "Delivery vans park on the corner all day",
    "The school gate opens onto the side street",
    "The official crossing is 300 metres away",
    "The transport company chose the spot without asking residents",
    "Nobody asked to move the stop back",
    "The shelter only fits six people",
    "Morning buses come late and everyone arrives at once",
    "The council's phone line closes at four",
    "The website only works on a computer, not on a phone",
    "The form asks for a reference number people do not have",
    "Lorries still use it as a short cut to the motorway",
    "Speed bumps were refused because buses use the road",
    "The nearest police station is now in the next town",
    "Cameras cost more than the fines they bring in",
    "The council lost a third of its budget in five years",
    "Main roads get more complaints, so they get the money",
    "Neighbours do not talk to each other much any more",
    "Many residents are new and do not know the area",
    "The shops need deliveries before opening time",
    "There is no loading bay on Main Street",
    "The school was built before the road got busy",
    "Children follow the shortest way to the bus",
    "The transport company has no local office",
    "Residents do not know who decides where stops go",
    "Fewer buses run since the timetable changed in spring",
    "The hotline is staffed by two people for the whole city",
    "The app was never finished",
    "The motorway junction was built closer to our side of town",
    "Bus companies complained that bumps damage their suspension",
    "The police merged three stations into one",
    "Fines go to the national budget, not to the town",
    "The state cut grants to towns",
    "Landlords let flats for a few months at a time",
    "Our street has no residents' association",
    "The loading bay was turned into a taxi rank",
    "The old timetable did not pay for itself",
]
