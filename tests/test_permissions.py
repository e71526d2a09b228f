"""Who may see and do what: every URL, every persona.

Facilitator views check the login first (anonymous people and participants,
who have no account, go to the login page), then the group: outsiders get 404,
organizers may look (projector, group page) but not act (403). Phone views
need the participant cookie: a page without it leads to the join page, an
action without it is refused with 403.

An expected outcome is a status code, or the name of the page a 302 leads to
(REDIRECTS; "new group" and "new session" lead to what was just created).
"""

from urllib.parse import quote

import pytest

from sessions.models import (
    Action,
    Cause,
    ClosingLine,
    Group,
    GroupStory,
    Invitation,
    Membership,
    Participant,
    Session,
)
from tests.conftest import PERSONAS, make_agreed_action, make_cause, make_user

REDIRECTS = {
    "login": "/accounts/login/?next={url}",
    "console": "/s/{session}/console/",
    "group": "/g/{group}/",
    "group agreements": "/g/{group}/#agreements",
    "group support": "/g/{group}/#support",
    "join": "/join/{code}/",
    "phone": "/p/{session}/",
    "invitations": "/g/{group}/invitations/",
}

FACILITATORS = {"facilitator", "co_facilitator"}

# The console and everything on it.
FACILITATOR_PAGE = {
    "anonymous": "login",
    "participant": "login",
    "other_participant": "login",
    "facilitator": 200,
    "co_facilitator": 200,
    "organizer": 403,
    "outsider": 404,
}
FACILITATOR_ACTION = {**FACILITATOR_PAGE, "facilitator": "console", "co_facilitator": "console"}

# The projector and the group page: organizers may look.
MEMBER_PAGE = {**FACILITATOR_PAGE, "organizer": 200}

# Phones: only the browser that joined this session.
PHONE_PAGE = {persona: "join" for persona in PERSONAS} | {"participant": 200}
PHONE_ACTION = {persona: 403 for persona in PERSONAS} | {"participant": "phone"}
PHONE_STREAM = {persona: 403 for persona in PERSONAS} | {"participant": 200}


def matrix(table: dict) -> list:
    assert set(table) == set(PERSONAS), "every persona needs an expected outcome"
    return [
        pytest.param(persona, expected, id=f"{persona}-{expected}")
        for persona, expected in table.items()
    ]


def assert_outcome(response, expected, world, url: str) -> None:
    if isinstance(expected, int):
        assert response.status_code == expected
        return
    assert response.status_code == 302
    assert response["Location"] == REDIRECTS[expected].format(
        url=quote(url, safe="/"),  # as the login redirect quotes `next`
        session=world.session.public_id,
        group=world.group.public_id,
        code=world.session.join_code,
    )


# Pages (GET)

PAGES = {
    "/": {persona: 200 for persona in PERSONAS},
    "/g/{group}/": MEMBER_PAGE,
    # Organizers see the invitations they made (test_invitations.py).
    "/g/{group}/invitations/": MEMBER_PAGE,
    # Every account changes its own password; no account, no password.
    "/accounts/password_change/": MEMBER_PAGE | {"outsider": 200},
    # Without e-mail, it says to ask a facilitator; sign-up is by invitation.
    "/accounts/password_change/done/": MEMBER_PAGE | {"outsider": 200},
    "/accounts/password_reset/": {persona: 200 for persona in PERSONAS},
    "/accounts/password_reset/done/": {persona: 200 for persona in PERSONAS},
    "/accounts/reset/MQ/not-a-token/": {persona: 200 for persona in PERSONAS},
    "/accounts/reset/done/": {persona: 200 for persona in PERSONAS},
    "/accounts/signup/": {persona: 404 for persona in PERSONAS},
    "/g/{group}/sessions/new/": FACILITATOR_PAGE,
    "/g/{group}/sessions/new/?follows={session}": FACILITATOR_PAGE,
    "/g/{group}/sessions/new/?story=street-corner&stories=es": FACILITATOR_PAGE,
    "/s/{session}/copy/": FACILITATOR_PAGE,
    "/s/{session}/console/": FACILITATOR_PAGE,
    "/s/{session}/causes/{cause}/": FACILITATOR_PAGE,
    "/s/{session}/present/": MEMBER_PAGE,
    "/s/{session}/qr.svg": MEMBER_PAGE,
    # The printed summary and the exports: the group's organizers read them too.
    "/s/{session}/summary/": MEMBER_PAGE,
    "/s/{session}/summary.pdf": MEMBER_PAGE,
    "/s/{session}/causes.csv": MEMBER_PAGE,
    "/s/{session}/actions.csv": MEMBER_PAGE,
    "/s/{session}/export.json": MEMBER_PAGE,
    "/s/{session}/plan.ics": MEMBER_PAGE,
    # Once the session has ended (below): before that, nobody's.
    "/s/{session}/take-home-qr.svg": MEMBER_PAGE | dict.fromkeys([*FACILITATORS, "organizer"], 404),
    "/join/": {persona: 200 for persona in PERSONAS},
    "/healthz": {persona: 200 for persona in PERSONAS},
    "/join/{code}/": {persona: 200 for persona in PERSONAS} | {"participant": "phone"},
    "/p/{session}/": PHONE_PAGE,
    "/p/{session}/support/": PHONE_PAGE,
    # The take-home page and its calendar wait for the end; the phone that
    # joined is sent back to the room.
    "/p/{session}/home/": {persona: 404 for persona in PERSONAS} | {"participant": "phone"},
    "/p/{session}/plan.ics": {persona: 404 for persona in PERSONAS} | {"participant": "phone"},
}


