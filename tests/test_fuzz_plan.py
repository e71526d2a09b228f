"""Reflect, act, agree: every new form field, fed arbitrary input (Hypothesis).

The same three promises as tests/test_fuzz.py, whose world, strategies and
checks this module shares: no server error, a rejection changes nothing, and
markup never comes back raw.
"""

from urllib.parse import urlencode

import pytest
from django import forms
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from sessions.models import Action, Cause, Session, Vote
from tests.test_fuzz import (
    CAUSE_FIELD,
    FORM,
    FUZZ,
    HTMX,
    JUNK,
    LIMIT,
    NUMBER_TEXT,
    REFS,
    Ref,
    assert_cleaned,
    assert_promises,
    assert_readable,
    console_url,
    grow,
    mostly,
    new_rows,
    resolved,
    rolled_back,
    sent,
    server_error,
    snapshot,
    texts,
    typed_or_bytes,
)


@pytest.fixture
def refs(world):
    found = grow(world)
    Cause.objects.filter(pk=found["top"]).update(matters_most=True)
    lamps = world.session.add_action("Lamps <b>fz</b>", [found["top"]])
    other = world.other_session.add_action("Theirs", [found["other"]])
    return {**found, "lamps": lamps.pk, "other_action": other.pk}


def post(client, url: str, pairs: list[tuple[str, object]], **headers):
    """A form post that may repeat a field (checkboxes); None leaves a field out."""
    body = urlencode([(name, value) for name, value in pairs if value is not None])
    response = client.post(url, body, content_type=FORM, **headers)
    if response.status_code >= 500:
        raise AssertionError(
            f"POST {url} {pairs!r} -> {response.status_code}\n{server_error(response)}"
        )
    return response


def phase(world, name: str, **fields) -> None:
    Session.objects.filter(pk=world.session.pk).update(phase=name, **fields)


def as_number(value) -> int:
    """A number as the form read it ("1.0", " 1 " and "١" are 1)."""
    return forms.IntegerField().clean(value)


DOTS = mostly(st.integers(0, 4).map(str), NUMBER_TEXT, JUNK, st.none())


@FUZZ
@given(cause=CAUSE_FIELD, dots=DOTS, stack=st.booleans(), htmx=st.booleans())
def test_any_vote_from_a_phone(world, refs, cause, dots, stack, htmx):
    phase(world, "reflect", stack_dots=stack)
    url = f"/p/{world.session.public_id}/votes/"
    fields = [("cause", resolved(cause, refs)), ("dots", dots)]
    with rolled_back():
        before = snapshot()
        response = post(world.participant, url, fields, **(HTMX if htmx else {}))
        assert_promises(response, before, {200 if htmx else 302, 400, 404, 409}, echoable=(dots,))
        if response.status_code < 400:
            cause_id = as_number(resolved(cause, refs))
            visible = {refs[name] for name in ("top", "child", "grandchild", "mine_alone")}
            assert cause_id in visible
            mine = dict(Vote.objects.filter(participant=world.me).values_list("cause_id", "dots"))
            assert mine.get(cause_id, 0) == as_number(dots)
            assert sum(mine.values()) <= 3
            assert stack or all(n == 1 for n in mine.values())


@FUZZ
@given(
    text=typed_or_bytes(LIMIT),
    causes=st.lists(CAUSE_FIELD, max_size=4),
    key=sent(st.one_of(st.from_regex(r"[A-Za-z0-9_-]{8,40}", fullmatch=True), JUNK)),
    any_cause=st.booleans(),
    htmx=st.booleans(),
)
def test_any_action_proposed_from_a_phone(world, refs, text, causes, key, any_cause, htmx):
    phase(world, "act", actions_for_any_cause=any_cause)
    url = f"/p/{world.session.public_id}/actions/"
    fields = [("text", text), *(("causes", resolved(c, refs)) for c in causes), ("key", key)]
    with rolled_back():
        before = snapshot()
        response = post(world.participant, url, fields, **(HTMX if htmx else {}))
        assert_promises(
            response, before, {200 if htmx else 302, 400, 404, 409}, echoable=(text, key)
        )
        if response.status_code < 400:
            (action,) = new_rows(before, Action)
            assert action.author == world.me and action.session == world.session
            assert_cleaned(action.text, LIMIT)
            linked = Cause.objects.filter(pk__in=action.cause_ids)
            assert linked and all(c.session_id == world.session.pk for c in linked)
            assert all(c.state == "visible" for c in linked)
            assert any_cause or all(c.matters_most for c in linked)


