"""Reflect, act, agree in real browsers: a console, a projector and three phones.

The group votes with dots (hidden, then revealed), marks what matters most,
proposes actions from its phones, and agrees a plan with who, a first step
and a date. Every screen follows over the live stream, with no reload.
"""

from datetime import timedelta

import pytest
from django.utils import dateformat, timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from sessions.models import Action
from tests.browser.test_live_session import Within, join_by_link, log_in, posted
from tests.conftest import make_cause, make_group, make_session, make_user


@pytest.fixture
def board(transactional_db):
    """An open session whose "why?" round is done: four causes, two levels."""
    fran = make_user("fran")
    session = make_session(make_group("Riverside", facilitators=[fran]))
    speed = make_cause(session, "Drivers speed on Main Street")
    dark = make_cause(session, "No street lights at the corner")
    make_cause(session, "The council cut the lighting budget", dark)
    make_cause(session, "Nobody enforces the limit", speed)
    return fran, session


def step(console, name: str) -> Within:
    """Move the room to another step from the console's step bar."""
    button = console.locator("#phase").get_by_role("button", name=name, exact=True)
    within = posted(console, "/phase/", button.click)
    expect(button).to_have_attribute("aria-current", "step")
    return within


def card(phone, text: str):
    """The ballot card of the cause `text`, not of its children (they name it as their parent)."""
    return phone.locator("#ballot li").filter(
        has=phone.locator(".text > span[dir=auto]", has_text=text)
    )


def give_dot(phone, text: str) -> None:
    item = card(phone, text)
    posted(phone, "/votes/", item.locator("button.give").click)
    expect(item.locator(".my-dots")).not_to_have_text("")