@pytest.mark.parametrize(
    ("template", "persona", "expected"),
    [
        pytest.param(template, *param.values, id=f"{template}-{param.id}")
        for template, table in PAGES.items()
        for param in matrix(table)
    ],
)
def test_who_may_see_each_page(world, template, persona, expected):
    cause = make_cause(world.session)
    url = template.format(
        group=world.group.public_id,
        session=world.session.public_id,
        cause=cause.pk,
        code=world.session.join_code,
    )
    response = world.as_(persona).get(url)
    assert_outcome(response, expected, world, url)


def test_the_qr_code_is_an_svg(world):
    response = world.organizer.get(f"/s/{world.session.public_id}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_a_closed_session_has_no_qr_code(world):
    world.session.close_for_joining()
    response = world.facilitator.get(f"/s/{world.session.public_id}/qr.svg")
    assert response.status_code == 404


# What is left to take home once the session has ended: anyone with the link
# (people who were not there scan the projector's QR code), the QR code itself
# for the group.
ENDED_PAGES = {
    "/p/{session}/home/": {persona: 200 for persona in PERSONAS},
    "/p/{session}/plan.ics": {persona: 200 for persona in PERSONAS},
    "/s/{session}/take-home-qr.svg": MEMBER_PAGE,
}


@pytest.mark.parametrize(
    ("template", "persona", "expected"),
    [
        pytest.param(template, *param.values, id=f"{template}-{param.id}")
        for template, table in ENDED_PAGES.items()
        for param in matrix(table)
    ],
)
def test_who_may_see_what_is_taken_home_after_the_end(world, template, persona, expected):
    world.session.end()
    url = template.format(session=world.session.public_id)
    assert_outcome(world.as_(persona).get(url), expected, world, url)


# Live streams (GET, Server-Sent Events). Never iterate them: they never end.

STREAMS = {
    "/s/{session}/console/stream/": FACILITATOR_PAGE,
    "/s/{session}/present/stream/": MEMBER_PAGE,
    "/p/{session}/stream/": PHONE_STREAM,
}


@pytest.mark.parametrize(
    ("template", "persona", "expected"),
    [
        pytest.param(template, *param.values, id=f"{template}-{param.id}")
        for template, table in STREAMS.items()
        for param in matrix(table)
    ],
)
def test_who_may_follow_each_live_stream(world, template, persona, expected):
    url = template.format(session=world.session.public_id)
    response = world.as_(persona).get(url)
    try:
        assert_outcome(response, expected, world, url)
        if expected == 200:
            assert response.streaming
            assert response["Content-Type"] == "text/event-stream"
            assert response["Cache-Control"] == "no-cache"
    finally:
        response.close()


# Only POST changes anything; GET on an action is 405 for everyone, before the login check.

POST_ONLY = [
    "/groups/new/",
    "/g/{group}/members/",
    "/g/{group}/members/{member}/password/",
    "/g/{group}/invitations/new/",
    "/g/{group}/invitations/{invitation}/withdraw/",
    "/g/{group}/actions/{action}/",
    "/s/{session}/open/",
    "/s/{session}/close/",
    "/s/{session}/end/",
    "/s/{session}/review/{action}/",
    "/s/{session}/moderation/",
    "/s/{session}/causes/",
    "/s/{session}/focus/",
    "/s/{session}/undo/",
    "/s/{session}/causes/{cause}/focus/",
    "/s/{session}/causes/{cause}/approve/",
    "/s/{session}/causes/{cause}/reject/",
    "/s/{session}/causes/{cause}/hide/",
    "/s/{session}/causes/{cause}/unhide/",
    "/s/{session}/causes/{cause}/edit/",
    "/s/{session}/causes/{cause}/merge/",
    "/s/{session}/causes/{cause}/move/",
    "/p/{session}/answers/",
    "/p/{session}/answers/{cause}/withdraw/",
    "/g/{group}/agreements/",
    "/g/{group}/agreements/default/",
    "/g/{group}/support/",
    "/g/{group}/support/{contact}/remove/",
    "/s/{session}/pause/",
    "/s/{session}/resume/",
    "/s/{session}/agreements/start/",
    "/s/{session}/agreements/show/",
    "/s/{session}/causes/{cause}/edit-approve/",
    "/p/{session}/agree/",
    "/s/{session}/why-else/",
    "/s/{session}/save-story/",
    "/s/{session}/lines/{line}/approve/",
    "/s/{session}/lines/{line}/reject/",
    "/s/{session}/lines/{line}/hide/",
    "/s/{session}/lines/{line}/unhide/",
    "/p/{session}/lines/",
    "/s/{session}/causes/{cause}/level/",
    "/s/{session}/causes/{cause}/work-on/",
    "/s/{session}/work-on/whole/",
    "/s/{session}/levels/view/",
    "/s/{session}/levels/phones/",
]


@pytest.mark.parametrize("template", POST_ONLY)
def test_actions_refuse_get_with_405(world, template):
    cause = make_cause(world.session, state=Cause.State.PENDING, author=world.me)
    action = make_agreed_action(world.session)
    invitation = Invitation.invite(world.group, "organizer", world.facilitator_user)
    contact = world.group.support_contacts.create(name="Helpline", reach="0800")
    line = ClosingLine.objects.create(session=world.session, text="Hope", state="pending")
    url = template.format(
        line=line.pk,
        group=world.group.public_id,
        session=world.session.public_id,
        cause=cause.pk,
        action=action.pk,
        member=Membership.objects.get(group=world.group, user__username="olga").pk,
        invitation=invitation.pk,
        contact=contact.pk,
    )
    # The method is checked before who is asking: the same for everyone.
    for persona in ["anonymous", "participant", "facilitator"]:
        response = world.as_(persona).get(url)
        assert (persona, response.status_code) == (persona, 405)
        assert response["Allow"] == "POST"
    cause.refresh_from_db()
    assert cause.state == Cause.State.PENDING
    action.refresh_from_db()
    assert action.status == Action.Status.NOT_STARTED
    assert Invitation.objects.get().state == "open"
    line.refresh_from_db()
    assert line.state == "pending"
    world.session.refresh_from_db()
    assert not world.session.why_else
    assert not GroupStory.objects.exists()


# Organizing


@pytest.mark.parametrize(
    ("persona", "expected"),
    matrix(FACILITATOR_PAGE | dict.fromkeys([*FACILITATORS, "organizer", "outsider"], "new group")),
)
def test_anyone_with_an_account_can_start_a_group(world, persona, expected):
    response = world.as_(persona).post("/groups/new/", {"name": "Night buses"})
    group = Group.objects.filter(name="Night buses").first()
    if expected == "new group":
        assert group is not None
        assert response.status_code == 302
        assert response["Location"] == f"/g/{group.public_id}/"
        assert group.memberships.get().role == Membership.Role.FACILITATOR
    else:
        assert_outcome(response, expected, world, "/groups/new/")
        assert group is None


# Organizers look and print; only facilitators manage the group's people.
GROUP_ACTION = {**FACILITATOR_ACTION, "facilitator": "group", "co_facilitator": "group"}


@pytest.mark.parametrize(("persona", "expected"), matrix(GROUP_ACTION))
def test_only_the_groups_facilitators_add_people_to_it(world, persona, expected):
    newcomer = make_user("nina")
    url = f"/g/{world.group.public_id}/members/"
    response = world.as_(persona).post(url, {"username": "nina", "role": "organizer"})
    assert_outcome(response, expected, world, url)
    added = Membership.objects.filter(group=world.group, user=newcomer).exists()
    assert added == (persona in FACILITATORS)


def test_an_organizer_cannot_make_themself_a_facilitator(world):
    url = f"/g/{world.group.public_id}/members/"
    response = world.organizer.post(url, {"username": "olga", "role": "facilitator"})
    assert response.status_code == 403
    assert Membership.objects.get(group=world.group, user__username="olga").role == "organizer"


@pytest.mark.parametrize(("persona", "expected"), matrix(GROUP_ACTION))
def test_only_the_groups_facilitators_remove_people_from_it(world, persona, expected):
    cole = Membership.objects.get(group=world.group, user__username="cole")
    url = f"/g/{world.group.public_id}/members/{cole.pk}/remove/"
    response = world.as_(persona).post(url)
    if persona == "co_facilitator":  # cole removing himself goes home
        assert response.status_code == 302
        assert response["Location"] == "/"
    else:
        assert_outcome(response, expected, world, url)
    assert Membership.objects.filter(pk=cole.pk).exists() == (persona not in FACILITATORS)


def test_an_organizer_may_leave_the_group(world):
    olga = Membership.objects.get(group=world.group, user__username="olga")
    response = world.organizer.post(f"/g/{world.group.public_id}/members/{olga.pk}/remove/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Membership.objects.filter(pk=olga.pk).exists()


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_PAGE))
def test_only_the_groups_facilitators_see_the_delete_page(world, persona, expected):
    url = f"/g/{world.group.public_id}/delete/"
    assert_outcome(world.as_(persona).get(url), expected, world, url)


