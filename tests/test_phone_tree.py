"""Phones keep people oriented: everyone's answers, drafts bound to their question,
a ballot that says what each cause answers."""

import re

import pytest

from sessions.models import Cause, Session
from sessions.views.participating import phone_audience, render_phone
from sessions.views.streams import RENDERERS
from tests.conftest import make_cause

HTMX = {"HTTP_HX_REQUEST": "true"}


def phone_page(world, client=None, tree=False):
    query = "?tree=1" if tree else ""
    return (client or world.participant).get(f"/p/{world.session.public_id}/{query}")


def answer(world, text: str, parent: Cause | None, **headers):
    return world.participant.post(
        f"/p/{world.session.public_id}/answers/",
        {"text": text, "parent": parent.pk if parent else "", "key": "draft-key-1"},
        **headers,
    )


def everyone_region(html: str) -> str:
    found = re.search(r'<section id="everyone".*?</section>', html, re.S)
    assert found, "no tree on the phone"
    return found.group(0)


@pytest.fixture
def branches(world):
    """Two branches; the second one's child is being asked about."""
    session = world.session
    lights = make_cause(session, "No street lights")
    budget = make_cause(session, "The council cut the budget", parent=lights)
    speed = make_cause(session, "Drivers speed on Main Street")
    wide = make_cause(session, "The road is wide and straight", parent=speed)
    make_cause(session, "A joke", parent=speed, state=Cause.State.HIDDEN)
    session.ask_why(wide)
    return lights, budget, speed, wide


# See everyone's answers


def test_the_phone_page_shows_everyones_answers_as_nested_lists(world, branches):
    _lights, _budget, _speed, _wide = branches
    response = phone_page(world, tree=True)
    assert response.status_code == 200
    region = everyone_region(response.content.decode())
    assert "See everyone's answers" in region and "(4)" in region
    # The branch being asked about first, the question marked, children nested.
    assert (
        region.index("Drivers speed")
        < region.index("The road is wide")
        < region.index("No street lights")
    )
    assert re.search(r"Drivers speed on Main Street</span><ul><li[^>]*aria-current", region)
    assert 'aria-current="true"><span dir="auto">The road is wide' in region
    assert region.count("<ul") == region.count("</ul>") == 3
    assert region.count("<li") == region.count("</li>") == 4
    assert "A joke" not in region
    # Opened with the link (no JavaScript): open, and its stream keeps it coming.
    assert '<details id="everyone-tree" open>' in region
    assert f'data-stream="/p/{world.session.public_id}/stream/?tree=1"' in (
        response.content.decode()
    )


def test_a_phone_gets_everyones_answers_only_once_it_opens_them(world, branches):
    page = phone_page(world).content.decode()
    region = everyone_region(page)
    # The count, and a link that opens them without JavaScript; not the tree itself.
    assert "See everyone's answers" in region and "(4)" in region
    assert '<a href="?tree=1#everyone">Show the whole tree</a>' in region
    assert "No street lights" not in region and "<li" not in region
    assert '<details id="everyone-tree">' in region
    assert f'data-stream="/p/{world.session.public_id}/stream/"' in page


def test_everyones_answers_travel_only_to_the_phones_that_opened_them(world, branches):
    seq, html = render_phone(world.session.pk, with_tree=True)
    assert seq == Session.objects.get(pk=world.session.pk).last_seq
    region = everyone_region(html)
    assert "No street lights" in region and "The council cut the budget" in region
    world.session.add_cause("Nobody walks there at night")
    opened = everyone_region(render_phone(world.session.pk, with_tree=True)[1])
    assert "Nobody walks there at night" in opened and "(5)" in opened
    # The others get the count, not the answers: a fraction of the message.
    seq, lean = render_phone(world.session.pk)
    assert "(5)" in everyone_region(lean) and "Nobody walks there" not in lean
    assert len(lean) < len(render_phone(world.session.pk, with_tree=True)[1])


@pytest.mark.parametrize(
    ("query", "cookies", "audience"),
    [
        ("", {}, "phone"),
        ("?tree=1", {}, "phone-tree"),
        ("?tree=1", {"django_language": "fr"}, "phone-tree:fr"),
        ("", {"django_language": "fr"}, "phone:fr"),
        ("?tree=yes", {}, "phone"),
    ],
)
def test_the_phones_stream_follows_the_tree_only_when_asked(rf, query, cookies, audience):
    request = rf.get(f"/p/x/stream/{query}")
    request.COOKIES.update(cookies)
    assert phone_audience(request) == audience
    assert audience in RENDERERS


def test_the_tree_is_in_the_phones_chosen_language(world, branches):
    html = render_phone(world.session.pk, language="es", with_tree=True)[1]
    assert "Ver las respuestas de todos" in everyone_region(html)


def test_a_tree_far_deeper_than_any_room_makes_renders_without_recursion(world):
    parent = None
    for n in range(400):
        parent = Cause.objects.create(
            session=world.session, parent=parent, text=f"Level {n}", state=Cause.State.VISIBLE
        )
    world.session.ask_why(parent)
    region = everyone_region(render_phone(world.session.pk, with_tree=True)[1])
    assert region.count("<li") == region.count("</li>") == 400
    assert region.count("<ul") == region.count("</ul>") == 400
    assert 'aria-current="true"><span dir="auto">Level 399<' in region


def test_an_empty_board_says_so(world):
    region = everyone_region(phone_page(world, tree=True).content.decode())
    assert "No answers on the board yet." in region


