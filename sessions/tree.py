"""The tree of causes, assembled in Python from one query.

A session's tree is small (tens to a few hundred causes), so every page loads
all its causes at once and builds the nesting here: the number of queries
never grows with the tree.
"""

from dataclasses import dataclass, field
from typing import Any

from sessions.models import Action, Cause, Session


@dataclass
class Node:
    cause: Cause
    depth: int
    children: list["Node"] = field(default_factory=list)
    on_focus_path: bool = False
    is_focus: bool = False
    # Dots the group put on it (0 until the facilitator reveals the votes).
    dots: int = 0
    # On a phone's own page: the dots that participant put on it.
    mine: int = 0
    # On the projector in the "act" phase: the actions proposed for it.
    actions: list[Action] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.cause.pk


@dataclass
class Tree:
    roots: list[Node]
    # Visible causes in depth-first order, with their depth: what a <select>
    # of "move under" or "merge into" targets lists.
    flat: list[Node]
    focus_path: list[Cause]
    pending: list[Cause]

    @property
    def size(self) -> int:
        return len(self.flat)

    def within(self, pk: int | None) -> "Tree":
        """Only the branch of `pk` (the cause and what is under it): the smaller
        part the group works on. The whole tree if `pk` is None or not on the board."""
        start = next((n for n in self.flat if n.pk == pk), None)
        if start is None:
            return self
        flat, stack = [], [start]
        while stack:
            node = stack.pop()
            flat.append(node)
            stack.extend(reversed(node.children))
        return Tree(roots=[start], flat=flat, focus_path=self.focus_path, pending=self.pending)

    def by_level(self) -> list[tuple[str, Any, list[Node]]]:
        """(level, its name, its causes) for each level, from one person to laws,
        money and power, then the causes not placed yet; causes in the tree's order."""
        groups: dict[str, list[Node]] = {value: [] for value in Cause.Level.values}
        for node in self.flat:
            groups.setdefault(node.cause.level, []).append(node)
        order = [*Cause.Level.values[1:], Cause.Level.UNPLACED]
        # The names stay lazy: they read in the language the page renders in.
        return [(value, Cause.Level(value).label, groups[value]) for value in order]

    def ranked(self) -> list[Node]:
        """Causes with dots, most first; ties in the order of the tree."""
        return sorted((n for n in self.flat if n.dots), key=lambda n: -n.dots)

    def open_to_actions(self, any_cause: bool) -> list[Node]:
        """The causes phones may propose actions for: what matters most, or any cause."""
        return [n for n in self.flat if any_cause or n.cause.matters_most]

    def matching(self, board_filter: str) -> list[Node]:
        """The causes a projector filter keeps, most dots first."""
        if board_filter == "matters":
            keep = [n for n in self.flat if n.cause.matters_most]
        elif board_filter == "changeable":
            keep = [n for n in self.flat if n.cause.can_change in {"yes", "unsure"}]
        else:
            keep = list(self.flat)
        return sorted(keep, key=lambda n: -n.dots)


def load(session: Session, *, with_authors: bool = False, with_votes: bool = False) -> Tree:
    """Build the visible tree of `session`. One query, two `with_votes`."""
    causes = session.causes.all()
    if with_authors:
        causes = causes.select_related("author")
    return build(list(causes), session.focus_id, session.tally() if with_votes else None)


def build(causes: list[Cause], focus_id: int | None, tally: dict[int, int] | None = None) -> Tree:
    by_parent: dict[int | None, list[Cause]] = {}
    by_id = {c.pk: c for c in causes}
    for cause in causes:
        by_parent.setdefault(cause.parent_id, []).append(cause)

    focus_path: list[Cause] = []
    node_id = focus_id
    while node_id is not None and node_id in by_id:
        focus_path.append(by_id[node_id])
        node_id = by_id[node_id].parent_id
    focus_path.reverse()
    on_path = {c.pk for c in focus_path}

    # Depth first with a stack, not recursion: a tree from before the depth
    # limit (MAX_TREE_DEPTH) may be deeper than Python's recursion allows.
    flat: list[Node] = []
    roots: list[Node] = []
    stack: list[tuple[Cause, int, list[Node]]] = [
        (cause, 0, roots) for cause in reversed(by_parent.get(None, []))
    ]
    seen: set[int] = set()
    while stack:
        cause, depth, siblings = stack.pop()
        if cause.state != Cause.State.VISIBLE or cause.pk in seen:
            continue
        seen.add(cause.pk)
        node = Node(
            cause,
            depth,
            on_focus_path=cause.pk in on_path,
            is_focus=cause.pk == focus_id,
            dots=tally.get(cause.pk, 0) if tally else 0,
        )
        flat.append(node)
        siblings.append(node)
        stack.extend(
            (child, depth + 1, node.children) for child in reversed(by_parent.get(cause.pk, []))
        )
    pending = [c for c in causes if c.state == Cause.State.PENDING]
    return Tree(roots=roots, flat=flat, focus_path=focus_path, pending=pending)


def nesting(order: list[Node]) -> list[tuple[Node, bool, range]]:
    """Each node of a depth-first `order`, whether a nested list of its answers
    follows, and else how many lists end after it.

    What lets a template nest the lists in one flat loop: a template that
    includes itself per level stops at Python's recursion limit, about 96
    levels down.
    """
    rows = []
    for i, node in enumerate(order):
        after = order[i + 1].depth if i + 1 < len(order) else 0
        opens = after > node.depth
        rows.append((node, opens, range(0 if opens else node.depth - after)))
    return rows
