"""Deleting a session, and purging old ones, leaves nothing behind."""

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sessions.models import (
    Action,
    ActionLink,
    Cause,
    Event,
    Group,
    Membership,
    Participant,
    Session,
    Vote,
)
from tests.conftest import join, make_cause, make_group, make_session, make_user


def fill(session, client):
    participant = join(client, session, name="Ana")
    top = make_cause(session, "No street lights")
    Cause.objects.filter(pk=top.pk).update(author=participant)
    child = make_cause(session, "The city has no budget", parent=top)
    duplicate = make_cause(session, "No lights at night")
    duplicate.merge_into(top)
    session.ask_why(child)
    Vote.objects.create(session=session, participant=participant, cause=top)
    lamps = session.add_action("Ask for lamps", [top.pk, child.pk])
    lamps.agree(owner="Rosa", owner_outside=False, first_step="Write", due=None)
    return participant


def rows_of(session_pk: int) -> dict[str, int]:
    return {
        "sessions": Session.objects.filter(pk=session_pk).count(),
        "causes": Cause.objects.filter(session_id=session_pk).count(),
        "participants": Participant.objects.filter(session_id=session_pk).count(),
        "events": Event.objects.filter(session_id=session_pk).count(),
        "votes": Vote.objects.filter(session_id=session_pk).count(),
        "actions": Action.objects.filter(session_id=session_pk).count(),
        "links": ActionLink.objects.filter(session_id=session_pk).count(),
    }


NOTHING = dict.fromkeys(
    ["sessions", "causes", "participants", "events", "votes", "actions", "links"], 0
)


def test_a_facilitator_deletes_a_session_and_everything_in_it(world, client):
    fill(world.session, client)
    assert all(rows_of(world.session.pk).values())
    kept = make_cause(world.other_session, "Another group's cause")
    url = f"/s/{world.session.public_id}/delete/"
    assert world.facilitator.get(url).status_code == 200
    response = world.facilitator.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"/g/{world.group.public_id}/"
    assert rows_of(world.session.pk) == NOTHING
    assert Cause.objects.filter(pk=kept.pk).exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("participant", 302), ("organizer", 403), ("outsider", 404)],
)
def test_only_the_groups_facilitators_can_delete_a_session(world, persona, status):
    response = world.as_(persona).post(f"/s/{world.session.public_id}/delete/")
    assert response.status_code == status
    assert Session.objects.filter(pk=world.session.pk).exists()


@pytest.mark.django_db
def test_purge_deletes_only_closed_sessions_older_than_the_limit(client):
    group = make_group(facilitators=[make_user("fran")])
    old_closed = make_session(group, open=False, title="Old and closed")
    old_open = make_session(group, title="Old but open")
    recent_closed = make_session(group, open=False, title="Recent")
    fill(old_closed, client)
    long_ago = timezone.now() - timedelta(days=40)
    Session.objects.filter(pk__in=[old_closed.pk, old_open.pk]).update(created_at=long_ago)
    call_command("purge_sessions", "--older-than", "30", stdout=io.StringIO())
    assert rows_of(old_closed.pk) == NOTHING
    assert Session.objects.filter(pk__in=[old_open.pk, recent_closed.pk]).count() == 2


@pytest.mark.django_db
def test_purge_uses_the_retention_setting_by_default(settings):
    settings.SESSION_RETENTION_DAYS = 10
    group = make_group()
    session = make_session(group, open=False)
    Session.objects.filter(pk=session.pk).update(created_at=timezone.now() - timedelta(days=11))
    call_command("purge_sessions", stdout=io.StringIO())
    assert not Session.objects.filter(pk=session.pk).exists()


def test_a_facilitator_deletes_a_group_and_everything_in_it(world, client):
    fill(world.session, client)
    second = make_session(world.group, title="Second")
    make_cause(second, "In the second session")
    sessions = [world.session.pk, second.pk]
    url = f"/g/{world.group.public_id}/delete/"
    assert world.facilitator.get(url).status_code == 200
    response = world.facilitator.post(url)
    assert response.status_code == 302
    assert not Group.objects.filter(pk=world.group.pk).exists()
    assert not Membership.objects.filter(group_id=world.group.pk).exists()
    for pk in sessions:
        assert rows_of(pk) == NOTHING
    assert Session.objects.filter(pk=world.other_session.pk).exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("participant", 302), ("outsider", 404), ("organizer", 403)],
)
def test_outsiders_and_organizers_cannot_delete_a_group(world, persona, status):
    assert world.as_(persona).post(f"/g/{world.group.public_id}/delete/").status_code == status
    assert Group.objects.filter(pk=world.group.pk).exists()


def test_answer_text_stays_out_of_the_logs(world, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    secret = "My neighbour hits his children"
    url = f"/p/{world.session.public_id}/answers/"
    world.participant.post(url, {"text": secret, "parent": ""})
    world.participant.post(url, {"text": secret + " " * 300 + "x" * 300, "parent": "nope"})
    world.facilitator.get(f"/s/{world.session.public_id}/console/")
    assert world.session.causes.filter(text=secret).exists()
    assert secret not in caplog.text


@pytest.mark.parametrize(("hours", "joined"), [(11, True), (13, False)])
def test_a_phone_stays_joined_for_twelve_hours_whatever_the_browser_keeps(
    transactional_db, monkeypatch, client, hours, joined
):
    session = make_session(make_group("Riverside", facilitators=[make_user("fran")]))
    signed_at = time.time() - hours * 60 * 60
    with monkeypatch.context() as then:
        then.setattr(time, "time", lambda: signed_at)
        participant = join(client, session)
    page = client.get(f"/p/{session.public_id}/")
    stream = client.get(f"/p/{session.public_id}/stream/?poll=1")
    answer = client.post(f"/p/{session.public_id}/answers/", {"text": "Nobody listens"})
    if joined:
        assert (page.status_code, stream.status_code, answer.status_code) == (200, 200, 302)
        assert session.causes.get().author == participant
    else:
        assert page.status_code == 302 and page.url == f"/join/{session.join_code}/"
        assert (stream.status_code, answer.status_code) == (403, 403)
        assert not session.causes.exists()
