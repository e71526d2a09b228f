"""Following up: the group page's sessions and open actions, follow-up sessions, copies."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions.models import NOTES_MAX_LENGTH, Action, Membership, Session, Vote
from tests.conftest import make_agreed_action, make_cause, make_group, make_session
from tests.test_permissions import FACILITATOR_ACTION, FACILITATORS, assert_outcome, matrix

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)
NEXT_WEEK = TODAY + datetime.timedelta(days=7)


def group_page(world, persona="facilitator") -> str:
    response = world.as_(persona).get(f"/g/{world.group.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


# The group page: sessions


def test_the_group_page_lists_each_session_with_its_kind_state_and_phase(world):
    earlier = make_session(world.group, open=False, title="Buses at night", kind="success")
    Session.objects.filter(pk=earlier.pk).update(phase=Session.Phase.AGREE)
    page = group_page(world)
    sessions = section(page, "<h2>Sessions</h2>", "</section>")
    assert "Buses at night" in sessions
    assert "a success" in sessions
    assert "closed" in sessions
    assert "phase: Agree" in sessions
    assert "Safety at the corner" in sessions
    assert f"open · {world.session.spaced_join_code}" in sessions
    assert "phase: Why?" in sessions


def test_facilitators_get_the_console_follow_up_and_copy_links_organizers_the_projector(world):
    s = world.session.public_id
    links = [
        f'href="/s/{s}/console/"',
        f'href="/g/{world.group.public_id}/sessions/new/?follows={s}"',
        f'href="/s/{s}/copy/"',
    ]
    facilitator, organizer = group_page(world), group_page(world, "organizer")
    assert f'href="/s/{s}/present/"' in facilitator
    assert f'href="/s/{s}/present/"' in organizer
    for link in links:
        assert link in facilitator
        assert link not in organizer


def test_a_follow_up_session_says_which_session_it_follows(world):
    make_session(world.group, open=False, title="Next month", follows=world.session)
    assert 'follows up on <span dir="auto">Safety at the corner</span>' in group_page(world)


def test_another_groups_sessions_and_actions_stay_off_the_page(world):
    make_agreed_action(world.other_session, "Their secret plan")
    page = group_page(world)
    assert "Elsewhere" not in page
    assert "Their secret plan" not in page


# The group page: actions


def test_open_actions_show_text_session_owner_first_step_and_date(world):
    make_agreed_action(
        world.session,
        "Ask the council for street lights",
        owner="City council",
        owner_outside=True,
        first_step="Write the letter",
        due=NEXT_WEEK,
    )
    make_agreed_action(world.session, "Walk home in pairs", owner="Amina", due=None)
    actions = section(group_page(world), "<h2>Open actions</h2>", "</section>")
    lights = section(actions, "Ask the council for street lights", "</li>")
    assert "City council" in lights
    assert "outside the group" in lights
    assert "Write the letter" in lights
    assert f'datetime="{NEXT_WEEK:%Y-%m-%d}"' in lights
    assert "Safety at the corner" in lights
    assert "Not started" in lights
    pairs = section(actions, "Walk home in pairs", "</li>")
    assert "Amina" in pairs
    assert "outside the group" not in pairs


def test_only_agreed_actions_are_listed(world):
    cause = make_cause(world.session)
    world.session.add_action("Just an idea", [cause.pk])
    make_agreed_action(world.session, "Agreed plan")
    page = group_page(world)
    assert "Agreed plan" in page
    assert "Just an idea" not in page


def test_done_and_dropped_actions_are_listed_apart_from_the_open_ones(world):
    for status in Action.Status.values:
        make_agreed_action(world.session, f"Action {status}", status=status)
    page = group_page(world)
    open_list = section(page, "<h2>Open actions</h2>", '<details class="closed-actions"')
    closed_list = section(page, '<details class="closed-actions"', "</section>")
    assert "Action not_started" in open_list
    assert "Action started" in open_list
    assert "Action done" not in open_list
    assert "Action dropped" not in open_list
    assert "Done or dropped (2)" in closed_list
    assert "Action done" in closed_list
    assert "Action dropped" in closed_list


def test_an_overdue_action_says_so_in_words_and_comes_first(world):
    make_agreed_action(world.session, "Due next week", due=NEXT_WEEK)
    late = make_agreed_action(world.session, "Late one", due=YESTERDAY, status="started")
    make_agreed_action(world.session, "Done late", due=YESTERDAY, status="done")
    page = group_page(world)
    assert page.index("Late one") < page.index("Due next week")
    row = section(page, f'<li id="action-{late.pk}"', "</li>")
    assert 'class="action is-overdue"' in row
    assert "Overdue" in row
    assert "⚠" in row
    assert page.count("Overdue") == 1, "neither the future nor the done action is overdue"


def test_the_page_tells_facilitators_a_done_action_can_start_a_success_session(world):
    done = make_agreed_action(world.session, "Lights are up", status="done")
    link = (
        f"/g/{world.group.public_id}/sessions/new/"
        f"?follows={world.session.public_id}&amp;from_action={done.pk}"
    )
    assert link in group_page(world)
    assert link not in group_page(world, "organizer")


def test_the_group_page_costs_the_same_queries_at_2_and_20_sessions(world):
    def queries_with(count: int) -> int:
        Session.objects.filter(group=world.group).delete()
        session = None
        for number in range(count):
            session = make_session(
                world.group, open=number % 2 == 0, title=f"S{number}", follows=session
            )
            make_agreed_action(session, f"Open {number}", due=YESTERDAY, owner_outside=True)
            make_agreed_action(session, f"Done {number}", status="done")
        with CaptureQueriesContext(connection) as queries:
            response = world.facilitator.get(f"/g/{world.group.public_id}/")
        assert response.status_code == 200
        assert response.content.decode().count('class="action is-overdue"') == count
        return len(queries)

    assert queries_with(2) == queries_with(20)


# Updating an action's status and notes


def post_follow_up(world, action, data, persona="facilitator", **extra):
    url = f"/g/{world.group.public_id}/actions/{action.pk}/"
    return world.as_(persona).post(url, data, **extra)


def test_a_plain_post_updates_status_and_notes_and_goes_back_to_the_group(world):
    action = make_agreed_action(world.session)
    response = post_follow_up(
        world, action, {"status": "started", "notes": "  Letter sent,\n  waiting  "}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/g/{world.group.public_id}/"
    action.refresh_from_db()
    assert action.status == Action.Status.STARTED
    assert action.notes == "Letter sent,\nwaiting"
    assert action.status_changed_at is not None


def test_changing_only_the_notes_keeps_the_time_of_the_last_status_change(world):
    action = make_agreed_action(world.session)
    post_follow_up(world, action, {"status": "started", "notes": ""})
    action.refresh_from_db()
    changed_at = action.status_changed_at
    post_follow_up(world, action, {"status": "started", "notes": "Still waiting"}, "organizer")
    action.refresh_from_db()
    assert (action.notes, action.status_changed_at) == ("Still waiting", changed_at)


def test_htmx_gets_the_updated_row_alone_while_the_action_stays_open(world):
    action = make_agreed_action(world.session, "Ask the council")
    response = post_follow_up(world, action, {"status": "started", "notes": "Letter sent"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith(f'<li id="action-{action.pk}"')
    assert "Letter sent" in html
    assert "HX-Retarget" not in response
    action.refresh_from_db()
    assert (action.status, action.notes) == (Action.Status.STARTED, "Letter sent")


def test_an_action_marked_done_leaves_the_open_actions_at_once(world):
    action = make_agreed_action(world.session, "Ask the council")
    make_agreed_action(world.session, "Still to do")
    response = post_follow_up(world, action, {"status": "done", "notes": "Lights are up"}, **HTMX)
    assert response.status_code == 200
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#actions", "outerHTML")
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="actions">')
    open_list = section(html, "<h2>Open actions</h2>", '<details class="closed-actions"')
    closed_list = section(html, '<details class="closed-actions"', "</section>")
    assert "Still to do" in open_list
    assert "Ask the council" not in open_list
    assert "Done or dropped (1)" in closed_list
    assert "Lights are up" in closed_list
    assert "Start a success session about this" in closed_list
    action.refresh_from_db()
    assert (action.status, action.notes) == (Action.Status.DONE, "Lights are up")


def test_a_done_action_started_again_goes_back_to_the_open_actions(world):
    action = make_agreed_action(world.session, "Ask the council", status="done")
    response = post_follow_up(world, action, {"status": "started", "notes": "Broke again"}, **HTMX)
    html = response.content.decode()
    assert response["HX-Retarget"] == "#actions"
    assert "Ask the council" in section(html, "<h2>Open actions</h2>", "</section>")
    assert '<details class="closed-actions"' not in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "finished", "notes": ""}, "Select a valid choice"),
        ({"notes": "No status"}, "This field is required"),
        (
            {"status": "done", "notes": "x" * (NOTES_MAX_LENGTH + 1)},
            f"Please keep it to {NOTES_MAX_LENGTH} characters",
        ),
    ],
    ids=["unknown-status", "no-status", "notes-too-long"],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(world, data, message, htmx):
    action = make_agreed_action(world.session)
    response = post_follow_up(world, action, data, **(HTMX if htmx else {}))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert ("<html" in html) == (not htmx)
    action.refresh_from_db()
    assert (action.status, action.notes, action.status_changed_at) == ("not_started", "", None)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_an_action_that_left_the_plan_cannot_be_followed_up(world, htmx):
    action = make_agreed_action(world.session)
    action.leave_plan()
    response = post_follow_up(
        world, action, {"status": "done", "notes": "x"}, **(HTMX if htmx else {})
    )
    assert response.status_code == 409
    assert "no longer in the plan" in response.content.decode()
    action.refresh_from_db()
    assert (action.status, action.notes) == ("not_started", "")


def test_an_action_of_another_group_is_404_through_this_group(world):
    theirs = make_agreed_action(world.other_session)
    response = post_follow_up(world, theirs, {"status": "dropped", "notes": "Sabotage"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.notes) == ("not_started", "")


def test_an_unknown_action_is_404(world):
    url = f"/g/{world.group.public_id}/actions/{2**63 + 5}/"
    assert world.facilitator.post(url, {"status": "done"}).status_code == 404


GROUP_ACTION = {
    **FACILITATOR_ACTION,
    "facilitator": "group",
    "co_facilitator": "group",
    "organizer": "group",
}


@pytest.mark.parametrize(("persona", "expected"), matrix(GROUP_ACTION))
def test_the_groups_organizers_and_facilitators_follow_up_actions(world, persona, expected):
    action = make_agreed_action(world.session)
    url = f"/g/{world.group.public_id}/actions/{action.pk}/"
    response = world.as_(persona).post(url, {"status": "started", "notes": "On it"})
    assert_outcome(response, expected, world, url)
    action.refresh_from_db()
    updated = persona in FACILITATORS | {"organizer"}
    assert (action.status == "started", action.notes == "On it") == (updated, updated)


# Follow-up sessions


def new_session_page(world, query: str, persona="facilitator"):
    return world.as_(persona).get(f"/g/{world.group.public_id}/sessions/new/?{query}")


def test_a_follow_up_starts_from_the_earlier_sessions_situation_and_settings(world):
    Session.objects.filter(pk=world.session.pk).update(
        language="fr", names="required", moderation="hold", max_participants=30
    )
    response = new_session_page(world, f"follows={world.session.public_id}")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["title"].value() == "Follow-up: Safety at the corner"
    assert form["situation"].value() == world.session.situation
    assert form["kind"].value() == "problem"
    assert form["language"].value() == "fr"
    assert form["names"].value() == "required"
    assert form["moderation"].value() == "hold"
    assert form["max_participants"].value() == 30
    html = response.content.decode()
    assert f'<option value="{world.session.public_id}" selected>' in html
    assert "opens by reviewing what became of that session's plan" in html


def test_a_long_title_is_cut_to_fit(world):
    Session.objects.filter(pk=world.session.pk).update(title="T" * 120)
    response = new_session_page(world, f"follows={world.session.public_id}")
    assert len(response.context["form"]["title"].value()) == 120


def test_a_done_action_starts_a_success_session_about_it(world):
    done = make_agreed_action(world.session, "Lights on 5th street", status="done")
    response = new_session_page(world, f"follows={world.session.public_id}&from_action={done.pk}")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["kind"].value() == "success"
    assert form["situation"].value() == "We did this: Lights on 5th street"
    assert form["title"].value() == "What went well: Lights on 5th street"
    assert form["follows"].value() == world.session.public_id


def test_an_action_alone_is_enough_to_find_the_session_it_came_from(world):
    done = make_agreed_action(world.session, "Lights on 5th street", status="done")
    response = new_session_page(world, f"from_action={done.pk}")
    assert response.context["form"]["follows"].value() == world.session.public_id


def test_an_action_not_done_cannot_start_a_success_session(world):
    started = make_agreed_action(world.session, "Still going", status="started")
    response = new_session_page(world, f"from_action={started.pk}")
    assert response.status_code == 409
    assert "Only a done action can start a success session" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "follows={other_session}",
        "follows=nosuchsession",
        "from_action={their_action}",
        "from_action={not_agreed}",
        "follows={session}&from_action={action_of_another_session}",
        "from_action=nonsense",
        "from_action=99999999999999999999999",
    ],
)
def test_a_follow_up_of_something_not_in_the_group_is_404(world, query):
    earlier = make_session(world.group, open=False, title="Earlier")
    not_agreed = world.session.add_action("Only an idea", [make_cause(world.session).pk])
    query = query.format(
        other_session=world.other_session.public_id,
        session=world.session.public_id,
        their_action=make_agreed_action(world.other_session, status="done").pk,
        not_agreed=not_agreed.pk,
        action_of_another_session=make_agreed_action(earlier, status="done").pk,
    )
    assert new_session_page(world, query).status_code == 404


SESSION_FORM = {
    "title": "Follow-up: Safety",
    "situation": "What became of the street lights?",
    "kind": "problem",
    "language": "en",
    "names": "anonymous",
    "moderation": "show",
}


def test_a_session_that_follows_another_opens_with_the_review(world):
    Session.objects.filter(pk=world.session.pk).update(
        dot_budget=5, stack_dots=True, actions_for_any_cause=True
    )
    url = f"/g/{world.group.public_id}/sessions/new/"
    response = world.facilitator.post(url, {**SESSION_FORM, "follows": world.session.public_id})
    created = Session.objects.get(title="Follow-up: Safety")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{created.public_id}/console/"
    assert created.follows == world.session
    assert created.phase == Session.Phase.REVIEW
    assert created.dot_budget == 5
    assert created.stack_dots
    assert created.actions_for_any_cause
    assert not created.is_open


def test_a_session_that_follows_nothing_opens_with_why(world):
    url = f"/g/{world.group.public_id}/sessions/new/"
    world.facilitator.post(url, {**SESSION_FORM, "follows": ""})
    created = Session.objects.get(title="Follow-up: Safety")
    assert (created.follows, created.phase, created.dot_budget) == (None, Session.Phase.WHY, 3)


@pytest.mark.parametrize("follows", ["other group", "nosuchsession", "1"])
def test_a_session_cannot_follow_one_of_another_group(world, follows):
    if follows == "other group":
        follows = world.other_session.public_id
    url = f"/g/{world.group.public_id}/sessions/new/"
    response = world.facilitator.post(url, {**SESSION_FORM, "follows": follows})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Session.objects.filter(title="Follow-up: Safety").exists()


def test_the_followed_sessions_plan_is_what_the_review_shows(world, django_assert_num_queries):
    second = make_agreed_action(world.session, "Second")
    first = make_agreed_action(world.session, "First")
    first.move_in_plan(-1)
    make_agreed_action(world.session, "Was agreed, then left").leave_plan()
    make_agreed_action(world.other_session, "Another group's")
    follow_up = make_session(world.group, open=False, follows=world.session)
    with django_assert_num_queries(2):
        plan = list(follow_up.earlier_plan())
        causes = [[c.text for c in action.addressed] for action in plan]
        links = [action.cause_ids for action in plan]
    assert plan == [first, second]
    assert causes == [["Cause of: First"], ["Cause of: Second"]]
    assert links == [[c.pk for c in action.causes.all()] for action in plan]


def test_a_session_that_follows_nothing_has_no_earlier_plan(world, django_assert_num_queries):
    make_agreed_action(world.session)
    with django_assert_num_queries(0):
        assert list(world.session.earlier_plan()) == []


@pytest.mark.parametrize(
    ("persona", "expected"),
    matrix({**FACILITATOR_ACTION, "facilitator": "new session", "co_facilitator": "new session"}),
)
def test_only_facilitators_start_a_follow_up(world, persona, expected):
    url = f"/g/{world.group.public_id}/sessions/new/"
    response = world.as_(persona).post(url, {**SESSION_FORM, "follows": world.session.public_id})
    created = Session.objects.filter(title="Follow-up: Safety").first()
    if expected == "new session":
        assert response["Location"] == f"/s/{created.public_id}/console/"
        assert created.follows == world.session
    else:
        assert_outcome(response, expected, world, url)
        assert created is None


# Copying a session


def test_the_copy_form_offers_the_groups_the_facilitator_runs(world):
    fran = world.facilitator_user
    third = make_group("Lakeside", facilitators=[fran])
    make_group("Watching only", organizers=[fran])
    response = world.facilitator.get(f"/s/{world.session.public_id}/copy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{world.group.public_id}" selected>Riverside</option>' in html
    assert f'<option value="{third.public_id}">Lakeside</option>' in html
    assert "Watching only" not in html
    assert "Hilltop" not in html
    assert "no-store" in response["Cache-Control"]


def test_a_copys_title_says_it_is_a_copy_and_when_it_was_made(world):
    response = world.facilitator.get(f"/s/{world.session.public_id}/copy/")
    today = timezone.localdate().isoformat()
    assert f'value="Safety at the corner (copy, {today})"' in response.content.decode()


def test_a_long_title_is_cut_so_that_the_copy_still_says_so(world):
    Session.objects.filter(pk=world.session.pk).update(title="Long " * 24)
    response = world.facilitator.get(f"/s/{world.session.public_id}/copy/")
    title = re.search(r'name="title" value="([^"]*)"', response.content.decode()).group(1)
    assert len(title) <= 120
    assert title.endswith(f"… (copy, {timezone.localdate().isoformat()})")


def test_the_copys_title_can_be_changed_before_saving(world):
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/copy/",
        {"group": world.group.public_id, "title": "Safety at the corner, spring"},
    )
    assert response.status_code == 302
    assert Session.objects.filter(title="Safety at the corner, spring").count() == 1
    assert Session.objects.filter(title="Safety at the corner").count() == 1


def test_a_copy_has_the_situation_and_settings_and_nothing_that_happened(world):
    Session.objects.filter(pk=world.session.pk).update(
        kind="success",
        language="es",
        names="optional",
        moderation="hold",
        filter_words=True,
        max_participants=25,
        dot_budget=4,
        stack_dots=True,
        actions_for_any_cause=True,
        phase=Session.Phase.REFLECT,
        votes_revealed=True,
    )
    world.session.refresh_from_db()
    cause = make_cause(world.session)
    make_agreed_action(world.session)
    Vote.objects.create(session=world.session, participant=world.me, cause=cause, dots=1)
    fran = world.facilitator_user
    lakeside = make_group("Lakeside", facilitators=[fran])
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/copy/",
        {"group": lakeside.public_id, "title": "  Safety, again "},
    )
    copy = Session.objects.get(group=lakeside)
    assert response.status_code == 302
    assert response["Location"] == f"/s/{copy.public_id}/console/"
    assert copy.title == "Safety, again"
    for field in [
        "situation",
        "kind",
        "language",
        "names",
        "moderation",
        "filter_words",
        "max_participants",
        "dot_budget",
        "stack_dots",
        "actions_for_any_cause",
    ]:
        assert getattr(copy, field) == getattr(world.session, field), field
    assert copy.pk != world.session.pk
    assert copy.created_by == fran
    assert not copy.is_open
    assert (copy.phase, copy.votes_revealed, copy.follows, copy.last_seq) == ("why", False, None, 0)
    assert not copy.causes.exists()
    assert not copy.actions.exists()
    assert not copy.participants.exists()
    assert not copy.votes.exists()
    assert world.session.causes.count() == 2  # the original keeps everything


@pytest.mark.parametrize("target", ["organized", "other", "nosuchgroup"])
def test_a_copy_goes_only_to_a_group_the_facilitator_runs(world, target):
    organized = make_group("Watching only", organizers=[world.facilitator_user])
    group_id = {
        "organized": organized.public_id,
        "other": world.other_group.public_id,
        "nosuchgroup": "nosuchgroup",
    }[target]
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/copy/", {"group": group_id, "title": "Sneaky copy"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Session.objects.filter(title="Sneaky copy").exists()


def test_a_copy_needs_a_title(world):
    before = Session.objects.count()
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/copy/", {"group": world.group.public_id, "title": " "}
    )
    assert response.status_code == 400
    assert "Please write something first." in response.content.decode()
    assert Session.objects.count() == before


@pytest.mark.parametrize(
    ("persona", "expected"),
    matrix({**FACILITATOR_ACTION, "facilitator": "copy", "co_facilitator": "copy"}),
)
def test_only_the_groups_facilitators_copy_a_session(world, persona, expected):
    url = f"/s/{world.session.public_id}/copy/"
    response = world.as_(persona).post(url, {"group": world.group.public_id, "title": "Again"})
    copy = Session.objects.filter(title="Again").first()
    if expected == "copy":
        assert copy.group == world.group
        assert response["Location"] == f"/s/{copy.public_id}/console/"
    else:
        assert_outcome(response, expected, world, url)
        assert copy is None


def test_the_outsiders_own_groups_do_not_let_him_copy_this_groups_session(world):
    otto = Membership.objects.get(group=world.other_group).user
    assert otto.username == "otto"
    response = world.outsider.post(
        f"/s/{world.session.public_id}/copy/",
        {"group": world.other_group.public_id, "title": "Stolen"},
    )
    assert response.status_code == 404
    assert not Session.objects.filter(title="Stolen").exists()


# The Review step of a follow-up: status and notes from the console.


@pytest.fixture
def reviewing(world):
    """The world's session reviews the plan of an earlier one, in the Review step."""
    earlier = make_session(world.group, title="Last spring", open=False)
    action = make_agreed_action(earlier, "Ask for street lights", notes="Wrote in May")
    Session.objects.filter(pk=world.session.pk).update(follows=earlier)
    world.session.refresh_from_db()
    world.session.set_phase("review")
    return action


