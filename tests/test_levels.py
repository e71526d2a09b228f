"""Levels, from one person to conditions, and the smaller part the group works on.

The facilitator places each cause on a level (one person; family and friends;
the community; services and institutions; laws, money and power), shows the
projector the causes by level, and may choose a branch as the smaller part
that Reflect and Act look at. Every POST is followed by a look at the database.
"""

import pytest

from sessions import levels
from sessions.models import Cause, Event, Session, Vote
from sessions.views.participating import render_phone
from sessions.views.presenting import render_projector
from tests.conftest import make_cause
from tests.test_permissions import FACILITATOR_ACTION, assert_outcome, matrix

FACILITATORS = {"facilitator", "co_facilitator"}


def post(world, persona, path, data=None, **headers):
    return world.as_(persona).post(f"/s/{world.session.public_id}/{path}", data or {}, **headers)


# Who may do it


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_place_a_cause_on_a_level(world, persona, expected):
    cause = make_cause(world.session)
    path = f"causes/{cause.pk}/level/"
    response = post(world, persona, path, {"level": "community"})
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/{path}")
    cause.refresh_from_db()
    assert (cause.level == "community") == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_choose_the_smaller_part_to_work_on(world, persona, expected):
    cause = make_cause(world.session)
    path = f"causes/{cause.pk}/work-on/"
    response = post(world, persona, path)
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/{path}")
    world.session.refresh_from_db()
    assert (world.session.branch_id == cause.pk) == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_go_back_to_the_whole_tree(world, persona, expected):
    cause = make_cause(world.session)
    world.session.work_on(cause)
    response = post(world, persona, "work-on/whole/")
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/work-on/whole/")
    world.session.refresh_from_db()
    assert (world.session.branch_id is None) == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_switch_the_projector_to_levels(world, persona, expected):
    response = post(world, persona, "levels/view/", {"show": "1"})
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/levels/view/")
    world.session.refresh_from_db()
    assert world.session.levels_view == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_let_phones_suggest_a_level(world, persona, expected):
    response = post(world, persona, "levels/phones/", {"allow": "1"})
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/levels/phones/")
    world.session.refresh_from_db()
    assert world.session.phones_suggest_level == (persona in FACILITATORS)


# Levels


def test_one_click_moves_a_cause_one_level_out_and_round_again(world):
    cause = make_cause(world.session)
    seen = []
    for _ in range(6):
        cause.refresh_from_db()
        response = post(
            world, "facilitator", f"causes/{cause.pk}/level/", {"level": cause.next_level}
        )
        assert response.status_code == 302
        cause.refresh_from_db()
        seen.append(cause.level)
    assert seen == ["person", "family", "community", "services", "laws", ""]