def test_a_session_can_keep_the_tree_off_the_phones(world, branches):
    Session.objects.filter(pk=world.session.pk).update(phone_tree=False)
    page = phone_page(world, tree=True).content.decode()
    assert "See everyone" not in page and "The council cut the budget" not in page
    assert '<div id="everyone" hidden></div>' in page
    for with_tree in (False, True):
        broadcast = render_phone(world.session.pk, with_tree=with_tree)[1]
        assert "See everyone" not in broadcast and "The council cut the budget" not in broadcast


@pytest.mark.parametrize(
    ("persona", "status"), [("participant", 200), ("other_participant", 302), ("anonymous", 302)]
)
def test_only_the_sessions_own_phones_see_its_tree(world, branches, persona, status):
    response = world.as_(persona).get(f"/p/{world.session.public_id}/")
    assert response.status_code == status
    if status == 302:
        assert response["Location"] == f"/join/{world.session.join_code}/"
        assert "The council cut the budget" not in response.content.decode()


def test_the_phones_see_no_tree_of_a_session_that_does_not_exist(world):
    assert world.participant.get("/p/nosuchsession/").status_code == 404


def test_the_session_form_offers_the_tree_on_by_default(world):
    url = f"/g/{world.group.public_id}/sessions/new/"
    page = world.facilitator.get(url).content.decode()
    assert re.search(r'<input type="checkbox" name="phone_tree"[^>]* checked', page)
    assert "Phones can see everyone&#x27;s answers" in page


@pytest.mark.parametrize(("ticked", "expected"), [({"phone_tree": "on"}, True), ({}, False)])
def test_the_facilitator_chooses_whether_phones_see_the_tree(world, ticked, expected):
    response = world.facilitator.post(
        f"/g/{world.group.public_id}/sessions/new/",
        {
            "title": "Town hall",
            "situation": "The bus stop moved",
            "kind": "problem",
            "language": "en",
            "names": "anonymous",
            "moderation": "show",
            **ticked,
        },
    )
    assert response.status_code == 302
    assert world.group.sessions.get(title="Town hall").phone_tree is expected


def test_a_copy_keeps_the_tree_setting(world):
    Session.objects.filter(pk=world.session.pk).update(phone_tree=False)
    response = world.facilitator.get(
        f"/g/{world.group.public_id}/sessions/new/?follows={world.session.public_id}"
    )
    assert not re.search(r'name="phone_tree"[^>]* checked', response.content.decode())


# A draft belongs to its question


def test_the_answer_form_carries_the_question_it_was_typed_for(world, branches):
    _lights, _budget, _speed, wide = branches
    page = phone_page(world).content.decode()
    form = re.search(r'<form id="answer-form".*?</form>', page, re.S).group(0)
    assert f'<input type="hidden" name="parent" value="{wide.pk}">' in form
    # The choice, hidden until the room moves on while something is typed.
    assert '<div class="moved-on" hidden>' in form
    assert f'name="parent" value="{wide.pk}" class="primary to-asked"' in form
    assert "You were answering:" in form and "“The road is wide and straight”?" in form
    # The broadcast says which question is asked now; it carries no parent field.
    broadcast = render_phone(world.session.pk)[1]
    assert f'data-question="{wide.pk}"' in broadcast
    assert 'name="parent"' not in broadcast


def test_an_answer_sent_for_the_earlier_question_is_filed_under_it(world, branches):
    lights, _budget, _speed, wide = branches
    world.session.ask_why(lights)
    response = answer(world, "Trucks use it as a shortcut", parent=wide)
    assert response.status_code == 302
    cause = world.session.causes.get(text="Trucks use it as a shortcut")
    assert cause.parent == wide


def test_an_answer_sent_for_the_new_question_is_filed_under_it(world, branches):
    lights, _budget, _speed, _wide = branches
    world.session.ask_why(lights)
    answer(world, "Nobody asked for lights", parent=lights)
    assert world.session.causes.get(text="Nobody asked for lights").parent == lights


def test_an_answer_sent_back_with_an_error_keeps_its_earlier_question(world, branches):
    lights, _budget, _speed, wide = branches
    world.session.ask_why(lights)
    response = answer(world, "x" * 400, parent=wide, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<input type="hidden" name="parent" value="{wide.pk}">' in html
    assert "“The road is wide and straight”?" in html
    assert world.session.causes.filter(text__startswith="xxx").count() == 0


def test_an_answer_sent_back_keeps_the_situation_as_its_question(world, branches):
    _lights, _budget, _speed, _wide = branches
    response = answer(world, "", parent=None, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert '<input type="hidden" name="parent" value="">' in html
    assert 'You were answering: <span class="was" dir="auto">Why does this happen?' in html


def test_an_answer_for_a_question_taken_off_the_board_is_offered_the_new_one(world, branches):
    lights, _budget, _speed, wide = branches
    world.session.ask_why(lights)
    Cause.objects.filter(pk=wide.pk).update(state=Cause.State.HIDDEN)
    response = answer(world, "Trucks use it as a shortcut", parent=wide, **HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "no longer on the board" in html
    assert f'<input type="hidden" name="parent" value="{lights.pk}">' in html
    assert "Trucks use it as a shortcut" in html  # nothing typed is lost
    assert not world.session.causes.filter(text="Trucks use it as a shortcut").exists()


# The ballot


def test_the_ballot_shows_each_cause_with_the_cause_it_answers(world, branches):
    world.session.set_phase("reflect")
    page = phone_page(world).content.decode()
    ballot = re.search(r'<ul id="ballot".*?</ul>', page, re.S).group(0)
    assert ballot.count("<li") == 4
    assert (
        '<span class="because"><q dir="auto">No street lights</q>, because:</span> '
        '<span dir="auto">The council cut the budget</span>'
    ) in ballot
    # A top-level cause answers the situation: nothing before it.
    assert '<span class="text"><span dir="auto">No street lights</span>' in ballot
