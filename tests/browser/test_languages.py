"""Six languages in real browsers: Arabic right to left, a phone that switches
language, and in each language screenshots of the projector, a phone and the
printed summary (test-artifacts/lang-*.png), with axe's audit of each."""

from datetime import date

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect
from pypdf import PdfReader

from sessions.models import Cause, Participant, Session
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility import Audit
from tests.browser.test_live_session import Within
from tests.conftest import make_cause, make_group, make_session, make_user

# A room in each language: what people typed, in their own words.
ROOMS = {
    "en": {
        "title": "Safety at the corner",
        "situation": "Young people keep getting hurt at the corner of 5th and Main.",
        "causes": [
            "There are no street lights",
            "The council has no budget for lights",
            "Nobody has asked for them",
            "Cars drive too fast",
            "Young people have nowhere else to meet",
        ],
        "actor": "the city council",
        "answer": "The bus stop is right at the corner",
        "action": "Ask the council for street lights",
        "line": "We are not alone in this",
    },
    "es": {
        "title": "Seguridad en la esquina",
        "situation": (
            "Los jóvenes siguen saliendo heridos en la esquina de la Quinta y la calle Mayor."
        ),
        "causes": [
            "No hay alumbrado público",
            "El ayuntamiento no tiene presupuesto para luces",
            "Nadie lo ha pedido",
            "Los coches van demasiado rápido",
            "Los jóvenes no tienen otro lugar donde reunirse",
        ],
        "actor": "el ayuntamiento",
        "answer": "La parada del autobús está justo en la esquina",
        "action": "Pedir luces al ayuntamiento",
        "line": "No estamos solos en esto",
    },
    "fr": {
        "title": "Sécurité au carrefour",
        "situation": (
            "Des jeunes se blessent sans arrêt au carrefour de la 5e rue et de la rue Principale."
        ),
        "causes": [
            "Il n’y a pas d’éclairage public",
            "La mairie n’a pas de budget pour l’éclairage",
            "Personne ne l’a demandé",
            "Les voitures roulent trop vite",
            "Les jeunes n’ont pas d’autre endroit où se retrouver",
        ],
        "actor": "la mairie",
        "answer": "L’arrêt de bus est juste au carrefour",
        "action": "Demander des lampadaires à la mairie",
        "line": "Nous ne sommes pas seuls",
    },
    "ar": {
        "title": "السلامة عند التقاطع",
        "situation": "يتعرض الشباب للأذى باستمرار عند تقاطع الشارع الخامس والشارع الرئيسي.",
        "causes": [
            "لا توجد إنارة في الشارع",
            "ليس لدى البلدية ميزانية للإنارة",
            "لم يطلبها أحد",
            "السيارات تسير بسرعة كبيرة",
            "لا يوجد مكان آخر يلتقي فيه الشباب",
        ],
        "actor": "المجلس البلدي",
        "answer": "موقف الحافلات عند التقاطع تمامًا",
        "action": "نطلب من البلدية إنارة الشارع",
        "line": "لسنا وحدنا في هذا",
    },
    "pt": {
        "title": "Segurança na esquina",
        "situation": (
            "Os jovens ficam feridos muitas vezes na esquina da Rua 5 com a Rua Principal."
        ),
        "causes": [
            "Não há iluminação na rua",
            "O município não tem dinheiro para a iluminação",
            "Ninguém pediu",
            "Os carros andam rápido demais",
            "Os jovens não têm outro lugar para se encontrar",
        ],
        "actor": "o município",
        "answer": "O ponto de ônibus fica bem na esquina",
        "action": "Pedir luz ao município",
        "line": "Não estamos sozinhos nisto",
    },
    "sw": {
        "title": "Usalama kwenye kona",
        "situation": "Vijana wanaendelea kuumia kwenye kona ya Barabara ya 5 na Barabara Kuu.",
        "causes": [
            "Hakuna taa za barabarani",
            "Halmashauri ya jiji haina bajeti ya taa",
            "Hakuna aliyeziomba",
            "Magari yanaendeshwa kwa kasi sana",
            "Vijana hawana mahali pengine pa kukutana",
        ],
        "actor": "halmashauri ya jiji",
        "answer": "Kituo cha basi kiko kwenye kona hiyo hiyo",
        "action": "Kuomba taa kwa halmashauri",
        "line": "Hatuko peke yetu katika hili",
    },
}