def test_the_console_answers_htmx_with_its_regions_and_a_notice(world):
    cause = make_cause(world.session, "Drivers speed")
    response = post(
        world,
        "facilitator",
        f"causes/{cause.pk}/level/",
        {"level": "services"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "“Drivers speed”: Services and institutions." in html
    assert f'id="level-{cause.pk}" data-level="services"' in html
    assert Cause.objects.get(pk=cause.pk).level == "services"


def test_placing_a_cause_is_undone_like_a_tag(world):
    cause = make_cause(world.session)
    post(world, "facilitator", f"causes/{cause.pk}/level/", {"level": "laws"})
    assert Cause.objects.get(pk=cause.pk).level == "laws"
    assert post(world, "facilitator", "undo/").status_code == 302
    assert Cause.objects.get(pk=cause.pk).level == ""


def test_an_undo_recorded_before_levels_existed_still_works(world):
    cause = make_cause(world.session)
    cause.hide()
    event = Event.objects.get(session=world.session, kind="hide")
    del event.data["undo"]["causes"][0]["level"]
    event.save()
    Cause.objects.filter(pk=cause.pk).update(level="family")
    assert post(world, "facilitator", "undo/").status_code == 302
    cause.refresh_from_db()
    assert (cause.state, cause.level) == ("visible", "family")


def test_a_level_that_is_not_one_of_the_five_is_refused_and_nothing_changes(world):
    cause = make_cause(world.session, level="person")
    before = world.session.last_seq
    for bad in ["planet", "PERSON", "x" * 500]:
        response = post(world, "facilitator", f"causes/{cause.pk}/level/", {"level": bad})
        assert response.status_code == 400
        assert "Choose one of the five levels." in response.content.decode()
    response = post(
        world,
        "facilitator",
        f"causes/{cause.pk}/level/",
        {"level": "planet"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Choose one of the five levels." in response.content.decode()
    assert Cause.objects.get(pk=cause.pk).level == "person"
    world.session.refresh_from_db()
    assert world.session.last_seq == before


def test_the_tags_form_sets_the_level_and_refuses_an_unknown_one(world):
    cause = make_cause(world.session)
    url = f"causes/{cause.pk}/tags/"
    assert post(world, "facilitator", url, {"level": "community"}).status_code == 302
    assert Cause.objects.get(pk=cause.pk).level == "community"
    response = post(world, "facilitator", url, {"level": "galaxy"})
    assert response.status_code == 400
    assert "Choose one of the five levels." in response.content.decode()
    assert Cause.objects.get(pk=cause.pk).level == "community"


def test_a_cause_of_another_session_cannot_be_placed_or_worked_on(world):
    elsewhere = make_cause(world.other_session, "Not yours")
    for path in ("level/", "work-on/"):
        response = post(world, "facilitator", f"causes/{elsewhere.pk}/{path}", {"level": "laws"})
        assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert (elsewhere.level, elsewhere.smaller_part) == ("", False)
    world.session.refresh_from_db()
    assert world.session.branch_id is None


def test_the_model_refuses_another_sessions_cause_as_the_branch(world):
    from sessions.models import Refused

    elsewhere = make_cause(world.other_session, "Not yours")
    with pytest.raises(Refused, match="another session"):
        world.session.work_on(elsewhere)
    assert Session.objects.get(pk=world.session.pk).branch_id is None


def test_a_hidden_cause_cannot_be_placed(world):
    cause = make_cause(world.session, state=Cause.State.HIDDEN)
    response = post(world, "facilitator", f"causes/{cause.pk}/level/", {"level": "laws"})
    assert response.status_code == 409
    assert Cause.objects.get(pk=cause.pk).level == ""


def test_the_script_asks_about_conditions_when_the_question_is_about_one_person(world):
    cause = make_cause(world.session, "He drives too fast", level="person")
    world.session.ask_why(cause)
    console = f"/s/{world.session.public_id}/console/"
    prompt = "Is this about one person, or about the conditions around them? But why?"
    assert prompt in world.facilitator.get(console).content.decode()
    post(world, "facilitator", f"causes/{cause.pk}/level/", {"level": "community"})
    assert prompt not in world.facilitator.get(console).content.decode()


def test_the_projector_shows_the_causes_by_level_with_counts(world):
    make_cause(world.session, "He drives too fast", level="person")
    make_cause(world.session, "Her family needs the car", level="family")
    make_cause(world.session, "The council cut the budget", level="laws")
    make_cause(world.session, "The road is wide", level="laws")
    make_cause(world.session, "Nobody knows yet")
    _seq, html = render_projector(world.session.pk)
    assert 'class="levels' not in html
    post(world, "facilitator", "levels/view/", {"show": "1"})
    _seq, html = render_projector(world.session.pk)
    assert 'class="levels-view"' in html
    assert 'data-level="person" data-count="1"' in html
    assert 'data-level="laws" data-count="2"' in html
    assert 'data-level="" data-count="1"' in html
    assert "The council cut the budget" in html
    post(world, "facilitator", "levels/view/", {"show": "0"})
    _seq, html = render_projector(world.session.pk)
    assert 'class="levels-view"' not in html


def test_phones_suggest_a_level_only_when_the_session_asks(world):
    session = world.session
    first = session.add_cause("Nobody fixes the lights", author=world.me, level="services")
    assert Cause.objects.get(pk=first.pk).level == ""
    post(world, "facilitator", "levels/phones/", {"allow": "1"})
    session.refresh_from_db()
    assert 'name="level"' in world.participant.get(f"/p/{session.public_id}/").content.decode()
    response = world.participant.post(
        f"/p/{session.public_id}/answers/",
        {"text": "The council cut the budget", "level": "laws", "key": "k1-abcdefgh-level-0001"},
    )
    assert response.status_code == 302
    suggested = Cause.objects.get(text="The council cut the budget")
    assert suggested.level == "laws"
    # The facilitator's choice wins.
    post(world, "facilitator", f"causes/{suggested.pk}/level/", {"level": "services"})
    assert Cause.objects.get(pk=suggested.pk).level == "services"


def test_a_phone_suggesting_an_unknown_level_is_told_and_nothing_is_added(world):
    world.session.set_level_suggestions(True)
    response = world.participant.post(
        f"/p/{world.session.public_id}/answers/",
        {"text": "Something", "level": "moon", "key": "k2-abcdefgh-level-0002"},
    )
    assert response.status_code == 400
    assert "Choose one of the five levels." in response.content.decode()
    assert not Cause.objects.filter(text="Something").exists()


# The smaller part to work on


@pytest.fixture
def branching(world):
    """A tree: the budget (with two answers under it), and the speeding drivers."""
    budget = make_cause(world.session, "The city cut its budget", level="laws")
    lights = make_cause(world.session, "No money for street lights", budget)
    crossing = make_cause(world.session, "The crossing guard was let go", budget)
    speed = make_cause(world.session, "Drivers speed")
    world.session.set_phase("reflect")
    world.session.refresh_from_db()
    return budget, lights, crossing, speed


def test_choosing_a_branch_focuses_reflect_on_it_and_tags_it(world, branching):
    _budget, lights, _crossing, _speed = branching
    response = post(world, "facilitator", f"causes/{lights.pk}/work-on/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Reflect and Act look at a smaller part:" in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.branch_id == lights.pk
    assert Cause.objects.get(pk=lights.pk).smaller_part is True
    assert world.session.events.filter(kind="branch", data__cause=lights.pk).exists()
    _seq, html = render_projector(world.session.pk)
    assert "No money for street lights" in html
    assert "Drivers speed" not in html and "The crossing guard" not in html
    phone = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    ballot = phone.split('id="ballot"', 1)[1].split("</ul>", 1)[0]
    assert "No money for street lights" in ballot
    assert "Drivers speed" not in ballot and "The city cut its budget" not in ballot
    _seq, broadcast = render_phone(world.session.pk)
    ballot = broadcast.split('id="ballot"', 1)[1].split("</ul>", 1)[0]
    assert "No money for street lights" in ballot and "Drivers speed" not in ballot


def test_a_vote_outside_the_smaller_part_is_refused(world, branching):
    budget, _lights, crossing, speed = branching
    world.session.work_on(budget)
    response = world.participant.post(
        f"/p/{world.session.public_id}/votes/", {"cause": speed.pk, "dots": 1}
    )
    assert response.status_code == 409
    assert "working on a smaller part" in response.content.decode()
    assert not Vote.objects.exists()
    response = world.participant.post(
        f"/p/{world.session.public_id}/votes/", {"cause": crossing.pk, "dots": 1}
    )
    assert response.status_code == 302
    assert Vote.objects.get().cause_id == crossing.pk


def test_back_to_the_whole_tree(world, branching):
    budget, _lights, _crossing, _speed = branching
    world.session.work_on(budget)
    assert post(world, "facilitator", "work-on/whole/").status_code == 302
    world.session.refresh_from_db()
    assert world.session.branch_id is None
    # The tag stays: it is still a smaller part, easier to change.
    assert Cause.objects.get(pk=budget.pk).smaller_part is True
    _seq, html = render_projector(world.session.pk)
    assert "Drivers speed" in html


def test_a_hidden_cause_cannot_become_the_smaller_part(world, branching):
    budget = branching[0]
    budget.hide()
    response = post(world, "facilitator", f"causes/{budget.pk}/work-on/")
    assert response.status_code == 409
    world.session.refresh_from_db()
    assert world.session.branch_id is None


def test_the_why_round_still_shows_the_whole_tree(world, branching):
    budget = branching[0]
    world.session.work_on(budget)
    world.session.set_phase("why")
    _seq, html = render_projector(world.session.pk)
    assert "Drivers speed" in html


def test_a_level_name_is_set_smaller_rather_than_broken_inside_a_word():
    width = (levels.WIDTH - levels.GAP * 5) / 6  # six columns
    font, lines = levels.name_lines("Servicios e instituciones", width)
    assert " ".join(lines).split() == ["Servicios", "e", "instituciones"]
    assert font < levels.HEAD_FONT
    assert levels.name_lines("One person", width) == (levels.HEAD_FONT, ("One person",))
