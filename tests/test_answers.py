"""Answers from phones, and what the facilitator does with them on the console."""

import re

import pytest

from sessions.models import Cause, Participant, Session
from tests.conftest import make_cause

HTMX = {"HTTP_HX_REQUEST": "true"}


def answer(world, text: str, parent: Cause | None = None, **headers):
    url = f"/p/{world.session.public_id}/answers/"
    return world.participant.post(
        url, {"text": text, "parent": parent.pk if parent else ""}, **headers
    )


def console(world, path: str = "", data: dict | None = None, **headers):
    """POST a console action: `path` is relative to the session's URL."""
    return world.facilitator.post(f"/s/{world.session.public_id}/{path}", data or {}, **headers)


def hold_answers(session: Session) -> None:
    session.set_moderation(Session.Moderation.HOLD, filter_words=False)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def console_page(world) -> str:
    return page(world.facilitator, f"/s/{world.session.public_id}/console/")


def projector_page(world) -> str:
    return page(world.facilitator, f"/s/{world.session.public_id}/present/")


def phone_page(world) -> str:
    return page(world.participant, f"/p/{world.session.public_id}/")


# Answering


def test_an_answer_to_the_situation_becomes_a_top_level_cause(world):
    response = answer(world, "Cars drive too fast")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.session.public_id}/"
    cause = world.session.causes.get()
    assert (cause.text, cause.parent, cause.author, cause.state) == (
        "Cars drive too fast",
        None,
        world.me,
        Cause.State.VISIBLE,
    )


def test_it_attaches_a_why_to_the_posted_cause(world):
    lights = make_cause(world.session, "No street lights")
    world.session.ask_why(lights)
    answer(world, "The council cut the budget", parent=lights)
    cause = world.session.causes.get(text="The council cut the budget")
    assert cause.parent == lights


def test_an_answer_is_on_the_projector_at_once_when_answers_are_shown(world):
    answer(world, "Cars drive too fast")
    assert "Cars drive too fast" in projector_page(world)


def test_an_answer_waits_for_approval_when_the_session_holds_answers(world):
    hold_answers(world.session)
    answer(world, "Cars drive too fast")
    cause = world.session.causes.get()
    assert cause.state == Cause.State.PENDING
    assert "Cars drive too fast" not in projector_page(world)
    assert "Waiting for approval (1)" in console_page(world)
    assert "Waiting for approval" in phone_page(world)


def test_an_answer_is_tidied_before_it_is_kept(world):
    answer(world, "  Cars   drive\ttoo  fast \n")
    assert world.session.causes.get().text == "Cars drive too fast"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Please write something first."),
        ("   \n\t ", "Please write something first."),
        ("x" * 281, "Please keep it to 280 characters (this has 281)."),
    ],
    ids=["empty", "white-space-only", "281-characters"],
)
def test_an_answer_that_cannot_be_kept_is_refused_with_a_message(world, text, message):
    response = answer(world, text)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not world.session.causes.exists()


def test_an_answer_of_280_characters_is_kept(world):
    response = answer(world, "x" * 280)
    assert response.status_code == 302
    assert len(world.session.causes.get().text) == 280


def test_an_answer_after_the_session_ended_is_refused_with_409(world):
    world.session.end()
    response = answer(world, "Cars drive too fast")
    assert response.status_code == 409
    assert "This session is closed: answers can no longer be sent." in response.content.decode()
    assert not world.session.causes.exists()


@pytest.mark.parametrize(
    "state",
    [Cause.State.HIDDEN, Cause.State.PENDING, Cause.State.REJECTED, Cause.State.WITHDRAWN],
)
def test_an_answer_under_a_cause_off_the_board_is_refused_with_409(world, state):
    off_board = make_cause(world.session, "Off the board", state=state)
    response = answer(world, "Because", parent=off_board)
    assert response.status_code == 409
    assert "That cause is no longer on the board. Please answer the new question." in (
        response.content.decode()
    )
    assert not world.session.causes.filter(text="Because").exists()


def test_an_answer_under_a_merged_cause_is_refused_with_409(world):
    kept = make_cause(world.session, "No street lights")
    duplicate = make_cause(world.session, "It is dark")
    duplicate.merge_into(kept)
    response = answer(world, "Because", parent=duplicate)
    assert response.status_code == 409
    assert not world.session.causes.filter(text="Because").exists()


