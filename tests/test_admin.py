"""Django's admin, for the operator: every page answers, none shows what people said."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from sessions.models import Invitation
from tests.conftest import make_agreed_action, make_cause

User = get_user_model()
SAID = "Secret words the room said about the police"
PLANNED = "A plan nobody outside the room should read"


@pytest.fixture
def operator(world) -> Client:
    make_cause(world.session, SAID)
    make_agreed_action(world.session, PLANNED)
    Invitation.invite(world.group, "organizer", world.facilitator_user)
    root = User.objects.create_superuser("root", password="root-password-93")
    client = Client()
    client.force_login(root)
    return client


def pages(world) -> list[str]:
    invitation = Invitation.objects.get()
    membership = world.group.memberships.first()
    return [
        "/admin/",
        "/admin/facilitation/group/",
        f"/admin/facilitation/group/{world.group.pk}/change/",
        "/admin/facilitation/membership/",
        f"/admin/facilitation/membership/{membership.pk}/change/",
        "/admin/facilitation/session/",
        "/admin/facilitation/session/?open=yes",
        "/admin/facilitation/session/?phase__exact=why&q=Safety",
        f"/admin/facilitation/session/{world.session.pk}/change/",
        "/admin/facilitation/invitation/",
        "/admin/facilitation/invitation/?state=open&q=Riverside",
        f"/admin/facilitation/invitation/{invitation.pk}/change/",
    ]


def test_every_admin_page_answers_for_the_operator_and_shows_no_cause_or_action(world, operator):
    for url in pages(world):
        response = operator.get(url)
        assert (url, response.status_code) == (url, 200)
        page = response.content.decode()
        assert SAID not in page
        assert PLANNED not in page
        assert world.session.situation not in page


def test_the_session_list_shows_title_group_state_and_counts(world, operator):
    page = operator.get("/admin/facilitation/session/").content.decode()
    assert "Safety at the corner" in page
    assert "Riverside" in page
    for column in ("Participants", "Causes", "Actions"):
        assert column in page
    # Ours: one participant, two causes (one addressed by the action), one action.
    # Elsewhere: one participant, nothing said yet. Newest first.
    counts = re.findall(r'<td class="field-([a-z]+)_count">(\d+)</td>', page)
    assert counts == [
        ("participant", "1"),
        ("cause", "0"),
        ("action", "0"),
        ("participant", "1"),
        ("cause", "2"),
        ("action", "1"),
    ]


def test_the_session_list_searches_and_filters(world, operator):
    world.other_session.close_for_joining()
    page = operator.get("/admin/facilitation/session/?open=no").content.decode()
    assert "Elsewhere" in page
    assert "Safety at the corner" not in page
    page = operator.get("/admin/facilitation/session/?q=Hilltop").content.decode()
    assert "Elsewhere" in page
    assert "Safety at the corner" not in page


def test_the_invitation_admin_never_shows_a_link(world, operator):
    invitation = Invitation.objects.get()
    page = operator.get(f"/admin/facilitation/invitation/{invitation.pk}/change/").content.decode()
    assert invitation.verifier not in page


def test_the_operator_withdraws_invitations_from_the_admin(world, operator):
    invitation = Invitation.objects.get()
    response = operator.post(
        "/admin/facilitation/invitation/",
        {"action": "withdraw", "_selected_action": [invitation.pk]},
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == "withdrawn"


@pytest.mark.parametrize("persona", ["facilitator", "organizer", "outsider"])
def test_the_admin_is_not_for_facilitators(world, persona):
    response = world.as_(persona).get("/admin/facilitation/session/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
