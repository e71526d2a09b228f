"""Reflect, act, agree: phases, dot votes, tags, actions and the plan.

Every POST is followed by a look at the database. Votes and actions from
phones go through the participant's cookie; the console's steps through a
facilitator's login.
"""

import datetime
import re

import pytest
from django.db import IntegrityError
from django.test import Client
from django.utils import timezone

from sessions.models import Action, ActionLink, Cause, Event, Session, Vote
from sessions.views.participating import render_phone
from sessions.views.presenting import render_projector
from tests.conftest import PERSONAS, join, make_cause
from tests.test_cause_tree import checked_at_once
from tests.test_permissions import FACILITATOR_ACTION, FACILITATOR_PAGE, assert_outcome, matrix

FACILITATORS = {"facilitator", "co_facilitator"}
PHONE_ACTION = {persona: 403 for persona in PERSONAS} | {"participant": "phone"}


def post(world, persona, path, data=None, **headers):
    return world.as_(persona).post(f"/s/{world.session.public_id}/{path}", data or {}, **headers)


def phone_post(world, path, data=None, client=None, **headers):
    client = client or world.participant
    return client.post(f"/p/{world.session.public_id}/{path}", data or {}, **headers)


def to_phase(session, phase):
    session.set_phase(phase)
    session.refresh_from_db()


@pytest.fixture
def voting(world):
    """The world's session in the reflect phase, with three causes on the board."""
    causes = [make_cause(world.session, t) for t in ("No lights", "Fast cars", "No crossing")]
    to_phase(world.session, "reflect")
    return causes


# Phases


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_move_the_room_to_another_phase(world, persona, expected):
    make_cause(world.session)
    response = post(world, persona, "phase/", {"phase": "reflect"})
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/phase/")
    world.session.refresh_from_db()
    assert (world.session.phase == "reflect") == (persona in FACILITATORS)


def test_an_unknown_phase_is_refused_and_nothing_changes(world):
    response = post(world, "facilitator", "phase/", {"phase": "party"})
    assert response.status_code == 400
    assert "Choose a step of the session." in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.phase == "why"


def test_only_a_follow_up_session_can_review_an_earlier_plan(world):
    response = post(world, "facilitator", "phase/", {"phase": "review"})
    assert response.status_code == 409
    assert "Only a follow-up session" in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.phase == "why"


def test_the_console_shows_the_prompt_for_the_current_step(world):
    console = f"/s/{world.session.public_id}/console/"
    assert "why does this happen?" in world.facilitator.get(console).content.decode()
    make_cause(world.session)
    to_phase(world.session, "reflect")
    assert "Which of these causes matter most?" in world.facilitator.get(console).content.decode()
    to_phase(world.session, "act")
    assert "what actions can address this?" in world.facilitator.get(console).content.decode()
    to_phase(world.session, "agree")
    assert "Agree where to start" in world.facilitator.get(console).content.decode()


def test_a_success_session_turns_the_wording_around(world):
    Session.objects.filter(pk=world.session.pk).update(kind="success")
    console = f"/s/{world.session.public_id}/console/"
    assert "why did this go well?" in world.facilitator.get(console).content.decode()
    make_cause(world.session)
    to_phase(world.session, "act")
    html = world.facilitator.get(console).content.decode()
    assert "what can we repeat, or do more of?" in html
    phone = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    assert "What can we repeat, or do more of?" in phone


def test_the_phones_show_what_the_phase_asks_of_them(world, voting):
    to_phase(world.session, "why")
    phone = f"/p/{world.session.public_id}/"
    assert 'data-phase="why"' in world.participant.get(phone).content.decode()
    to_phase(world.session, "reflect")
    html = world.participant.get(phone).content.decode()
    assert 'data-phase="reflect"' in html and 'id="ballot"' in html
    assert "You have 3 dots." in html


# Dot votes


def vote(world, cause, dots, client=None, **headers):
    return phone_post(world, "votes/", {"cause": cause.pk, "dots": dots}, client, **headers)


