"""Phones answer the question being asked; the tree has a depth limit; deep trees never break.

Phones may answer the question on the screen, or one the session asked earlier
(a draft typed before the focus moved on), never any cause they pick. Past
MAX_TREE_DEPTH levels, answers, moves and merges are refused. A tree built
deeper than that before the limit existed still renders, prints and exports.
"""

import json
import runpy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sessions.models import Cause
from sessions.views.facilitating import render_console
from sessions.views.participating import render_phone
from sessions.views.presenting import render_projector
from tests.conftest import make_cause

SETTINGS = str(Path(__file__).resolve().parent.parent / "butwhy" / "settings.py")


def chain(session, levels: int) -> list[Cause]:
    """Causes each under the one before, `levels` deep, made through the model."""
    causes: list[Cause] = []
    for level in range(levels):
        causes.append(
            make_cause(session, f"Reason at level {level + 1}", causes[-1] if causes else None)
        )
    return causes


def deep_chain_in_the_database(session, levels: int) -> list[Cause]:
    """A chain deeper than the limit allows, as a tree from before the limit would be."""
    causes: list[Cause] = []
    for level in range(levels):
        causes.append(
            Cause.objects.create(
                session=session,
                parent=causes[-1] if causes else None,
                text=f"Old reason {level + 1}",
                matters_most=level % 10 == 0,
            )
        )
    return causes


def answer(world, parent, text="Because of the budget"):
    url = f"/p/{world.session.public_id}/answers/"
    return world.participant.post(url, {"text": text, "parent": parent.pk if parent else ""})


# Which question a phone may answer


def test_a_phone_answers_the_cause_being_asked_about(world):
    asked = make_cause(world.session, "The road is straight")
    world.session.ask_why(asked)
    assert answer(world, asked).status_code == 302
    assert asked.children.filter(text="Because of the budget").exists()


def test_a_phone_cannot_answer_a_cause_nobody_asked_about(world):
    chosen = make_cause(world.session, "The road is straight")
    response = answer(world, chosen)
    assert response.status_code == 409
    assert "Please answer the question on the screen" in response.content.decode()
    assert not chosen.children.exists()


def test_a_phone_cannot_chain_answers_under_its_own_answers(world):
    asked = make_cause(world.session, "The road is straight")
    world.session.ask_why(asked)
    assert answer(world, asked, "Mine").status_code == 302
    mine = asked.children.get(text="Mine")
    assert answer(world, mine, "Below mine").status_code == 409
    assert not mine.children.exists()


def test_a_draft_for_a_question_asked_earlier_still_lands_there(world):
    earlier = make_cause(world.session, "The road is straight")
    world.session.ask_why(earlier)
    world.session.ask_why(make_cause(world.session, "Drivers speed"))
    assert answer(world, earlier).status_code == 302
    assert earlier.children.filter(text="Because of the budget").exists()


def test_a_phone_may_always_answer_the_situation(world):
    world.session.ask_why(make_cause(world.session, "Drivers speed"))
    assert answer(world, None).status_code == 302
    assert world.session.causes.filter(parent=None, text="Because of the budget").exists()


def test_the_facilitator_still_adds_under_any_cause(world):
    chosen = make_cause(world.session, "The road is straight")
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/causes/", {"text": "From the room", "parent": chosen.pk}
    )
    assert response.status_code == 302
    assert chosen.children.filter(text="From the room").exists()


# The depth limit


def test_the_depth_limit_is_a_strict_setting(monkeypatch):
    monkeypatch.setenv("MAX_TREE_DEPTH", "deep")
    with pytest.raises(ImproperlyConfigured, match="MAX_TREE_DEPTH"):
        runpy.run_path(SETTINGS)
    monkeypatch.setenv("MAX_TREE_DEPTH", "0")
    with pytest.raises(ImproperlyConfigured, match="MAX_TREE_DEPTH"):
        runpy.run_path(SETTINGS)
    monkeypatch.setenv("MAX_TREE_DEPTH", "30")
    assert runpy.run_path(SETTINGS)["MAX_TREE_DEPTH"] == 30
    monkeypatch.delenv("MAX_TREE_DEPTH")
    assert runpy.run_path(SETTINGS)["MAX_TREE_DEPTH"] == 12


def test_a_phone_is_told_when_the_tree_is_as_deep_as_it_may_go(world):
    causes = chain(world.session, settings.MAX_TREE_DEPTH)
    world.session.ask_why(causes[-1])
    response = answer(world, causes[-1])
    assert response.status_code == 409
    assert f"only be {settings.MAX_TREE_DEPTH} levels deep" in response.content.decode()
    assert not causes[-1].children.exists()
    world.session.ask_why(causes[-2])
    assert answer(world, causes[-2], "One level up").status_code == 302
    assert causes[-2].children.filter(text="One level up").exists()


def test_the_facilitator_cannot_add_past_the_limit_either(world):
    causes = chain(world.session, settings.MAX_TREE_DEPTH)
    response = world.facilitator.post(
        f"/s/{world.session.public_id}/causes/", {"text": "Too deep", "parent": causes[-1].pk}
    )
    assert response.status_code == 409
    assert not causes[-1].children.exists()


