"""A safe room for hard topics: agreements, the pause, names held, support at the close.

Views through the test client; the database is checked after every POST.
"""

import pytest
from django.utils import timezone

from sessions.models import Cause, Group, Session, SupportContact, default_agreements
from sessions.views.participating import render_phone
from sessions.views.presenting import render_projector
from tests.conftest import join, make_cause

HX = {"HTTP_HX_REQUEST": "true"}


def agreeing(world, **fields) -> Session:
    Session.objects.filter(pk=world.session.pk).update(use_agreements=True, **fields)
    world.session.refresh_from_db()
    return world.session


# Agreements: the group's list, edited on the group page


def test_a_group_starts_with_the_apps_agreements_in_the_page_language(world):
    page = world.facilitator.get(f"/g/{world.group.public_id}/").content.decode()
    assert "What is said here stays here." in page
    page = world.facilitator.get(
        f"/g/{world.group.public_id}/", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Lo que se dice aquí, se queda aquí." in page


def test_a_facilitator_saves_the_groups_own_agreements_one_a_line(world):
    url = f"/g/{world.group.public_id}/agreements/"
    text = "  We speak for ourselves  \r\n\r\n\r\nPhones on silent\n"
    response = world.facilitator.post(url, {"agreements": text})
    assert response.status_code == 302
    assert response["Location"] == f"/g/{world.group.public_id}/#agreements"
    world.group.refresh_from_db()
    assert world.group.agreements == "We speak for ourselves\nPhones on silent"
    assert world.group.agreement_lines == ["We speak for ourselves", "Phones on silent"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write at least one agreement"),
        ("\n \n\t\n", "Write at least one agreement"),
        ("x" * 201, "Please keep each agreement to 200 characters"),
        ("\n".join(f"Agreement {n}" for n in range(13)), "Please keep to 12 agreements"),
        ("y" * 3000, "Please keep the agreements to 2412 characters"),
    ],
)
def test_bad_agreements_are_refused_with_a_message_and_nothing_changes(world, text, message):
    Group.objects.filter(pk=world.group.pk).update(agreements="Ours")
    response = world.facilitator.post(
        f"/g/{world.group.public_id}/agreements/", {"agreements": text}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    world.group.refresh_from_db()
    assert world.group.agreements == "Ours"


def test_the_apps_list_saved_unchanged_stays_the_apps_own(world):
    text = "\n".join(default_agreements())
    world.facilitator.post(f"/g/{world.group.public_id}/agreements/", {"agreements": text})
    world.group.refresh_from_db()
    assert world.group.agreements == ""


def test_the_default_list_comes_back_with_one_button(world):
    Group.objects.filter(pk=world.group.pk).update(agreements="Ours")
    response = world.facilitator.post(f"/g/{world.group.public_id}/agreements/default/")
    assert response.status_code == 302
    world.group.refresh_from_db()
    assert world.group.agreements == ""
    assert world.group.agreement_lines == default_agreements()


def test_a_new_session_opens_with_the_groups_agreements_unless_turned_off(world):
    Group.objects.filter(pk=world.group.pk).update(agreements="We listen\nWe pass if we want")
    page = world.facilitator.get(f"/g/{world.group.public_id}/sessions/new/").content.decode()
    assert 'name="use_agreements" id="id_use_agreements" checked' in page
    data = {
        "title": "Night buses",
        "situation": "The last bus leaves too early.",
        "kind": "problem",
        "language": "en",
        "names": "anonymous",
        "moderation": "show",
        "use_agreements": "on",
    }
    world.facilitator.post(f"/g/{world.group.public_id}/sessions/new/", data)
    made = Session.objects.get(title="Night buses")
    assert made.use_agreements
    assert made.agreement_lines == ["We listen", "We pass if we want"]
    data.pop("use_agreements")
    data["title"] = "Without"
    world.facilitator.post(f"/g/{world.group.public_id}/sessions/new/", data)
    assert not Session.objects.get(title="Without").use_agreements


# Agreements: on the projector, and each phone agrees once


def test_the_projector_shows_the_agreements_until_the_facilitator_starts(world):
    session = agreeing(world, agreements="We listen\nWhat is said here stays here")
    _seq, html = render_projector(session.pk)
    assert "Before we start: how we talk together" in html
    assert "What is said here stays here" in html
    response = world.facilitator.post(f"/s/{session.public_id}/agreements/start/")
    assert response.status_code == 302
    session.refresh_from_db()
    assert not session.showing_agreements
    _seq, html = render_projector(session.pk)
    assert "What is said here stays here" not in html
    assert "Why does this happen?" in html
    world.facilitator.post(f"/s/{session.public_id}/agreements/show/")
    session.refresh_from_db()
    assert session.showing_agreements


def test_agreements_cannot_be_shown_in_a_session_without_them(world):
    response = world.facilitator.post(f"/s/{world.session.public_id}/agreements/show/", **HX)
    assert response.status_code == 409
    assert "does not open with agreements" in response.content.decode()


def test_a_phone_agrees_once_before_answering(world):
    session = agreeing(world)
    page = world.participant.get(f"/p/{session.public_id}/").content.decode()
    assert "I agree, let’s start" in page
    assert "We listen to each other, one at a time." in page

    # Answering first is refused, and the words come back to be sent later.
    url = f"/p/{session.public_id}/answers/"
    response = world.participant.post(url, {"text": "Nobody fixes the lights", "parent": ""})
    assert response.status_code == 409
    body = response.content.decode()
    assert "Please read the group agreements and agree first." in body
    assert "Nobody fixes the lights" in body
    assert not session.causes.exists()

    response = world.participant.post(f"/p/{session.public_id}/agree/")
    assert response.status_code == 302
    world.me.refresh_from_db()
    agreed = world.me.agreed_at
    assert agreed is not None
    world.participant.post(url, {"text": "Nobody fixes the lights", "parent": ""})
    assert session.causes.get().text == "Nobody fixes the lights"

    # Coming back (a reload, a reconnect) asks nothing again.
    page = world.participant.get(f"/p/{session.public_id}/").content.decode()
    assert "I agree, let’s start" not in page
    world.participant.post(f"/p/{session.public_id}/agree/")
    world.me.refresh_from_db()
    assert world.me.agreed_at == agreed


def test_a_browser_that_did_not_join_cannot_agree(world):
    response = world.anonymous.post(f"/p/{world.session.public_id}/agree/")
    assert response.status_code == 403
    assert not world.session.participants.filter(agreed_at__isnull=False).exists()


def test_votes_and_ideas_also_wait_for_the_agreement(world):
    session = agreeing(world)
    cause = make_cause(session, matters_most=True)
    session.set_phase(Session.Phase.REFLECT)
    response = world.participant.post(
        f"/p/{session.public_id}/votes/", {"cause": cause.pk, "dots": 1}
    )
    assert response.status_code == 409
    assert not session.votes.exists()
    session.set_phase(Session.Phase.ACT)
    response = world.participant.post(
        f"/p/{session.public_id}/actions/", {"text": "Ask the council", "causes": [cause.pk]}
    )
    assert response.status_code == 409
    assert not session.actions.exists()


# The pause


def test_the_facilitator_pauses_and_resumes_the_room(world):
    session = world.session
    lights = make_cause(session, "No street lights")
    session.ask_why(lights)
    response = world.facilitator.post(f"/s/{session.public_id}/pause/", **HX)
    assert response.status_code == 200
    assert "Go on where we were" in response.content.decode()
    session.refresh_from_db()
    assert session.paused
    assert session.events.last().kind == "pause"

    # Every screen: the calm message and nothing of the room.
    _seq, projector = render_projector(session.pk)
    _seq, phone = render_phone(session.pk)
    for html in (projector, phone):
        assert "Let’s take a moment" in html
        assert "No street lights" not in html

    response = world.facilitator.post(f"/s/{session.public_id}/resume/")
    assert response.status_code == 302
    session.refresh_from_db()
    assert not session.paused
    assert session.focus_id == lights.pk
    _seq, phone = render_phone(session.pk)
    assert "Let’s take a moment" not in phone
    assert "No street lights" in phone


def test_an_answer_sent_during_the_pause_is_refused_and_kept(world):
    world.session.pause()
    url = f"/p/{world.session.public_id}/answers/"
    response = world.participant.post(
        url, {"text": "Half a thought", "parent": "", "key": "k" * 12}, **HX
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "The room is taking a moment" in body
    assert "Half a thought" in body
    assert 'value="kkkkkkkkkkkk"' in body
    assert not world.session.causes.exists()
    world.session.pause(False)
    response = world.participant.post(
        url, {"text": "Half a thought", "parent": "", "key": "k" * 12}, **HX
    )
    assert response.status_code == 200
    assert world.session.causes.get().text == "Half a thought"


def test_no_votes_during_the_pause(world):
    cause = make_cause(world.session)
    world.session.set_phase(Session.Phase.REFLECT)
    world.session.pause()
    response = world.participant.post(
        f"/p/{world.session.public_id}/votes/", {"cause": cause.pk, "dots": 1}
    )
    assert response.status_code == 409
    assert "The room is taking a moment" in response.content.decode()
    assert not world.session.votes.exists()


def test_the_phone_page_during_the_pause_keeps_the_box_to_write_in(world):
    world.session.pause()
    page = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    assert 'id="pause"' in page
    assert "Let’s take a moment" in page
    assert 'id="id_text"' in page
    assert "Sending waits until we go on." in page


def test_the_console_offers_the_pause_with_its_key(world):
    page = world.facilitator.get(f"/s/{world.session.public_id}/console/").content.decode()
    assert 'id="pause-toggle" aria-keyshortcuts="B"' in page
    assert "Pause the room" in page


# Hide from the wall: gone from every screen in the same update, and from paper


def test_a_hidden_cause_leaves_the_projector_and_every_phone_in_one_update(world):
    session = world.session
    make_cause(session, "The corner is dark")
    cause = make_cause(session, "Ali Hassan from number 12 did it")
    before_projector, _html = render_projector(session.pk)
    cause.hide()
    seq_projector, projector = render_projector(session.pk)
    # Phones with everyone's answers open, and the others.
    seq_phone, phone = render_phone(session.pk, with_tree=True)
    _seq, lean = render_phone(session.pk)
    assert seq_projector == seq_phone == before_projector + 1
    for html in (projector, phone):
        assert "Ali Hassan" not in html
        assert "The corner is dark" in html
    assert "Ali Hassan" not in lean
    summary = world.organizer.get(f"/s/{session.public_id}/summary/").content.decode()
    assert "Ali Hassan" not in summary
    assert "The corner is dark" in summary


# Edit and approve: take the name out, approve, in one step; one undo


def test_edit_and_approve_takes_the_name_out_and_approves_in_one_undoable_step(world):
    session = world.session
    held = make_cause(session, "My husband Ali drinks", state=Cause.State.PENDING, author=world.me)
    page = world.facilitator.get(f"/s/{session.public_id}/console/").content.decode()
    assert "Edit and approve" in page
    url = f"/s/{session.public_id}/causes/{held.pk}/edit-approve/"
    response = world.facilitator.post(
        url, {"text": "My husband drinks", "was": "My husband Ali drinks"}, **HX
    )
    assert response.status_code == 200
    assert "Edited and approved: “My husband drinks”." in response.content.decode()
    held.refresh_from_db()
    assert (held.state, held.text) == (Cause.State.VISIBLE, "My husband drinks")
    assert session.events.filter(kind="edit_approve").count() == 1
    _seq, projector = render_projector(session.pk)
    assert "My husband drinks" in projector
    assert "Ali" not in projector

    event = session.events.get(kind="edit_approve")
    response = world.facilitator.post(f"/s/{session.public_id}/undo/", {"event": event.seq})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.state, held.text) == (Cause.State.PENDING, "My husband Ali drinks")


def test_edit_and_approve_with_empty_words_says_so_and_keeps_the_answer_held(world):
    held = make_cause(world.session, "Ask @jordan", state=Cause.State.PENDING, author=world.me)
    url = f"/s/{world.session.public_id}/causes/{held.pk}/edit-approve/"
    response = world.facilitator.post(url, {"text": "   ", "was": "Ask @jordan"}, **HX)
    assert response.status_code == 400
    assert "Please write something first." in response.content.decode()
    held.refresh_from_db()
    assert (held.state, held.text) == (Cause.State.PENDING, "Ask @jordan")
    response = world.facilitator.post(url, {"text": "x" * 281, "was": "Ask @jordan"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please keep it to 280 characters" in body
    assert "x" * 281 in body  # the words typed come back in the form
    held.refresh_from_db()
    assert held.state == Cause.State.PENDING


def test_edit_and_approve_refuses_an_answer_already_moderated(world):
    cause = make_cause(world.session, "On the board already")
    url = f"/s/{world.session.public_id}/causes/{cause.pk}/edit-approve/"
    response = world.facilitator.post(url, {"text": "Changed"}, **HX)
    assert response.status_code == 409
    cause.refresh_from_db()
    assert cause.text == "On the board already"


# Support contacts


def test_facilitators_and_organizers_keep_the_groups_support_contacts(world):
    url = f"/g/{world.group.public_id}/support/"
    for client, name in ((world.facilitator, "City helpline"), (world.organizer, "Counsellor")):
        response = client.post(
            url, {"name": name, "reach": "0800 123 456", "hours": "Every day, 8–22"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/g/{world.group.public_id}/#support"
    contacts = list(world.group.support_contacts.values_list("name", "reach", "hours"))
    assert contacts == [
        ("City helpline", "0800 123 456", "Every day, 8–22"),
        ("Counsellor", "0800 123 456", "Every day, 8–22"),
    ]
    counsellor = world.group.support_contacts.get(name="Counsellor")
    response = world.organizer.post(f"/g/{world.group.public_id}/support/{counsellor.pk}/remove/")
    assert response.status_code == 302
    assert not SupportContact.objects.filter(pk=counsellor.pk).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Evil", "reach": "javascript:alert(1)"}, "A link can only be a web address"),
        ({"name": "Evil", "reach": "JavaScript: alert(1)"}, "A link can only be a web address"),
        ({"name": "Data", "reach": "data:text/html,<b>x</b>"}, "A link can only be a web address"),
        ({"name": "Mail", "reach": "mailto:help@example.org"}, "A link can only be a web address"),
        ({"name": "Web", "reach": "https:/nothing"}, "This web address is not complete."),
        ({"name": "", "reach": "0800 123"}, "Please write something first."),
        ({"name": "Line", "reach": "\n\n"}, "Please write something first."),
        ({"name": "x" * 121, "reach": "0800 123"}, "Please keep it to 120 characters"),
        ({"name": "Line", "reach": "1" * 201}, "Please keep it to 200 characters"),
        ({"name": "Line", "reach": "0800", "hours": "h" * 121}, "Please keep it to 120 characters"),
    ],
)
def test_a_bad_contact_is_refused_with_a_message_and_nothing_is_added(world, data, message):
    response = world.facilitator.post(f"/g/{world.group.public_id}/support/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not world.group.support_contacts.exists()


def test_a_group_keeps_at_most_ten_contacts(world):
    for n in range(10):
        world.group.support_contacts.create(name=f"Line {n}", reach="0800")
    response = world.facilitator.post(
        f"/g/{world.group.public_id}/support/", {"name": "Eleventh", "reach": "0800"}
    )
    assert response.status_code == 409
    assert "at most 10 support contacts" in response.content.decode()
    assert world.group.support_contacts.count() == 10


def test_a_contact_of_another_group_cannot_be_removed_through_this_one(world):
    theirs = world.other_group.support_contacts.create(name="Theirs", reach="0800")
    response = world.facilitator.post(f"/g/{world.group.public_id}/support/{theirs.pk}/remove/")
    assert response.status_code == 404
    assert SupportContact.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize(
    ("reach", "href"),
    [
        ("https://help.example.org/chat", "https://help.example.org/chat"),
        ("tel:+34 900 123 456", "tel:+34900123456"),
        ("+34 900 123 456", "tel:+34900123456"),
        ("12 Harbour Road, Riverside", ""),
        ("Phone: 0800 123", ""),
    ],
)
def test_a_contact_links_only_to_the_web_or_a_phone_call(reach, href):
    assert SupportContact(name="x", reach=reach).href == href


def test_support_shows_on_the_projector_and_every_phone_when_the_session_ends(world):
    session = world.session
    world.group.support_contacts.create(
        name="City helpline", reach="0800 123 456", hours="Every day, 8–22"
    )
    _seq, projector = render_projector(session.pk)
    assert "City helpline" not in projector
    world.facilitator.post(f"/s/{session.public_id}/end/")
    session.refresh_from_db()
    assert session.has_ended
    _seq, projector = render_projector(session.pk)
    _seq, phone = render_phone(session.pk)
    for html in (projector, phone):
        assert "City helpline" in html
        assert 'href="tel:0800123456"' in html
        assert "Every day, 8–22" in html
    page = world.participant.get(f"/p/{session.public_id}/").content.decode()
    assert "City helpline" in page


def test_at_the_end_agreements_give_way_to_thanks_and_support(world):
    session = agreeing(world)
    world.group.support_contacts.create(name="City helpline", reach="0800 123 456")
    session.end()
    _seq, projector = render_projector(session.pk)
    assert "Before we start" not in projector
    assert "City helpline" in projector
    # A phone that never agreed is not asked now: it gets the thanks and support.
    page = world.participant.get(f"/p/{session.public_id}/").content.decode()
    assert "I agree, let’s start" not in page
    assert "City helpline" in page


def test_the_phones_support_page_lists_the_contacts_at_any_time(world):
    world.group.support_contacts.create(name="<b>Helpline</b>", reach="https://help.example.org")
    page = world.participant.get(f"/p/{world.session.public_id}/support/").content.decode()
    assert "&lt;b&gt;Helpline&lt;/b&gt;" in page
    assert 'href="https://help.example.org"' in page
    phone = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    assert f'href="/p/{world.session.public_id}/support/"' in phone


def test_the_phones_support_page_without_contacts_says_whom_to_ask(world):
    page = world.participant.get(f"/p/{world.session.public_id}/support/").content.decode()
    assert "talk to the facilitator" in page


def test_the_summary_prints_the_support_contacts(world):
    world.group.support_contacts.create(name="City helpline", reach="0800 123 456")
    page = world.organizer.get(f"/s/{world.session.public_id}/summary/").content.decode()
    assert "Where to get support" in page
    assert "City helpline" in page


def test_a_participant_agreed_at_is_kept_across_a_new_cookie_only_for_that_phone(world):
    session = agreeing(world)
    world.me.agreed_at = timezone.now()
    world.me.save()
    other = join(world.other_participant, session)
    page = world.other_participant.get(f"/p/{session.public_id}/").content.decode()
    assert other.agreed_at is None
    assert "I agree, let’s start" in page
