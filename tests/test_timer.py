"""The round timer: the facilitator starts it, the projector counts it down."""

import pytest
from django.utils import timezone

from sessions.views.presenting import render_projector
from tests.test_permissions import FACILITATOR_ACTION, assert_outcome, matrix

FACILITATORS = {"facilitator", "co_facilitator"}


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_start_the_timer(world, persona, expected):
    url = f"/s/{world.session.public_id}/timer/"
    before = timezone.now()
    assert_outcome(world.as_(persona).post(url, {"minutes": "3"}), expected, world, url)
    world.session.refresh_from_db()
    if persona in FACILITATORS:
        seconds = (world.session.timer_ends_at - before).total_seconds()
        assert 179 <= seconds <= 181
    else:
        assert world.session.timer_ends_at is None


@pytest.mark.parametrize(("persona", "expected"), matrix(FACILITATOR_ACTION))
def test_only_facilitators_stop_the_timer(world, persona, expected):
    world.session.start_timer(60)
    url = f"/s/{world.session.public_id}/timer/stop/"
    assert_outcome(world.as_(persona).post(url), expected, world, url)
    world.session.refresh_from_db()
    assert (world.session.timer_ends_at is None) == (persona in FACILITATORS)


@pytest.mark.parametrize(
    ("minutes", "message"),
    [("0", "at least one minute"), ("61", "at most an hour"), ("soon", "whole number"), ("", "")],
)
def test_a_bad_timer_is_refused(world, minutes, message):
    response = world.facilitator.post(f"/s/{world.session.public_id}/timer/", {"minutes": minutes})
    assert response.status_code == 400
    assert message in response.content.decode()
    world.session.refresh_from_db()
    assert world.session.timer_ends_at is None


def test_the_projector_gets_the_end_and_the_servers_time(world):
    assert 'id="timer"' in render_projector(world.session.pk)[1]
    assert "data-ends" not in render_projector(world.session.pk)[1]
    world.session.start_timer(90)
    html = render_projector(world.session.pk)[1]
    ends = int(world.session.timer_ends_at.timestamp() * 1000)
    assert f'data-ends="{ends}"' in html and "data-now=" in html
    console = world.facilitator.get(f"/s/{world.session.public_id}/console/").content.decode()
    assert "Stop the timer" in console
