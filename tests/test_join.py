"""Joining from a phone: the code on the screen, the QR link, names, the cookie."""

import re

import pytest
from django.test import Client

from sessions import joincodes
from sessions.models import Participant, Session
from sessions.permissions import PARTICIPANT_COOKIE
from tests.conftest import make_session

NO_SUCH_CODE = "No open session has this code. Check the code on the screen and try again."

# What a browser posts to join an anonymous session: no field but the CSRF
# token (which the test client does not check).
ANONYMOUS_JOIN_FORM = {"csrfmiddlewaretoken": "from-the-form"}


def spaced_and_cased(code: str) -> list[str]:
    return [code.lower(), f"{code[:3]} {code[3:]}".lower(), f"{code[:3]}-{code[3:]}", f" {code} "]


# Finding the session


@pytest.mark.parametrize("variant", range(4))
def test_a_code_typed_in_any_case_with_a_space_or_dash_finds_the_session(world, variant):
    code = world.session.join_code
    typed = spaced_and_cased(code)[variant]
    response = Client().post("/join/", {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.session.public_id}/"


def test_typing_the_code_of_an_anonymous_session_joins_in_one_post(world):
    phone = Client()
    response = phone.post("/join/", {"code": world.session.join_code})
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.session.public_id}/"
    assert world.session.participants.count() == 2  # world.me, and now this phone
    page = phone.get(response["Location"])
    assert page.status_code == 200
    assert "Why does this happen?" in page.content.decode()


@pytest.mark.parametrize("names", [Session.Names.OPTIONAL, Session.Names.REQUIRED])
def test_typing_the_code_of_a_session_that_asks_names_shows_the_name_form(world, names):
    session = make_session(world.group, names=names)
    phone = Client()
    response = phone.post("/join/", {"code": session.join_code})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="name"' in page
    assert f'action="/join/{session.join_code}/"' in page
    assert not session.participants.exists()
    response = phone.post(f"/join/{session.join_code}/", {"name": "Ana"})
    assert response.status_code == 302
    assert response["Location"] == f"/p/{session.public_id}/"
    assert session.participants.get().name == "Ana"


