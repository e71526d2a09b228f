"""A safe room in real browsers: agreements first, the pause on every screen,
support at the close; axe on every new screen, and screenshots of them."""

import pytest
from playwright.sync_api import expect

from sessions.models import Cause, Session
from tests.browser.test_accessibility import SIZES, Audit, as_user
from tests.browser.test_live_session import cause, log_in, posted, send, under
from tests.conftest import make_cause, make_group, make_session, make_user

PAUSED = "Let’s take a moment"


@pytest.fixture
def room(transactional_db):
    """A facilitator, a group with support contacts, an open session with agreements."""
    fran = make_user("fran")
    group = make_group("Riverside", facilitators=[fran])
    group.support_contacts.create(
        name="Riverside helpline", reach="0800 123 456", hours="Every day, 8:00–22:00"
    )
    group.support_contacts.create(name="Youth counsellor", reach="https://help.example.org")
    session = make_session(group, use_agreements=True)
    return fran, group, session


def join_and_agree(phone, session: Session) -> None:
    phone.goto(f"/join/{session.join_code}/")
    phone.get_by_role("button", name="Join").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")
    agreements = phone.locator("#agreements")
    expect(agreements).to_contain_text("What is said here stays here.")
    # Nothing else until this phone agrees: no question, no box to answer in.
    expect(phone.locator("#id_text")).not_to_be_visible()
    phone.get_by_role("button", name="I agree, let’s start").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")
    expect(phone.locator("#agreements")).to_have_count(0)
    expect(phone.locator("#id_text")).to_be_visible()


def test_agreements_a_pause_with_the_key_and_support_at_the_close(browsing, room, screenshot):
    fran, _group, session = room
    sid = session.public_id
    console = browsing.page({"width": 1366, "height": 768})
    log_in(console, fran, f"/s/{sid}/console/")
    projector = browsing.page("projector", storage_state=console.context.storage_state())
    projector.goto(f"/s/{sid}/present/")
    expect(projector.locator("#tree .agreements")).to_contain_text(
        "We talk about situations, not about named people."
    )
    expect(projector.locator("#question h2")).to_have_text("Before we start: how we talk together")
    screenshot(projector, "safe-projector-agreements-1920.png")

    ana, ben, cleo = (browsing.page("phone") for _ in range(3))
    for phone in (ana, ben, cleo):
        join_and_agree(phone, session)
    assert session.participants.filter(agreed_at__isnull=False).count() == 3
    screenshot(ana, "safe-phone-agreed-360.png")

    # The facilitator has read them out: the first question.
    within = posted(
        console,
        "/agreements/start/",
        console.get_by_role("button", name="Agreements read: ask the first question").click,
    )
    expect(projector.locator("#question h2")).to_have_text(
        "Why does this happen?", timeout=within()
    )
    for phone, text in ((ana, "Drivers speed on Main Street"), (ben, "No lights at the corner")):
        within = send(phone, text)
        expect(projector.locator(under(None, cause(session, text)))).to_have_text(
            text, timeout=within()
        )

    # B pauses the room: every screen shows the calm message within a second.
    console.locator("body").click(position={"x": 5, "y": 5})
    within = posted(console, "/pause/", lambda: console.keyboard.press("b"))
    expect(projector.locator("#pause")).to_contain_text(PAUSED, timeout=within())
    for phone in (ana, ben, cleo):
        expect(phone.locator("#pause")).to_contain_text(PAUSED, timeout=within())
    expect(console.locator("#room")).to_contain_text("The room is paused.")
    # Nothing of the room shows behind the pause, and it cannot be reached.
    for x, y in ((0.5, 0.5), (0.1, 0.1), (0.9, 0.9), (0.1, 0.9), (0.9, 0.1)):
        on_top = f"document.elementFromPoint(innerWidth * {x}, innerHeight * {y})"
        assert projector.evaluate(f"{on_top}.closest('#pause') !== null")
    assert projector.locator(".stage").evaluate("e => e.inert") is True
    for phone in (ana, ben, cleo):
        expect(phone.locator("#prompt")).not_to_be_visible()
        expect(phone.get_by_role("button", name="Send", exact=True)).not_to_be_visible()
    session.refresh_from_db()
    assert session.paused

    # Typed during the pause: kept on the phone, sent after.
    cleo.locator("#id_text").fill("The bus stop is at the corner")
    expect(cleo.locator(".paused-note")).to_be_visible()
    screenshot(projector, "safe-projector-paused-1920.png")
    screenshot(cleo, "safe-phone-paused-360.png")
    screenshot(console, "safe-console-paused-1366.png")
    projector.keyboard.press("t")
    screenshot(projector, "safe-projector-paused-1920-dark.png")
    projector.keyboard.press("t")
    assert not Cause.objects.filter(text="The bus stop is at the corner").exists()

    within = posted(console, "/resume/", lambda: console.keyboard.press("b"))
    expect(projector.locator("#pause")).to_be_hidden(timeout=within())
    for phone in (ana, ben, cleo):
        expect(phone.locator("#pause")).to_be_hidden(timeout=within())
        expect(phone.locator("#prompt .question")).to_have_text("Why does this happen?")
    expect(cleo.locator("#id_text")).to_have_value("The bus stop is at the corner")
    within = posted(cleo, "/answers/", cleo.get_by_role("button", name="Send", exact=True).click)
    bus = cause(session, "The bus stop is at the corner")
    expect(projector.locator(under(None, bus))).to_have_text(bus.text, timeout=within())
    # The room is where it was: the same question, the same answers.
    expect(projector.locator("#tree .cause .text")).to_have_count(3)

    # The end: support on the projector and on every phone.
    within = posted(console, "/end/", console.locator("#end-session").click)
    support = projector.locator("#support")
    expect(support).to_contain_text("Riverside helpline", timeout=within())
    expect(support).to_contain_text("0800 123 456")
    expect(support).to_contain_text("Youth counsellor")
    for phone in (ana, ben, cleo):
        expect(phone.locator("#prompt")).to_contain_text("Riverside helpline", timeout=within())
        expect(phone.locator('#prompt a[href="tel:0800123456"]')).to_be_visible()
    screenshot(projector, "safe-projector-support-1920.png")
    screenshot(ana, "safe-phone-support-360.png")
    browsing.assert_no_errors()