# What the phone and the projector ask while "But why?" is asked about a cause.
BUT_WHY = {
    "en": "But why…",
    "es": "¿Pero por qué…",
    "fr": "Mais pourquoi…",
    "ar": "ولكن لماذا…",
    "pt": "Mas por quê…",
    "sw": "Lakini kwa nini…",
}
SEND = {"en": "Send", "es": "Enviar", "fr": "Envoyer", "ar": "أرسل", "pt": "Enviar", "sw": "Tuma"}
JOINED = {
    "en": "3 people joined",
    "es": "3 personas se unieron",
    "fr": "3 personnes ont rejoint",
    "ar": "انضم 3 أشخاص",
    "pt": "3 pessoas entraram",
    "sw": "watu 3 wamejiunga",
}
LANGUAGES = list(ROOMS)


def prepare(language: str) -> tuple[object, Session, dict[str, Cause]]:
    """A facilitator and an open session in `language`: five causes, tags, a focus."""
    room = ROOMS[language]
    fran = make_user("fran")
    group = make_group("Riverside", facilitators=[fran])
    session = make_session(
        group, title=room["title"], situation=room["situation"], language=language
    )
    lights, budget, nobody, cars, nowhere = room["causes"]
    causes = {"lights": make_cause(session, lights)}
    causes["budget"] = make_cause(
        session,
        budget,
        causes["lights"],
        can_change="yes",
        who_can_change="outside",
        actor=room["actor"],
        matters_most=True,
    )
    causes["nobody"] = make_cause(
        session, nobody, causes["lights"], who_can_change="inside", smaller_part=True
    )
    causes["cars"] = make_cause(session, cars, can_change="unsure")
    causes["nowhere"] = make_cause(session, nowhere, matters_most=True)
    session.ask_why(causes["budget"])
    for _ in range(2):
        Participant.join(session)
    return fran, session, causes


def logged_in_context(browsing, user, viewport: str, **options):
    """A browser context with `user` logged in, without the login form (whose
    attempts per user are limited, and counted across the whole test run)."""
    client = Client()
    client.force_login(user)
    context = browsing.context(viewport, **options)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": browsing.base_url}]
    )
    return context


def open_projector(browsing, fran, session: Session, watch=lambda page: page):
    projector = watch(logged_in_context(browsing, fran, "projector").new_page())
    projector.goto(f"/s/{session.public_id}/present/")
    expect(projector.locator("#tree .cause")).not_to_have_count(0)
    return projector


def join(phone, session: Session) -> None:
    phone.goto(f"/join/{session.join_code}/")
    phone.locator("main form.stack button[type=submit]").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")