@pytest.mark.parametrize(
    ("persona", "expected"),
    matrix({**FACILITATOR_ACTION, "facilitator": "home", "co_facilitator": "home"}),
)
def test_only_the_groups_facilitators_delete_it(world, persona, expected):
    url = f"/g/{world.group.public_id}/delete/"
    response = world.as_(persona).post(url)
    if expected == "home":
        assert response.status_code == 302
        assert response["Location"] == "/"
    else:
        assert_outcome(response, expected, world, url)
    assert Group.objects.filter(pk=world.group.pk).exists() == (persona not in FACILITATORS)


def test_the_group_page_offers_organizers_no_member_or_delete_controls(world):
    page = world.organizer.get(f"/g/{world.group.public_id}/").content.decode()
    assert f'action="/g/{world.group.public_id}/members/"' not in page
    cole = Membership.objects.get(group=world.group, user__username="cole")
    assert f"/members/{cole.pk}/remove/" not in page
    assert f"/g/{world.group.public_id}/delete/" not in page
    page = world.facilitator.get(f"/g/{world.group.public_id}/").content.decode()
    assert f"/g/{world.group.public_id}/delete/" in page


def test_a_membership_of_another_group_cannot_be_removed_through_this_one(world):
    otto = Membership.objects.get(group=world.other_group)
    url = f"/g/{world.group.public_id}/members/{otto.pk}/remove/"
    assert world.facilitator.post(url).status_code == 404
    assert Membership.objects.filter(pk=otto.pk).exists()


