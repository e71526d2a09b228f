"""The tree of causes: integrity in the database and in the model, moderation, undo."""

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction

from sessions import tree
from sessions.models import Cause, Refused, Session, creates_cycle
from tests.conftest import make_cause, make_group, make_session, make_user


@contextmanager
def checked_at_once():
    """A transaction whose foreign keys are checked per statement, not at commit.

    PostgreSQL defers foreign keys to commit (as Django makes them); SQLite's
    triggers check at once.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield


@pytest.fixture
def session(db):
    return make_session(make_group(facilitators=[make_user("fran")]))


@pytest.fixture
def other_session(db):
    return make_session(make_group("Hilltop"), title="Elsewhere")


def test_the_database_refuses_a_parent_from_another_session(session, other_session):
    foreign = make_cause(other_session, "Elsewhere")
    with pytest.raises(IntegrityError), checked_at_once():
        Cause.objects.create(session=session, parent=foreign, text="Sneaky")


def test_the_database_refuses_moving_a_cause_under_another_sessions_cause(session, other_session):
    mine = make_cause(session, "Mine")
    foreign = make_cause(other_session, "Elsewhere")
    with pytest.raises(IntegrityError), checked_at_once():
        Cause.objects.filter(pk=mine.pk).update(parent=foreign)


def test_the_database_refuses_a_merge_target_from_another_session(session, other_session):
    mine = make_cause(session, "Mine")
    foreign = make_cause(other_session, "Elsewhere")
    with pytest.raises(IntegrityError), checked_at_once():
        Cause.objects.filter(pk=mine.pk).update(state="merged", merged_into=foreign)


def test_the_database_refuses_a_focus_from_another_session(session, other_session):
    foreign = make_cause(other_session, "Elsewhere")
    with pytest.raises(IntegrityError), checked_at_once():
        Session.objects.filter(pk=session.pk).update(focus=foreign)


def test_the_database_refuses_a_cause_that_is_its_own_parent(session):
    cause = make_cause(session)
    with pytest.raises(IntegrityError), checked_at_once():
        Cause.objects.filter(pk=cause.pk).update(parent=cause)


def test_the_database_refuses_a_merged_cause_without_a_target(session):
    cause = make_cause(session)
    with pytest.raises(IntegrityError), checked_at_once():
        Cause.objects.filter(pk=cause.pk).update(state="merged")


def test_the_model_refuses_a_move_under_a_descendant(session):
    top = make_cause(session, "Top")
    middle = make_cause(session, "Middle", parent=top)
    bottom = make_cause(session, "Bottom", parent=middle)
    with pytest.raises(Refused):
        top.move_under(bottom)
    with pytest.raises(Refused):
        top.move_under(top)
    top.refresh_from_db()
    assert top.parent_id is None


def test_a_move_elsewhere_in_the_tree_takes_the_answers_along(session):
    a = make_cause(session, "A")
    b = make_cause(session, "B")
    child = make_cause(session, "Child of A", parent=a)
    a.move_under(b)
    built = tree.load(session)
    assert [n.cause.text for n in built.roots] == ["B"]
    assert [n.cause.text for n in built.roots[0].children] == ["A"]
    assert built.roots[0].children[0].children[0].pk == child.pk


def test_creates_cycle_finds_loops():
    assert creates_cycle({1: 2, 2: 3, 3: 1}, 1)
    assert not creates_cycle({1: 2, 2: 3, 3: None}, 1)


def test_merging_moves_the_children_to_the_target(session):
    original = make_cause(session, "Nobody repairs the lights")
    duplicate = make_cause(session, "Nobody fixes the lights")
    child = make_cause(session, "The city has no budget", parent=duplicate)
    duplicate.merge_into(original)
    duplicate.refresh_from_db()
    child.refresh_from_db()
    assert duplicate.state == Cause.State.MERGED
    assert duplicate.merged_into_id == original.pk
    assert child.parent_id == original.pk


def test_a_cause_cannot_be_merged_into_its_own_answer(session):
    top = make_cause(session, "Top")
    child = make_cause(session, "Child", parent=top)
    with pytest.raises(Refused):
        top.merge_into(child)
    top.refresh_from_db()
    assert top.state == Cause.State.VISIBLE


def test_merging_the_focus_moves_the_focus_to_the_target(session):
    original = make_cause(session, "Original")
    duplicate = make_cause(session, "Duplicate")
    session.ask_why(duplicate)
    duplicate.merge_into(original)
    session.refresh_from_db()
    assert session.focus_id == original.pk


def test_hiding_the_focus_goes_back_to_its_parent(session):
    top = make_cause(session, "Top")
    child = make_cause(session, "Child", parent=top)
    session.ask_why(child)
    child.hide()
    session.refresh_from_db()
    assert session.focus_id == top.pk


def test_hidden_causes_and_their_answers_leave_the_tree(session):
    top = make_cause(session, "Top")
    make_cause(session, "Child", parent=top)
    kept = make_cause(session, "Kept")
    top.hide()
    built = tree.load(session)
    assert [n.pk for n in built.flat] == [kept.pk]


def test_undo_puts_back_a_merge_with_its_children(session):
    original = make_cause(session, "Original")
    duplicate = make_cause(session, "Duplicate")
    child = make_cause(session, "Child", parent=duplicate)
    duplicate.merge_into(original)
    session.undo()
    duplicate.refresh_from_db()
    child.refresh_from_db()
    assert duplicate.state == Cause.State.VISIBLE
    assert duplicate.merged_into_id is None
    assert child.parent_id == duplicate.pk


def test_undo_goes_back_one_moderation_action_at_a_time(session):
    cause = make_cause(session, "Wording one")
    cause.edit("Wording two")
    cause.hide()
    session.undo()
    cause.refresh_from_db()
    assert (cause.state, cause.text) == (Cause.State.VISIBLE, "Wording two")
    session.undo()
    cause.refresh_from_db()
    assert cause.text == "Wording one"
    with pytest.raises(Refused):
        session.undo()


def test_undo_of_a_hide_gives_the_focus_back_only_if_nobody_moved_it(session):
    top = make_cause(session, "Top")
    child = make_cause(session, "Child", parent=top)
    other = make_cause(session, "Other")
    session.ask_why(child)
    child.hide()
    session.ask_why(other)
    session.undo()
    session.refresh_from_db()
    assert session.focus_id == other.pk


def test_every_change_appends_an_event_with_the_next_number(session):
    before = session.events.count()
    cause = make_cause(session)
    session.ask_why(cause)
    cause.hide()
    seqs = list(session.events.values_list("seq", flat=True))
    assert len(seqs) == before + 3
    assert seqs == list(range(1, len(seqs) + 1))
    session.refresh_from_db()
    assert session.last_seq == seqs[-1]


def test_a_refused_change_appends_no_event(session):
    cause = make_cause(session)
    cause.hide()
    count = session.events.count()
    with pytest.raises(Refused):
        cause.hide()
    assert session.events.count() == count


def test_the_tree_marks_the_focus_and_its_path(session):
    top = make_cause(session, "Top")
    child = make_cause(session, "Child", parent=top)
    make_cause(session, "Sibling")
    session.ask_why(child)
    built = tree.load(session)
    assert [c.pk for c in built.focus_path] == [top.pk, child.pk]
    assert built.roots[0].on_focus_path
    assert built.roots[0].children[0].is_focus
    assert not built.roots[1].on_focus_path