def test_an_answer_under_another_sessions_cause_is_refused_with_404(world):
    theirs = make_cause(world.other_session, "Elsewhere")
    response = answer(world, "Because", parent=theirs)
    assert response.status_code == 404
    assert "That question is not part of this session." in response.content.decode()
    assert not Cause.objects.filter(text="Because").exists()


def test_an_answer_under_a_cause_that_does_not_exist_is_refused_with_404(world):
    response = world.participant.post(
        f"/p/{world.session.public_id}/answers/", {"text": "Because", "parent": 999999}
    )
    assert response.status_code == 404
    assert not Cause.objects.filter(text="Because").exists()


def test_htmx_gets_a_fragment_with_the_participants_answers(world):
    answer(world, "Cars drive too fast")
    response = answer(world, "Nobody repairs the lights", **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'id="mine"' in fragment
    assert "Cars drive too fast" in fragment
    assert "Nobody repairs the lights" in fragment


def test_htmx_gets_a_fragment_with_the_message_when_an_answer_is_refused(world):
    response = answer(world, "", **HTMX)
    assert response.status_code == 400
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert "Please write something first." in fragment


def test_the_phone_lists_only_its_own_answers(world):
    answer(world, "Mine")
    someone = Participant.objects.create(session=world.session)
    make_cause(world.session, "Theirs", author=someone)
    mine = phone_page(world).split('id="mine"')[1]
    assert "Mine" in mine
    assert "Theirs" not in mine


# Withdrawing


def test_a_participant_can_withdraw_their_own_answer(world):
    mine = make_cause(world.session, "Cars drive too fast", author=world.me)
    response = world.participant.post(f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.state == Cause.State.WITHDRAWN
    assert "Cars drive too fast" not in projector_page(world)


def test_a_held_answer_can_be_withdrawn_before_approval(world):
    hold_answers(world.session)
    answer(world, "Cars drive too fast")
    mine = world.session.causes.get()
    world.participant.post(f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/")
    mine.refresh_from_db()
    assert mine.state == Cause.State.WITHDRAWN
    assert "Waiting for approval (0)" in console_page(world)


def test_withdrawing_twice_says_the_answer_is_gone_already(world):
    mine = make_cause(world.session, "Cars drive too fast", author=world.me)
    url = f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/"
    world.participant.post(url)
    response = world.participant.post(url)
    assert response.status_code == 409
    assert "This answer is no longer on the board." in response.content.decode()


def test_a_participant_cannot_withdraw_someone_elses_answer(world):
    someone = Participant.objects.create(session=world.session)
    theirs = make_cause(world.session, "Cars drive too fast", author=someone)
    response = world.participant.post(f"/p/{world.session.public_id}/answers/{theirs.pk}/withdraw/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == Cause.State.VISIBLE


def test_the_facilitators_causes_cannot_be_withdrawn_from_a_phone(world):
    theirs = make_cause(world.session, "Written on the console")
    response = world.participant.post(f"/p/{world.session.public_id}/answers/{theirs.pk}/withdraw/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_visible


def test_an_answer_that_others_answered_stays(world):
    mine = make_cause(world.session, "Cars drive too fast", author=world.me)
    make_cause(world.session, "The road is wide", parent=mine)
    response = world.participant.post(f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/")
    assert response.status_code == 409
    assert "Others have already answered below this one, so it stays." in response.content.decode()
    mine.refresh_from_db()
    assert mine.is_visible


# Asking "But why?"


def test_it_attaches_a_why_to_the_focused_cause(world):
    lights = make_cause(world.session, "No street lights")
    response = console(world, f"causes/{lights.pk}/focus/")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{world.session.public_id}/console/"
    world.session.refresh_from_db()
    assert world.session.focus == lights

    phone = phone_page(world)
    assert "But why…" in phone and "“No street lights”?" in phone
    assert f'name="parent" value="{lights.pk}"' in phone
    answer(world, "The council cut the budget", parent=lights)
    assert world.session.causes.get(text="The council cut the budget").parent == lights


def test_the_facilitator_can_go_back_to_the_situation(world):
    lights = make_cause(world.session, "No street lights")
    world.session.ask_why(lights)
    response = console(world, "focus/")
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.focus is None
    assert 'name="parent" value=""' in phone_page(world)


def test_asking_why_about_a_hidden_cause_is_refused(world):
    hidden = make_cause(world.session, "A joke", state=Cause.State.HIDDEN)
    response = console(world, f"causes/{hidden.pk}/focus/")
    assert response.status_code == 409
    assert "Only a cause on the board can be asked about." in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.focus is None


# Moderating


def test_approving_puts_a_held_answer_on_the_board(world):
    hold_answers(world.session)
    answer(world, "Cars drive too fast")
    held = world.session.causes.get()
    response = console(world, f"causes/{held.pk}/approve/")
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.state == Cause.State.VISIBLE
    assert "Cars drive too fast" in projector_page(world)


def test_rejecting_keeps_a_held_answer_off_the_board(world):
    hold_answers(world.session)
    answer(world, "Cars drive too fast")
    held = world.session.causes.get()
    response = console(world, f"causes/{held.pk}/reject/")
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.state == Cause.State.REJECTED
    assert "Cars drive too fast" not in projector_page(world)
    assert "Waiting for approval (0)" in console_page(world)


def test_approving_an_answer_twice_says_someone_changed_it_already(world):
    held = make_cause(world.session, "Cars drive too fast", state=Cause.State.PENDING)
    console(world, f"causes/{held.pk}/approve/")
    response = console(world, f"causes/{held.pk}/approve/")
    assert response.status_code == 409
    assert "Someone changed this cause already. Look again." in response.content.decode()
    held.refresh_from_db()
    assert held.state == Cause.State.VISIBLE


def test_hiding_takes_a_cause_off_the_board_and_unhiding_puts_it_back(world):
    joke = make_cause(world.session, "A joke")
    assert console(world, f"causes/{joke.pk}/hide/").status_code == 302
    joke.refresh_from_db()
    assert joke.state == Cause.State.HIDDEN
    assert "A joke" not in projector_page(world)
    assert "Hidden (1)" in console_page(world)

    assert console(world, f"causes/{joke.pk}/unhide/").status_code == 302
    joke.refresh_from_db()
    assert joke.is_visible
    assert "A joke" in projector_page(world)


def test_hiding_the_focused_cause_asks_about_its_parent_instead(world):
    lights = make_cause(world.session, "No street lights")
    joke = make_cause(world.session, "A joke", parent=lights)
    world.session.ask_why(joke)
    console(world, f"causes/{joke.pk}/hide/")
    world.session.refresh_from_db()
    assert world.session.focus == lights


# Editing, merging, moving


def test_editing_changes_the_wording(world):
    cause = make_cause(world.session, "no lihgts")
    response = console(world, f"causes/{cause.pk}/edit/", {"text": "  No street   lights "})
    assert response.status_code == 302
    assert response["Location"] == f"/s/{world.session.public_id}/console/"
    cause.refresh_from_db()
    assert cause.text == "No street lights"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Please write something first."),
        ("   ", "Please write something first."),
        ("x" * 281, "Please keep it to 280 characters (this has 281)."),
    ],
    ids=["empty", "white-space-only", "281-characters"],
)
def test_editing_to_nothing_or_too_much_is_refused_with_a_message(world, text, message):
    cause = make_cause(world.session, "No street lights")
    response = console(world, f"causes/{cause.pk}/edit/", {"text": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    cause.refresh_from_db()
    assert cause.text == "No street lights"


def test_merging_a_duplicate_takes_its_answers_along(world):
    kept = make_cause(world.session, "No street lights")
    duplicate = make_cause(world.session, "It is dark")
    below = make_cause(world.session, "The council cut the budget", parent=duplicate)
    response = console(world, f"causes/{duplicate.pk}/merge/", {"target": kept.pk})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    below.refresh_from_db()
    assert (duplicate.state, duplicate.merged_into) == (Cause.State.MERGED, kept)
    assert below.parent == kept
    projector = projector_page(world)
    assert "It is dark" not in projector
    assert "The council cut the budget" in projector


def test_merging_the_focused_cause_asks_about_the_cause_it_went_into(world):
    kept = make_cause(world.session, "No street lights")
    duplicate = make_cause(world.session, "It is dark")
    world.session.ask_why(duplicate)
    console(world, f"causes/{duplicate.pk}/merge/", {"target": kept.pk})
    world.session.refresh_from_db()
    assert world.session.focus == kept


def test_a_cause_cannot_be_merged_into_one_of_its_own_answers(world):
    parent = make_cause(world.session, "No street lights")
    child = make_cause(world.session, "The council cut the budget", parent=parent)
    response = console(world, f"causes/{parent.pk}/merge/", {"target": child.pk})
    assert response.status_code == 400
    assert "A cause cannot be merged into one of its own answers." in response.content.decode()
    parent.refresh_from_db()
    child.refresh_from_db()
    assert (parent.state, child.parent) == (Cause.State.VISIBLE, parent)


def test_moving_puts_a_cause_and_its_answers_under_another(world):
    lights = make_cause(world.session, "No street lights")
    budget = make_cause(world.session, "The council cut the budget")
    below = make_cause(world.session, "Taxes went down", parent=budget)
    response = console(world, f"causes/{budget.pk}/move/", {"target": lights.pk})
    assert response.status_code == 302
    budget.refresh_from_db()
    below.refresh_from_db()
    assert (budget.parent, below.parent) == (lights, budget)


def test_moving_to_the_top_level_puts_a_cause_under_the_situation(world):
    lights = make_cause(world.session, "No street lights")
    budget = make_cause(world.session, "The council cut the budget", parent=lights)
    response = console(world, f"causes/{budget.pk}/move/", {"target": ""})
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.parent is None


@pytest.mark.parametrize("where", ["under itself", "under its answer", "under its answer's answer"])
def test_a_cause_cannot_be_moved_under_itself_or_its_own_answers(world, where):
    top = make_cause(world.session, "No street lights")
    child = make_cause(world.session, "The council cut the budget", parent=top)
    grandchild = make_cause(world.session, "Taxes went down", parent=child)
    target = {
        "under itself": top,
        "under its answer": child,
        "under its answer's answer": grandchild,
    }
    response = console(world, f"causes/{top.pk}/move/", {"target": target[where].pk})
    assert response.status_code == 400
    assert "A cause cannot be moved under itself or one of its own answers." in (
        response.content.decode()
    )
    assert dict(world.session.causes.values_list("pk", "parent_id")) == {
        top.pk: None,
        child.pk: top.pk,
        grandchild.pk: child.pk,
    }


# Undo


def test_undo_puts_back_a_hidden_cause(world):
    joke = make_cause(world.session, "A joke")
    console(world, f"causes/{joke.pk}/hide/")
    assert "Undo hiding “A joke”" in console_page(world)
    response = console(world, "undo/")
    assert response.status_code == 302
    joke.refresh_from_db()
    assert joke.is_visible


def test_undo_takes_back_a_merge_and_its_answers(world):
    kept = make_cause(world.session, "No street lights")
    duplicate = make_cause(world.session, "It is dark")
    below = make_cause(world.session, "The council cut the budget", parent=duplicate)
    console(world, f"causes/{duplicate.pk}/merge/", {"target": kept.pk})
    console(world, "undo/")
    duplicate.refresh_from_db()
    below.refresh_from_db()
    assert (duplicate.state, duplicate.merged_into, below.parent) == (
        Cause.State.VISIBLE,
        None,
        duplicate,
    )


def test_undo_takes_back_an_edit_then_the_move_before_it(world):
    lights = make_cause(world.session, "No street lights")
    budget = make_cause(world.session, "budget")
    console(world, f"causes/{budget.pk}/move/", {"target": lights.pk})
    console(world, f"causes/{budget.pk}/edit/", {"text": "The council cut the budget"})

    console(world, "undo/")
    budget.refresh_from_db()
    assert (budget.text, budget.parent) == ("budget", lights)
    console(world, "undo/")
    budget.refresh_from_db()
    assert (budget.text, budget.parent) == ("budget", None)


def test_undo_asks_about_a_hidden_cause_again_if_hiding_moved_the_question(world):
    lights = make_cause(world.session, "No street lights")
    joke = make_cause(world.session, "A joke", parent=lights)
    world.session.ask_why(joke)
    console(world, f"causes/{joke.pk}/hide/")
    console(world, "undo/")
    world.session.refresh_from_db()
    assert world.session.focus == joke


def test_undo_with_nothing_to_undo_says_so(world):
    response = console(world, "undo/")
    assert response.status_code == 409
    assert "There is nothing to undo." in response.content.decode()


def test_undo_does_not_take_back_a_participants_withdrawal(world):
    mine = make_cause(world.session, "Cars drive too fast", author=world.me)
    world.participant.post(f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/")
    response = console(world, "undo/")
    assert response.status_code == 409
    mine.refresh_from_db()
    assert mine.state == Cause.State.WITHDRAWN


def test_undoing_an_edit_does_not_bring_back_an_answer_its_author_withdrew(world):
    answer(world, "cars too fst")
    mine = world.session.causes.get()
    console(world, f"causes/{mine.pk}/edit/", {"text": "Cars drive too fast"})
    world.participant.post(f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/")
    response = console(world, "undo/")
    # Undo may refuse (409) or put back only the wording: the withdrawal stands either way.
    assert response.status_code in {302, 409}
    mine.refresh_from_db()
    assert mine.state == Cause.State.WITHDRAWN
    assert "cars too fst" not in projector_page(world)


def test_undoing_an_approval_does_not_bring_back_an_answer_its_author_withdrew(world):
    hold_answers(world.session)
    answer(world, "Cars drive too fast")
    mine = world.session.causes.get()
    console(world, f"causes/{mine.pk}/approve/")
    world.participant.post(f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/")
    response = console(world, "undo/")
    assert response.status_code in {302, 409}
    mine.refresh_from_db()
    assert mine.state == Cause.State.WITHDRAWN
    assert "Waiting for approval (0)" in console_page(world)


# Adding a cause for someone without a phone


def test_a_cause_added_on_the_console_goes_under_the_current_question(world):
    lights = make_cause(world.session, "No street lights")
    world.session.ask_why(lights)
    response = console(world, "causes/", {"text": "The council cut the budget"})
    assert response.status_code == 302
    added = world.session.causes.get(text="The council cut the budget")
    assert (added.parent, added.author, added.state) == (lights, None, Cause.State.VISIBLE)


def test_a_cause_added_on_the_console_answers_the_situation_when_nothing_is_focused(world):
    console(world, "causes/", {"text": "Cars drive too fast"})
    assert world.session.causes.get(text="Cars drive too fast").parent is None


def test_a_cause_added_on_the_console_skips_approval(world):
    hold_answers(world.session)
    console(world, "causes/", {"text": "Cars drive too fast"})
    assert world.session.causes.get().state == Cause.State.VISIBLE


def test_a_cause_is_not_added_under_another_sessions_cause(world):
    theirs = make_cause(world.other_session, "Elsewhere")
    response = console(world, "causes/", {"text": "Sneaky", "parent": theirs.pk})
    assert response.status_code == 404
    assert "That question is not part of this session." in response.content.decode()
    assert not Cause.objects.filter(text="Sneaky").exists()


def test_an_empty_cause_is_not_added_from_the_console(world):
    response = console(world, "causes/", {"text": "   "})
    assert response.status_code == 400
    assert "Please write something first." in response.content.decode()
    assert not world.session.causes.exists()


def test_holding_answers_is_a_choice_of_the_console(world):
    response = console(world, "moderation/", {"moderation": "hold"})
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.moderation == Session.Moderation.HOLD


def test_an_unknown_moderation_is_refused_with_a_message(world):
    response = console(world, "moderation/", {"moderation": "sometimes"})
    assert response.status_code == 400
    assert "Choose how new answers appear." in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.moderation == Session.Moderation.SHOW


def test_console_actions_over_htmx_get_the_consoles_fragment(world):
    response = console(world, "causes/", {"text": "Cars drive too fast"}, **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'id="ctree"' in fragment
    assert "Cars drive too fast" in fragment
    assert world.session.causes.filter(text="Cars drive too fast").exists()


def test_a_refused_console_action_over_htmx_shows_its_message_in_the_fragment(world):
    response = console(world, "undo/", **HTMX)
    assert response.status_code == 409
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert "There is nothing to undo." in fragment


# What people type is text, never markup

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_an_answer_is_escaped_on_the_console_and_the_projector(world):
    answer(world, SCRIPT)
    for shown in [console_page(world), projector_page(world), phone_page(world)]:
        assert ESCAPED in shown
        assert SCRIPT not in shown


def test_an_answer_is_escaped_while_it_waits_for_approval(world):
    hold_answers(world.session)
    answer(world, SCRIPT)
    shown = console_page(world)
    assert ESCAPED in shown
    assert SCRIPT not in shown


def test_an_answer_is_escaped_as_the_question_and_on_its_own_page(world):
    answer(world, SCRIPT)
    cause = world.session.causes.get()
    world.session.ask_why(cause)
    pages = [
        console_page(world),
        projector_page(world),
        phone_page(world),
        page(world.facilitator, f"/s/{world.session.public_id}/causes/{cause.pk}/"),
    ]
    for shown in pages:
        assert ESCAPED in shown
        assert SCRIPT not in shown


def test_a_participants_name_is_escaped_on_the_console(world):
    Participant.objects.filter(pk=world.me.pk).update(name="<b>Bold</b>")
    hold_answers(world.session)
    answer(world, "Cars drive too fast")
    shown = console_page(world)
    assert "&lt;b&gt;Bold&lt;/b&gt;" in shown
    assert "<b>Bold</b>" not in shown


def test_an_answer_others_answered_below_offers_no_withdraw_button(world):
    mine = world.session.add_cause("Drivers speed", author=world.me)
    world.session.add_cause("The road is straight", mine.pk)
    html = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    assert f'data-cause="{mine.pk}" data-state="visible" data-answered' in html
    assert f'data-answered="{mine.pk}"' in html


def test_a_retried_answer_with_the_same_key_adds_nothing(world):
    url = f"/p/{world.session.public_id}/answers/"
    data = {"text": "Nobody fixes the lights", "parent": "", "key": "tap-tap-0001"}
    first = world.participant.post(url, data)
    second = world.participant.post(url, data)
    assert first.status_code == second.status_code == 302
    assert world.session.causes.filter(text="Nobody fixes the lights").count() == 1


def test_the_same_key_with_other_words_is_refused(world):
    url = f"/p/{world.session.public_id}/answers/"
    world.participant.post(url, {"text": "First words", "parent": "", "key": "tap-tap-0002"})
    response = world.participant.post(
        url, {"text": "Other words", "parent": "", "key": "tap-tap-0002"}
    )
    assert response.status_code == 409
    assert "already sent" in response.content.decode()
    assert not world.session.causes.filter(text="Other words").exists()


def test_each_answer_form_carries_a_fresh_key(world):
    url = f"/p/{world.session.public_id}/"
    keys = [
        re.search(r'name="key" value="([^"]+)"', world.participant.get(url).content.decode())[1]
        for _ in range(2)
    ]
    assert keys[0] != keys[1]
    assert all(len(key) >= 8 for key in keys)


def test_a_refused_answer_keeps_its_key_so_a_resend_stays_one_answer(world):
    url = f"/p/{world.session.public_id}/answers/"
    response = world.participant.post(url, {"text": " ", "parent": "", "key": "keep-me-0003"})
    assert response.status_code == 400
    assert 'name="key" value="keep-me-0003"' in response.content.decode()


def test_an_edit_made_meanwhile_by_another_facilitator_is_not_overwritten(world):
    cause = make_cause(world.session, "No lights")
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/edit/"
    world.co_facilitator.post(url, {"text": "No street lights", "was": "No lights"})
    response = world.facilitator.post(url, {"text": "No lamps at all", "was": "No lights"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone changed this cause" in html
    assert 'name="was" value="No street lights"' in html
    cause.refresh_from_db()
    assert cause.text == "No street lights"
    again = world.facilitator.post(url, {"text": "No lamps at all", "was": "No street lights"})
    assert again.status_code == 302
    cause.refresh_from_db()
    assert cause.text == "No lamps at all"


def test_a_database_failure_answers_try_again_with_the_typed_text(world, monkeypatch):
    from django.db import OperationalError

    from sessions.views import participating

    calls = []

    def flaky(request, session_id):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database is restarting")
        return original(request, session_id)

    original = participating._session_and_participant
    monkeypatch.setattr(participating, "_session_and_participant", flaky)
    url = f"/p/{world.session.public_id}/answers/"
    data = {"text": "The bus <stop> moved", "parent": "", "key": "retry-key-01"}
    for headers in ({}, HTMX):
        calls.clear()
        response = world.participant.post(url, data, **headers)
        assert response.status_code == 503
        html = response.content.decode()
        assert "please send it again" in html
        assert "The bus &lt;stop&gt; moved" in html
        assert 'name="key" value="retry-key-01"' in html
        assert not world.session.causes.filter(text="The bus <stop> moved").exists()
    # The app recovers by itself: the same post now lands, once.
    assert world.participant.post(url, data).status_code == 302
    assert world.participant.post(url, data).status_code == 302
    assert world.session.causes.filter(text="The bus <stop> moved").count() == 1