def test_the_last_person_of_a_group_cannot_be_removed(world):
    otto = Membership.objects.get(group=world.other_group)
    url = f"/g/{world.other_group.public_id}/members/{otto.pk}/remove/"
    response = world.outsider.post(url)
    assert response.status_code == 409
    assert "Delete the group instead" in response.content.decode()
    assert Membership.objects.filter(pk=otto.pk).exists()


# Invitations: facilitators invite either role, organizers only organizers.
INVITE = {**FACILITATOR_ACTION, "facilitator": "invitations", "co_facilitator": "invitations"}


@pytest.mark.parametrize(("persona", "expected"), matrix(INVITE | {"organizer": "invitations"}))
def test_the_groups_members_invite_organizers(world, persona, expected):
    url = f"/g/{world.group.public_id}/invitations/new/"
    response = world.as_(persona).post(url, {"role": "organizer"})
    assert_outcome(response, expected, world, url)
    made = Invitation.objects.filter(group=world.group, role="organizer").exists()
    assert made == (expected == "invitations")


@pytest.mark.parametrize(("persona", "expected"), matrix(INVITE))
def test_only_the_groups_facilitators_invite_facilitators(world, persona, expected):
    url = f"/g/{world.group.public_id}/invitations/new/"
    response = world.as_(persona).post(url, {"role": "facilitator"})
    assert_outcome(response, expected, world, url)
    made = Invitation.objects.filter(group=world.group).exists()
    assert made == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(INVITE))
def test_only_the_groups_facilitators_withdraw_their_invitations(world, persona, expected):
    invitation = Invitation.invite(world.group, "organizer", world.facilitator_user)
    url = f"/g/{world.group.public_id}/invitations/{invitation.pk}/withdraw/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    invitation.refresh_from_db()
    assert (invitation.state == "withdrawn") == (persona in FACILITATORS)


def test_an_organizer_withdraws_their_own_invitation(world):
    olga = Membership.objects.get(group=world.group, user__username="olga").user
    invitation = Invitation.invite(world.group, "organizer", olga)
    url = f"/g/{world.group.public_id}/invitations/{invitation.pk}/withdraw/"
    assert world.organizer.post(url).status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == "withdrawn"


@pytest.mark.parametrize(("persona", "expected"), matrix(INVITE))
def test_only_the_groups_facilitators_make_links_for_a_new_password(world, persona, expected):
    olga = Membership.objects.get(group=world.group, user__username="olga")
    url = f"/g/{world.group.public_id}/members/{olga.pk}/password/"
    response = world.as_(persona).post(url)
    if expected == "invitations":
        link = Invitation.objects.get()
        assert response.status_code == 302
        assert (
            response["Location"] == f"/g/{world.group.public_id}/invitations/#invitation-{link.pk}"
        )
        assert link.user == olga.user
    else:
        assert_outcome(response, expected, world, url)
        assert not Invitation.objects.exists()


