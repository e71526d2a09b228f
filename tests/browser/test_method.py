"""Every step of the method in Chromium, in Spanish: a session started from a
story, "Why else?" and "But why?", levels and the smaller part, the closing
round from three phones, and the take-home page with its calendar file."""

from datetime import date
from pathlib import Path

import icalendar
import pytest
from playwright.sync_api import expect

from sessions import storybook
from sessions.models import Cause, ClosingLine, Session
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_session import log_in, posted
from tests.conftest import make_group, make_user

STORY = "street-corner"
LINES = [
    "Aprendimos que no es culpa de un solo chico",
    "Juntos podemos hablar con el ayuntamiento",
    "Me da esperanza ver a tantos vecinos aquí",
]


@pytest.fixture
def fran(transactional_db):
    return make_user("fran")


def join(phone, session: Session) -> None:
    """Join as a Spanish-speaking phone does: the join page is in Spanish too."""
    phone.goto(f"/join/{session.join_code}/")
    phone.get_by_role("button", name="Unirse").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")
    phone.locator("#agree").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")
    expect(phone.locator("#agreements")).to_have_count(0)


def send(phone, text: str) -> None:
    phone.fill("#id_text", text)
    posted(phone, "/answers/", phone.locator("#answer-form button.send").click)
    expect(phone.locator("#mine")).to_contain_text(text)