def my_dots(world):
    return dict(Vote.objects.filter(participant=world.me).values_list("cause_id", "dots"))


def test_a_participant_puts_dots_on_causes_and_takes_them_back(world, voting):
    lights, cars, _crossing = voting
    assert vote(world, lights, 1).status_code == 302
    assert vote(world, cars, 1).status_code == 302
    assert my_dots(world) == {lights.pk: 1, cars.pk: 1}
    assert vote(world, lights, 0).status_code == 302
    assert my_dots(world) == {cars.pk: 1}


def test_a_vote_sent_twice_counts_once(world, voting):
    lights = voting[0]
    assert vote(world, lights, 1).status_code == 302
    assert vote(world, lights, 1).status_code == 302
    assert my_dots(world) == {lights.pk: 1}


def test_the_answer_to_a_vote_is_the_phones_own_dots(world, voting):
    lights = voting[0]
    response = vote(world, lights, 1, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'data-dots="{lights.pk}:1 "' in html and 'data-left="2"' in html


def test_a_vote_beyond_the_budget_is_refused(world, voting):
    for cause in voting:
        assert vote(world, cause, 1).status_code == 302
    fourth = make_cause(world.session, "Broken fence")
    response = vote(world, fourth, 1, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "You have used all your dots" in response.content.decode()
    assert fourth.pk not in my_dots(world)
    assert sum(my_dots(world).values()) == 3


def test_a_second_dot_on_one_cause_needs_the_sessions_permission(world, voting):
    lights = voting[0]
    response = vote(world, lights, 2, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "each cause can get only one of your dots" in response.content.decode()
    assert my_dots(world) == {}
    world.session.set_voting(3, stack_dots=True)
    assert vote(world, lights, 2).status_code == 302
    assert my_dots(world) == {lights.pk: 2}


@pytest.mark.parametrize("phase", ["why", "act", "agree"])
def test_a_vote_outside_the_reflect_phase_is_refused(world, voting, phase):
    to_phase(world.session, phase)
    response = vote(world, voting[0], 1)
    assert response.status_code == 409
    assert "Voting is not open right now." in response.content.decode()
    assert my_dots(world) == {}


def test_voting_stops_once_the_results_are_revealed(world, voting):
    world.session.reveal_votes()
    response = vote(world, voting[0], 1)
    assert response.status_code == 409
    assert my_dots(world) == {}


def test_a_vote_for_a_cause_of_another_session_is_refused(world, voting):
    elsewhere = make_cause(world.other_session, "Elsewhere")
    response = vote(world, elsewhere, 1)
    assert response.status_code == 404
    assert not Vote.objects.exists()


def test_a_vote_for_a_hidden_cause_is_refused(world, voting):
    voting[0].hide()
    assert vote(world, voting[0], 1).status_code == 409
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    "data", [{}, {"cause": "x", "dots": 1}, {"cause": 1, "dots": -1}, {"cause": 1, "dots": 99}]
)
def test_a_malformed_vote_gets_a_message(world, voting, data):
    response = phone_post(world, "votes/", data)
    assert response.status_code == 400
    assert "Choose a cause and how many dots" in response.content.decode()
    assert not Vote.objects.exists()


@pytest.mark.parametrize(("persona", "expected"), matrix(PHONE_ACTION))
def test_only_joined_phones_vote(world, voting, persona, expected):
    url = f"/p/{world.session.public_id}/votes/"
    response = world.as_(persona).post(url, {"cause": voting[0].pk, "dots": 1})
    assert_outcome(response, expected, world, url)
    assert Vote.objects.exists() == (persona == "participant")


def test_counts_stay_hidden_until_revealed_then_the_projector_ranks_the_causes(world, voting):
    lights, cars, crossing = voting
    others = [Client(), Client()]
    for client in others:
        join(client, world.session)
    vote(world, cars, 1)
    for client in others:
        vote(world, cars, 1, client=client)
        vote(world, lights, 1, client=client)
    projector = f"/s/{world.session.public_id}/present/"
    html = world.organizer.get(projector).content.decode()
    assert "dots-count" not in render_phone(world.session.pk)[1]
    assert "3 people have voted so far." in html
    assert "● 3 dots" not in html and "● 2 dots" not in html
    console = world.facilitator.get(f"/s/{world.session.public_id}/console/").content.decode()
    assert "3 people have placed dots" in console and "● 3 dots" not in console

    world.session.reveal_votes()
    html = world.organizer.get(projector).content.decode()
    assert "● 3 dots" in html and "● 2 dots" in html
    # The projector draws the dots on the tree and numbers the causes with most.
    drawn = [chunk.split("</g>")[0] for chunk in html.split('<g class="box')[1:]]

    def box(text):
        return next(b for b in drawn if f">{text}</tspan>" in b)

    assert "Most dots: #1" in box("Fast cars") and "Most dots: #2" in box("No lights")
    assert "Most dots" not in box("No crossing")
    assert "Fast cars" in render_phone(world.session.pk)[1]
    assert crossing.pk  # on the board, with no dots


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_reveal_the_votes(world, voting, persona, expected):
    response = post(world, persona, "votes/reveal/")
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/votes/reveal/")
    world.session.refresh_from_db()
    assert world.session.votes_revealed == (persona in FACILITATORS)


def test_hiding_the_results_reopens_voting(world, voting):
    world.session.reveal_votes()
    assert post(world, "facilitator", "votes/hide/").status_code == 302
    world.session.refresh_from_db()
    assert not world.session.votes_revealed
    assert vote(world, voting[0], 1).status_code == 302


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_set_the_dots(world, persona, expected):
    response = post(world, persona, "voting/", {"dot_budget": 5, "stack_dots": "on"})
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/voting/")
    world.session.refresh_from_db()
    changed = (world.session.dot_budget, world.session.stack_dots) == (5, True)
    assert changed == (persona in FACILITATORS)


@pytest.mark.parametrize(("budget", "message"), [("0", "at least one"), ("21", "at most 20")])
def test_a_dot_budget_out_of_range_is_refused(world, budget, message):
    response = post(world, "facilitator", "voting/", {"dot_budget": budget})
    assert response.status_code == 400
    assert message in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.dot_budget == 3


def test_merged_causes_bring_their_dots_to_the_cause_they_joined(world, voting):
    lights, cars, _crossing = voting
    vote(world, lights, 1)
    vote(world, cars, 1)
    lights.merge_into(cars)
    assert world.session.tally() == {cars.pk: 2}


# Tags


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_tag_causes(world, persona, expected):
    cause = make_cause(world.session)
    data = {
        "matters_most": "on",
        "can_change": "yes",
        "who_can_change": "outside",
        "actor": "The city council",
        "smaller_part": "on",
    }
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/tags/"
    assert_outcome(world.as_(persona).post(url, data), expected, world, url)
    cause.refresh_from_db()
    tagged = (cause.matters_most, cause.can_change, cause.who_can_change, cause.actor) == (
        True,
        "yes",
        "outside",
        "The city council",
    )
    assert tagged == (persona in FACILITATORS)
    assert cause.smaller_part == (persona in FACILITATORS)


def test_bad_tags_are_refused_and_nothing_changes(world):
    cause = make_cause(world.session)
    response = post(world, "facilitator", f"causes/{cause.pk}/tags/", {"can_change": "maybe"})
    assert response.status_code == 400
    response = post(world, "facilitator", f"causes/{cause.pk}/tags/", {"actor": "x" * 121})
    assert response.status_code == 400
    assert "Please keep it to 120 characters" in response.content.decode()
    cause.refresh_from_db()
    assert (cause.can_change, cause.actor) == ("", "")


def test_the_matters_most_switch_turns_on_and_off_and_undoes(world):
    cause = make_cause(world.session)
    post(world, "facilitator", f"causes/{cause.pk}/matters/", {"matters": "1"})
    cause.refresh_from_db()
    assert cause.matters_most
    post(world, "facilitator", f"causes/{cause.pk}/matters/", {"matters": "0"})
    cause.refresh_from_db()
    assert not cause.matters_most
    post(world, "facilitator", "undo/")
    cause.refresh_from_db()
    assert cause.matters_most


def test_the_projector_shows_tags_and_filters_to_what_matters(world, voting):
    lights, cars, crossing = voting
    lights.tag(matters_most=True, who_can_change="outside", actor="City <council>")
    cars.tag(can_change="no")
    projector = f"/s/{world.session.public_id}/present/"
    html = world.organizer.get(projector).content.decode()
    assert "★ Matters most" in html and "Outside: City &lt;council&gt;" in html
    assert "Cannot change" in html
    post(world, "facilitator", "board/", {"board_filter": "matters"})
    tree = render_projector(world.session.pk)[1]
    tree = tree[tree.index('id="tree"') : tree.index('id="plan"')]
    assert "No lights" in tree and "Fast cars" not in tree and crossing.text not in tree
    post(world, "facilitator", "board/", {"board_filter": "changeable"})
    cars.tag(can_change="yes")
    tree = render_projector(world.session.pk)[1]
    tree = tree[tree.index('id="tree"') : tree.index('id="plan"')]
    assert "Fast cars" in tree and "No lights" not in tree


# Actions


@pytest.fixture
def acting(world):
    """The act phase, with one cause that matters most and one that does not."""
    matters = make_cause(world.session, "No lights")
    matters.tag(matters_most=True)
    other = make_cause(world.session, "Fast cars")
    to_phase(world.session, "act")
    return matters, other


def propose(world, text, causes, key="idea-key-0001", client=None, **headers):
    data = {"text": text, "causes": [c.pk for c in causes], "key": key}
    return phone_post(world, "actions/", data, client, **headers)


def test_a_participant_proposes_an_action_for_what_matters_most(world, acting):
    matters, _other = acting
    response = propose(world, "Ask the council for lamps", [matters])
    assert response.status_code == 302
    action = Action.objects.get()
    assert (action.text, action.author, action.state) == (
        "Ask the council for lamps",
        world.me,
        "visible",
    )
    assert action.cause_ids == [matters.pk]


def test_a_proposal_sent_twice_is_saved_once(world, acting):
    propose(world, "Ask the council for lamps", [acting[0]])
    propose(world, "Ask the council for lamps", [acting[0]])
    assert Action.objects.count() == 1


def test_a_proposal_for_a_cause_not_chosen_is_refused_unless_the_session_allows_any(world, acting):
    _matters, other = acting
    response = propose(world, "Speed bumps", [other], HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "causes that matter most" in response.content.decode()
    assert "Speed bumps" in response.content.decode()  # the text is kept
    assert not Action.objects.exists()
    world.session.set_board("all", actions_for_any_cause=True)
    assert propose(world, "Speed bumps", [other], key="idea-key-0002").status_code == 302
    assert Action.objects.get().cause_ids == [other.pk]


def test_a_proposal_for_a_cause_of_another_session_is_refused(world, acting):
    elsewhere = make_cause(world.other_session, "Elsewhere")
    elsewhere.tag(matters_most=True)
    response = propose(world, "Lamps", [elsewhere])
    assert response.status_code == 404
    assert not Action.objects.exists()


@pytest.mark.parametrize("phase", ["why", "reflect", "agree"])
def test_a_proposal_outside_the_act_phase_is_refused(world, acting, phase):
    to_phase(world.session, phase)
    response = propose(world, "Lamps", [acting[0]])
    assert response.status_code == 409
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "", "causes": [1]}, "Please write something first."),
        ({"text": "Lamps"}, "Choose at least one cause"),
        ({"text": "Lamps", "causes": ["x"]}, "Choose the causes from the list."),
        ({"text": "x" * 281, "causes": [1]}, "Please keep it to 280 characters"),
    ],
)
def test_a_malformed_proposal_gets_a_message(world, acting, data, message):
    response = phone_post(world, "actions/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Action.objects.exists()


def test_held_proposals_wait_for_the_facilitator(world, acting):
    world.session.set_moderation("hold", False)
    propose(world, "Lamps", [acting[0]])
    action = Action.objects.get()
    assert action.state == "pending"
    assert "Lamps" not in render_projector(world.session.pk)[1]
    assert post(world, "facilitator", f"actions/{action.pk}/approve/").status_code == 302
    action.refresh_from_db()
    assert action.state == "visible"
    assert "Lamps" in render_projector(world.session.pk)[1]


@pytest.mark.parametrize(("persona", "expected"), matrix(PHONE_ACTION))
def test_only_joined_phones_propose_actions(world, acting, persona, expected):
    url = f"/p/{world.session.public_id}/actions/"
    data = {"text": "Lamps", "causes": [acting[0].pk], "key": "idea-key-0001"}
    response = world.as_(persona).post(url, data)
    assert_outcome(response, expected, world, url)
    assert Action.objects.exists() == (persona == "participant")


def test_a_participant_withdraws_their_own_idea_only(world, acting):
    propose(world, "Lamps", [acting[0]])
    action = Action.objects.get()
    url = f"/p/{world.session.public_id}/actions/{action.pk}/withdraw/"
    assert world.other_participant.post(url).status_code == 403
    assert world.participant.post(url).status_code == 302
    action.refresh_from_db()
    assert action.state == "withdrawn"


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_write_down_actions(world, acting, persona, expected):
    response = post(world, persona, "actions/", {"text": "Lamps", "causes": [acting[1].pk]})
    assert_outcome(response, expected, world, f"/s/{world.session.public_id}/actions/")
    assert Action.objects.filter(text="Lamps").exists() == (persona in FACILITATORS)


def test_the_facilitators_action_form_keeps_the_text_on_error(world, acting):
    response = post(
        world, "facilitator", "actions/", {"text": "Lamps <b>now</b>"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose at least one cause" in html and "Lamps &lt;b&gt;now&lt;/b&gt;" in html
    assert not Action.objects.exists()


def make_action(session, text="Ask for lamps", causes=()):
    action = session.add_action(text, [c.pk for c in causes] or [make_cause(session).pk])
    return action


@pytest.mark.parametrize(
    ("step", "before", "after"),
    [
        ("approve", "pending", "visible"),
        ("reject", "pending", "rejected"),
        ("hide", "visible", "hidden"),
        ("unhide", "hidden", "visible"),
    ],
)
@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_moderate_actions(world, persona, expected, step, before, after):
    action = make_action(world.session)
    Action.objects.filter(pk=action.pk).update(state=before)
    url = f"/s/{world.session.public_id}/actions/{action.pk}/{step}/"
    assert_outcome(world.as_(persona).post(url), expected, world, url)
    action.refresh_from_db()
    assert action.state == (after if persona in FACILITATORS else before)


def test_an_action_of_another_session_is_404_on_this_ones_console(world):
    elsewhere = make_action(world.other_session)
    for step in ("", "hide/", "edit/", "agree/"):
        method = world.facilitator.get if step == "" else world.facilitator.post
        response = method(f"/s/{world.session.public_id}/actions/{elsewhere.pk}/{step}")
        assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.state == "visible" and not elsewhere.agreed


def test_edit_merge_and_undo_actions(world):
    lights, cars = make_cause(world.session, "No lights"), make_cause(world.session, "Fast cars")
    lamps = make_action(world.session, "Lamps", [lights])
    bumps = make_action(world.session, "Speed bumps", [cars])
    base = f"actions/{lamps.pk}/"
    assert post(world, "facilitator", base + "edit/", {"text": "Street lamps"}).status_code == 302
    lamps.refresh_from_db()
    assert lamps.text == "Street lamps"
    response = post(world, "facilitator", base + "merge/", {"target": bumps.pk})
    assert response.status_code == 302
    lamps.refresh_from_db()
    assert (lamps.state, lamps.merged_into) == ("merged", bumps)
    assert set(bumps.cause_ids) == {lights.pk, cars.pk}
    assert post(world, "facilitator", "undo/").status_code == 302
    lamps.refresh_from_db()
    assert lamps.state == "visible" and lamps.merged_into is None
    assert bumps.cause_ids == [cars.pk]


def test_merging_a_cause_hands_its_actions_to_the_cause_it_joined_until_undone(world):
    lights, dark = make_cause(world.session, "No lights"), make_cause(world.session, "Dark corner")
    lamps = make_action(world.session, "Lamps", [dark])
    patrols = make_action(world.session, "Patrols", [lights, dark])
    dark.merge_into(lights)
    assert set(Action.objects.get(pk=lamps.pk).cause_ids) == {lights.pk, dark.pk}
    assert set(Action.objects.get(pk=patrols.pk).cause_ids) == {lights.pk, dark.pk}
    assert ActionLink.objects.count() == 4  # one added, none doubled
    world.session.undo()
    assert Action.objects.get(pk=lamps.pk).cause_ids == [dark.pk]
    assert set(Action.objects.get(pk=patrols.pk).cause_ids) == {lights.pk, dark.pk}


def test_an_action_cannot_be_merged_into_itself(world):
    lamps = make_action(world.session, "Lamps")
    response = post(world, "facilitator", f"actions/{lamps.pk}/merge/", {"target": lamps.pk})
    assert response.status_code == 400
    lamps.refresh_from_db()
    assert lamps.state == "visible"


def test_an_edit_made_meanwhile_is_not_overwritten(world):
    lamps = make_action(world.session, "Lamps")
    lamps.edit("Street lamps")
    response = post(
        world, "facilitator", f"actions/{lamps.pk}/edit/", {"text": "Lights", "was": "Lamps"}
    )
    assert response.status_code == 409
    lamps.refresh_from_db()
    assert lamps.text == "Street lamps"


# Agree


IN_TWO_WEEKS = timezone.localdate() + datetime.timedelta(days=14)
AGREED = {"owner": "Rosa", "first_step": "Write to the council", "due": IN_TWO_WEEKS.isoformat()}


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_agree_actions(world, persona, expected):
    lamps = make_action(world.session, "Lamps")
    url = f"/s/{world.session.public_id}/actions/{lamps.pk}/agree/"
    assert_outcome(world.as_(persona).post(url, AGREED), expected, world, url)
    lamps.refresh_from_db()
    assert lamps.agreed == (persona in FACILITATORS)
    if lamps.agreed:
        assert (lamps.owner, lamps.first_step, lamps.due) == (
            "Rosa",
            "Write to the council",
            IN_TWO_WEEKS,
        )


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_PAGE))
def test_only_facilitators_open_an_actions_page(world, persona, expected):
    lamps = make_action(world.session, "Lamps")
    url = f"/s/{world.session.public_id}/actions/{lamps.pk}/"
    assert_outcome(world.as_(persona).get(url), expected, world, url)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**AGREED, "due": "next Tuesday"}, "Write the date like 2026-12-31."),
        ({**AGREED, "due": "2026-02-30"}, "Write the date like 2026-12-31."),
        ({**AGREED, "due": "1850-01-01"}, "between 2000 and 2100"),
        (
            {**AGREED, "due": (timezone.localdate() - datetime.timedelta(days=1)).isoformat()},
            "This date has passed: choose today or a later day.",
        ),
        ({**AGREED, "owner": "x" * 121}, "Please keep it to 120 characters"),
        ({**AGREED, "owner": "  "}, "Write who will do it"),
    ],
)
def test_a_bad_agreement_gets_a_message_and_changes_nothing(world, data, message):
    lamps = make_action(world.session, "Lamps")
    response = post(world, "facilitator", f"actions/{lamps.pk}/agree/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    lamps.refresh_from_db()
    assert not lamps.agreed and lamps.owner == ""


def test_today_is_a_good_date_and_the_form_says_so_before_sending(world):
    lamps = make_action(world.session, "Lamps")
    page = world.facilitator.get(f"/s/{world.session.public_id}/actions/{lamps.pk}/")
    assert f'min="{timezone.localdate().isoformat()}"' in page.content.decode()
    today = {**AGREED, "due": timezone.localdate().isoformat()}
    response = post(world, "facilitator", f"actions/{lamps.pk}/agree/", today)
    assert response.status_code == 302
    lamps.refresh_from_db()
    assert lamps.due == timezone.localdate()


def test_a_late_action_keeps_its_date_when_someone_else_takes_it_on(world):
    lamps = make_action(world.session, "Lamps")
    last_week = timezone.localdate() - datetime.timedelta(days=7)
    lamps.agree(owner="Rosa", owner_outside=False, first_step="", due=last_week)
    data = {"owner": "Amina", "first_step": "", "due": last_week.isoformat()}
    response = post(world, "facilitator", f"actions/{lamps.pk}/agree/", data)
    assert response.status_code == 302
    lamps.refresh_from_db()
    assert (lamps.owner, lamps.due) == ("Amina", last_week)
    earlier = {**data, "due": (last_week - datetime.timedelta(days=1)).isoformat()}
    response = post(world, "facilitator", f"actions/{lamps.pk}/agree/", earlier)
    assert response.status_code == 400
    lamps.refresh_from_db()
    assert lamps.due == last_week


def test_a_hidden_action_cannot_go_in_the_plan(world):
    lamps = make_action(world.session, "Lamps")
    lamps.hide()
    response = post(world, "facilitator", f"actions/{lamps.pk}/agree/", AGREED)
    assert response.status_code == 409
    lamps.refresh_from_db()
    assert not lamps.agreed


def test_the_plan_keeps_the_order_the_group_chose(world):
    first, second, third = (make_action(world.session, t) for t in ("Lamps", "Bumps", "Signs"))
    for action in (first, second, third):
        post(world, "facilitator", f"actions/{action.pk}/agree/", AGREED)

    def plan():
        agreed = world.session.actions.filter(agreed=True).order_by("plan_order")
        return [a.text for a in agreed]

    assert plan() == ["Lamps", "Bumps", "Signs"]
    post(world, "facilitator", f"actions/{third.pk}/up/")
    assert plan() == ["Lamps", "Signs", "Bumps"]
    post(world, "facilitator", f"actions/{first.pk}/down/")
    assert plan() == ["Signs", "Lamps", "Bumps"]
    post(world, "facilitator", f"actions/{first.pk}/leave-plan/")
    assert plan() == ["Signs", "Bumps"]
    first.refresh_from_db()
    assert first.plan_order is None


def test_the_projector_and_phones_show_the_plan_in_the_agree_phase(world):
    lamps = make_action(world.session, "Lamps")
    lamps.agree(owner="Rosa", owner_outside=False, first_step="Write", due=None)
    make_action(world.session, "Speed bumps")
    to_phase(world.session, "agree")
    projector = render_projector(world.session.pk)[1]
    assert "Lamps" in projector and "Rosa" in projector and "not decided" in projector
    assert "Other ideas" in projector and "Speed bumps" in projector
    phone = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    assert "Our plan" in phone and "Rosa" in phone


# Integrity: links stay inside their session, whatever the code above does.


def test_the_database_refuses_a_link_to_a_cause_of_another_session(world):
    lamps = make_action(world.session, "Lamps")
    elsewhere = make_cause(world.other_session, "Elsewhere")
    with pytest.raises(IntegrityError), checked_at_once():
        ActionLink.objects.create(session=world.session, action=lamps, cause=elsewhere)


def test_the_database_refuses_a_vote_for_a_cause_of_another_session(world):
    elsewhere = make_cause(world.other_session, "Elsewhere")
    with pytest.raises(IntegrityError), checked_at_once():
        Vote.objects.create(session=world.session, participant=world.me, cause=elsewhere)


def test_the_database_refuses_a_vote_by_a_participant_of_another_session(world):
    cause = make_cause(world.session, "Here")
    with pytest.raises(IntegrityError), checked_at_once():
        Vote.objects.create(session=world.session, participant=world.someone_else, cause=cause)


def test_the_database_refuses_a_follow_up_of_another_groups_session(world):
    with pytest.raises(IntegrityError), checked_at_once():
        Session.objects.filter(pk=world.session.pk).update(follows=world.other_session)


def test_every_change_is_an_event_of_its_session(world, voting):
    before = Event.objects.filter(session=world.session).count()
    vote(world, voting[0], 1)
    voting[0].tag(matters_most=True)
    world.session.reveal_votes()
    kinds = list(
        Event.objects.filter(session=world.session).order_by("seq").values_list("kind", flat=True)
    )
    assert kinds[before:] == ["vote", "tag", "reveal"]


def test_deleting_a_session_deletes_its_votes_and_actions(world, voting):
    vote(world, voting[0], 1)
    make_action(world.session, "Lamps", [voting[0]])
    world.session.delete()
    assert not Vote.objects.exists()
    assert not Action.objects.exists()
    assert not ActionLink.objects.exists()
    assert not Cause.objects.filter(session_id=world.session.pk).exists()


def test_a_follow_up_session_opens_by_reviewing_the_earlier_plan(world):
    lamps = make_action(world.session, "Ask for lamps")
    lamps.agree(owner="Rosa", owner_outside=False, first_step="Write", due=None)
    lamps.follow_up("done", "The council said yes")
    make_action(world.session, "Not agreed")
    later = Session.objects.create(
        group=world.group, title="Next month", situation="Still dark", follows=world.session
    )
    later.open_for_joining()
    later.set_phase("review")
    projector = render_projector(later.pk)[1]
    assert "What happened since “Safety at the corner”?" in projector
    assert "Ask for lamps" in projector and "Done" in projector
    assert "Not agreed" not in projector
    phone = Client()
    join(phone, later)
    html = phone.get(f"/p/{later.public_id}/").content.decode()
    assert "What happened since last time?" in html and "Ask for lamps" in html
    console = world.facilitator.get(f"/s/{later.public_id}/console/").content.decode()
    assert "The plan of “Safety at the corner”" in console


def test_an_action_in_the_plan_is_taken_out_before_it_is_hidden(world):
    lamps = make_action(world.session, "Lamps")
    lamps.agree(owner="Rosa", owner_outside=False, first_step="", due=None)
    response = post(world, "facilitator", f"actions/{lamps.pk}/hide/")
    assert response.status_code == 409
    assert "Take this action out of the plan first." in response.content.decode()
    lamps.refresh_from_db()
    assert lamps.state == "visible" and lamps.agreed


# Steps that need causes wait until there are some.

NO_CAUSES = "There are no causes on the board yet: ask the group why first"


@pytest.mark.parametrize("phase", ["reflect", "act", "agree"])
def test_a_step_that_needs_causes_waits_until_there_are_some(world, phase):
    response = post(world, "facilitator", "phase/", {"phase": phase}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert NO_CAUSES in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.phase == "why"
    console = world.facilitator.get(f"/s/{world.session.public_id}/console/").content.decode()
    assert re.search(rf'id="phase-{phase}" class="small" disabled', console)
    assert "Reflect, Act and Agree open once there are causes on the board." in console


def test_reflect_without_causes_says_so_everywhere_and_reveals_nothing(world, voting):
    for cause in voting:
        cause.hide()
    response = post(world, "facilitator", "votes/reveal/")
    assert response.status_code == 409
    world.session.refresh_from_db()
    assert not world.session.votes_revealed
    console = world.facilitator.get(f"/s/{world.session.public_id}/console/").content.decode()
    assert NO_CAUSES in console
    assert 'id="reveal"' not in console
    projector = world.facilitator.get(f"/s/{world.session.public_id}/present/").content.decode()
    assert "Nothing to vote on yet." in projector
    assert "Put your dots on your phone" not in projector
    phone = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    assert "Nothing to vote on yet." in phone
    assert 'id="ballot"' not in phone
