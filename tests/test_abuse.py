"""Rate limits and the audience cap: floods get a friendly 429, the room keeps working."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from sessions import ratelimits
from sessions.models import Participant, RateCount
from tests.conftest import join, make_user


@pytest.fixture(autouse=True)
def fresh_limits(db, monkeypatch):
    """Empty counters, and a clock that stays inside one window: limits count in
    fixed windows, so attempts that straddle a window's end would be split."""
    RateCount.objects.all().delete()
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


def test_wrong_codes_are_limited_per_address_by_post(world):
    client = Client()
    for _ in range(ratelimits.JOIN_GUESS.count):
        assert client.post("/join/", {"code": "ZZZZZZ"}).status_code == 404
    response = client.post("/join/", {"code": "YYYYYY"})
    assert response.status_code == 429
    assert "wait a minute" in response.content.decode()


@pytest.mark.parametrize("url", ["/join/ZZZZZZ/", "/join/?code=ZZZZZZ"])
def test_wrong_codes_are_limited_per_address_by_get(world, url):
    client = Client()
    for _ in range(ratelimits.JOIN_GUESS.count):
        assert client.get(url).status_code == 404
    assert client.get("/join/YYYYYY/").status_code == 429
    assert client.get("/join/?code=YYYYYY").status_code == 429
    assert client.post("/join/", {"code": "YYYYYY"}).status_code == 429


def test_guesses_by_get_and_post_share_one_count(world):
    client = Client()
    for i in range(ratelimits.JOIN_GUESS.count):
        if i % 2:
            assert client.get("/join/ZZZZZZ/").status_code == 404
        else:
            assert client.post("/join/", {"code": "ZZZZZZ"}).status_code == 404
    assert client.post("/join/ZZZZZZ/").status_code == 429


def test_an_ended_sessions_code_counts_as_a_guess(world):
    code = world.session.join_code
    world.session.end()
    client = Client()
    for _ in range(ratelimits.JOIN_GUESS.count):
        assert client.post("/join/", {"code": code}).status_code == 404
    assert client.post("/join/", {"code": code}).status_code == 429


def test_the_right_code_still_works_from_an_address_past_the_limit(world):
    guesser = Client(REMOTE_ADDR="10.4.4.4")
    for _ in range(ratelimits.JOIN_GUESS.count + 3):
        guesser.post("/join/", {"code": "ZZZZZZ"})
    assert guesser.get("/join/ZZZZZZ/").status_code == 429
    for phone in [Client(REMOTE_ADDR="10.4.4.4") for _ in range(3)]:
        assert phone.get(f"/join/{world.session.join_code}/").status_code == 200
        response = phone.post("/join/", {"code": world.session.join_code})
        assert response.status_code == 302
        assert response["Location"] == f"/p/{world.session.public_id}/"
    assert world.session.participants.count() == 4


def test_three_hundred_phones_behind_one_address_all_join(world):
    code = world.session.join_code
    for i in range(300):
        phone = Client(REMOTE_ADDR="192.0.2.10")
        if i % 2:
            response = phone.post("/join/", {"code": code})
        else:
            assert phone.get(f"/join/{code}/").status_code == 200
            response = phone.post(f"/join/{code}/")
        assert response.status_code == 302, i
    assert world.session.participants.count() == 301
    # None of them counted as a guess: the address can still be wrong 20 times.
    guesser = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(ratelimits.JOIN_GUESS.count):
        assert guesser.post("/join/", {"code": "ZZZZZZ"}).status_code == 404


def test_the_audience_cap_still_holds_for_a_room_behind_one_address(world):
    world.session.max_participants = 5
    world.session.save(update_fields=["max_participants"])
    statuses = [
        Client(REMOTE_ADDR="192.0.2.11")
        .post("/join/", {"code": world.session.join_code})
        .status_code
        for _ in range(8)
    ]
    assert statuses == [302] * 4 + [409] * 4  # world.me is the first of the five
    assert world.session.participants.count() == 5


