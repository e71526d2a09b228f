"""Actions and the plan, loaded in a fixed number of queries and grouped here.

Like the tree of causes, a session's actions are few: load them all at once
with the causes they address, then sort them into what each page shows.
"""

from dataclasses import dataclass, field

from sessions.models import Action, Session


@dataclass
class Actions:
    """A session's proposed actions, sorted for the pages. `load()` makes one."""

    pending: list[Action] = field(default_factory=list)
    # On the board and not (yet) agreed: "other ideas".
    ideas: list[Action] = field(default_factory=list)
    # Agreed, in the order the group chose.
    plan: list[Action] = field(default_factory=list)
    hidden: list[Action] = field(default_factory=list)

    @property
    def visible(self) -> list[Action]:
        return [*self.plan, *self.ideas]

    def for_cause(self, cause_id: int) -> list[Action]:
        return [a for a in self.visible if cause_id in a.cause_ids]


def load(session: Session, *, with_authors: bool = False) -> Actions:
    """Every pending, visible and hidden action, with its causes. Two queries."""
    query = session.actions.filter(state__in=["pending", "visible", "hidden"])
    if with_authors:
        query = query.select_related("author")
    found = Actions()
    for action in query.with_causes().order_by("plan_order", "id"):
        if action.state == Action.State.PENDING:
            found.pending.append(action)
        elif action.state == Action.State.HIDDEN:
            found.hidden.append(action)
        elif action.agreed:
            found.plan.append(action)
        else:
            found.ideas.append(action)
    return found
