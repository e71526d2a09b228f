"""Closing joining and ending the session are two things.

Closing joining stops new people coming in while those in the room go on;
ending the session thanks the phones, and after it nothing a participant
does changes the tree.
"""

from django.test import Client

from sessions.models import Action, Cause, Event, Session
from tests.conftest import join, make_cause

THANKS = "Thank you for taking part."
JOINING_CLOSED = "Joining is closed for this session."


def phone_page(world) -> str:
    return world.participant.get(f"/p/{world.session.public_id}/").content.decode()


def projector_page(world) -> str:
    return world.facilitator.get(f"/s/{world.session.public_id}/present/").content.decode()


def test_closing_joining_lets_the_phones_already_in_go_on_answering(world):
    response = world.facilitator.post(f"/s/{world.session.public_id}/close/")
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.joining_closed and not world.session.has_ended
    assert not world.session.is_open
    assert THANKS not in phone_page(world)
    response = world.participant.post(
        f"/p/{world.session.public_id}/answers/", {"text": "Cars drive too fast", "parent": ""}
    )
    assert response.status_code == 302
    assert world.session.causes.get().text == "Cars drive too fast"


def test_closing_joining_hides_the_code_on_the_projector_which_still_asks_why(world):
    code = world.session.spaced_join_code
    assert code in projector_page(world)
    world.session.close_for_joining()
    page = projector_page(world)
    assert code not in page
    assert "Joining is closed" in page
    assert "Why does this happen?" in page
    assert "The session has ended" not in page


def test_a_late_joiner_of_a_session_whose_joining_is_closed_gets_a_clear_page(world):
    code = world.session.join_code
    world.session.close_for_joining()
    for response in [
        Client().get(f"/join/{code}/"),
        Client().post(f"/join/{code}/", {}),
        Client().post("/join/", {"code": code}),
    ]:
        assert response.status_code == 403
        page = response.content.decode()
        assert JOINING_CLOSED in page
        assert "No open session has this code" not in page
    assert world.session.participants.count() == 1


def test_a_phone_already_in_follows_the_link_again_after_joining_closes(world):
    code = world.session.join_code
    world.session.close_for_joining()
    response = world.participant.get(f"/join/{code}/")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.session.public_id}/"


def test_opening_joining_again_keeps_the_code(world):
    code = world.session.join_code
    world.session.close_for_joining()
    world.facilitator.post(f"/s/{world.session.public_id}/open/")
    world.session.refresh_from_db()
    assert world.session.is_open and world.session.join_code == code
    assert Client().get(f"/join/{code}/").status_code == 200


def test_ending_the_session_thanks_the_phones_and_tells_the_projector(world):
    response = world.facilitator.post(f"/s/{world.session.public_id}/end/")
    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.has_ended and world.session.ended_at is not None
    assert world.session.join_code is None
    assert Event.objects.filter(session=world.session, kind="ended").count() == 1
    assert "The session has ended." in phone_page(world)
    assert THANKS in phone_page(world)
    page = projector_page(world)
    assert "The session has ended. Thank you for taking part." in page
    assert "Why does this happen?" not in page


def test_the_console_ends_the_session_by_htmx(world):
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/end/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert "The session has ended" in page
    assert Session.objects.get(pk=world.session.pk).has_ended


def test_nothing_a_participant_does_after_the_end_changes_the_tree(world):
    make_cause(world.session, "Cars drive too fast", author=world.me)
    world.session.end()
    sid = world.session.public_id
    answered = world.participant.post(f"/p/{sid}/answers/", {"text": "Dark", "parent": ""})
    assert answered.status_code == 409
    assert list(world.session.causes.values_list("text", flat=True)) == ["Cars drive too fast"]


def test_a_participant_cannot_withdraw_an_answer_after_the_end(world):
    cause = make_cause(world.session, "Cars drive too fast", author=world.me)
    world.session.end()
    response = world.participant.post(f"/p/{world.session.public_id}/answers/{cause.pk}/withdraw/")
    assert response.status_code == 409
    assert "The session has ended: answers stay as they are." in response.content.decode()
    cause.refresh_from_db()
    assert cause.state == Cause.State.VISIBLE
    assert not Event.objects.filter(session=world.session, kind="withdraw").exists()


def test_a_participant_cannot_withdraw_an_idea_after_the_end(world):
    cause = make_cause(world.session, matters_most=True)
    world.session.set_phase("act")
    action = world.session.add_action("Ask for lights", [cause.pk], author=world.me)
    world.session.end()
    response = world.participant.post(
        f"/p/{world.session.public_id}/actions/{action.pk}/withdraw/",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    action.refresh_from_db()
    assert action.state == Action.State.VISIBLE


def test_a_participant_can_still_withdraw_while_only_joining_is_closed(world):
    cause = make_cause(world.session, "Cars drive too fast", author=world.me)
    world.session.close_for_joining()
    response = world.participant.post(f"/p/{world.session.public_id}/answers/{cause.pk}/withdraw/")
    assert response.status_code == 302
    cause.refresh_from_db()
    assert cause.state == Cause.State.WITHDRAWN


def test_an_ended_session_can_be_opened_again_with_a_new_code(world):
    world.session.end()
    world.facilitator.post(f"/s/{world.session.public_id}/open/")
    world.session.refresh_from_db()
    assert world.session.is_open and not world.session.has_ended
    newcomer = Client()
    join(newcomer, world.session)
    assert THANKS not in phone_page(world)