@pytest.mark.layout
@pytest.mark.parametrize("size", [{"width": 1920, "height": 1080}, {"width": 1280, "height": 720}])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_pause_fills_the_projector_in_each_size_and_theme(
    browsing, room, screenshot, size, theme
):
    fran, _group, session = room
    make_cause(session, "Drivers speed on Main Street")
    Session.objects.filter(pk=session.pk).update(showing_agreements=False)
    session.pause()
    context = browsing.context(size)
    as_user(context, fran, browsing.base_url)
    projector = context.new_page()
    projector.goto(f"/s/{session.public_id}/present/")
    if theme == "dark":
        projector.keyboard.press("t")
    pause = projector.locator("#pause")
    expect(pause).to_contain_text(PAUSED)
    box = pause.bounding_box()
    assert box == {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
    title = projector.locator(".pause-title").bounding_box()
    assert title["width"] < size["width"] and title["height"] < size["height"] / 3
    screenshot(projector, f"safe-projector-paused-{size['width']}-{theme}.png")
    # Dark or light, the pause is calm and readable.
    colours = pause.evaluate(
        "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
    )
    assert colours[0] != colours[1]
    browsing.assert_no_errors()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pause_on_a_phone_is_the_first_screen(browsing, room, screenshot, scheme):
    _fran, _group, session = room
    phone = browsing.page("phone", color_scheme=scheme)
    join_and_agree(phone, session)
    session.pause()
    expect(phone.locator("#pause")).to_contain_text(PAUSED)
    box = phone.locator("#pause").bounding_box()
    assert box["height"] >= 0.6 * 640
    assert box["width"] <= 360
    screenshot(phone, f"safe-phone-paused-360-{scheme}.png")
    browsing.assert_no_errors()


def test_the_new_screens_have_no_axe_violations(browsing, room, audit, screenshot):
    fran, group, session = room
    sizes = SIZES[audit.size]
    # The group page: agreements and support contacts, and their errors.
    context = browsing.context(sizes["page"])
    as_user(context, fran, browsing.base_url)
    page = context.new_page()
    page.goto(f"/g/{group.public_id}/")
    expect(page.locator("#agreements textarea")).to_have_value(
        "What is said here stays here.\nWe talk about situations, not about named people.\n"
        "Anyone can pass, and anyone can ask for a pause.\nWe listen to each other, one at a time."
    )
    audit(page, "group, agreements and support")
    page.locator("#id_name").fill("Evil")
    page.locator("#id_reach").fill("javascript:alert(1)")
    page.get_by_role("button", name="Add the contact").click()
    expect(page.locator("#support .error")).to_contain_text("A link can only be")
    # The page that says what is wrong opens at the form, with what was typed.
    expect(page.locator("#support .error")).to_be_in_viewport()
    expect(page.locator("#id_reach")).to_have_value("javascript:alert(1)")
    audit(page, "group, bad contact")
    screenshot(page, f"safe-group-{audit.size}.png")

    # The phone: agreements, the pause, the support page, the end.
    phone = browsing.page(sizes["page"])
    phone.goto(f"/join/{session.join_code}/")
    phone.get_by_role("button", name="Join").click()
    expect(phone.locator("#agreements")).to_be_visible()
    audit(phone, "phone, agreements")
    screenshot(phone, f"safe-phone-agreements-{audit.size}.png")
    phone.get_by_role("button", name="I agree, let’s start").click()
    expect(phone.locator("#id_text")).to_be_visible()
    session.pause()
    expect(phone.locator("#pause")).to_contain_text(PAUSED)
    audit(phone, "phone, paused")
    phone.get_by_role("link", name="Support").click()
    expect(phone.locator(".support-list")).to_contain_text("Riverside helpline")
    audit(phone, "phone, support page")
    screenshot(phone, f"safe-phone-support-page-{audit.size}.png")

    # The console: paused, with a held answer open to edit and approve.
    someone = session.participants.create()
    make_cause(session, "My husband Ali drinks", author=someone, state="pending")
    console = context.new_page()
    console.goto(f"/s/{session.public_id}/console/")
    console.locator(".edit-approve summary").click()
    audit(console, "console, paused, agreements, edit and approve")
    screenshot(console, f"safe-console-{audit.size}.png")
    # The name out, on the board, in one step; the notice's Undo takes both back.
    console.locator(".edit-approve textarea").fill("My husband drinks")
    console.get_by_role("button", name="Save and approve").click()
    expect(console.locator("#notice")).to_contain_text("Edited and approved: “My husband drinks”.")
    expect(console.locator("#ctree")).to_contain_text("My husband drinks")
    expect(console.locator("#pending")).not_to_contain_text("Ali")
    console.locator("#notice-undo").click()
    expect(console.locator("#pending")).to_contain_text("My husband Ali drinks")
    held = Cause.objects.get(session=session)
    assert (held.state, held.text) == ("pending", "My husband Ali drinks")

    # The projector: agreements, paused (light and dark), the end with support.
    projector = browsing.context(sizes["projector"])
    as_user(projector, fran, browsing.base_url)
    screen = projector.new_page()
    session.pause(False)
    screen.goto(f"/s/{session.public_id}/present/")
    expect(screen.locator("#tree .agreements")).to_be_visible()
    audit(screen, "projector, agreements")
    session.pause()
    expect(screen.locator("#pause")).to_be_visible()
    audit(screen, "projector, paused")
    screen.keyboard.press("t")
    audit(screen, "projector, paused, dark")
    screen.keyboard.press("t")
    session.pause(False)
    session.end()
    expect(screen.locator("#support")).to_contain_text("Riverside helpline")
    audit(screen, "projector, ended, support")
    screenshot(screen, f"safe-projector-support-{audit.size}.png")
    phone.goto(f"/p/{session.public_id}/")
    expect(phone.locator("#prompt")).to_contain_text("Riverside helpline")
    audit(phone, "phone, ended, support")

    assert len(audit.audited) == 11
    audit.assert_clean()
    assert len(browsing.forgive("400")) == 1  # the bad contact, meant to be refused
    browsing.assert_no_errors()


@pytest.fixture(params=list(SIZES))
def audit(request):
    return Audit(request.param)
