"""The console built around the tree: the cause's panel opened in place, the
notice with its own Undo, merge asking which cause stays, and a tree of any
depth rendered without recursion."""

import pytest

from sessions.models import Cause
from sessions.views.facilitating import render_console
from tests.conftest import make_cause
from tests.test_permissions import FACILITATOR_PAGE, FACILITATORS, assert_outcome, matrix

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(world, path: str) -> str:
    return f"/s/{world.session.public_id}/{path}"


def post(world, path: str, data=None, persona: str = "facilitator", **extra):
    return world.as_(persona).post(url(world, path), data or {}, **extra)


# The cause's panel: a page without JavaScript, a fragment for the console's dialog.


def test_the_causes_panel_comes_as_a_fragment_for_htmx(world):
    lights = make_cause(world.session, "No street lights")
    response = world.facilitator.get(url(world, f"causes/{lights.pk}/"), **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="cause-panel"')
    assert 'id="cause-panel-title"' in fragment
    assert f'hx-post="/s/{world.session.public_id}/causes/{lights.pk}/merge/"' in fragment
    assert "HX-Request" in response["Vary"]


def test_the_causes_page_without_htmx_is_a_whole_page_of_plain_forms(world):
    lights = make_cause(world.session, "No street lights")
    response = world.facilitator.get(url(world, f"causes/{lights.pk}/"))
    page = response.content.decode()
    assert "<html" in page
    assert f'action="/s/{world.session.public_id}/causes/{lights.pk}/merge/"' in page
    assert "hx-post" not in page.split('id="cause-panel"')[1]


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_PAGE))
def test_only_facilitators_open_a_causes_panel(world, persona, expected):
    lights = make_cause(world.session, "No street lights")
    path = url(world, f"causes/{lights.pk}/")
    response = world.as_(persona).get(path, **HTMX)
    assert_outcome(response, expected, world, path)
    if expected == 200:
        assert "<html" not in response.content.decode()


def test_another_sessions_cause_has_no_panel(world):
    theirs = make_cause(world.other_session, "Elsewhere")
    response = world.facilitator.get(url(world, f"causes/{theirs.pk}/"), **HTMX)
    assert response.status_code == 404


# Each in-place action: a plain post goes back to the console; htmx gets the
# console's regions and a notice naming what changed, with its Undo.

IN_PLACE = {
    "edit": ({"text": "No lights at all"}, "Reworded: “No lights at all”."),
    "tags": ({"can_change": "yes"}, "Tags changed on “No street lights”."),
    "hide": ({}, "Hidden: “No street lights”."),
    "matters": ({"matters": "1"}, "Marked as mattering most: “No street lights”."),
}


def changed(cause: Cause, action: str) -> bool:
    cause.refresh_from_db()
    return {
        "edit": cause.text == "No lights at all",
        "tags": cause.can_change == "yes",
        "hide": cause.state == Cause.State.HIDDEN,
        "matters": cause.matters_most,
    }[action]


@pytest.mark.parametrize("action", list(IN_PLACE))
def test_an_in_place_action_answers_htmx_with_a_notice_and_its_undo(world, action):
    lights = make_cause(world.session, "No street lights")
    data, message = IN_PLACE[action]
    response = post(world, f"causes/{lights.pk}/{action}/", data, **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert message in fragment
    assert 'id="ctree"' in fragment
    assert changed(lights, action)
    event = world.session.events.latest("seq")
    assert f'<input type="hidden" name="event" value="{event.seq}">' in fragment

    # The notice's Undo takes back exactly that change, and says so.
    response = post(world, "undo/", {"event": event.seq}, **HTMX)
    assert response.status_code == 200
    assert "Undone: " in response.content.decode()
    assert not changed(lights, action)


@pytest.mark.parametrize("action", list(IN_PLACE))
@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_PAGE))
def test_only_facilitators_act_in_place(world, persona, expected, action):
    lights = make_cause(world.session, "No street lights")
    data, message = IN_PLACE[action]
    path = url(world, f"causes/{lights.pk}/{action}/")
    response = world.as_(persona).post(path, data, **HTMX)
    assert_outcome(response, expected, world, path)
    assert changed(lights, action) == (persona in FACILITATORS)
    if persona in FACILITATORS:
        assert message in response.content.decode()


@pytest.mark.parametrize("action", ["tags", "matters"])
def test_tagging_refuses_get_with_405(world, action):
    lights = make_cause(world.session, "No street lights")
    response = world.facilitator.get(url(world, f"causes/{lights.pk}/{action}/"))
    assert response.status_code == 405