def test_the_home_page_join_form_can_also_use_get(world):
    typed = world.session.join_code.lower()
    response = Client().get("/join/", {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == f"/join/{world.session.join_code}/"


def test_the_qr_link_opens_the_join_page_of_the_session(world):
    response = Client().get(f"/join/{world.session.join_code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert world.session.situation in page
    assert "Join this session" in page


def test_the_qr_link_forgives_a_lowercase_or_dashed_code(world):
    code = world.session.join_code
    response = Client().get(f"/join/{code[:3].lower()}-{code[3:].lower()}/")
    assert response.status_code == 200
    assert world.session.situation in response.content.decode()


def test_joining_by_the_qr_link_makes_a_participant_and_opens_the_phone(world):
    phone = Client()
    response = phone.post(f"/join/{world.session.join_code}/", ANONYMOUS_JOIN_FORM)
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.session.public_id}/"
    assert world.session.participants.count() == 2  # world.me, and now this phone
    page = phone.get(response["Location"])
    assert page.status_code == 200
    assert "Why does this happen?" in page.content.decode()


def test_joining_an_anonymous_session_needs_nothing_but_the_button(world):
    # A request with no form field at all (the CSRF token can come in a
    # header) still means "join".
    response = Client().post(f"/join/{world.session.join_code}/")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.session.public_id}/"
    assert world.session.participants.count() == 2


def test_a_code_that_cannot_be_a_code_asks_for_the_right_shape(world):
    for typed in ["AB", "ABCDEFG", "AB0DEF", "ABIDEF"]:
        response = Client().post("/join/", {"code": typed})
        assert response.status_code == 400
        assert "A join code has 6 letters and digits, like ABC 234." in response.content.decode()


# Wrong codes and those of ended sessions: the same answer, so a code tells nobody what once existed


def normalised_page(response, code: str) -> str:
    page = response.content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    page = re.sub(r'"x-csrftoken": "[^"]*"', "", page)
    return page.replace(code, "CODE")


def closed_code(world) -> str:
    """The code of a session that has ended: it leads nowhere any more."""
    code = world.session.join_code
    world.session.end()
    return code


def unused_code(world) -> str:
    taken = set(Session.objects.exclude(join_code=None).values_list("join_code", flat=True))
    return next(c for c in ["ZZZ999", "YYY888", "XXX777"] if c not in taken)


def test_a_wrong_code_is_404_with_a_message(world):
    code = unused_code(world)
    for response in [Client().post("/join/", {"code": code}), Client().get(f"/join/{code}/")]:
        assert response.status_code == 404
        assert NO_SUCH_CODE in response.content.decode()


def test_a_closed_sessions_code_is_answered_like_a_wrong_code_on_the_join_form(world):
    wrong, closed = unused_code(world), closed_code(world)
    for_wrong = Client().post("/join/", {"code": wrong})
    for_closed = Client().post("/join/", {"code": closed})
    assert for_wrong.status_code == for_closed.status_code == 404
    assert NO_SUCH_CODE in for_closed.content.decode()
    assert normalised_page(for_closed, closed) == normalised_page(for_wrong, wrong)


def test_a_closed_sessions_code_is_answered_like_a_wrong_code_on_the_qr_link(world):
    wrong, closed = unused_code(world), closed_code(world)
    for_wrong = Client().get(f"/join/{wrong}/")
    for_closed = Client().get(f"/join/{closed}/")
    assert for_wrong.status_code == for_closed.status_code == 404
    assert NO_SUCH_CODE in for_closed.content.decode()
    assert normalised_page(for_closed, closed) == normalised_page(for_wrong, wrong)


def test_nobody_can_join_through_a_closed_sessions_link(world):
    code = closed_code(world)
    response = Client().post(f"/join/{code}/", ANONYMOUS_JOIN_FORM)
    assert response.status_code == 404
    assert NO_SUCH_CODE in response.content.decode()
    assert world.session.participants.count() == 1


def test_a_session_closing_just_as_someone_joins_answers_like_a_wrong_code(world, monkeypatch):
    code = world.session.join_code
    join = Participant.join.__func__

    def join_after_closing(cls, session, name=""):
        session.end()
        return join(cls, session, name)

    monkeypatch.setattr(Participant, "join", classmethod(join_after_closing))
    response = Client().post(f"/join/{code}/", ANONYMOUS_JOIN_FORM)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert NO_SUCH_CODE in response.content.decode()
    assert world.session.participants.count() == 1
    assert PARTICIPANT_COOKIE.format(world.session.public_id) not in response.cookies


@pytest.mark.parametrize("post_to", ["/join/", "/join/{code}/"])
def test_a_session_that_closes_between_the_form_and_the_post_answers_like_a_wrong_code(
    world, post_to
):
    code = world.session.join_code
    phone = Client()
    assert phone.get(f"/join/{code}/").status_code == 200
    world.session.end()
    wrong = unused_code(world)
    for_closed = phone.post(post_to.format(code=code), {"code": code})
    for_wrong = Client().post(post_to.format(code=wrong), {"code": wrong})
    assert for_closed.status_code == for_wrong.status_code == 404
    assert normalised_page(for_closed, code) == normalised_page(for_wrong, wrong)
    assert world.session.participants.count() == 1


def test_a_session_closing_just_as_someone_types_its_code_answers_like_a_wrong_code(
    world, monkeypatch
):
    code = world.session.join_code
    join = Participant.join.__func__

    def join_after_closing(cls, session, name=""):
        session.end()
        return join(cls, session, name)

    monkeypatch.setattr(Participant, "join", classmethod(join_after_closing))
    response = Client().post("/join/", {"code": code})
    assert response.status_code == 404
    assert NO_SUCH_CODE in response.content.decode()
    assert world.session.participants.count() == 1
    assert PARTICIPANT_COOKIE.format(world.session.public_id) not in response.cookies


def test_a_phone_page_of_an_ended_session_sends_newcomers_to_the_join_form(world):
    world.session.end()
    response = Client().get(f"/p/{world.session.public_id}/")
    assert response.status_code == 302
    assert response["Location"] == "/join/"


# Names


def test_an_anonymous_session_asks_for_no_name(world):
    response = Client().get(f"/join/{world.session.join_code}/")
    page = response.content.decode()
    assert 'name="name"' not in page
    assert "You take part anonymously" in page


def test_an_anonymous_session_ignores_a_name_sent_anyway(world):
    Client().post(f"/join/{world.session.join_code}/", {"name": "Mallory"})
    newcomer = world.session.participants.exclude(pk=world.me.pk).get()
    assert newcomer.name == ""


def test_an_optional_name_can_be_left_empty(world):
    session = make_session(world.group, names=Session.Names.OPTIONAL)
    page = Client().get(f"/join/{session.join_code}/").content.decode()
    assert 'name="name"' in page
    assert "Your name (optional)" in page
    response = Client().post(f"/join/{session.join_code}/", {"name": ""})
    assert response.status_code == 302
    assert session.participants.get().name == ""


def test_a_name_is_tidied_before_it_is_kept(world):
    session = make_session(world.group, names=Session.Names.OPTIONAL)
    Client().post(f"/join/{session.join_code}/", {"name": "  Ana \t  María  "})
    assert session.participants.get().name == "Ana María"


@pytest.mark.parametrize("name", ["", "   "])
def test_a_required_name_cannot_be_left_empty(world, name):
    session = make_session(world.group, names=Session.Names.REQUIRED)
    response = Client().post(f"/join/{session.join_code}/", {"name": name})
    assert response.status_code == 400
    assert "This session asks for a name." in response.content.decode()
    assert not session.participants.exists()
    assert PARTICIPANT_COOKIE.format(session.public_id) not in response.cookies


def test_a_required_name_is_kept(world):
    session = make_session(world.group, names=Session.Names.REQUIRED)
    response = Client().post(f"/join/{session.join_code}/", {"name": "Ana"})
    assert response.status_code == 302
    assert session.participants.get().name == "Ana"


# Coming back


def test_a_browser_that_already_joined_goes_straight_to_its_phone_page(world):
    response = world.participant.get(f"/join/{world.session.join_code}/")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.session.public_id}/"