def review_post(world, action, data, persona="facilitator", **extra):
    url = f"/s/{world.session.public_id}/review/{action.pk}/"
    return world.as_(persona).post(url, data, **extra)


def test_the_console_updates_an_actions_status_and_notes_during_review(world, reviewing):
    response = review_post(world, reviewing, {"status": "started", "notes": "The council replied"})
    assert response.status_code == 302
    assert response["Location"] == f"/s/{world.session.public_id}/console/"
    reviewing.refresh_from_db()
    assert (reviewing.status, reviewing.notes) == ("started", "The council replied")
    assert reviewing.status_changed_at is not None
    assert world.session.events.filter(kind="review", data__action=reviewing.pk).exists()


def test_htmx_gets_the_console_with_the_new_status(world, reviewing):
    response = review_post(
        world, reviewing, {"status": "done", "notes": "Lights are up"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert '<span class="status-badge status-done">Done</span>' in html
    assert "Lights are up" in html


def test_the_console_projector_and_phones_show_the_notes_and_a_status_badge(world, reviewing):
    sid = world.session.public_id
    console = world.facilitator.get(f"/s/{sid}/console/").content.decode()
    assert "Wrote in May" in console
    assert f'action="/s/{sid}/review/{reviewing.pk}/"' in console
    assert f'id="review-status-{reviewing.pk}"' in console
    for page in (
        world.organizer.get(f"/s/{sid}/present/").content.decode(),
        world.participant.get(f"/p/{sid}/").content.decode(),
    ):
        assert '<span class="status-badge status-not_started">Not started</span>' in page
        assert '<p class="plan-notes" dir="auto">Wrote in May</p>' in page


@pytest.mark.parametrize(
    "data", [{"status": "finished", "notes": ""}, {"status": "done", "notes": "x" * 2001}]
)
def test_bad_review_input_is_refused_and_changes_nothing(world, reviewing, data):
    response = review_post(world, reviewing, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    reviewing.refresh_from_db()
    assert (reviewing.status, reviewing.notes) == ("not_started", "Wrote in May")


def test_only_the_plan_under_review_can_be_updated_from_the_console(world, reviewing):
    elsewhere = make_agreed_action(world.session, "An action of this session")
    response = review_post(world, elsewhere, {"status": "done", "notes": ""})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == "not_started"


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_review_from_the_console(world, reviewing, persona, expected):
    response = review_post(world, reviewing, {"status": "dropped", "notes": ""}, persona=persona)
    url = f"/s/{world.session.public_id}/review/{reviewing.pk}/"
    assert_outcome(response, expected, world, url)
    reviewing.refresh_from_db()
    assert (reviewing.status == "dropped") == (persona in FACILITATORS)
