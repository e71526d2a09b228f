"""Pages and live fragments run a number of queries that does not grow with the tree."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sessions import tree
from sessions.models import Cause, Vote
from sessions.views.facilitating import render_console
from sessions.views.participating import render_phone
from sessions.views.presenting import render_projector
from tests.conftest import join, make_group, make_session, make_user


def grow(session, count: int) -> None:
    """`count` causes, five levels deep, a few hidden and pending: one insert per cause."""
    made: list[Cause] = []
    for i in range(count):
        parent = made[(i - 1) // 3] if i and len(made) > (i - 1) // 3 else None
        depth_ok = parent is None or _depth(parent) < 4
        cause = Cause.objects.create(
            session=session,
            parent=parent if depth_ok else None,
            text=f"Cause number {i}",
            state="hidden" if i % 17 == 5 else "pending" if i % 13 == 7 else "visible",
        )
        cause._depth = 0 if not depth_ok or parent is None else _depth(parent) + 1
        made.append(cause)
    session.ask_why(made[-1] if made[-1].state == "visible" else made[0])


def _depth(cause) -> int:
    return getattr(cause, "_depth", 0)


def queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


@pytest.fixture
def sessions_of_10_and_300(db):
    fran = make_user("fran")
    group = make_group(facilitators=[fran])
    small, large = make_session(group, title="Small"), make_session(group, title="Large")
    grow(small, 10)
    grow(large, 300)
    return fran, small, large


@pytest.mark.parametrize("page", ["present/", "console/"])
def test_facilitator_pages_do_not_query_more_for_a_bigger_tree(
    client, sessions_of_10_and_300, page
):
    fran, small, large = sessions_of_10_and_300
    client.force_login(fran)
    counts = []
    for session in (small, large):
        client.get(f"/s/{session.public_id}/{page}")  # warm the session and user caches
        counts.append(queries(lambda s=session: client.get(f"/s/{s.public_id}/{page}")))
    assert counts[0] == counts[1]
    assert counts[0] <= 10


def test_the_phone_page_does_not_query_more_for_a_bigger_tree(client, sessions_of_10_and_300):
    _fran, small, large = sessions_of_10_and_300
    counts = []
    for session in (small, large):
        join(client, session)
        counts.append(queries(lambda s=session: client.get(f"/p/{s.public_id}/")))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("render", [render_projector, render_console, render_phone])
def test_live_fragments_do_not_query_more_for_a_bigger_tree(sessions_of_10_and_300, render):
    _fran, small, large = sessions_of_10_and_300
    small_count = queries(lambda: render(small.pk))
    large_count = queries(lambda: render(large.pk))
    assert small_count == large_count
    assert small_count <= 5


def test_the_large_projector_shows_exactly_the_visible_tree(client, sessions_of_10_and_300):
    fran, _small, large = sessions_of_10_and_300
    client.force_login(fran)
    html = client.get(f"/s/{large.public_id}/present/").content.decode()
    shown = tree.load(large).flat
    assert html.count('class="cause"') == len(shown) > 200
    assert all(f">{node.cause.text}<" in html for node in shown)
    assert ">Cause number 5<" not in html  # hidden


def plan_for(session) -> None:
    """Tags, votes, five actions (two agreed): what the later phases show."""
    causes = list(session.causes.filter(state="visible")[:6])
    for cause in causes[:3]:
        Cause.objects.filter(pk=cause.pk).update(matters_most=True)
    phone = join(Client(), session)
    for cause in causes[:3]:
        Vote.objects.create(session=session, participant=phone, cause=cause)
    for i in range(5):
        action = session.add_action(f"Action {i}", [c.pk for c in causes[i : i + 2]])
        if i < 2:
            action.agree(owner="Rosa", owner_outside=False, first_step="", due=None)


@pytest.mark.parametrize("phase", ["reflect", "act", "agree", "revealed"])
@pytest.mark.parametrize("render", [render_projector, render_console, render_phone])
def test_every_phase_queries_the_same_for_a_bigger_tree(sessions_of_10_and_300, render, phase):
    _fran, small, large = sessions_of_10_and_300
    counts = []
    for session in (small, large):
        plan_for(session)
        session.set_phase("reflect" if phase == "revealed" else phase)
        if phase == "revealed":
            session.reveal_votes()
        counts.append(queries(lambda s=session: render(s.pk)))
    assert counts[0] == counts[1]
    assert counts[0] <= 7