def test_typing_the_code_again_also_leads_to_the_phone_page(world):
    response = world.participant.post("/join/", {"code": world.session.join_code}, follow=True)
    assert response.redirect_chain[-1] == (f"/p/{world.session.public_id}/", 302)
    assert response.status_code == 200


def test_joining_twice_does_not_make_a_second_participant(world):
    world.participant.post(f"/join/{world.session.join_code}/", ANONYMOUS_JOIN_FORM)
    assert list(world.session.participants.all()) == [world.me]


# The cookie


def test_the_participant_cookie_is_httponly_and_stays_for_a_meeting(world):
    response = Client().post(f"/join/{world.session.join_code}/", ANONYMOUS_JOIN_FORM)
    cookie = response.cookies[PARTICIPANT_COOKIE.format(world.session.public_id)]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 12 * 60 * 60


def test_a_cookie_with_a_bare_key_is_not_a_participant(world):
    forger = Client()
    forger.cookies[PARTICIPANT_COOKIE.format(world.session.public_id)] = world.me.key
    response = forger.get(f"/p/{world.session.public_id}/")
    assert response.status_code == 302
    assert response["Location"] == f"/join/{world.session.join_code}/"


# Join codes


def test_join_codes_are_six_characters_nobody_confuses(world):
    sessions = [make_session(world.group) for _ in range(60)]
    for session in sessions:
        assert len(session.join_code) >= 6
        assert set(session.join_code) <= set(joincodes.ALPHABET)
        assert not set(session.join_code) & set("0O1IL")


def test_open_sessions_never_share_a_code(world):
    sessions = [make_session(world.group) for _ in range(60)]
    codes = [s.join_code for s in Session.objects.filter(pk__in=[s.pk for s in sessions])]
    assert len(set(codes)) == len(codes) == 60


def test_a_code_held_by_an_open_session_is_drawn_again(world, monkeypatch):
    taken = world.session.join_code
    draws = iter([taken, taken, "NEW234"])
    monkeypatch.setattr(joincodes, "new", lambda: next(draws))
    session = make_session(world.group)
    assert session.join_code == "NEW234"
    session.refresh_from_db()
    assert session.join_code == "NEW234"
    world.session.refresh_from_db()
    assert world.session.join_code == taken


def test_a_closed_sessions_old_code_may_go_to_another_session(world, monkeypatch):
    old = closed_code(world)
    monkeypatch.setattr(joincodes, "new", lambda: old)
    newer = make_session(world.group, title="Next week")
    assert newer.join_code == old
    page = Client().get(f"/join/{old}/").content.decode()
    assert newer.situation in page


def test_opening_says_so_when_no_free_code_can_be_found(world, monkeypatch):
    session = make_session(world.group, open=False)
    monkeypatch.setattr(joincodes, "new", lambda: world.session.join_code)
    response = world.facilitator.post(f"/s/{session.public_id}/open/")
    assert response.status_code == 503
    assert "Could not find a free join code. Please try again." in response.content.decode()
    session.refresh_from_db()
    assert session.join_code is None


def test_ending_a_session_clears_its_code(world):
    code = world.session.join_code
    response = world.facilitator.post(f"/s/{world.session.public_id}/end/")
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.join_code is None
    assert not Session.objects.filter(join_code=code).exists()
    assert Client().get(f"/join/{code}/").status_code == 404


def test_reopening_a_session_gives_it_a_new_code(world):
    old = closed_code(world)
    world.facilitator.post(f"/s/{world.session.public_id}/open/")
    world.session.refresh_from_db()
    assert world.session.join_code not in (None, old)
    assert Client().get(f"/join/{old}/").status_code == 404
    assert Client().get(f"/join/{world.session.join_code}/").status_code == 200


def test_participants_who_joined_before_the_end_keep_their_phone_page(world):
    world.session.end()
    response = world.participant.get(f"/p/{world.session.public_id}/")
    assert response.status_code == 200
    assert "The session has ended." in response.content.decode()