@pytest.mark.parametrize(("persona", "expected"), matrix({p: 200 for p in PERSONAS}))
def test_anyone_with_the_link_may_open_an_invitation(world, persona, expected):
    invitation = Invitation.invite(world.group, "organizer", world.facilitator_user)
    url = f"/invite/{invitation.selector}/{invitation.verifier}/"
    assert_outcome(world.as_(persona).get(url), expected, world, url)
    invitation.refresh_from_db()
    assert invitation.state == "open"


@pytest.mark.parametrize(
    ("persona", "expected"),
    matrix({**FACILITATOR_ACTION, "facilitator": "new session", "co_facilitator": "new session"}),
)
def test_only_facilitators_prepare_sessions(world, persona, expected):
    url = f"/g/{world.group.public_id}/sessions/new/"
    data = {
        "title": "Late trains",
        "situation": "The 8:05 is late every Monday.",
        "kind": "problem",
        "language": "en",
        "names": "optional",
        "moderation": "show",
    }
    response = world.as_(persona).post(url, data)
    created = Session.objects.filter(title="Late trains").first()
    if expected == "new session":
        assert created is not None
        assert created.group == world.group
        assert response.status_code == 302
        assert response["Location"] == f"/s/{created.public_id}/console/"
    else:
        assert_outcome(response, expected, world, url)
        assert created is None


def test_a_new_session_without_a_title_is_refused_with_its_messages(world):
    url = f"/g/{world.group.public_id}/sessions/new/"
    response = world.facilitator.post(url, {"title": "", "situation": ""})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Please write something first." in response.content.decode()
    assert not world.group.sessions.exclude(pk=world.session.pk).exists()


# A safe room: the group's agreements (facilitators) and support contacts
# (facilitators and organizers), on the group page.

AGREEMENTS_ACTION = {
    **FACILITATOR_ACTION,
    "facilitator": "group agreements",
    "co_facilitator": "group agreements",
}
SUPPORT_ACTION = {
    **FACILITATOR_ACTION,
    "facilitator": "group support",
    "co_facilitator": "group support",
    "organizer": "group support",
}


@pytest.mark.parametrize(("persona", "expected"), matrix(AGREEMENTS_ACTION))
def test_only_the_groups_facilitators_write_its_agreements(world, persona, expected):
    url = f"/g/{world.group.public_id}/agreements/"
    response = world.as_(persona).post(url, {"agreements": "We listen"})
    assert_outcome(response, expected, world, url)
    world.group.refresh_from_db()
    assert (world.group.agreements == "We listen") == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(AGREEMENTS_ACTION))
def test_only_the_groups_facilitators_go_back_to_the_default_agreements(world, persona, expected):
    Group.objects.filter(pk=world.group.pk).update(agreements="Ours")
    url = f"/g/{world.group.public_id}/agreements/default/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.group.refresh_from_db()
    assert (world.group.agreements == "") == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(SUPPORT_ACTION))
def test_facilitators_and_organizers_add_support_contacts(world, persona, expected):
    url = f"/g/{world.group.public_id}/support/"
    response = world.as_(persona).post(url, {"name": "Helpline", "reach": "0800 123"})
    assert_outcome(response, expected, world, url)
    added = world.group.support_contacts.filter(name="Helpline").exists()
    assert added == (persona in {*FACILITATORS, "organizer"})


@pytest.mark.parametrize(("persona", "expected"), matrix(SUPPORT_ACTION))
def test_facilitators_and_organizers_remove_support_contacts(world, persona, expected):
    contact = world.group.support_contacts.create(name="Helpline", reach="0800 123")
    url = f"/g/{world.group.public_id}/support/{contact.pk}/remove/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    kept = world.group.support_contacts.filter(pk=contact.pk).exists()
    assert kept == (persona not in {*FACILITATORS, "organizer"})


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_pause_the_room(world, persona, expected):
    url = f"/s/{world.session.public_id}/pause/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert world.session.paused == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_resume_the_room(world, persona, expected):
    world.session.pause()
    url = f"/s/{world.session.public_id}/resume/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert world.session.paused == (persona not in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
@pytest.mark.parametrize(("step", "showing"), [("start", False), ("show", True)])
def test_only_facilitators_move_from_the_agreements_to_the_questions(
    world, persona, expected, step, showing
):
    Session.objects.filter(pk=world.session.pk).update(
        use_agreements=True, showing_agreements=not showing
    )
    url = f"/s/{world.session.public_id}/agreements/{step}/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert (world.session.showing_agreements == showing) == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_edit_and_approve_a_held_answer(world, persona, expected):
    cause = make_cause(world.session, "My husband Ali drinks", state=Cause.State.PENDING)
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/edit-approve/"
    response = world.as_(persona).post(url, {"text": "My husband drinks"})
    assert_outcome(response, expected, world, url)
    cause.refresh_from_db()
    done = (cause.state, cause.text) == (Cause.State.VISIBLE, "My husband drinks")
    assert done == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(PHONE_ACTION))