def test_another_address_can_still_join(world):
    flooder = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(ratelimits.JOIN_GUESS.count + 1):
        flooder.post("/join/", {"code": "ZZZZZZ"})
    neighbour = Client(REMOTE_ADDR="10.1.1.2")
    assert neighbour.post(f"/join/{world.session.join_code}/").status_code == 302


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(world, settings):
    spoofing = Client(REMOTE_ADDR="10.2.2.2")
    for i in range(ratelimits.JOIN_GUESS.count):
        spoofing.post("/join/", {"code": "ZZZZZZ"}, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}")
    assert spoofing.post("/join/", {"code": "ZZZZZZ"}).status_code == 429

    settings.TRUSTED_PROXIES = ["10.3.3.3"]
    proxy = Client(REMOTE_ADDR="10.3.3.3")
    for i in range(ratelimits.JOIN_GUESS.count + 5):
        response = proxy.post("/join/", {"code": "ZZZZZZ"}, HTTP_X_FORWARDED_FOR=f"10.8.8.{i}")
        assert response.status_code == 404


def test_answers_are_limited_per_participant_and_the_text_is_kept(world):
    url = f"/p/{world.session.public_id}/answers/"
    for i in range(ratelimits.ANSWER.count):
        assert world.participant.post(url, {"text": f"Reason {i}", "parent": ""}).status_code == 302
    response = world.participant.post(url, {"text": "One too many", "parent": ""})
    assert response.status_code == 429
    assert "One too many" in response.content.decode()
    assert not world.session.causes.filter(text="One too many").exists()
    other = Client()
    join(other, world.session)
    assert other.post(url, {"text": "Someone else", "parent": ""}).status_code == 302


def test_logins_are_limited_per_username(db):
    make_user("fran")
    client = Client()
    for _ in range(ratelimits.LOGIN_USER.count):
        response = client.post("/accounts/login/", {"username": "fran", "password": "wrong"})
        assert response.status_code == 200
    response = Client(REMOTE_ADDR="10.4.4.4").post(
        "/accounts/login/", {"username": "Fran", "password": "fran-password"}
    )
    assert response.status_code == 429


@pytest.mark.parametrize("spelling", [" fran", "fran ", "ｆｒａｎ", "FRAN", "\u00a0fran"])
def test_another_spelling_of_a_locked_out_username_is_locked_out_too(db, spelling):
    make_user("fran")
    for _ in range(ratelimits.LOGIN_USER.count):
        Client().post("/accounts/login/", {"username": "fran", "password": "wrong"})
    response = Client(REMOTE_ADDR="10.4.4.5").post(
        "/accounts/login/", {"username": spelling, "password": "fran-password"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in response.client.session


def test_each_spelling_counts_against_the_one_username(db):
    make_user("fran")
    spellings = ["fran", " fran", "ｆｒａｎ", "fran\t"]
    for i in range(ratelimits.LOGIN_USER.count):
        spelling = spellings[i % len(spellings)]
        Client().post("/accounts/login/", {"username": spelling, "password": "wrong"})
    response = Client().post("/accounts/login/", {"username": "fran", "password": "fran-password"})
    assert response.status_code == 429


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_logging_in_successfully_does_not_count_toward_the_limit(db, url):
    admin = get_user_model().objects.create_superuser("ada", password="ada-password")
    assert admin.pk
    for _ in range(ratelimits.LOGIN_USER.count + 5):
        client = Client()
        response = client.post(url, {"username": "ada", "password": "ada-password"})
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(admin.pk)


def test_the_admin_login_is_limited_like_the_other(db):
    get_user_model().objects.create_superuser("ada", password="ada-password")
    for _ in range(ratelimits.LOGIN_USER.count):
        response = Client().post("/admin/login/", {"username": "ada", "password": "wrong"})
        assert response.status_code == 200
    client = Client(REMOTE_ADDR="10.4.4.6")
    response = client.post("/admin/login/", {"username": "ada", "password": "ada-password"})
    assert response.status_code == 429
    assert "Too many attempts to log in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_counts_per_address_too(db):
    get_user_model().objects.create_superuser("ada", password="ada-password")
    for i in range(ratelimits.LOGIN_ADDRESS.count):
        Client().post("/admin/login/", {"username": f"someone-{i}", "password": "wrong"})
    response = Client().post("/admin/login/", {"username": "ada", "password": "ada-password"})
    assert response.status_code == 429


def test_a_broken_limit_store_lets_people_in(world, monkeypatch):
    monkeypatch.setattr(RateCount._meta, "db_table", "no_such_table")
    url = f"/p/{world.session.public_id}/answers/"
    for i in range(ratelimits.ANSWER.count + 3):
        assert (
            world.participant.post(url, {"text": f"Still here {i}", "parent": ""}).status_code
            == 302
        )


def test_a_full_session_turns_the_next_phone_away(world):
    world.session.max_participants = Participant.objects.filter(session=world.session).count()
    world.session.save(update_fields=["max_participants"])
    response = Client().post(f"/join/{world.session.join_code}/")
    assert response.status_code == 409
    assert "This session is full" in response.content.decode()
    assert (
        Participant.objects.filter(session=world.session).count() == world.session.max_participants
    )


def test_the_audience_cap_is_set_when_preparing_the_session(world):
    response = world.facilitator.post(
        f"/g/{world.group.public_id}/sessions/new/",
        {
            "title": "Town hall",
            "situation": "The bus stop moved",
            "kind": "problem",
            "language": "en",
            "names": "anonymous",
            "moderation": "show",
            "max_participants": "300",
        },
    )
    assert response.status_code == 302
    assert world.group.sessions.get(title="Town hall").max_participants == 300


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The landlord is a BASTARD"),
        ("es", "Es una mierda"),
        ("es", "El cabrón del barrio"),
        ("pt", "Que merda"),
        ("pt", "Aquele cabrão do bairro"),
        ("fr", "Quelle merde"),
        ("ar", "هذه عاهرة"),
        ("en", "Call me on 0612 345 678"),
        ("en", "Write to ana.perez@example.org"),
    ],
)
def test_the_word_filter_holds_insults_and_personal_details_for_approval(world, language, text):
    world.session.language = language
    world.session.filter_words = True
    world.session.save(update_fields=["language", "filter_words"])
    url = f"/p/{world.session.public_id}/answers/"
    assert world.participant.post(url, {"text": text, "parent": ""}).status_code == 302
    assert world.session.causes.get(text=text).state == "pending"


