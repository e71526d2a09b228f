"""Text that cannot be shown is refused: other charsets, bytes that are not UTF-8,
text made only of invisible characters. Each gets a clear message, never a 500,
and nothing is stored."""

import re

import pytest
from django.test import Client

from sessions import text
from tests.conftest import join, make_cause

FORM = "application/x-www-form-urlencoded"
NOT_UTF8 = "This form was sent in a character set other than UTF-8"
DAMAGED = "did not arrive intact (it was not valid UTF-8)"
INVISIBLE = "only invisible characters"


def phone_with_token(world) -> tuple[Client, str]:
    """A phone that checks CSRF as a browser's requests are checked, and its token."""
    phone = Client(enforce_csrf_checks=True)
    join(phone, world.session)
    page = phone.get(f"/p/{world.session.public_id}/").content.decode()
    return phone, re.search(r'"x-csrftoken": "([^"]+)"', page)[1]


# Another charset


@pytest.mark.parametrize("charset", ["iso-8859-1", "utf-16", "windows-1252", "x-unknown", "utf8"])
def test_a_form_in_another_charset_gets_our_400_page(world, charset):
    phone, token = phone_with_token(world)
    response = phone.generic(
        "POST",
        f"/p/{world.session.public_id}/answers/",
        f"text=Caf%E9&parent=&csrfmiddlewaretoken={token}".encode(),
        content_type=f"{FORM}; charset={charset}",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert NOT_UTF8 in page
    assert "Something was wrong with what was sent" in page
    assert not world.session.causes.exists()


def test_a_multipart_form_in_another_charset_is_refused_too(world):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nCaf\xe9\r\n'
        f"--{boundary}--\r\n"
    ).encode("latin-1")
    response = world.participant.generic(
        "POST",
        f"/p/{world.session.public_id}/answers/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}; charset=latin-1",
    )
    assert response.status_code == 400
    assert NOT_UTF8 in response.content.decode()
    assert not world.session.causes.exists()


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"'])
def test_a_form_that_says_utf8_goes_through(world, charset):
    response = world.participant.generic(
        "POST",
        f"/p/{world.session.public_id}/answers/",
        b"text=Caf%C3%A9&parent=",
        content_type=f"{FORM}; charset={charset}",
    )
    assert response.status_code == 302
    assert world.session.causes.get().text == "Café"


def test_the_console_and_the_login_refuse_other_charsets_the_same_way(world):
    for client, url in [
        (world.facilitator, f"/s/{world.session.public_id}/causes/"),
        (Client(), "/accounts/login/"),
    ]:
        response = client.generic(
            "POST", url, b"text=x&username=fran", content_type=f"{FORM}; charset=utf-16"
        )
        assert response.status_code == 400, url
        assert NOT_UTF8 in response.content.decode()


def test_the_refusal_reads_in_the_visitors_language(world):
    response = world.participant.generic(
        "POST",
        f"/p/{world.session.public_id}/answers/",
        b"text=x",
        content_type=f"{FORM}; charset=latin-1",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400
    assert NOT_UTF8 not in response.content.decode()
    assert 'lang="es"' in response.content.decode()


# Bytes that are not UTF-8


@pytest.mark.parametrize("raw", [b"Caf%E9", b"%FF%FE", b"abc%C3", b"%ED%A0%80"])
def test_an_answer_that_is_not_utf8_is_refused_and_the_phone_is_told(world, raw):
    response = world.participant.generic(
        "POST", f"/p/{world.session.public_id}/answers/", b"parent=&text=" + raw, content_type=FORM
    )
    assert response.status_code == 400
    assert DAMAGED in response.content.decode()
    assert not world.session.causes.exists()


def test_a_multipart_answer_that_is_not_utf8_is_refused(world):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n'.encode()
        + b"Caf\xe9\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    response = world.participant.generic(
        "POST",
        f"/p/{world.session.public_id}/answers/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert DAMAGED in response.content.decode()
    assert not world.session.causes.exists()


def test_a_session_title_that_is_not_utf8_is_refused_and_the_rest_is_kept(world):
    response = world.facilitator.generic(
        "POST",
        f"/g/{world.group.public_id}/sessions/new/",
        b"title=Caf%E9&situation=The+bus+is+late&kind=problem&language=en"
        b"&names=anonymous&moderation=show",
        content_type=FORM,
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert DAMAGED in page
    assert "The bus is late" in page
    assert not world.group.sessions.filter(situation="The bus is late").exists()


# Invisible text


@pytest.mark.parametrize(
    "invisible",
    [
        "\u200b",
        "\u200b\u200c\u200d",
        "\u2060\ufeff",
        "\u00ad\u00ad",
        "\u3164",
        "\u2800 \u2800",
        "\u180e",
        "\ufe0f\u034f",
        " \u200b \u200b ",
    ],
)
def test_an_answer_of_only_invisible_characters_is_refused(world, invisible):
    response = world.participant.post(
        f"/p/{world.session.public_id}/answers/", {"text": invisible, "parent": ""}
    )
    assert response.status_code == 400
    assert INVISIBLE in response.content.decode()
    assert not world.session.causes.exists()


@pytest.mark.parametrize(
    "visible",
    ["\U0001f469\u200d\U0001f4bb", "a\u200bb", "\u0915\u094d\u200d\u0937", "\u00e9", "١٢"],
)
def test_text_with_something_visible_in_it_is_kept_with_its_joiners(world, visible):
    response = world.participant.post(
        f"/p/{world.session.public_id}/answers/", {"text": visible, "parent": ""}
    )
    assert response.status_code == 302
    assert world.session.causes.get().text == text.normalise(visible)


def test_the_facilitator_cannot_word_a_cause_as_nothing(world):
    cause = make_cause(world.session, "Drivers speed")
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/causes/{cause.pk}/edit/", {"text": "\u200b\u2060"}
    )
    assert response.status_code == 400
    assert INVISIBLE in response.content.decode()
    cause.refresh_from_db()
    assert cause.text == "Drivers speed"


def test_an_invisible_name_is_refused_when_joining(world):
    world.session.names = "optional"
    world.session.save(update_fields=["names"])
    phone = Client()
    response = phone.post(f"/join/{world.session.join_code}/", {"name": "\u200b\u200b"})
    assert response.status_code == 400
    assert INVISIBLE in response.content.decode()
    assert not world.session.participants.filter(name="\u200b\u200b").exists()


def test_an_invisible_group_name_is_refused(world):
    response = world.facilitator.post("/groups/new/", {"name": "\u3164\u3164"})
    assert response.status_code == 400
    assert INVISIBLE in response.content.decode()


def test_the_asgi_handler_refuses_other_charsets_the_same_way(world):
    """Under the ASGI server the check runs in the async chain, and renders our page."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from tests.conftest import sign_participant_cookie

    client = AsyncClient()
    sign_participant_cookie(client, world.me)

    async def post(charset: str):
        return await client.generic(
            "POST",
            f"/p/{world.session.public_id}/answers/",
            b"text=Caf%E9&parent=",
            content_type=f"{FORM}; charset={charset}",
        )

    refused = async_to_sync(post)("iso-8859-1")
    assert refused.status_code == 400
    assert NOT_UTF8 in refused.content.decode()
    assert not world.session.causes.exists()