DATES = mostly(
    st.dates().map(str),
    st.sampled_from(["", "2026-02-30", "31/12/2026", "2026-13-01", "0000-01-01", "9999-12-31"]),
    JUNK,
    st.none(),
)


@FUZZ
@given(
    owner=typed_or_bytes(120),
    first_step=typed_or_bytes(LIMIT),
    due=DATES,
    outside=sent(st.sampled_from(["on", "off", "", "1", "x"])),
)
def test_any_agreement(world, refs, owner, first_step, due, outside):
    url = console_url(world, f"actions/{refs['lamps']}/agree/")
    fields = [
        ("owner", owner),
        ("first_step", first_step),
        ("due", due),
        ("owner_outside", outside),
    ]
    with rolled_back():
        before = snapshot()
        response = post(world.facilitator, url, fields)
        assert_promises(response, before, {302, 400}, echoable=(owner, first_step, due))
        if response.status_code == 302:
            action = Action.objects.get(pk=refs["lamps"])
            assert action.agreed and action.plan_order == 1
            assert_cleaned(action.owner, 120)
            assert_readable(action.first_step)
            assert action.due is None or 2000 <= action.due.year <= 2100
            assert action.due is None or action.due >= timezone.localdate()


TAG_CHOICES = ["", "yes", "no", "unsure", "inside", "outside", "YES", " no", "\x00", "maybe"]


@FUZZ
@given(
    cause=st.sampled_from(["top", "child", "hidden", "merged", "mine_pending"]),
    can_change=sent(mostly(st.sampled_from(TAG_CHOICES), JUNK)),
    who=sent(mostly(st.sampled_from(TAG_CHOICES), JUNK)),
    actor=typed_or_bytes(120),
    matters=sent(st.sampled_from(["on", ""])),
)
def test_any_tags(world, refs, cause, can_change, who, actor, matters):
    url = console_url(world, f"causes/{refs[cause]}/tags/")
    fields = [
        ("can_change", can_change),
        ("who_can_change", who),
        ("actor", actor),
        ("matters_most", matters),
    ]
    with rolled_back():
        before = snapshot()
        response = post(world.facilitator, url, fields)
        assert_promises(response, before, {302, 400, 409}, echoable=(actor, can_change, who))
        if response.status_code == 302:
            tagged = Cause.objects.get(pk=refs[cause])
            assert tagged.state == "visible"
            assert tagged.can_change in {"", "yes", "no", "unsure"}
            assert tagged.who_can_change in {"", "inside", "outside"}
            assert len(tagged.actor) <= 120
            assert_readable(tagged.actor)


@FUZZ
@given(
    budget=mostly(st.integers(-2, 25).map(str), NUMBER_TEXT, st.none()),
    stack=sent(st.sampled_from(["on", ""])),
    step=mostly(st.sampled_from(Session.Phase.values), texts(max_size=10), st.none()),
    htmx=st.booleans(),
)
def test_any_voting_setting_and_step(world, refs, budget, stack, step, htmx):
    with rolled_back():
        before = snapshot()
        headers = HTMX if htmx else {}
        response = post(
            world.facilitator,
            console_url(world, "voting/"),
            [("dot_budget", budget), ("stack_dots", stack)],
            **headers,
        )
        assert_promises(response, before, {200 if htmx else 302, 400}, echoable=(budget,))
        assert 1 <= Session.objects.get(pk=world.session.pk).dot_budget <= 20
        before = snapshot()
        response = post(
            world.facilitator, console_url(world, "phase/"), [("phase", step)], **headers
        )
        assert_promises(response, before, {200 if htmx else 302, 400, 409}, echoable=(step,))
        if response.status_code < 400:
            assert Session.objects.get(pk=world.session.pk).phase == step


@FUZZ
@given(
    action=mostly(st.sampled_from(["lamps", "other_action"]).map(Ref), REFS, NUMBER_TEXT),
    htmx=st.booleans(),
)
def test_any_action_id_on_the_console(world, refs, action, htmx):
    value = resolved(action, refs) if not isinstance(action, Ref) or action.name in refs else action
    for step in ("hide", "approve", "up", "leave-plan"):
        url = console_url(world, f"actions/{value}/{step}/")
        with rolled_back():
            before = snapshot()
            response = world.facilitator.post(url, **(HTMX if htmx else {}))
            assert response.status_code < 500
            assert_promises(response, before, {200 if htmx else 302, 404, 409})