def test_a_session_from_a_spanish_story_runs_every_step_to_the_plan_taken_home(
    browsing, fran, screenshot
):
    group = make_group("Riverside", facilitators=[fran])
    story = storybook.find(STORY, "es")
    assert story is not None and story.language == "es"

    # The facilitator starts from a story, in Spanish.
    console = browsing.page("console")
    log_in(console, fran, f"/g/{group.public_id}/sessions/new/")
    console.locator("#stories").get_by_role("link", name="Español").click()
    console.locator(f'[data-story="{STORY}"]').click()
    expect(console.locator("#from-story")).to_contain_text(story.title)
    expect(console.locator("#id_situation")).to_have_value(story.situation)
    expect(console.locator("#id_made_up")).to_be_checked()
    console.get_by_role("button", name="Create the session").click()
    console.wait_for_url("**/console/")
    session = Session.objects.get(group=group)
    assert (session.made_up, session.language, session.situation) == (
        True,
        "es",
        story.situation,
    )
    sid = session.public_id
    # The story's first question is suggested to the facilitator.
    expect(console.locator("#phase .script")).to_contain_text(story.question)
    posted(console, "/open/", console.locator("#open-close").click)
    session.refresh_from_db()

    # The projector and the phones say it is a made-up story, in Spanish.
    projector = browsing.page("projector", storage_state=console.context.storage_state())
    projector.goto(f"/s/{sid}/present/")
    expect(projector.locator(".situation .made-up")).to_have_text("Una historia inventada")
    phones = [browsing.page("phone", locale="es-ES") for _ in range(3)]
    for phone in phones:
        join(phone, session)
        expect(phone.locator(".made-up")).to_have_text("Una historia inventada")
    ana, ben, cleo = phones
    # The group's agreements are read out first, then the first question.
    posted(console, "/agreements/start/", console.locator("#start-questions").click)

    # "Why?", then "Why else?": other reasons beside the first, on every phone.
    expect(ana.locator("#prompt .question")).to_have_text("¿Por qué pasa esto?")
    send(ana, "No hay luces en la esquina")
    posted(console, "/why-else/", console.locator("#why-else").click)
    for phone in phones:
        expect(phone.locator("#prompt .question")).to_contain_text("¿Por qué más?")
    send(ben, "Los jóvenes no tienen adónde ir")
    lights = Cause.objects.get(session=session, text="No hay luces en la esquina")
    nowhere = Cause.objects.get(session=session, text="Los jóvenes no tienen adónde ir")
    assert lights.parent_id is None and nowhere.parent_id is None

    # "But why?" about one answer: the phones ask about it, answers go under it.
    posted(console, "/focus/", console.locator(f"#why-{nowhere.pk}").click)
    for phone in phones:
        expect(phone.locator("#prompt .question")).to_contain_text(
            "Los jóvenes no tienen adónde ir"
        )
        expect(phone.locator("#prompt .question")).not_to_contain_text("¿Por qué más?")
    send(cleo, "Cerraron el centro juvenil")
    send(ana, "El ayuntamiento recortó el presupuesto")
    closed = Cause.objects.get(session=session, text="Cerraron el centro juvenil")
    budget = Cause.objects.get(session=session, text="El ayuntamiento recortó el presupuesto")
    assert closed.parent_id == nowhere.pk and budget.parent_id == nowhere.pk

    # Levels, set on the console; the projector's levels view shows them.
    console.locator("#levels-view").click()
    view = projector.locator("#tree .levels-view")
    expect(view).to_be_visible()
    names = ["One person", "Family and friends", "The community", "Services and institutions"]
    names.append("Laws, money and power")
    # Each click moves a cause one level out: wait for each before the next.
    for cause, level in ((nowhere, 1), (closed, 4), (budget, 5)):
        for name in names[:level]:
            console.locator(f"#level-{cause.pk}").click()
            expect(console.locator(f"#level-{cause.pk}")).to_have_text(name)
    for level, cause in (("person", nowhere), ("services", closed), ("laws", budget)):
        column = view.locator(f'g.level-col[data-level="{level}"]')
        expect(column).to_have_attribute("data-count", "1")
        expect(column.locator(f"#lbox-cause-{cause.pk}")).to_be_visible()
    expect(view.locator('g.level-col[data-level=""]')).to_have_attribute("data-count", "1")
    for width, height in ((1920, 1080), (1280, 720)):
        projector.set_viewport_size({"width": width, "height": height})
        expect(view).to_be_visible()
        screenshot(projector, f"method-levels-{width}x{height}.png")
    projector.set_viewport_size({"width": 1920, "height": 1080})
    console.locator("#levels-view").click()
    expect(view).to_have_count(0)

    # Reflect on the smaller part: the ballot holds that branch only.
    posted(console, "/phase/", console.locator("#phase-reflect").click)
    expect(ana.locator("#ballot li")).to_have_count(4)
    console.locator(f"#work-on-{nowhere.pk}").click()
    for phone in phones:
        expect(phone.locator("#ballot li")).to_have_count(3)
        expect(phone.locator("#ballot")).not_to_contain_text("No hay luces")
    ana.locator(f'#ballot li[data-cause="{closed.pk}"] button.give').click()
    expect(ana.locator(f'#ballot li[data-cause="{closed.pk}"] .my-dots')).to_have_text("1")

    # A plan with a date, agreed (the Act and Agree steps have their own tests).
    action = session.add_action("Pedir al ayuntamiento que reabra el centro", [closed.pk])
    action.agree(
        owner="Marta", owner_outside=False, first_step="Escribir la carta", due=date(2027, 2, 3)
    )

    # Close: three phones send a line each; the projector shows them as a wall.
    posted(console, "/phase/", console.locator("#phase-close").click)
    for phone, line in zip(phones, LINES, strict=True):
        expect(phone.locator("#prompt h1")).to_have_text(
            "¿Qué aprendimos hoy? ¿Qué nos da esperanza?"
        )
        phone.fill("#id_line_text", line)
        posted(phone, "/lines/", phone.get_by_role("button", name="Enviar mi frase").click)
        expect(phone.locator("#closing-form .sent-line")).to_be_visible()
    wall = projector.locator("#plan .wall li")
    expect(wall).to_have_count(3)
    for line in LINES:
        expect(projector.locator("#plan .wall")).to_contain_text(line)
    expect(console.locator("#closing")).to_contain_text("3 lines sent.")
    assert sorted(ClosingLine.objects.values_list("text", flat=True)) == sorted(LINES)
    screenshot(projector, "method-closing-wall-1920.png")

    # The session ends; a phone opens its take-home page and downloads the plan.
    posted(console, "/end/", console.locator("#end-session").click)
    expect(ben.locator("#take-home")).to_be_visible()
    # People who were not there scan the projector's code to the same page.
    expect(projector.locator(".take-home-qr img")).to_be_visible()
    screenshot(projector, "method-projector-ended-1920.png")
    ben.locator("#take-home").click()
    ben.wait_for_url(f"**/p/{sid}/home/")
    expect(ben.locator("h1")).to_have_text(session.title)
    expect(ben.locator(".made-up")).to_have_text("Una historia inventada")
    expect(ben.locator(".take-tree")).to_contain_text("Cerraron el centro juvenil")
    expect(ben.locator(".plan-list")).to_contain_text("Pedir al ayuntamiento")
    for line in LINES:
        expect(ben.locator(".wall")).to_contain_text(line)
    assert ben.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(ben, "method-take-home-360x640.png")
    ben.screenshot(path=str(ARTIFACTS / "method-take-home-360-full.png"), full_page=True)
    with ben.expect_download() as download:
        ben.locator("#take-home-ics").click()
    assert download.value.suggested_filename.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Pedir al ayuntamiento que reabra el centro"
    assert event.decoded("DTSTART") == date(2027, 2, 3)
    assert "Primer paso: Escribir la carta" in str(event["DESCRIPTION"])
    browsing.assert_no_errors()
