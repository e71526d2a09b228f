"""A stale CSRF token: a plain post gets a page that says what happened, and a
page can fetch a fresh token to send again (static/js/csrf.js does, in
tests/browser/test_csrf_recovery.py)."""

import pytest
from django.test import Client

from sessions.models import Cause
from tests.conftest import join


@pytest.fixture
def phone(world) -> Client:
    client = Client(enforce_csrf_checks=True)
    join(client, world.session)
    return client


def answers(world) -> str:
    return f"/p/{world.session.public_id}/answers/"


def test_a_fresh_token_comes_with_its_cookie_and_is_never_stored(phone):
    response = phone.get("/csrf/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response.json()["token"]
    assert phone.cookies["csrftoken"].value


def test_a_fresh_token_is_only_read(phone):
    token = phone.get("/csrf/").json()["token"]
    assert phone.post("/csrf/", HTTP_X_CSRFTOKEN=token).status_code == 405


def test_an_answer_sent_again_with_a_fresh_token_is_saved(world, phone):
    token = phone.get("/csrf/").json()["token"]
    response = phone.post(
        answers(world), {"text": "The lights are broken", "parent": ""}, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 302
    assert Cause.objects.filter(session=world.session, text="The lights are broken").count() == 1


def test_a_post_without_its_cookie_says_what_happened_and_gives_back_the_text(world, phone):
    page = f"http://testserver/p/{world.session.public_id}/"
    response = phone.post(
        answers(world), {"text": "<b>Cars</b> go too fast", "parent": ""}, HTTP_REFERER=page
    )
    assert response.status_code == 403
    assert response["X-CSRF-Failed"] == "1"
    html = response.content.decode()
    assert "This could not be sent: the page had expired." in html
    assert "&lt;b&gt;Cars&lt;/b&gt; go too fast" in html
    assert f'<a class="button" href="{page}">Go back</a>' in html
    assert not Cause.objects.filter(session=world.session).exists()


def test_a_post_from_another_site_leads_back_home_and_shows_none_of_its_words(world, phone):
    response = phone.post(
        answers(world),
        {"text": "Call this number to win", "parent": ""},
        HTTP_REFERER="https://evil.example/p/",
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert '<a class="button" href="/">Go back</a>' in html
    assert "evil.example" not in html
    assert "Call this number" not in html


def test_a_stale_token_on_the_console_is_refused_alike(world):
    console = Client(enforce_csrf_checks=True)
    console.force_login(world.facilitator_user)
    console.get(f"/s/{world.session.public_id}/console/")
    response = console.post(
        f"/s/{world.session.public_id}/causes/",
        {"text": "Written for someone", "csrfmiddlewaretoken": "R" * 32},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    assert response["X-CSRF-Failed"] == "1"
    assert not Cause.objects.filter(session=world.session).exists()
