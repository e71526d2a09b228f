"""What a facilitator sees first after logging in: the sessions open now, then the groups."""

from sessions.models import Session
from tests.conftest import logged_in, make_group, make_session, make_user


def test_the_dashboard_lists_the_sessions_open_now_above_the_groups(world):
    closed = make_session(world.group, title="Last month", open=False)
    response = world.facilitator.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    session = world.session
    assert page.index("Open now") < page.index(session.title) < page.index("Your groups")
    assert session.spaced_join_code in page
    assert f'href="/s/{session.public_id}/console/"' in page
    assert f'href="/s/{session.public_id}/present/"' in page
    assert closed.title not in page
    # Another group's open session is not listed.
    assert world.other_session.title not in page


def test_an_organizer_sees_the_projector_link_but_not_the_console(world):
    page = world.organizer.get("/").content.decode()
    assert world.session.spaced_join_code in page
    assert f'href="/s/{world.session.public_id}/present/"' in page
    assert f"/s/{world.session.public_id}/console/" not in page


def test_with_nothing_open_the_dashboard_starts_with_the_groups(db):
    user = make_user("nina")
    group = make_group("Quiet", facilitators=[user])
    make_session(group, open=False)

    page = logged_in(user).get("/").content.decode()
    assert "Open now" not in page
    assert "<h1>Your groups</h1>" in page
    assert Session.objects.open().count() == 0
