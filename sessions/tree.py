"""The tree of causes, assembled in Python from one query.

A session's tree is small (tens to a few hundred causes), so every page loads
all its causes at once and builds the nesting here: the number of queries
never grows with the tree.
"""

from dataclasses import dataclass, field

from sessions.models import Cause, Session


@dataclass
class Node:
    cause: Cause
    depth: int
    children: list["Node"] = field(default_factory=list)
    on_focus_path: bool = False
    is_focus: bool = False

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

    @property
    def density(self) -> str:
        """How tightly the projector must set the tree to fit one screen."""
        if self.size <= 12:
            return "roomy"
        if self.size <= 30:
            return "snug"
        if self.size <= 60:
            return "dense"
        return "packed"


def load(session: Session, *, with_authors: bool = False) -> Tree:
    """Build the visible tree of `session`. One query."""
    causes = session.causes.all()
    if with_authors:
        causes = causes.select_related("author")
    return build(list(causes), session.focus_id)


def build(causes: list[Cause], focus_id: int | None) -> Tree:
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

    flat: list[Node] = []

    def grow(parent_id: int | None, depth: int) -> list[Node]:
        nodes = []
        for cause in by_parent.get(parent_id, []):
            if cause.state != Cause.State.VISIBLE:
                continue
            node = Node(
                cause, depth, on_focus_path=cause.pk in on_path, is_focus=cause.pk == focus_id
            )
            flat.append(node)
            node.children = grow(cause.pk, depth + 1)
            nodes.append(node)
        return nodes

    roots = grow(None, 0)
    pending = [c for c in causes if c.state == Cause.State.PENDING]
    return Tree(roots=roots, flat=flat, focus_path=focus_path, pending=pending)