def test_only_the_joined_phone_agrees(world, persona, expected):
    Session.objects.filter(pk=world.session.pk).update(use_agreements=True)
    url = f"/p/{world.session.public_id}/agree/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.me.refresh_from_db()
    assert (world.me.agreed_at is not None) == (persona == "participant")
    assert not Participant.objects.filter(
        session=world.other_session, agreed_at__isnull=False
    ).exists()


# Facilitating: each action changes the database for facilitators only.


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_open_a_session(world, persona, expected):
    world.session.close_for_joining()
    url = f"/s/{world.session.public_id}/open/"
    response = world.as_(persona).post(url)
    world.session.refresh_from_db()
    assert_outcome(response, expected, world, url)
    assert world.session.is_open == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_close_a_session(world, persona, expected):
    url = f"/s/{world.session.public_id}/close/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert world.session.is_open == (persona not in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_end_a_session(world, persona, expected):
    url = f"/s/{world.session.public_id}/end/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert world.session.has_ended == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_choose_how_answers_appear(world, persona, expected):
    url = f"/s/{world.session.public_id}/moderation/"
    response = world.as_(persona).post(url, {"moderation": "hold"})
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    held = world.session.moderation == Session.Moderation.HOLD
    assert held == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_add_causes_from_the_console(world, persona, expected):
    url = f"/s/{world.session.public_id}/causes/"
    response = world.as_(persona).post(url, {"text": "Buses stop at nine"})
    assert_outcome(response, expected, world, url)
    added = world.session.causes.filter(text="Buses stop at nine").exists()
    assert added == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_ask_why_about_a_cause(world, persona, expected):
    cause = make_cause(world.session)
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/focus/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert (world.session.focus == cause) == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_go_back_to_the_situation(world, persona, expected):
    cause = make_cause(world.session)
    world.session.ask_why(cause)
    url = f"/s/{world.session.public_id}/focus/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert (world.session.focus is None) == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_undo(world, persona, expected):
    cause = make_cause(world.session)
    cause.hide()
    url = f"/s/{world.session.public_id}/undo/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    cause.refresh_from_db()
    assert cause.is_visible == (persona in FACILITATORS)


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("approve", Cause.State.PENDING, Cause.State.VISIBLE),
        ("reject", Cause.State.PENDING, Cause.State.REJECTED),
        ("hide", Cause.State.VISIBLE, Cause.State.HIDDEN),
        ("unhide", Cause.State.HIDDEN, Cause.State.VISIBLE),
    ],
)
@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_moderate_causes(world, persona, expected, action, before, after):
    cause = make_cause(world.session, state=before)
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/{action}/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    cause.refresh_from_db()
    assert cause.state == (after if persona in FACILITATORS else before)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_edit_a_cause(world, persona, expected):
    cause = make_cause(world.session, "No lights")
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/edit/"
    response = world.as_(persona).post(url, {"text": "No street lights"})
    assert_outcome(response, expected, world, url)
    cause.refresh_from_db()
    assert cause.text == ("No street lights" if persona in FACILITATORS else "No lights")


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_merge_causes(world, persona, expected):
    original = make_cause(world.session, "No street lights")
    duplicate = make_cause(world.session, "It is dark")
    url = f"/s/{world.session.public_id}/causes/{duplicate.pk}/merge/"
    response = world.as_(persona).post(url, {"target": original.pk})
    assert_outcome(response, expected, world, url)
    duplicate.refresh_from_db()
    assert (duplicate.merged_into == original) == (persona in FACILITATORS)


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_move_causes(world, persona, expected):
    parent = make_cause(world.session, "No street lights")
    cause = make_cause(world.session, "The council cut the budget")
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/move/"
    response = world.as_(persona).post(url, {"target": parent.pk})
    assert_outcome(response, expected, world, url)
    cause.refresh_from_db()
    assert (cause.parent == parent) == (persona in FACILITATORS)


# Participating: anyone with the code may join; only the joined browser answers.


@pytest.mark.parametrize(("persona", "expected"), matrix({p: "join" for p in PERSONAS}))
def test_anyone_can_look_up_a_code(world, persona, expected):
    response = world.as_(persona).get("/join/", {"code": world.session.join_code})
    assert_outcome(response, expected, world, "/join/")


@pytest.mark.parametrize(("persona", "expected"), matrix({p: "phone" for p in PERSONAS}))
def test_anyone_typing_the_code_joins_once(world, persona, expected):
    before = world.session.participants.count()
    response = world.as_(persona).post("/join/", {"code": world.session.join_code})
    assert_outcome(response, expected, world, "/join/")
    joined = world.session.participants.count() - before
    assert joined == (0 if persona == "participant" else 1)


# What a browser posts to join an anonymous session: no field but the CSRF
# token (which the test client does not check).
ANONYMOUS_JOIN_FORM = {"csrfmiddlewaretoken": "from-the-form"}


