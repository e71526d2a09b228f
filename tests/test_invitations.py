"""Accounts without e-mail: invitations, and links for a new password made the same way."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from sessions.models import Invitation, Membership, Refused
from tests.conftest import logged_in, make_group, make_user

User = get_user_model()
GOOD_PASSWORD = "river-lantern-93"


def link_path(invitation: Invitation) -> str:
    return f"/invite/{invitation.selector}/{invitation.verifier}/"


def invite(world, role="facilitator", by=None) -> Invitation:
    return Invitation.invite(world.group, role, by or world.facilitator_user)


def sign_up(client: Client, invitation: Invitation, username="nina", password=GOOD_PASSWORD):
    return client.post(
        link_path(invitation), {"username": username, "password1": password, "password2": password}
    )


# Making and listing invitations


def test_a_facilitator_makes_an_invitation_shown_with_its_link_and_qr_code(world):
    url = f"/g/{world.group.public_id}/invitations/"
    response = world.facilitator.post(url + "new/", {"role": "organizer"})
    assert response.status_code == 302
    assert response["Location"] == url
    invitation = Invitation.objects.get(group=world.group)
    assert (invitation.kind, invitation.role) == ("join", "organizer")
    assert invitation.created_by == world.facilitator_user
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    page = world.facilitator.get(url).content.decode()
    assert link_path(invitation) in page
    assert '<svg class="segno"' in page or "<svg" in page
    assert "Invitation as organizer" in page


def test_invitation_links_are_long_random_and_not_sequential(world):
    first, second = invite(world), invite(world)
    assert len(first.selector) >= 16
    assert len(first.verifier) == 64
    assert first.selector != second.selector
    assert str(first.pk) not in link_path(first).split("/")


def test_nothing_secret_is_stored_with_an_invitation(world):
    invitation = invite(world)
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert invitation.verifier not in {str(value) for value in row.values()}


def test_an_organizer_invites_organizers_but_not_facilitators(world):
    url = f"/g/{world.group.public_id}/invitations/new/"
    assert world.organizer.post(url, {"role": "facilitator"}).status_code == 403
    assert not Invitation.objects.exists()
    assert world.organizer.post(url, {"role": "organizer"}).status_code == 302
    assert Invitation.objects.get().role == "organizer"


def test_an_organizer_sees_only_the_invitations_they_made(world):
    theirs = invite(world, "facilitator")
    olga = User.objects.get(username="olga")
    mine = invite(world, "organizer", by=olga)
    page = world.organizer.get(f"/g/{world.group.public_id}/invitations/").content.decode()
    assert link_path(mine) in page
    assert link_path(theirs) not in page
    assert 'value="facilitator"' not in page


def test_an_unknown_role_is_refused_with_a_message(world):
    url = f"/g/{world.group.public_id}/invitations/new/"
    response = world.facilitator.post(url, {"role": "owner"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_facilitator_withdraws_an_invitation_and_it_no_longer_opens(world):
    invitation = invite(world)
    url = f"/g/{world.group.public_id}/invitations/{invitation.pk}/withdraw/"
    assert world.co_facilitator.post(url).status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == "withdrawn"
    response = Client().get(link_path(invitation))
    assert response.status_code == 410
    assert "This link was withdrawn" in response.content.decode()


def test_an_organizer_cannot_withdraw_a_facilitators_invitation(world):
    invitation = invite(world)
    url = f"/g/{world.group.public_id}/invitations/{invitation.pk}/withdraw/"
    assert world.organizer.post(url).status_code == 403
    invitation.refresh_from_db()
    assert invitation.state == "open"


def test_an_invitation_of_another_group_cannot_be_withdrawn_through_this_one(world):
    theirs = Invitation.invite(world.other_group, "facilitator", None)
    url = f"/g/{world.group.public_id}/invitations/{theirs.pk}/withdraw/"
    assert world.facilitator.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "open"


# Opening an invitation


@pytest.mark.parametrize("role", ["facilitator", "organizer"])
def test_whoever_opens_an_invitation_signs_up_and_lands_in_the_group(world, role):
    invitation = invite(world, role)
    newcomer = Client()
    page = newcomer.get(link_path(invitation))
    assert page.status_code == 200
    assert "Create my account and join" in page.content.decode()
    response = sign_up(newcomer, invitation)
    assert response.status_code == 302
    assert response["Location"] == f"/g/{world.group.public_id}/"
    nina = User.objects.get(username="nina")
    assert nina.check_password(GOOD_PASSWORD)
    assert Membership.objects.get(group=world.group, user=nina).role == role
    invitation.refresh_from_db()
    assert (invitation.state, invitation.used_by) == ("used", nina)
    # Logged in as the new account.
    assert newcomer.get(f"/g/{world.group.public_id}/").status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "This password is entirely numeric."),
        ("short", "This password is too short."),
        ("password123", "This password is too common."),
        ("nina-lantern", "The password is too similar to the username."),
    ],
)
def test_a_weak_password_is_refused_with_djangos_message(world, password, message):
    invitation = invite(world)
    response = sign_up(Client(), invitation, username="nina-lantern1", password=password)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(username="nina-lantern1").exists()
    invitation.refresh_from_db()
    assert invitation.state == "open"


def test_a_taken_username_is_refused_with_a_message(world):
    invitation = invite(world)
    response = sign_up(Client(), invitation, username="FRAN")
    assert response.status_code == 400
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.filter(username__iexact="fran").count() == 1
    invitation.refresh_from_db()
    assert invitation.state == "open"


def test_of_two_people_opening_one_link_at_once_only_one_gets_it(world):
    invitation = invite(world, "organizer")
    first, second = (
        Invitation.objects.get(pk=invitation.pk),
        Invitation.objects.get(pk=invitation.pk),
    )
    nina, nora = make_user("nina"), make_user("nora")
    first.join(nina)
    with pytest.raises(Refused):
        second.join(nora)
    assert Membership.objects.filter(group=world.group, user=nina).exists()
    assert not Membership.objects.filter(group=world.group, user=nora).exists()
    invitation.refresh_from_db()
    assert invitation.used_by == nina


def test_an_invitation_works_once(world):
    invitation = invite(world)
    assert sign_up(Client(), invitation).status_code == 302
    again = sign_up(Client(), invitation, username="nora")
    assert again.status_code == 410
    assert "This link has already been used" in again.content.decode()
    assert not User.objects.filter(username="nora").exists()


def test_an_expired_invitation_is_refused_with_a_clear_page(world):
    invitation = invite(world)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    for response in (Client().get(link_path(invitation)), sign_up(Client(), invitation)):
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    assert not User.objects.filter(username="nina").exists()


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda path: path[:-10] + "/", id="cut-short"),
        pytest.param(lambda path: path.replace(path.split("/")[3], "0" * 64), id="forged"),
        pytest.param(lambda path: path.replace(path.split("/")[2], "nosuchselector"), id="unknown"),
    ],
)
def test_a_forged_or_damaged_link_is_refused_with_a_clear_page(world, mangle):
    invitation = invite(world)
    path = mangle(link_path(invitation))
    for response in (Client().get(path), Client().post(path, {"username": "nina"})):
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
    assert not User.objects.filter(username="nina").exists()


def test_a_link_made_before_the_secret_key_changed_still_opens(world, settings):
    invitation = invite(world)
    path = link_path(invitation)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert Client().get(path).status_code == 200


def test_a_link_is_tied_to_its_role(world):
    invitation = invite(world, "organizer")
    path = link_path(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(role="facilitator")
    assert Client().get(path).status_code == 404


def test_someone_with_an_account_joins_with_one_button(world):
    nina = make_user("nina")
    invitation = invite(world, "organizer")
    client = logged_in(nina)
    page = client.get(link_path(invitation)).content.decode()
    assert "Join the group" in page
    assert "password1" not in page
    response = client.post(link_path(invitation))
    assert response.status_code == 302
    assert Membership.objects.get(group=world.group, user=nina).role == "organizer"
    invitation.refresh_from_db()
    assert invitation.used_by == nina


def test_an_organizer_accepting_a_facilitator_invitation_becomes_a_facilitator(world):
    invitation = invite(world, "facilitator")
    assert world.organizer.post(link_path(invitation)).status_code == 302
    olga = Membership.objects.get(group=world.group, user__username="olga")
    assert olga.role == "facilitator"


def test_a_facilitator_opening_an_organizer_invitation_stays_and_leaves_it_unused(world):
    invitation = invite(world, "organizer")
    page = world.co_facilitator.get(link_path(invitation)).content.decode()
    assert "You are already a facilitator of this group." in page
    assert world.co_facilitator.post(link_path(invitation)).status_code == 302
    cole = Membership.objects.get(group=world.group, user__username="cole")
    assert cole.role == "facilitator"
    invitation.refresh_from_db()
    assert invitation.state == "open"


def test_an_invitation_does_not_reach_another_group(world):
    invitation = invite(world, "facilitator")
    nina = make_user("nina")
    logged_in(nina).post(link_path(invitation))
    assert not Membership.objects.filter(group=world.other_group, user=nina).exists()


# A link for a new password, made by a facilitator


def password_link(world, member: str) -> tuple:
    membership = Membership.objects.get(group=world.group, user__username=member)
    url = f"/g/{world.group.public_id}/members/{membership.pk}/password/"
    return url, world.facilitator.post(url)


def test_a_facilitator_makes_a_link_for_a_members_new_password(world):
    olga_elsewhere = Client()
    olga_elsewhere.force_login(User.objects.get(username="olga"))
    _url, response = password_link(world, "olga")
    link = Invitation.objects.get(kind="reset")
    assert response.status_code == 302
    assert response["Location"] == f"/g/{world.group.public_id}/invitations/#invitation-{link.pk}"
    assert link.user.username == "olga"
    page = world.facilitator.get(f"/g/{world.group.public_id}/invitations/").content.decode()
    assert "A new password for olga" in page
    assert link_path(link) in page

    olga = Client()
    form = olga.get(link_path(link))
    assert "Choose a new password" in form.content.decode()
    response = olga.post(
        link_path(link), {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
    )
    assert response.status_code == 302
    assert User.objects.get(username="olga").check_password(GOOD_PASSWORD)
    link.refresh_from_db()
    assert link.state == "used"
    assert olga.get(f"/g/{world.group.public_id}/").status_code == 200
    # The old password's sessions are logged out.
    stale = olga_elsewhere.get(f"/g/{world.group.public_id}/")
    assert stale.status_code == 302
    assert stale["Location"].startswith("/accounts/login/")


def test_a_new_password_link_refuses_a_weak_password(world):
    password_link(world, "olga")
    link = Invitation.objects.get(kind="reset")
    response = Client().post(link_path(link), {"new_password1": "1234", "new_password2": "1234"})
    assert response.status_code == 400
    assert "This password is too short." in response.content.decode()
    assert User.objects.get(username="olga").check_password("olga-password")
    link.refresh_from_db()
    assert link.state == "open"


def test_a_new_link_for_the_same_member_withdraws_the_earlier_one(world):
    password_link(world, "olga")
    password_link(world, "olga")
    states = sorted(i.state for i in Invitation.objects.filter(kind="reset"))
    assert states == ["open", "withdrawn"]


def test_no_link_for_ones_own_password(world):
    _url, response = password_link(world, "fran")
    assert response.status_code == 409
    assert "To change your own password" in response.content.decode()
    assert not Invitation.objects.exists()


def test_no_link_for_someone_also_in_a_group_this_facilitator_does_not_run(world):
    olga = User.objects.get(username="olga")
    Membership.objects.create(group=world.other_group, user=olga, role="organizer")
    _url, response = password_link(world, "olga")
    assert response.status_code == 409
    assert "Only the site&#x27;s operator" in response.content.decode()
    assert not Invitation.objects.exists()


def test_no_link_for_the_sites_staff(world):
    User.objects.filter(username="olga").update(is_staff=True)
    _url, response = password_link(world, "olga")
    assert response.status_code == 409
    assert not Invitation.objects.exists()


def test_a_member_of_another_group_gets_no_link_through_this_one(world):
    otto = Membership.objects.get(group=world.other_group)
    url = f"/g/{world.group.public_id}/members/{otto.pk}/password/"
    assert world.facilitator.post(url).status_code == 404
    assert not Invitation.objects.exists()


def test_a_facilitator_in_two_groups_may_get_a_link_from_one_who_runs_both(world):
    cole = User.objects.get(username="cole")
    fran = world.facilitator_user
    both = make_group("Both", facilitators=[fran, cole])
    membership = Membership.objects.get(group=both, user=cole)
    response = world.facilitator.post(f"/g/{both.public_id}/members/{membership.pk}/password/")
    assert response.status_code == 302
    assert Invitation.objects.get().user == cole


def test_the_invitations_page_shows_each_qr_code_inline_without_style_attributes(world):
    invite(world)
    page = world.facilitator.get(f"/g/{world.group.public_id}/invitations/").content.decode()
    svg = re.search(r"<svg.*?</svg>", page, re.S)[0]
    assert "viewBox" in svg
    assert "style=" not in svg


def test_someone_else_logged_in_is_told_before_setting_a_members_password(world):
    password_link(world, "olga")
    link = Invitation.objects.get(kind="reset")
    page = world.facilitator.get(link_path(link)).content.decode()
    assert "saving logs you out, and logs in the person this link is for" in page
    assert "saving logs you out" not in Client().get(link_path(link)).content.decode()