def test_an_in_place_action_without_htmx_goes_back_to_the_console(world):
    lights = make_cause(world.session, "No street lights")
    response = post(world, f"causes/{lights.pk}/edit/", {"text": "No lights at all"})
    assert response.status_code == 302
    assert response["Location"] == f"/s/{world.session.public_id}/console/"
    assert changed(lights, "edit")


def test_a_refused_edit_comes_back_in_the_panel_with_why(world):
    lights = make_cause(world.session, "No street lights")
    response = post(world, f"causes/{lights.pk}/edit/", {"text": "   "}, **HTMX)
    assert response.status_code == 400
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'id="cause-panel"' in fragment
    assert "Please write something first." in fragment
    lights.refresh_from_db()
    assert lights.text == "No street lights"


def test_an_edit_made_meanwhile_is_not_overwritten_in_place(world):
    lights = make_cause(world.session, "No street lights")
    lights.edit("No street lights at all")
    data = {"text": "Mine", "was": "No street lights"}
    response = post(world, f"causes/{lights.pk}/edit/", data, **HTMX)
    assert response.status_code == 409
    assert "Someone changed this cause while you were editing it." in response.content.decode()
    lights.refresh_from_db()
    assert lights.text == "No street lights at all"


def test_a_notices_undo_refuses_when_something_else_changed_since(world):
    lights = make_cause(world.session, "No street lights")
    joke = make_cause(world.session, "A joke")
    post(world, f"causes/{lights.pk}/hide/", **HTMX)
    shown_for = world.session.events.latest("seq").seq
    joke.hide()
    response = post(world, "undo/", {"event": shown_for}, **HTMX)
    assert response.status_code == 409
    assert "something was changed since" in response.content.decode()
    lights.refresh_from_db()
    joke.refresh_from_db()
    assert (lights.state, joke.state) == (Cause.State.HIDDEN, Cause.State.HIDDEN)


def test_a_notices_undo_with_a_garbled_event_undoes_the_latest(world):
    lights = make_cause(world.session, "No street lights")
    lights.hide()
    response = post(world, "undo/", {"event": "x" * 40})
    assert response.status_code == 302
    lights.refresh_from_db()
    assert lights.is_visible


def test_approving_and_rejecting_answer_with_a_notice_beside_the_queue(world):
    waiting = make_cause(world.session, "Cars drive too fast", state=Cause.State.PENDING)
    other = make_cause(world.session, "Nobody checks", state=Cause.State.PENDING)
    fragment = post(world, f"causes/{waiting.pk}/approve/", **HTMX).content.decode()
    assert "Approved: “Cars drive too fast”." in fragment
    assert 'data-near="queue"' in fragment
    fragment = post(world, f"causes/{other.pk}/reject/", **HTMX).content.decode()
    assert "Rejected: “Nobody checks”." in fragment
    other.refresh_from_db()
    assert other.state == Cause.State.REJECTED


def test_moving_answers_with_a_notice_naming_the_new_parent(world):
    lights = make_cause(world.session, "No street lights")
    budget = make_cause(world.session, "The council cut the budget")
    data = {"target": lights.pk}
    fragment = post(world, f"causes/{budget.pk}/move/", data, **HTMX).content.decode()
    assert "Moved “The council cut the budget” under “No street lights”." in fragment
    budget.refresh_from_db()
    assert budget.parent == lights
    fragment = post(world, f"causes/{budget.pk}/move/", {"target": ""}, **HTMX).content.decode()
    assert "Moved “The council cut the budget” to the top, under the situation." in fragment
    budget.refresh_from_db()
    assert budget.parent is None


# Merge: which cause stays is asked, and the one that stays counts its people.


def test_the_merge_form_chooses_nothing_by_default(world):
    lights = make_cause(world.session, "No street lights")
    make_cause(world.session, "It is dark")
    fragment = world.facilitator.get(url(world, f"causes/{lights.pk}/"), **HTMX).content.decode()
    merge = fragment.split('id="merge-target"')[1].split("</form>")[0]
    assert '<option value="">Choose a cause…</option>' in merge
    assert " selected" not in merge.split("</select>")[0]
    assert "checked" not in merge
    assert 'name="keep" value="this" id="keep-this" required' in merge


