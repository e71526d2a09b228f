"""Phones keep people oriented, at 360x640: everyone's answers follow the room
live, a draft stays with the question it was typed for, the ballot shows what
each cause answers. Every state is audited with axe and saved as a screenshot."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from sessions.models import Cause, Session
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility import AXE, AXE_OPTIONS
from tests.browser.test_live_session import join_by_link
from tests.conftest import make_cause, make_group, make_session, make_user


@pytest.fixture
def room(transactional_db):
    """A facilitator, and an open session with two branches: the second is being asked about."""
    fran = make_user("fran")
    session = make_session(make_group("Riverside", facilitators=[fran]))
    lights = make_cause(session, "No street lights at the corner")
    make_cause(session, "The council cut the budget for lights", lights)
    speed = make_cause(session, "Drivers speed on Main Street")
    make_cause(session, "The road is wide and straight", speed)
    make_cause(session, "Nobody enforces the speed limit", speed)
    session.ask_why(speed)
    facilitator = Client()
    facilitator.force_login(fran)
    return session, facilitator, lights, speed


def console_post(facilitator: Client, session: Session, path: str, data=None) -> None:
    """What the console's buttons post (the console's own page is not this test's subject)."""
    response = facilitator.post(f"/s/{session.public_id}/{path}", data or {})
    assert response.status_code == 302, response.content.decode()[:500]


def axe_clean(page, state: str) -> None:
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{state}:\n{results.generate_report()}"


def joined_phone(browsing, session: Session):
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    phone.evaluate("window.neverReloaded = true")
    return phone


def test_everyones_answers_follow_the_room_live(browsing, room, screenshot):
    session, facilitator, lights, speed = room
    phone = joined_phone(browsing, session)
    tree = phone.locator("#everyone-tree")
    summary = phone.get_by_text("See everyone's answers")
    expect(summary).to_be_visible()
    expect(tree.locator(".tree-list")).to_be_hidden()
    summary.click()
    items = tree.locator(".tree-list li")
    expect(items).to_have_count(5)
    # The branch being asked about comes first, its question marked.
    expect(items.first).to_have_attribute("aria-current", "true")
    expect(items.first.locator("> span")).to_have_text("Drivers speed on Main Street")
    expect(tree.locator(".tree-list > li").nth(1).locator("> span")).to_have_text(
        "No street lights at the corner"
    )
    phone.locator("#everyone").evaluate("section => section.scrollIntoView()")
    screenshot(phone, "phone-tree-open.png")
    axe_clean(phone, "phone, everyone's answers open")

    # An answer of this phone, held for approval, is not on anyone's tree yet...
    session.set_moderation(Session.Moderation.HOLD, filter_words=False)
    phone.fill("#id_text", "The lamps were never repaired")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#mine")).to_contain_text("The lamps were never repaired")
    # ...while one the facilitator adds for someone without a phone is, at once.
    console_post(
        facilitator, session, "causes/", {"text": "Shops want passing trade", "parent": ""}
    )
    # (the console adds it to the question asked now)
    speed_branch = tree.locator(".tree-list > li").first
    expect(
        speed_branch.locator("ul > li > span", has_text="Shops want passing trade")
    ).to_be_visible()
    expect(tree.get_by_text("The lamps were never repaired")).to_have_count(0)
    held = Cause.objects.get(text="The lamps were never repaired")
    assert (held.state, held.parent_id) == (Cause.State.PENDING, speed.pk)
    # Approved, it appears under the cause it answers; the tree stayed open meanwhile.
    console_post(facilitator, session, f"causes/{held.pk}/approve/")
    lamp = tree.locator("li", has=phone.locator("> span", has_text="Drivers speed")).locator(
        "ul > li > span", has_text="The lamps were never repaired"
    )
    expect(lamp).to_be_visible()
    expect(phone.locator("#everyone summary")).to_contain_text("(7)")
    # The room moves on: the newly asked branch comes first.
    console_post(facilitator, session, f"causes/{lights.pk}/focus/")
    expect(items.first.locator("> span")).to_have_text("No street lights at the corner")
    expect(items.first).to_have_attribute("aria-current", "true")
    assert tree.evaluate("details => details.open")
    assert phone.evaluate("window.neverReloaded") is True
    # Closed, the tree no longer travels to this phone; its count still follows the room.
    phone.locator("#everyone summary").click()
    console_post(
        facilitator, session, "causes/", {"text": "Nobody walks there at night", "parent": ""}
    )
    expect(phone.locator("#everyone summary")).to_contain_text("(8)")
    expect(tree.locator(".tree-list")).to_have_count(0)
    # Opened again, it comes back with the newest answer, without reloading the page.
    phone.locator("#everyone summary").click()
    expect(tree.get_by_text("Nobody walks there at night")).to_be_visible()
    assert phone.evaluate("window.neverReloaded") is True
    phone.locator("#everyone").evaluate("section => section.scrollIntoView()")
    screenshot(phone, "phone-tree-live.png")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone-tree-live-full.png"), full_page=True)
    browsing.assert_no_errors()


