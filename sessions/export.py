"""A session's causes and actions as CSV rows, and the whole session as JSON.

Unlike the printed summary, exports are the organizers' full record: every
cause and action whatever its state (hidden, merged, pending…), with the
state saying which. Authors' names appear only if the session asked for names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sessions.models import Action, Cause, Session

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading apostrophe defuses formulas."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def in_tree_order(causes: list[Cause]) -> list[tuple[Cause, int]]:
    """Every cause, depth first as the tree reads, with its depth."""
    children: dict[int | None, list[Cause]] = {}
    for cause in causes:
        children.setdefault(cause.parent_id, []).append(cause)
    ordered: list[tuple[Cause, int]] = []
    seen: set[int] = set()
    stack = [(cause, 0) for cause in reversed(children.get(None, []))]
    while stack:
        cause, depth = stack.pop()
        if cause.pk in seen:
            continue
        seen.add(cause.pk)
        ordered.append((cause, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(cause.pk, [])))
    return ordered


def _author(session: Session, item: Cause | Action) -> str:
    if session.names == Session.Names.ANONYMOUS or item.author is None:
        return ""
    return item.author.name


def _causes(session: Session) -> list[tuple[Cause, int]]:
    return in_tree_order(list(session.causes.select_related("author")))


def _actions(session: Session) -> list[Action]:
    """Agreed actions in plan order, then the others as they came. Two queries."""
    actions = list(session.actions.select_related("author").prefetch_related("links"))
    return sorted(actions, key=lambda a: (not a.agreed, a.plan_order or 0, a.pk))


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def cause_rows(session: Session) -> Iterator[list[Any]]:
    yield [
        "id",
        "parent id",
        "depth",
        "text",
        "state",
        "merged into",
        "dots",
        "matters most",
        "can change",
        "who can change",
        "actor",
        "smaller part",
        "level",
        "author",
        "created at",
    ]
    dots = session.tally()
    for cause, depth in _causes(session):
        yield [
            cell(v)
            for v in (
                cause.pk,
                cause.parent_id or "",
                depth,
                cause.text,
                cause.state,
                cause.merged_into_id or "",
                dots.get(cause.pk, 0),
                _yes(cause.matters_most),
                cause.can_change,
                cause.who_can_change,
                cause.actor,
                _yes(cause.smaller_part),
                cause.level,
                _author(session, cause),
                cause.created_at.isoformat(),
            )
        ]


def action_rows(session: Session) -> Iterator[list[Any]]:
    yield [
        "id",
        "text",
        "state",
        "merged into",
        "agreed",
        "plan order",
        "cause ids",
        "owner",
        "owner outside the group",
        "first step",
        "due",
        "status",
        "notes",
        "author",
        "created at",
    ]
    for action in _actions(session):
        yield [
            cell(v)
            for v in (
                action.pk,
                action.text,
                action.state,
                action.merged_into_id or "",
                _yes(action.agreed),
                action.plan_order or "",
                " ".join(str(c) for c in action.cause_ids),
                action.owner,
                _yes(action.owner_outside),
                action.first_step,
                action.due.isoformat() if action.due else "",
                action.status,
                action.notes,
                _author(session, action),
                action.created_at.isoformat(),
            )
        ]


def everything(session: Session) -> dict[str, Any]:
    """The whole session as plain data: settings, the tree with tags and dots, the
    actions and the plan, the closing round, who took part."""
    dots = session.tally()
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for cause, _depth in _causes(session):
        node = {
            "id": cause.pk,
            "text": cause.text,
            "state": cause.state,
            "merged_into": cause.merged_into_id,
            "dots": dots.get(cause.pk, 0),
            "tags": {field: getattr(cause, field) for field in Cause.TAG_FIELDS},
            "author": _author(session, cause) or None,
            "created_at": cause.created_at.isoformat(),
            "children": [],
        }
        nodes[cause.pk] = node
        parent = nodes.get(cause.parent_id) if cause.parent_id else None
        (parent["children"] if parent else roots).append(node)
    names = list(session.participants.values_list("name", flat=True))
    levels = dict.fromkeys(Cause.Level.values, 0)
    for cause, _depth in _causes(session):
        if cause.state == Cause.State.VISIBLE:
            levels[cause.level] += 1
    return {
        "group": session.group.name,
        "session": {
            "id": session.public_id,
            "title": session.title,
            "situation": session.situation,
            "kind": session.kind,
            "language": session.language,
            "created_at": session.created_at.isoformat(),
            "phase": session.phase,
            "open_for_joining": session.is_open,
            "ended_at": session.ended_at.isoformat() if session.ended_at else None,
            "names": session.names,
            "moderation": session.moderation,
            "filter_words": session.filter_words,
            "max_participants": session.max_participants,
            "dot_budget": session.dot_budget,
            "stack_dots": session.stack_dots,
            "votes_revealed": session.votes_revealed,
            "actions_for_any_cause": session.actions_for_any_cause,
            "follows": session.follows.public_id if session.follows else None,
            "made_up": session.made_up,
            "story_question": session.story_question,
            "levels_view": session.levels_view,
            "phones_suggest_level": session.phones_suggest_level,
            # The cause whose branch Reflect and Act work on; None: the whole tree.
            "working_on": session.branch_id,
        },
        # Causes on the board per level ("" : not placed yet).
        "levels": levels,
        "participants": {
            "count": len(names),
            "names": sorted((n for n in names if n), key=str.casefold)
            if session.names != Session.Names.ANONYMOUS
            else [],
        },
        "causes": roots,
        "actions": [
            {
                "id": action.pk,
                "text": action.text,
                "state": action.state,
                "merged_into": action.merged_into_id,
                "causes": action.cause_ids,
                "agreed": action.agreed,
                "plan_order": action.plan_order,
                "owner": action.owner,
                "owner_outside": action.owner_outside,
                "first_step": action.first_step,
                "due": action.due.isoformat() if action.due else None,
                "status": action.status,
                "notes": action.notes,
                "status_changed_at": action.status_changed_at.isoformat()
                if action.status_changed_at
                else None,
                "author": _author(session, action) or None,
                "created_at": action.created_at.isoformat(),
            }
            for action in _actions(session)
        ],
        # Without names, as on the projector's wall.
        "closing_lines": [
            {"text": line.text, "state": line.state, "created_at": line.created_at.isoformat()}
            for line in session.closing_lines.all()
        ],
    }