@pytest.mark.parametrize("keep", ["this", "other"])
def test_merging_keeps_the_cause_the_facilitator_chose(world, keep):
    dark = make_cause(world.session, "It is dark")
    lights = make_cause(world.session, "No street lights")
    below = make_cause(world.session, "The lamps are broken", parent=dark)
    data = {"target": lights.pk, "keep": keep}
    fragment = post(world, f"causes/{dark.pk}/merge/", data, **HTMX).content.decode()
    kept, gone = (dark, lights) if keep == "this" else (lights, dark)
    assert f"Merged “{gone.text}” into “{kept.text}”." in fragment
    gone.refresh_from_db()
    below.refresh_from_db()
    assert (gone.state, gone.merged_into) == (Cause.State.MERGED, kept)
    assert below.parent == kept
    assert "said 2 times" in fragment


def test_a_merge_without_a_cause_is_refused_in_the_panel(world):
    dark = make_cause(world.session, "It is dark")
    response = post(world, f"causes/{dark.pk}/merge/", {"target": "", "keep": "this"}, **HTMX)
    assert response.status_code == 400
    assert 'id="cause-panel"' in response.content.decode()
    dark.refresh_from_db()
    assert dark.is_visible


def test_the_kept_cause_counts_everyone_who_said_it(world):
    lights = make_cause(world.session, "No street lights")
    dark = make_cause(world.session, "It is dark")
    darker = make_cause(world.session, "It is so dark")
    darker.merge_into(dark)
    dark.merge_into(lights)
    html = world.facilitator.get(url(world, "console/")).content.decode()
    assert '<span class="said">said 3 times</span>' in html
    world.session.undo()
    html = world.facilitator.get(url(world, "console/")).content.decode()
    assert html.count('<span class="said">said 2 times</span>') == 1
    assert "said 3 times" not in html


# The tree of any depth, as nested lists built without recursion.


def test_a_very_deep_tree_renders_as_nested_lists(world):
    # Far deeper than MAX_TREE_DEPTH lets a room grow: as a tree from before the limit.
    parent = None
    for depth in range(150):
        parent = Cause.objects.create(session=world.session, parent=parent, text=f"Level {depth}")
    response = world.facilitator.get(url(world, "console/"))
    assert response.status_code == 200
    html = response.content.decode()
    tree = html.split('id="ctree"')[1].split('id="hidden-causes"')[0].split("</section>")[0]
    assert tree.count('<ul class="branch">') == 149
    assert tree.count("<li ") == tree.count("</li>") == 150
    assert tree.count("<ul") == tree.count("</ul>") == 150
    assert tree.index("Level 0") < tree.index("Level 149")
    _seq, live = render_console(world.session.pk)
    assert live.count('<ul class="branch">') == 149


def test_siblings_and_cousins_close_their_lists(world):
    top = make_cause(world.session, "Top")
    child = make_cause(world.session, "Child", parent=top)
    make_cause(world.session, "Grandchild", parent=child)
    make_cause(world.session, "Second top")
    html = world.facilitator.get(url(world, "console/")).content.decode()
    tree = html.split('id="ctree"')[1].split("</section>")[0]
    assert tree.count("<li ") == tree.count("</li>") == 4
    assert tree.count("<ul") == tree.count("</ul>") == 3
    # "Second top" is back at the first level: after two lists closed.
    between = tree.split("Grandchild")[1].split("Second top")[0]
    assert between.count("</ul></li>") == 2


@pytest.mark.parametrize(("phase", "first"), [("why", "Edit the wording"), ("reflect", "Reflect")])
def test_the_panel_puts_first_what_the_step_needs(world, phase, first):
    lights = make_cause(world.session, "No street lights")
    world.session.set_phase(phase)
    fragment = world.facilitator.get(url(world, f"causes/{lights.pk}/"), **HTMX).content.decode()
    sections = [part.split("</h2>")[0] for part in fragment.split("<h2>")[1:]]
    assert sections[0].startswith(first)
    assert len(sections) == 4


# "Asking now" marks the question of the "why?" step, and only there.


@pytest.mark.parametrize("phase", ["reflect", "act", "agree"])
def test_asking_now_shows_only_in_the_why_step(world, phase):
    lights = make_cause(world.session, "No street lights")
    world.session.ask_why(lights)
    page = world.facilitator.get(url(world, "console/")).content.decode()
    assert "Asking now" in page and "is-focus" in page
    world.session.set_phase(phase)
    for audience in ("console", "present"):
        page = world.facilitator.get(url(world, f"{audience}/")).content.decode()
        assert "Asking now" not in page
        assert "is-focus" not in page and "on-path" not in page
    phone = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    assert "(the question now)" not in phone and "asked-now" not in phone
