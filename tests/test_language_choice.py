"""Who sees which language: the session's, the participant's pick, the facilitator's."""

import pytest
from django.test import Client

from sessions import live
from sessions.models import Session
from sessions.views import streams
from sessions.views.participating import phone_audience
from tests.conftest import make_cause

PICKED = "django_language"


@pytest.fixture
def spanish(world):
    """The world's session, prepared in Spanish, with a cause and a focus."""
    world.session.language = "es"
    world.session.save(update_fields=["language"])
    cause = make_cause(world.session, "No street lights")
    world.session.ask_why(cause)
    return world


def page(client: Client, url: str, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_phone_speaks_the_sessions_language(spanish):
    html = page(spanish.participant, f"/p/{spanish.session.public_id}/")
    assert '<html lang="es" dir="ltr">' in html
    assert "¿Pero por qué…" in html
    assert "Enviar" in html


def test_the_phone_speaks_its_browsers_language_when_the_app_does(spanish):
    html = page(spanish.participant, f"/p/{spanish.session.public_id}/", accept_language="fr")
    assert '<html lang="fr"' in html
    # A browser language the app does not speak: the session's.
    html = page(spanish.participant, f"/p/{spanish.session.public_id}/", accept_language="de")
    assert '<html lang="es"' in html


def test_a_pick_wins_over_the_browsers_language(spanish):
    spanish.participant.cookies[PICKED] = "ar"
    html = page(spanish.participant, f"/p/{spanish.session.public_id}/", accept_language="fr")
    assert '<html lang="ar"' in html


@pytest.mark.parametrize(
    ("browser", "lang", "join_word", "send_word"),
    [("es-ES,es;q=0.9", "es", "Unirse", "Enviar"), ("ar,en;q=0.5", "ar", "انضم", "أرسل")],
)
def test_a_phone_keeps_its_browsers_language_from_the_join_page_to_the_last(
    world, browser, lang, join_word, send_word
):
    """An English session; a phone whose browser speaks Spanish or Arabic."""
    phone = Client(headers={"accept-language": browser})
    sid, code = world.session.public_id, world.session.join_code
    for html in (page(phone, "/join/"), page(phone, f"/join/{code}/")):
        assert f'<html lang="{lang}"' in html
        assert join_word in html
    response = phone.post("/join/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] == f"/p/{sid}/"
    html = page(phone, f"/p/{sid}/")
    assert f'<html lang="{lang}"' in html
    assert send_word in html
    answered = phone.post(
        f"/p/{sid}/answers/", {"text": "Dark", "parent": ""}, headers={"HX-Request": "true"}
    )
    assert answered.status_code == 200
    assert send_word in answered.content.decode()
    assert world.session.causes.get().text == "Dark"
    # What the room sees live reaches it in the same language.
    assert phone_audience(answered.wsgi_request) == f"phone:{lang}"


@pytest.mark.parametrize(
    ("browser", "lang"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.5", "pt"),
        ("pt-MZ", "pt"),
        ("pt-PT,pt;q=0.9", "pt"),
        ("sw-KE,sw;q=0.9,en;q=0.5", "sw"),
        ("sw-TZ", "sw"),
    ],
)
def test_a_browser_in_brazil_mozambique_portugal_kenya_or_tanzania_gets_its_language(
    spanish, browser, lang
):
    """One Portuguese and one Swahili for every country: the region is not asked for."""
    for url in ("/join/", f"/join/{spanish.session.join_code}/"):
        assert f'<html lang="{lang}" dir="ltr">' in page(Client(), url, accept_language=browser)


def test_the_pickers_offer_all_six_languages(spanish):
    html = page(spanish.participant, f"/p/{spanish.session.public_id}/")
    for code, name in [
        ("en", "English"),
        ("es", "Español"),
        ("fr", "Français"),
        ("ar", "العربيّة"),
        ("pt", "Português"),
        ("sw", "Kiswahili"),
    ]:
        assert f'value="{code}" lang="{code}"' in html
        assert f">{name}</button>" in html


def test_a_participant_picks_another_language_for_their_phone(spanish):
    phone_url = f"/p/{spanish.session.public_id}/"
    response = spanish.participant.post("/i18n/setlang/", {"language": "ar", "next": phone_url})
    assert response.status_code == 302
    assert response["Location"] == phone_url
    assert spanish.participant.cookies[PICKED].value == "ar"
    html = page(spanish.participant, phone_url)
    assert '<html lang="ar" dir="rtl">' in html
    assert "ولكن لماذا…" in html
    assert 'value="ar" lang="ar" dir="rtl" aria-current="true">العربيّة</button>' in html


def test_a_phones_pick_does_not_change_the_projector(spanish):
    spanish.facilitator.cookies[PICKED] = "fr"
    html = page(spanish.facilitator, f"/s/{spanish.session.public_id}/present/")
    assert '<html lang="es"' in html
    assert "Únete desde tu teléfono" in html
    assert 'class="languages"' not in html


def test_the_join_pages_follow_the_session_or_the_pick(spanish):
    code = spanish.session.join_code
    assert "Unirse a esta sesión" in page(Client(), f"/join/{code}/")
    picked = Client()
    picked.cookies[PICKED] = "fr"
    html = page(picked, f"/join/{code}/")
    assert "Rejoindre cette séance" in html
    assert 'class="languages"' in html


def test_a_wrong_code_is_explained_in_the_browsers_language(db):
    response = Client().post("/join/", {"code": "ABC234"}, headers={"accept-language": "es"})
    assert response.status_code == 404
    assert "Ninguna sesión abierta tiene este código." in response.content.decode()


def test_the_console_follows_the_facilitator_not_the_session(spanish):
    console = f"/s/{spanish.session.public_id}/console/"
    html = page(spanish.facilitator, console, accept_language="en")
    assert '<html lang="en"' in html
    assert "Open the projector view" in html
    spanish.facilitator.post("/i18n/setlang/", {"language": "fr", "next": console})
    html = page(spanish.facilitator, console)
    assert '<html lang="fr"' in html
    assert "Ouvrir la vue du projecteur" in html
    # The top bar's picker marks the choice.
    assert 'value="fr" lang="fr" dir="ltr" aria-current="true"' in html


def test_model_choice_labels_are_translated(spanish):
    spanish.facilitator.cookies[PICKED] = "ar"
    html = page(spanish.facilitator, f"/s/{spanish.session.public_id}/console/")
    for label in ("لماذا؟", "التفكير", "العمل", "الاتفاق", "اعرض الإجابات فورًا"):
        assert label in html


def test_the_live_channel_renders_once_per_language_in_use(spanish):
    """Phones without a pick get the session's language; each pick is an audience."""
    session = Session.objects.get(pk=spanish.session.pk)
    assert "¿Pero por qué…" in live.render(session.pk, streams.RENDERERS["phone"]).html
    assert "Mais pourquoi…" in live.render(session.pk, streams.RENDERERS["phone:fr"]).html
    assert "ولكن لماذا…" in live.render(session.pk, streams.RENDERERS["phone:ar"]).html
    assert "Steps of the session" in live.render(session.pk, streams.RENDERERS["console:en"]).html
    assert "خطوات الجلسة" in live.render(session.pk, streams.RENDERERS["console:ar"]).html


def test_a_phones_stream_joins_the_audience_of_its_picked_language(rf):
    request = rf.get("/p/x/stream/")
    assert phone_audience(request) == "phone"
    request.COOKIES[PICKED] = "fr"
    assert phone_audience(request) == "phone:fr"
    request.COOKIES[PICKED] = "de"  # not one of ours: the session's language
    assert phone_audience(request) == "phone"


def test_what_people_type_keeps_its_own_direction(spanish):
    html = page(spanish.participant, f"/p/{spanish.session.public_id}/")
    assert '<p class="situation" dir="auto">' in html
    # The question's quotes are the language's own; the cause reads in its own direction.
    assert '<span class="asked" dir="auto">«No street lights»?</span>' in html