def test_a_branch_moved_under_another_cause_must_fit_whole(world):
    causes = chain(world.session, settings.MAX_TREE_DEPTH - 1)
    branch = make_cause(world.session, "A branch of two")
    make_cause(world.session, "Its answer", branch)
    url = f"/s/{world.session.public_id}/causes/{branch.pk}/move/"
    response = world.facilitator.post(url, {"target": causes[-1].pk})
    assert response.status_code == 409
    assert "deeper than the tree" in response.content.decode()
    branch.refresh_from_db()
    assert branch.parent_id is None
    assert world.facilitator.post(url, {"target": causes[-2].pk}).status_code == 302
    branch.refresh_from_db()
    assert branch.parent_id == causes[-2].pk


def test_a_merge_that_would_push_answers_past_the_limit_is_refused(world):
    causes = chain(world.session, settings.MAX_TREE_DEPTH)
    duplicate = make_cause(world.session, "A duplicate")
    make_cause(world.session, "Its answer", duplicate)
    url = f"/s/{world.session.public_id}/causes/{duplicate.pk}/merge/"
    response = world.facilitator.post(url, {"target": causes[-1].pk})
    assert response.status_code == 409
    duplicate.refresh_from_db()
    assert duplicate.state == Cause.State.VISIBLE
    assert world.facilitator.post(url, {"target": causes[-2].pk}).status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.state == Cause.State.MERGED


def test_undoing_a_move_is_refused_when_answers_since_would_go_past_the_limit(world):
    home = make_cause(world.session, "Where it was")
    branch = make_cause(world.session, "The branch", home)
    url = f"/s/{world.session.public_id}/causes/{branch.pk}/move/"
    assert world.facilitator.post(url, {"target": ""}).status_code == 302
    below = branch
    for level in range(settings.MAX_TREE_DEPTH - 1):
        below = make_cause(world.session, f"Since {level}", below)
    response = world.facilitator.post(f"/s/{world.session.public_id}/undo/")
    assert response.status_code == 409
    branch.refresh_from_db()
    assert branch.parent_id is None


def test_a_too_deep_branch_may_still_move_up(world):
    causes = deep_chain_in_the_database(world.session, settings.MAX_TREE_DEPTH + 5)
    url = f"/s/{world.session.public_id}/causes/{causes[3].pk}/move/"
    assert world.facilitator.post(url, {"target": ""}).status_code == 302
    causes[3].refresh_from_db()
    assert causes[3].parent_id is None


# Rendering, printing and exporting at the limit, and past it


def pages(world) -> dict[str, str]:
    s = world.session.public_id
    return {
        "projector": f"/s/{s}/present/",
        "console": f"/s/{s}/console/",
        "summary": f"/s/{s}/summary/",
        "pdf": f"/s/{s}/summary.pdf",
        "causes csv": f"/s/{s}/causes.csv",
        "json": f"/s/{s}/export.json",
    }


def assert_every_view_shows(world, causes: list[Cause]) -> None:
    deepest = causes[-1]
    for name, url in pages(world).items():
        response = world.facilitator.get(url)
        assert response.status_code == 200, name
        if name in {"projector", "console", "summary"}:
            assert deepest.text in response.content.decode(), name
    exported = json.loads(world.facilitator.get(pages(world)["json"]).content)
    node, depth = exported["causes"][0], 1
    while node["children"]:
        node, depth = node["children"][0], depth + 1
    assert (node["text"], depth) == (deepest.text, len(causes))
    csv_rows = world.facilitator.get(pages(world)["causes csv"]).content.decode().splitlines()
    assert any(deepest.text in row for row in csv_rows)
    phone = world.participant.get(f"/p/{world.session.public_id}/")
    assert phone.status_code == 200
    for render in (render_projector, render_console, render_phone):
        _seq, html = render(world.session.pk)
        assert html


def test_a_tree_at_the_limit_renders_prints_and_exports(world):
    causes = chain(world.session, settings.MAX_TREE_DEPTH)
    world.session.ask_why(causes[-1])
    assert_every_view_shows(world, causes)


def test_a_tree_deeper_than_python_recurses_from_before_the_limit_never_breaks_a_page(world):
    causes = deep_chain_in_the_database(world.session, 400)
    world.session.ask_why(causes[-1])
    world.session.set_phase("reflect")
    assert_every_view_shows(world, causes)
    cause_page = world.facilitator.get(f"/s/{world.session.public_id}/causes/{causes[10].pk}/")
    assert cause_page.status_code == 200


class Outline(HTMLParser):
    """The projector's outline under its drawing: each cause's text and aria-level."""

    def __init__(self) -> None:
        super().__init__()
        self.level_of: dict[str, int] = {}
        self.items = 0
        self.level: int | None = None

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "li" and found.get("role") == "treeitem":
            self.items += 1
            self.level = int(found["aria-level"] or 0)
        if tag == "span" and found.get("class") == "text" and self.level is not None:
            self.text_level = self.level

    def handle_data(self, data):
        if self.level is not None and data.strip() and hasattr(self, "text_level"):
            self.level_of[data.strip()] = self.text_level
            self.level = None
            del self.text_level


def test_the_outline_gives_each_answer_the_level_under_its_cause(world):
    top = chain(world.session, 4)
    make_cause(world.session, "A sibling", top[1])
    make_cause(world.session, "Another top")
    html = world.facilitator.get(f"/s/{world.session.public_id}/present/").content.decode()
    outline = Outline()
    outline.feed(html)
    assert outline.items == 6
    assert outline.level_of == {
        "Reason at level 1": 1,
        "Reason at level 2": 2,
        "Reason at level 3": 3,
        "Reason at level 4": 4,
        "A sibling": 3,
        "Another top": 1,
    }