@pytest.mark.parametrize(("persona", "expected"), matrix({p: "phone" for p in PERSONAS}))
def test_anyone_with_the_code_can_join_once(world, persona, expected):
    before = world.session.participants.count()
    url = f"/join/{world.session.join_code}/"
    response = world.as_(persona).post(url, ANONYMOUS_JOIN_FORM)
    assert_outcome(response, expected, world, url)
    joined = world.session.participants.count() - before
    assert joined == (0 if persona == "participant" else 1)


@pytest.mark.parametrize(("persona", "expected"), matrix(PHONE_ACTION))
def test_only_the_joined_phone_can_answer(world, persona, expected):
    url = f"/p/{world.session.public_id}/answers/"
    response = world.as_(persona).post(url, {"text": "Cars drive too fast", "parent": ""})
    assert_outcome(response, expected, world, url)
    answered = world.session.causes.filter(text="Cars drive too fast").first()
    if persona == "participant":
        assert answered.author == world.me
    else:
        assert answered is None
        assert "Please join the session first" in response.content.decode()


@pytest.mark.parametrize(("persona", "expected"), matrix(PHONE_ACTION))
def test_only_the_author_can_withdraw_an_answer(world, persona, expected):
    mine = make_cause(world.session, "Cars drive too fast", author=world.me)
    url = f"/p/{world.session.public_id}/answers/{mine.pk}/withdraw/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    mine.refresh_from_db()
    withdrawn = mine.state == Cause.State.WITHDRAWN
    assert withdrawn == (persona == "participant")


# Ids of another session's objects, through this session's URLs: 404, nothing changes.

# Each action with a cause in the state in which it would otherwise succeed.
FOREIGN_CAUSE_ACTIONS = [
    ("focus", Cause.State.VISIBLE, {}),
    ("approve", Cause.State.PENDING, {}),
    ("reject", Cause.State.PENDING, {}),
    ("hide", Cause.State.VISIBLE, {}),
    ("unhide", Cause.State.HIDDEN, {}),
    ("edit", Cause.State.VISIBLE, {"text": "Taken over"}),
    ("merge", Cause.State.VISIBLE, {"target": "a cause of this session"}),
    ("move", Cause.State.VISIBLE, {"target": ""}),
    ("edit-approve", Cause.State.PENDING, {"text": "Taken over"}),
]


def foreign_cause(world, **fields) -> Cause:
    return make_cause(world.other_session, "Elsewhere's cause", **fields)


def test_a_cause_of_another_session_has_no_page_here(world):
    theirs = foreign_cause(world)
    response = world.facilitator.get(f"/s/{world.session.public_id}/causes/{theirs.pk}/")
    assert response.status_code == 404


@pytest.mark.parametrize(("action", "state", "data"), FOREIGN_CAUSE_ACTIONS)
def test_a_cause_of_another_session_cannot_be_moderated_here(world, action, state, data):
    theirs = foreign_cause(world, state=state)
    ours = make_cause(world.session)
    if data.get("target") == "a cause of this session":
        data = {"target": ours.pk}
    url = f"/s/{world.session.public_id}/causes/{theirs.pk}/{action}/"
    response = world.facilitator.post(url, data)
    assert response.status_code == 404
    fresh = Cause.objects.get(pk=theirs.pk)
    assert (fresh.state, fresh.text, fresh.parent_id) == (state, "Elsewhere's cause", None)
    world.session.refresh_from_db()
    assert world.session.focus is None
    assert not Cause.objects.filter(pk=ours.pk, state=Cause.State.MERGED).exists()