def test_the_group_votes_acts_and_agrees_a_plan(browsing, board, screenshot):
    fran, session = board
    sid = session.public_id
    console = browsing.page("console")
    log_in(console, fran, f"/s/{sid}/console/")
    projector = browsing.page("projector", storage_state=console.context.storage_state())
    projector.goto(f"/s/{sid}/present/")
    projector.evaluate("window.neverReloaded = true")
    phones = [browsing.page("phone") for _ in range(3)]
    for phone in phones:
        join_by_link(phone, session.join_code, session)

    # Reflect: phones get a ballot; the counts stay hidden until revealed.
    within = step(console, "Reflect")
    expect(projector.locator("#question")).to_contain_text(
        "Which causes matter most?", timeout=within()
    )
    for phone in phones:
        expect(phone.locator("#ballot li")).to_have_count(4, timeout=within())
    ana, ben, cleo = phones
    give_dot(ana, "Drivers speed")
    give_dot(ana, "No street lights")
    give_dot(ben, "Drivers speed")
    give_dot(cleo, "Drivers speed")
    give_dot(cleo, "The council cut")
    expect(ana.locator("#mydots")).to_contain_text("You have 1 dot left.")
    # Only one dot per cause in this session: the "+" is off once used.
    expect(card(ana, "Drivers speed").locator("button.give")).to_be_disabled()
    expect(projector.locator("#question .progress")).to_have_text(
        "3 people have voted so far.", timeout=Within()()
    )
    expect(projector.locator(".tag-dots")).to_have_count(0)
    expect(console.locator("#reflect")).to_contain_text("3 people have placed dots (5 dots)")
    screenshot(ana, "plan-phone-ballot.png")

    within = posted(
        console, "/votes/reveal/", console.get_by_role("button", name="Reveal the results").click
    )
    expect(
        projector.locator("#cause-" + str(session.causes.get(text__startswith="Drivers").pk))
    ).to_contain_text("● 3 dots", timeout=within())
    # The dots are drawn on the tree; the cause with most is marked first.
    expect(
        projector.locator("#tree .diagram .is-top", has_text="Drivers speed on Main Street")
    ).to_contain_text("Most dots: #1")
    for phone in phones:
        expect(phone.locator("#prompt .ranked li").first).to_contain_text(
            "Drivers speed", timeout=within()
        )
    screenshot(projector, "plan-projector-revealed.png")

    # The facilitator marks what matters most.
    for text in ("Drivers speed on Main Street", "No street lights at the corner"):
        node = console.locator("#ctree .cause", has_text=text).first
        posted(console, "/matters/", node.get_by_role("button", name="Matters most").click)
        expect(
            console.locator("#ctree .cause", has_text=text).first.locator(".tag-matters")
        ).to_be_visible()

    # Act: phones propose actions for what matters most.
    within = step(console, "Act")
    for phone in phones:
        expect(phone.locator("#prompt .targets input")).to_have_count(2, timeout=within())
    ideas = [
        (ana, "Ask the council for speed bumps", "Drivers speed"),
        (ben, "Ask the council to fix the lamps", "No street lights"),
        (cleo, "Walk children across at 3 pm", "Drivers speed"),
    ]
    for phone, text, target in ideas:
        phone.locator("#prompt .targets label", has_text=target).locator("input").check()
        phone.fill("#id_action_text", text)
        within = posted(phone, "/actions/", phone.get_by_role("button", name="Send the idea").click)
        expect(phone.locator("#mine")).to_contain_text(text)
        expect(phone.locator("#id_action_text")).to_have_value("")
        expect(projector.locator("#plan .target", has_text=target)).to_contain_text(
            text, timeout=within()
        )
    screenshot(projector, "plan-projector-act.png")
    screenshot(cleo, "plan-phone-act.png")

    # Agree: two actions go in the plan with who, a first step and a date.
    step(console, "Agree")
    # "By when" refuses a date before today: the dates are a week or two ahead.
    soon, later = (timezone.localdate() + timedelta(days=days) for days in (9, 16))
    agreed = [
        ("Ask the council for speed bumps", "Rosa", "Write to the council", soon.isoformat()),
        ("Walk children across at 3 pm", "Parents’ group", "Make a rota", later.isoformat()),
    ]
    for text, owner, first_step, due in agreed:
        console.locator("#acts li", has_text=text).get_by_role(
            "link", name="Agree, edit, merge"
        ).click()
        console.fill("#agree-owner", owner)
        console.fill("#agree-step", first_step)
        console.fill("#id_due", due)
        console.get_by_role("button", name="Put it in the plan").click()
        console.wait_for_url(f"**/s/{sid}/console/")
        expect(projector.locator("#plan .plan-list")).to_contain_text(owner, timeout=Within()())
    rows = projector.locator("#plan .plan-list > li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Rosa")
    expect(rows.nth(0)).to_contain_text(dateformat.format(soon, "j M Y"))
    expect(projector.locator("#plan")).to_contain_text("Ask the council to fix the lamps")
    for phone in phones:
        expect(phone.locator("#prompt .plan-list > li")).to_have_count(2)
    plan = list(Action.objects.filter(agreed=True).order_by("plan_order"))
    assert [(a.text, a.owner, a.due.isoformat()) for a in plan] == [
        (text, owner, due) for text, owner, _step, due in agreed
    ]
    screenshot(projector, "plan-projector-agree.png")
    screenshot(console, "plan-console-agree.png")

    # Print: the summary page, then its PDF, downloaded as a browser does.
    console.get_by_role("link", name="Summary and print").click()
    console.wait_for_url(f"**/s/{sid}/summary/")
    expect(console.locator("body")).to_contain_text("Rosa")
    with console.expect_download() as download:
        console.get_by_role("link", name="Download PDF (A4)").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    flat = " ".join(text.split())
    assert session.situation in flat
    for cause in session.causes.filter(state="visible"):
        assert cause.text in flat, cause.text
    for text_, owner, _step, _due in agreed:
        assert text_ in flat and owner in flat
    for due in (soon, later):
        assert dateformat.format(due, "N j, Y") in flat

    assert projector.evaluate("window.neverReloaded") is True
    browsing.assert_no_errors()