def test_long_words_and_arabic_answers_stay_inside_the_phone(browsing, room, screenshot):
    session, _facilitator, _lights, speed = room
    make_cause(session, "https://example.org/" + "averylongaddresswithoutanyspaces" * 4, speed)
    make_cause(session, "لا أحد يراقب السرعة في الليل", speed)
    session.set_phase(Session.Phase.WHY)
    phone = joined_phone(browsing, session)
    # Opened from the keyboard: the summary is the one control.
    phone.locator("#everyone summary").focus()
    phone.keyboard.press("Enter")
    arabic = phone.locator("#everyone-tree li > span", has_text="لا أحد يراقب")
    expect(arabic).to_be_visible()
    assert arabic.evaluate("element => getComputedStyle(element).direction") == "rtl"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    long_one = phone.locator("#everyone-tree li > span", has_text="averylongaddress")
    assert long_one.bounding_box()["x"] + long_one.bounding_box()["width"] <= 360
    long_one.scroll_into_view_if_needed()
    screenshot(phone, "phone-tree-long-words.png")
    # The whole page right to left: the branch lines move to the other side.
    phone.get_by_role("button", name="العربيّة").click()
    phone.get_by_text("اطّلع على إجابات الجميع").click()
    expect(phone.locator("#everyone-tree .tree-list")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.locator("#everyone").evaluate("section => section.scrollIntoView()")
    screenshot(phone, "phone-tree-arabic.png")
    browsing.assert_no_errors()


def test_a_session_can_keep_everyones_answers_off_the_phones(browsing, room, screenshot):
    session, facilitator, _lights, _speed = room
    Session.objects.filter(pk=session.pk).update(phone_tree=False)
    phone = joined_phone(browsing, session)
    expect(phone.locator("#prompt .question")).to_contain_text("Drivers speed")
    console_post(
        facilitator, session, "causes/", {"text": "Shops want passing trade", "parent": ""}
    )
    shops = Cause.objects.get(text="Shops want passing trade")
    # The broadcast that carries the new cause has arrived (its id is among those shown)...
    expect(phone.locator("#states")).to_have_attribute(
        "data-shown", re.compile(rf"(^| ){shops.pk}( |$)")
    )
    # ...and it brought no tree.
    expect(phone.get_by_text("See everyone's answers")).to_have_count(0)
    expect(phone.get_by_text("Shops want passing trade")).to_have_count(0)
    expect(phone.get_by_text("The road is wide and straight")).to_have_count(0)
    assert phone.locator("#everyone").inner_html() == ""
    screenshot(phone, "phone-tree-off.png")
    browsing.assert_no_errors()


@pytest.mark.parametrize("choice", ["asked", "new"])
def test_a_draft_typed_before_the_room_moves_on_is_offered_to_its_question(
    browsing, room, screenshot, choice
):
    session, facilitator, lights, speed = room
    phone = joined_phone(browsing, session)
    phone.fill("#id_text", "Trucks use it as a shortcut")
    choices = phone.locator("#answer-form .moved-on")
    expect(choices).to_be_hidden()

    console_post(facilitator, session, f"causes/{lights.pk}/focus/")
    expect(phone.locator("#prompt .question")).to_contain_text("No street lights")
    expect(choices).to_be_visible()
    expect(choices).to_contain_text("The question changed while you were typing.")
    expect(choices.locator(".was")).to_have_text("But why… “Drivers speed on Main Street”?")
    # Only the two choices send: never the plain Send, to a question nobody chose.
    expect(phone.get_by_role("button", name="Send", exact=True)).to_be_hidden()
    expect(phone.locator("#id_text")).to_have_value("Trucks use it as a shortcut")
    screenshot(phone, "phone-draft-moved-on.png")
    axe_clean(phone, "phone, the question changed while typing")

    name = (
        "Send it to the question I was answering"
        if choice == "asked"
        else "Send it to the new question"
    )
    with phone.expect_response(lambda r: r.url.endswith("/answers/")) as response:
        phone.get_by_role("button", name=name).click()
    assert response.value.status == 200
    expect(phone.locator("#mine")).to_contain_text("Trucks use it as a shortcut")
    cause = Cause.objects.get(session=session, text="Trucks use it as a shortcut")
    assert cause.parent_id == (speed.pk if choice == "asked" else lights.pk)
    # A fresh form for the question asked now, nothing left to choose.
    expect(phone.locator("#id_text")).to_have_value("")
    expect(choices).to_be_hidden()
    expect(phone.locator("#answer-form input[type=hidden][name=parent]")).to_have_value(
        str(lights.pk)
    )
    assert phone.evaluate("window.neverReloaded") is True
    browsing.assert_no_errors()


def test_an_empty_form_simply_follows_the_room(browsing, room):
    session, facilitator, lights, _speed = room
    phone = joined_phone(browsing, session)
    console_post(facilitator, session, f"causes/{lights.pk}/focus/")
    expect(phone.locator("#prompt .question")).to_contain_text("No street lights")
    expect(phone.locator("#answer-form .moved-on")).to_be_hidden()
    phone.fill("#id_text", "Nobody asked the council")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#mine")).to_contain_text("Nobody asked the council")
    assert Cause.objects.get(text="Nobody asked the council").parent_id == lights.pk
    browsing.assert_no_errors()


def test_a_draft_kept_on_the_phone_remembers_its_question(browsing, room, screenshot):
    session, facilitator, lights, speed = room
    phone = joined_phone(browsing, session)
    phone.locator("#id_text").press_sequentially("Trucks use it as a shortcut")
    # The phone closes the page; meanwhile the room moves on.
    state = phone.context.storage_state()
    phone.close()
    console_post(facilitator, session, f"causes/{lights.pk}/focus/")
    again = browsing.context("phone", storage_state=state).new_page()
    again.goto(f"/p/{session.public_id}/")
    expect(again.locator("#id_text")).to_have_value("Trucks use it as a shortcut")
    choices = again.locator("#answer-form .moved-on")
    expect(choices).to_be_visible()
    expect(choices.locator(".was")).to_have_text("But why… “Drivers speed on Main Street”?")
    screenshot(again, "phone-draft-restored.png")
    again.get_by_role("button", name="Send it to the question I was answering").click()
    expect(again.locator("#mine")).to_contain_text("Trucks use it as a shortcut")
    assert Cause.objects.get(text="Trucks use it as a shortcut").parent_id == speed.pk
    browsing.assert_no_errors()


def test_the_ballot_shows_what_each_cause_answers(browsing, room, screenshot):
    session, facilitator, _lights, _speed = room
    phone = joined_phone(browsing, session)
    console_post(facilitator, session, "phase/", {"phase": "reflect"})
    ballot = phone.locator("#ballot")
    expect(ballot.locator("li")).to_have_count(5)
    card = ballot.locator("li", has_text="The road is wide and straight")
    expect(card.locator(".because")).to_have_text("Drivers speed on Main Street, because:")
    expect(
        ballot.locator("li", has_text="No street lights at the corner").first.locator(".because")
    ).to_have_count(0)
    phone.get_by_role("button", name="Put a dot on “The road is wide").click()
    expect(phone.locator("#mydots")).to_contain_text("You have 2 dots left.")
    screenshot(phone, "phone-ballot-parents.png")
    axe_clean(phone, "phone, ballot with parents")
    browsing.assert_no_errors()