@pytest.mark.parametrize("action", ["merge", "move"])
def test_a_cause_cannot_be_merged_or_moved_into_another_session(world, action):
    # The target is a form choice among this session's causes: another
    # session's id is simply not a valid choice.
    ours = make_cause(world.session)
    theirs = foreign_cause(world)
    url = f"/s/{world.session.public_id}/causes/{ours.pk}/{action}/"
    response = world.facilitator.post(url, {"target": theirs.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    ours.refresh_from_db()
    assert (ours.state, ours.parent_id, ours.merged_into_id) == (Cause.State.VISIBLE, None, None)


def test_a_phone_cannot_withdraw_an_answer_of_another_session(world):
    theirs = make_cause(world.other_session, "Elsewhere's answer", author=world.someone_else)
    url = f"/p/{world.session.public_id}/answers/{theirs.pk}/withdraw/"
    response = world.participant.post(url)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == Cause.State.VISIBLE


def test_a_phone_cannot_answer_under_a_cause_of_another_session(world):
    theirs = foreign_cause(world)
    url = f"/p/{world.session.public_id}/answers/"
    response = world.participant.post(url, {"text": "Sneaky", "parent": theirs.pk})
    assert response.status_code == 404
    assert not Cause.objects.filter(text="Sneaky").exists()


def test_a_facilitator_of_this_group_sees_nothing_of_another_groups_session(world):
    theirs = foreign_cause(world)
    url = f"/s/{world.other_session.public_id}/causes/{theirs.pk}/hide/"
    response = world.facilitator.post(url)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_visible


@pytest.mark.parametrize(
    "url",
    [
        "/s/nosuchsession/console/",
        "/s/nosuchsession/present/",
        "/g/nosuchgroup/",
        "/p/nosuchsession/",
    ],
)
def test_unknown_ids_are_404(world, url):
    client = world.participant if url.startswith("/p/") else world.facilitator
    assert client.get(url).status_code == 404


def test_participants_of_another_session_are_not_participants_here(world):
    assert Participant.objects.filter(session=world.session).get() == world.me
    response = world.other_participant.get(f"/p/{world.session.public_id}/")
    assert response.status_code == 302
    assert response["Location"] == f"/join/{world.session.join_code}/"


SESSION_PAGES = [
    ("facilitator", "/s/{session}/console/"),
    ("facilitator", "/s/{session}/present/"),
    ("facilitator", "/s/{session}/causes/{cause}/"),
    ("participant", "/p/{session}/"),
    ("participant", "/p/{session}/support/"),
    ("anonymous", "/join/{code}/"),
]


@pytest.mark.parametrize(("persona", "url"), SESSION_PAGES)
def test_session_pages_are_never_stored_by_browsers_or_proxies(world, persona, url):
    cause = make_cause(world.session, "Kept out of caches")
    response = world.as_(persona).get(
        url.format(session=world.session.public_id, cause=cause.pk, code=world.session.join_code)
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_last_facilitator_cannot_step_down_or_be_removed(world):
    otto = Membership.objects.get(group=world.other_group)
    organizer = make_user("oona")
    Membership.objects.create(group=world.other_group, user=organizer, role="organizer")
    url = f"/g/{world.other_group.public_id}/members/"
    response = world.outsider.post(url, {"username": "otto", "role": "organizer"})
    assert response.status_code == 409
    assert "at least one facilitator" in response.content.decode()
    remove = world.outsider.post(f"/g/{world.other_group.public_id}/members/{otto.pk}/remove/")
    assert remove.status_code == 409
    otto.refresh_from_db()
    assert otto.role == "facilitator"


def test_a_facilitator_can_step_down_when_another_remains(world):
    response = world.co_facilitator.post(
        f"/g/{world.group.public_id}/members/", {"username": "cole", "role": "organizer"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(group=world.group, user__username="cole").role == "organizer"


# Every step of the method: "Why else?", the closing round, the group's stories.


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_ask_why_else(world, persona, expected):
    url = f"/s/{world.session.public_id}/why-else/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    world.session.refresh_from_db()
    assert world.session.why_else == (persona in FACILITATORS)


LINE_ACTIONS = [
    ("approve", "pending", "visible"),
    ("reject", "pending", "rejected"),
    ("hide", "visible", "hidden"),
    ("unhide", "hidden", "visible"),
]


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
@pytest.mark.parametrize(("action", "before", "after"), LINE_ACTIONS)
def test_only_facilitators_moderate_closing_lines(world, persona, expected, action, before, after):
    line = ClosingLine.objects.create(session=world.session, text="Hope", state=before)
    url = f"/s/{world.session.public_id}/lines/{line.pk}/{action}/"
    response = world.as_(persona).post(url)
    assert_outcome(response, expected, world, url)
    line.refresh_from_db()
    assert line.state == (after if persona in FACILITATORS else before)


@pytest.mark.parametrize(
    ("persona", "expected"),
    matrix({**FACILITATOR_ACTION, "facilitator": "new story", "co_facilitator": "new story"}),
)
def test_only_facilitators_keep_a_situation_as_the_groups_story(world, persona, expected):
    url = f"/s/{world.session.public_id}/save-story/"
    response = world.as_(persona).post(url)
    story = GroupStory.objects.first()
    if expected == "new story":
        assert story is not None
        assert story.group == world.group
        assert response.status_code == 302
        assert response["Location"] == (
            f"/g/{world.group.public_id}/sessions/new/?story=g{story.pk}"
        )
    else:
        assert_outcome(response, expected, world, url)
        assert story is None


@pytest.mark.parametrize(("persona", "expected"), matrix(PHONE_ACTION))
def test_only_the_joined_phone_sends_a_closing_line(world, persona, expected):
    world.session.set_phase(Session.Phase.CLOSE)
    url = f"/p/{world.session.public_id}/lines/"
    response = world.as_(persona).post(url, {"text": "We are not alone"})
    assert_outcome(response, expected, world, url)
    line = ClosingLine.objects.first()
    if persona == "participant":
        assert line.author == world.me
    else:
        assert line is None