def direction(page, selector: str) -> str:
    return page.locator(selector).first.evaluate("e => getComputedStyle(e).direction")


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def rendering_fonts(page, selector: str) -> set[str]:
    """The fonts Chromium really drew the element's text with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"] for font in fonts}


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def fonts_fetched():
    """The font files each page asked the server for."""
    fetched: list[str] = []

    def watch(page):
        page.on("request", lambda r: fetched.append(r.url) if "/static/fonts/" in r.url else None)
        return page

    return fetched, watch


def test_arabic_reads_right_to_left_on_the_projector_and_the_phone(
    browsing, transactional_db, fonts_fetched
):
    fetched, watch = fonts_fetched
    fran, session, causes = prepare("ar")
    # Someone in the room typed in English: it reads left to right.
    english = make_cause(session, "The bus stop is at the corner", causes["lights"])
    projector = open_projector(browsing, fran, session, watch)
    expect(projector.locator("#tree .cause")).to_have_count(6)

    assert projector.locator("html").get_attribute("dir") == "rtl"
    assert projector.locator("html").get_attribute("lang") == "ar"
    assert direction(projector, "body") == "rtl"
    expect(projector.locator("#question .ask")).to_have_text("ولكن لماذا…")
    expect(projector.locator("#question .asked")).to_have_text(f"«{causes['budget'].text}»؟")
    expect(projector.locator("#join .joined")).to_have_text("انضم شخصان")
    # Mirrored: the joining panel (code, QR) on the left, the tree on its right,
    # which reads from the right; the tags follow each cause on its left.
    assert (
        box(projector, ".joining")["x"] + box(projector, ".joining")["width"]
        <= (box(projector, "#tree")["x"])
    )
    # The tree's drawing grows from the right: an answer is drawn left of its cause.
    lights = box(projector, f"#box-cause-{causes['lights'].pk} rect")
    child = box(projector, f"#box-cause-{causes['budget'].pk} rect")
    assert child["x"] + child["width"] <= lights["x"]
    assert direction(projector, f"#cause-{english.pk} .text") == "ltr"
    assert direction(projector, f"#cause-{causes['lights'].pk} .text") == "rtl"
    # The code and the address stay left to right.
    assert direction(projector, "#join .code") == "ltr"
    assert direction(projector, ".join-address") == "ltr"
    # Drawn with the Arabic font we ship, fetched from our own server.
    projector.evaluate("document.fonts.ready")
    assert "Noto Sans Arabic" in rendering_fonts(projector, "#question .ask")
    assert any(
        "noto-sans-arabic-arabic-400-normal." in url and url.endswith(".woff2") for url in fetched
    )
    assert fits_the_width(projector)

    phone = watch(browsing.page("phone", locale="ar"))
    join(phone, session)
    assert phone.locator("html").get_attribute("dir") == "rtl"
    assert direction(phone, "#prompt") == "rtl"
    expect(phone.locator("#prompt .question")).to_have_text(
        f"ولكن لماذا… «{causes['budget'].text}»؟"
    )
    phone.fill("#id_text", "The lights were taken away")
    phone.get_by_role("button", name="أرسل", exact=True).click()
    expect(phone.locator("#mine .text")).to_have_text("The lights were taken away")
    assert direction(phone, "#mine .text") == "ltr"
    expect(projector.locator("#join .joined")).to_have_text("انضم 3 أشخاص")
    # The language picker keeps to the end of the line: the left, in Arabic.
    last = phone.locator(".languages button").last.bounding_box()
    assert abs(last["x"] - box(phone, ".situation")["x"]) <= 4
    assert fits_the_width(phone)
    browsing.assert_no_errors()


def test_a_latin_projector_downloads_no_font(browsing, transactional_db, fonts_fetched):
    fetched, watch = fonts_fetched
    fran, session, _causes = prepare("fr")
    projector = open_projector(browsing, fran, session, watch)
    projector.evaluate("document.fonts.ready")
    assert projector.locator("html").get_attribute("dir") == "ltr"
    assert fetched == []
    browsing.assert_no_errors()


def test_a_participant_switches_the_phone_to_their_own_language(browsing, transactional_db):
    fran, session, causes = prepare("es")
    projector = open_projector(browsing, fran, session)
    phone = browsing.page("phone", locale="es-ES")
    join(phone, session)
    expect(phone.locator("#prompt .question .ask")).to_have_text("¿Pero por qué…")

    phone.get_by_role("button", name="Français").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    expect(phone.locator("#prompt .question .ask")).to_have_text("Mais pourquoi…")
    expect(phone.get_by_role("button", name="Envoyer", exact=True)).to_be_visible()
    expect(phone.locator(".languages [aria-current]")).to_have_text("Français")
    phone.evaluate("window.neverReloaded = true")

    # The room moves on: the phone gets it live, in French; the projector
    # stays in the session's Spanish.
    session.refresh_from_db()
    session.ask_why(causes["cars"])
    within = Within()
    expect(phone.locator("#prompt .question")).to_have_text(
        f"Mais pourquoi… «\u00a0{causes['cars'].text}\u00a0»\u00a0?", timeout=within()
    )
    expect(projector.locator("#question h2")).to_have_text(
        f"¿Pero por qué… «{causes['cars'].text}»?", timeout=within()
    )
    assert phone.evaluate("window.neverReloaded") is True

    # What the phone sends comes back in French too.
    phone.fill("#id_text", ROOMS["fr"]["answer"])
    phone.get_by_role("button", name="Envoyer", exact=True).click()
    expect(phone.locator("#mine h2")).to_have_text("Vos réponses")

    # And back: the session's language again, from the picker.
    phone.get_by_role("button", name="Español").click()
    expect(phone.locator("#prompt .question .ask")).to_have_text("¿Pero por qué…")
    browsing.assert_no_errors()


@pytest.mark.parametrize("language", LANGUAGES)
def test_screenshots_of_the_projector_and_a_phone(browsing, transactional_db, screenshot, language):
    audit = Audit(language)
    fran, session, _causes = prepare(language)
    projector = open_projector(browsing, fran, session)
    phone = browsing.page("phone", locale=language)
    join(phone, session)
    expect(projector.locator("#join .joined")).to_have_text(JOINED[language])
    phone.fill("#id_text", ROOMS[language]["answer"])
    phone.get_by_role("button", name=SEND[language], exact=True).click()
    expect(phone.locator("#mine .text")).to_have_text(ROOMS[language]["answer"])
    expect(projector.locator("#tree .cause")).to_have_count(6)

    for page in (projector, phone):
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("#prompt .ask, #question .ask").first).to_have_text(BUT_WHY[language])
        page.evaluate("document.fonts.ready")
        assert fits_the_width(page), f"{page.url} is wider than the screen"

    screenshot(projector, f"lang-{language}-projector-1920x1080.png")
    projector.set_viewport_size({"width": 1280, "height": 720})
    expect(projector.locator("#tree .cause")).to_have_count(6)
    assert fits_the_width(projector)
    # Every cause and the whole joining panel are on the screen.
    for selector in ["#tree .diagram .box", ".joining"]:
        for element in projector.locator(selector).all():
            found = element.bounding_box()
            assert found["x"] >= 0 and found["x"] + found["width"] <= 1280, selector
            assert found["y"] + found["height"] <= 720, selector
    screenshot(projector, f"lang-{language}-projector-1280x720.png")
    screenshot(phone, f"lang-{language}-phone-360x640.png")
    audit(projector, "projector")
    audit(phone, "phone")
    audit.assert_clean()
    browsing.assert_no_errors()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_console_and_the_printed_summary_in_each_language(
    browsing, transactional_db, screenshot, language
):
    """The console, the summary page as it prints (the PDF's own template and
    stylesheet, test-artifacts/lang-*-summary-print.png) and the PDF itself
    (lang-*-summary.pdf): all in the language, nothing off the page."""
    audit = Audit(language)
    fran, session, _causes = prepare(language)
    room = ROOMS[language]
    page = logged_in_context(browsing, fran, "console", locale=language).new_page()
    page.goto(f"/s/{session.public_id}/console/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("body")).to_contain_text(room["causes"][1])
    assert fits_the_width(page)
    screenshot(page, f"lang-{language}-console-1280x800.png")
    audit(page, "console")

    page.goto(f"/s/{session.public_id}/summary/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    audit(page, "summary")
    with page.expect_download() as download:
        page.locator("a[href*='summary.pdf']").first.click()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / f"lang-{language}-summary.pdf"
    download.value.save_as(pdf)
    text = ""
    for number, pdf_page in enumerate(PdfReader(pdf).pages, start=1):
        width = float(pdf_page.mediabox.width)
        outside: list[str] = []

        def where(t, cm, tm, _font, _size, outside=outside, width=width):
            # Where the text starts on the page: its matrix, then the page's.
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            if t.strip() and not 0 <= x < width:
                outside.append((t, x))

        text += pdf_page.extract_text(visitor_text=where)
        assert outside == [], f"page {number}: text off the page"
    for typed in [room["title"], *room["causes"]]:
        assert typed in " ".join(text.split())

    page.emulate_media(media="print")
    # A4 at 96 dots an inch.
    page.set_viewport_size({"width": 794, "height": 1123})
    assert fits_the_width(page)
    screenshot(page, f"lang-{language}-summary-print.png")
    audit.assert_clean()
    browsing.assert_no_errors()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_closing_round_and_the_take_home_page_in_each_language(
    browsing, transactional_db, screenshot, language
):
    """The last steps: a phone sends its closing line, the projector shows the
    wall, and once the session ends the phone opens the page people take home
    (test-artifacts/lang-*-closing-*.png, lang-*-take-home-*.png)."""
    audit = Audit(language)
    fran, session, causes = prepare(language)
    room = ROOMS[language]
    action = session.add_action(room["action"], [causes["budget"].pk])
    action.agree(
        owner="Marta", owner_outside=False, first_step=room["causes"][2], due=date(2027, 2, 3)
    )
    projector = open_projector(browsing, fran, session)
    phone = browsing.page("phone", locale=language)
    join(phone, session)
    session.set_phase(Session.Phase.CLOSE)
    expect(phone.locator("#closing-form")).to_be_visible()
    expect(phone.locator("html")).to_have_attribute("lang", language)
    phone.fill("#id_line_text", room["line"])
    phone.locator("#closing-form button[type=submit]").click()
    expect(phone.locator("#closing-form .sent-line")).to_be_visible()
    expect(projector.locator("#plan .wall")).to_contain_text(room["line"])
    for page in (projector, phone):
        page.evaluate("document.fonts.ready")
        assert fits_the_width(page), f"{page.url} is wider than the screen"
    screenshot(projector, f"lang-{language}-closing-projector-1920x1080.png")
    screenshot(phone, f"lang-{language}-closing-phone-360x640.png")
    audit(projector, "closing, projector")
    audit(phone, "closing, phone")

    session.end()
    expect(phone.locator("#take-home")).to_be_visible()
    phone.locator("#take-home").click()
    phone.wait_for_url(f"**/p/{session.public_id}/home/")
    expect(phone.locator("html")).to_have_attribute("lang", language)
    expect(phone.locator(".plan-list")).to_contain_text(room["action"])
    expect(phone.locator(".wall")).to_contain_text(room["line"])
    assert fits_the_width(phone)
    screenshot(phone, f"lang-{language}-take-home-360x640.png")
    phone.screenshot(
        path=str(ARTIFACTS / f"lang-{language}-take-home-360-full.png"), full_page=True
    )
    audit(phone, "take-home")
    audit.assert_clean()
    browsing.assert_no_errors()


def test_the_arabic_summary_pdf_reads_right_to_left(browsing, transactional_db):
    """Downloaded as an organizer would: the PDF's Arabic headings start at the right."""
    fran, session, _causes = prepare("ar")
    page = logged_in_context(browsing, fran, "console").new_page()
    page.goto(f"/s/{session.public_id}/summary/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    with page.expect_download() as download:
        page.locator("a[href*='summary.pdf']").first.click()
    pages = PdfReader(download.value.path()).pages
    # The first page draws the tree; the headings and the numbered list follow.
    assert ROOMS["ar"]["causes"][0] in pages[0].extract_text()
    first = pages[1]
    width = float(first.mediabox.width)
    starts: list[tuple[str, float]] = []
    text = first.extract_text(
        visitor_text=lambda t, _cm, m, _f, _s: (
            starts.append((t.strip(), m[4])) if t.strip() else None
        )
    )
    assert ROOMS["ar"]["causes"][0] in text
    heading = next(x for t, x in starts if "الموقف" in t)  # "The situation"
    assert heading > width / 2, (heading, width)
    browsing.assert_no_errors()


@pytest.mark.parametrize(
    ("locale", "lang", "send"), [("es-ES", "es", "Enviar"), ("ar", "ar", "أرسل")]
)
def test_a_phone_keeps_its_browsers_language_from_joining_to_the_live_question(
    browsing, transactional_db, locale, lang, send
):
    _fran, session, causes = prepare("en")
    phone = browsing.page("phone", locale=locale)
    phone.goto("/join/")
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    phone.fill("#id_code", session.join_code)
    phone.locator("main form.stack button[type=submit]").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    expect(phone.get_by_role("button", name=send, exact=True)).to_be_visible()
    # The room moves on: the live question comes in the phone's language too.
    session.ask_why(next(iter(causes.values())))
    expect(phone.locator("#prompt .question .ask")).to_have_text(BUT_WHY[lang])
    browsing.assert_no_errors()
