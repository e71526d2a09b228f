"""Many people at once: real threads, each with its own database connection."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connections

from sessions import ratelimits, tree
from sessions.models import Cause, Participant, RateCount, Refused, Vote, creates_cycle
from tests.conftest import make_cause, make_group, make_session, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(actions):
    """Run every action in its own thread, released together; return what each raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            outcomes[i] = action()
        except Exception as error:
            outcomes[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.fixture
def session():
    return make_session(make_group(facilitators=[make_user("fran")]))


def test_fifty_phones_answering_at_once_all_land_in_a_contiguous_sequence(session):
    phones = Participant.objects.bulk_create(Participant(session=session) for _ in range(50))
    start = session.last_seq
    outcomes = at_once(
        [lambda p=p, i=i: session.add_cause(f"Reason {i}", author=p) for i, p in enumerate(phones)]
    )
    assert all(isinstance(o, Cause) for o in outcomes), outcomes
    assert session.causes.count() == 50
    seqs = list(session.events.filter(seq__gt=start).values_list("seq", flat=True))
    assert seqs == list(range(start + 1, start + 51))
    session.refresh_from_db()
    assert session.last_seq == start + 50


def test_two_facilitators_moving_causes_under_each_other_never_make_a_cycle(session):
    for round_ in range(5):
        a = make_cause(session, f"A{round_}")
        b = make_cause(session, f"B{round_}")
        outcomes = at_once([lambda a=a, b=b: a.move_under(b), lambda a=a, b=b: b.move_under(a)])
        assert sum(isinstance(o, Refused) for o in outcomes) == 1, outcomes
        parents = session.parent_map()
        assert not any(creates_cycle(parents, pk) for pk in parents)
    assert tree.load(session).size == session.causes.filter(state="visible").count()


def test_merges_and_moves_at_once_keep_the_tree_whole(session):
    a, b, c = (make_cause(session, t) for t in ("A", "B", "C"))
    child = make_cause(session, "Child of C", parent=c)
    at_once([lambda: c.merge_into(a), lambda: a.move_under(child), lambda: b.move_under(c)])
    parents = session.parent_map()
    assert not any(creates_cycle(parents, pk) for pk in parents)
    for cause in session.causes.exclude(parent=None):
        assert cause.parent.session_id == session.pk


def test_fifty_dots_at_once_from_one_phone_never_exceed_its_budget(session):
    """A phone that fires many votes at once (a stuck button, a script) still
    gets only its budget: the budget is checked under the session's lock."""
    causes = [make_cause(session, f"Cause {i}") for i in range(50)]
    session.set_phase("reflect")
    phone = Participant.objects.create(session=session)
    outcomes = at_once([lambda c=c: session.vote(phone, c.pk, 1) for c in causes])
    landed = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, Refused)]
    assert len(landed) == 3 and len(refused) == 47, outcomes
    assert sum(Vote.objects.filter(participant=phone).values_list("dots", flat=True)) == 3


def test_fifty_phones_voting_at_once_are_all_counted(session):
    cause = make_cause(session, "No street lights")
    session.set_phase("reflect")
    phones = Participant.objects.bulk_create(Participant(session=session) for _ in range(50))
    outcomes = at_once([lambda p=p: session.vote(p, cause.pk, 1) for p in phones])
    assert outcomes == [2] * 50
    session.reveal_votes()
    assert session.tally() == {cause.pk: 50}


def test_fifty_attempts_at_once_are_all_counted_against_the_limit(monkeypatch):
    """A flood arrives at once, across processes: the count adds up anyway."""
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    limit = ratelimits.Limit("join", count=20, seconds=60)
    outcomes = at_once([lambda: ratelimits.exceeded(limit, "203.0.113.9")] * 50)
    assert sorted(outcomes, key=bool) == [False] * 20 + [True] * 30
    assert RateCount.objects.get().count == 50