def test_the_word_filter_lets_ordinary_answers_through(world):
    world.session.filter_words = True
    world.session.save(update_fields=["filter_words"])
    url = f"/p/{world.session.public_id}/answers/"
    world.participant.post(url, {"text": "Buses pass every 20 minutes", "parent": ""})
    assert world.session.causes.get(text="Buses pass every 20 minutes").state == "visible"


def test_without_the_word_filter_nothing_is_held(world):
    url = f"/p/{world.session.public_id}/answers/"
    world.participant.post(url, {"text": "What a shit street", "parent": ""})
    assert world.session.causes.get(text="What a shit street").state == "visible"


def test_the_facilitator_turns_the_word_filter_on_from_the_console(world):
    url = f"/s/{world.session.public_id}/moderation/"
    response = world.facilitator.post(url, {"moderation": "show", "filter_words": "on"})
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.filter_words


def test_the_word_filter_can_be_chosen_when_preparing_the_session(world):
    page = world.facilitator.get(f"/g/{world.group.public_id}/sessions/new/").content.decode()
    assert 'name="filter_words"' in page
    response = world.facilitator.post(
        f"/g/{world.group.public_id}/sessions/new/",
        {
            "title": "Filtered",
            "situation": "Rude words on the board",
            "kind": "problem",
            "language": "fr",
            "names": "anonymous",
            "moderation": "show",
            "filter_words": "on",
        },
    )
    assert response.status_code == 302
    assert world.group.sessions.get(title="Filtered").filter_words


def test_the_counts_keep_no_address_and_end_with_their_window(world, monkeypatch):
    address = "203.0.113.9"
    client = Client(REMOTE_ADDR=address)
    client.post("/join/", {"code": "ZZZZZZ"})
    client.post("/accounts/login/", {"username": "fran", "password": "wrong"})
    keys = list(RateCount.objects.values_list("key", flat=True))
    assert len(keys) == 3  # join, login by address, login by username
    assert not any(address in key or "fran" in key for key in keys)

    # A new window counts from one, and the ended windows are dropped.
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: 1_800_000_030.0 + 60))
    assert client.post("/join/", {"code": "ZZZZZZ"}).status_code == 404
    assert list(RateCount.objects.values_list("count", flat=True).order_by("ends")) == [1, 1, 1]
