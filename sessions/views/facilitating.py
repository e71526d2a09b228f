"""The facilitator's console: open and close, moderate, ask "But why?"."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from sessions import plans, tree
from sessions.forms import (
    ActionChoiceForm,
    ActionForm,
    AgreeForm,
    BoardForm,
    CauseChoiceForm,
    CauseForm,
    EditApproveForm,
    EditCauseForm,
    FollowUpForm,
    MergeCauseForm,
    ModerationForm,
    PhaseForm,
    TagForm,
    TimerForm,
    VotingForm,
)
from sessions.http import AuthenticatedHttpRequest, HtmxHttpRequest
from sessions.models import Action, Cause, ClosingLine, Event, Refused, Session
from sessions.permissions import session_for_facilitator

# The notice that answers a moderation action on the console, beside its Undo.
NOTICES = {
    "approve": _("Approved: “%(text)s”."),
    "reject": _("Rejected: “%(text)s”."),
    "hide": _("Hidden: “%(text)s”."),
    "unhide": _("Back on the board: “%(text)s”."),
    "edit": _("Reworded: “%(text)s”."),
    "edit_approve": _("Edited and approved: “%(text)s”."),
    "merge": _("Merged “%(text)s” into “%(target)s”."),
    "move": _("Moved “%(text)s” under “%(target)s”."),
    "move_top": _("Moved “%(text)s” to the top, under the situation."),
    "tag": _("Tags changed on “%(text)s”."),
    "matters": _("Marked as mattering most: “%(text)s”."),
    "not_matters": _("No longer marked as mattering most: “%(text)s”."),
    "level": _("“%(text)s”: %(level)s."),
    "undo": _("Undone: %(what)s “%(text)s”."),
}
# Where the notice shows on a laptop: beside the pane the action came from
# (actions, and the approval queue, are in the work pane).
QUEUE_KINDS = {"approve", "reject", "edit_approve"}

TIMER_CHOICES = [1, 2, 3, 5, 10, 15]
# The console's regions that an htmx answer replaces (by id, hx-select-oob).
REGIONS = ",".join(
    f"#{region}"
    for region in (
        *("flash", "notice", "cause-panel", "room", "phase", "add", "add-action"),
        *("status", "cquestion", "pending", "reflect", "acts", "closing", "ctree", "levels"),
    )
)


@dataclass
class Row:
    """One cause of the console's tree, in depth-first order, nested by
    opening and closing tags row by row (tree.nesting)."""

    node: tree.Node
    # How many people said it: the cause itself and every cause merged into it.
    said: int
    # Its answers follow, one level deeper.
    opens: bool
    # How many levels end after it.
    closes: range
    # The cause's own address; its buttons post to what butwhy/urls.py puts
    # under it ("hide/", "focus/"…): one reverse() a row instead of five,
    # which was nearly half the time of rendering a large tree.
    url: str


def tree_rows(session: Session, built: tree.Tree, causes: list[Cause]) -> list[Row]:
    by_pk = {c.pk: c for c in causes}
    said: dict[int, int] = {}
    for cause in causes:
        if cause.state != Cause.State.MERGED:
            continue
        kept, seen = cause.merged_into_id, set()
        while kept in by_pk and by_pk[kept].state == Cause.State.MERGED and kept not in seen:
            seen.add(kept)
            kept = by_pk[kept].merged_into_id
        if kept is not None:
            said[kept] = said.get(kept, 1) + 1
    return [
        Row(
            node,
            said=said.get(node.pk, 1),
            opens=opens,
            closes=closes,
            url=reverse("cause", args=[session.public_id, node.pk]),
        )
        for node, opens, closes in tree.nesting(built.flat)
    ]


def _short(text: str) -> str:
    return Truncator(text).chars(60)


def notice_for(session: Session, event: Event | None) -> dict[str, Any] | None:
    """What a moderation action's notice says, and which event its Undo takes back.

    A query or two: only in the answer to the facilitator's own action.
    """
    if event is None or (event.kind != "undo" and "undo" not in event.data):
        return None
    kind, undone = event.kind, event
    if kind == "undo":
        undone = session.events.filter(seq=event.data.get("of")).first() or event
    model: type[Cause] | type[Action] = Action if "action" in undone.data else Cause
    item = model.objects.filter(pk=undone.data.get(model.__name__.lower())).first()
    if item is None:
        return None
    values = {"text": _short(item.text)}
    key = undone.kind.removeprefix("action_")
    if kind == "undo":
        key = "undo"
        values["what"] = undone.undo_label
    elif key == "merge" and item.merged_into is not None:
        values["target"] = _short(item.merged_into.text)
    elif key == "move" and isinstance(item, Cause):
        if item.parent is None:
            key = "move_top"
        else:
            values["target"] = _short(item.parent.text)
    elif key == "tag" and isinstance(item, Cause):
        before = event.data["undo"]["causes"][0]
        changed = {f for f in Cause.TAG_FIELDS if before.get(f) != getattr(item, f)}
        if changed == {"matters_most"}:
            key = "matters" if item.matters_most else "not_matters"
        elif changed == {"level"}:
            key = "level"
            values["level"] = str(item.get_level_display())
    if key not in NOTICES or (key in {"merge", "move"} and "target" not in values):
        return None
    return {
        "message": NOTICES[key] % values,
        "seq": event.seq if kind != "undo" else None,
        "near": "queue" if undone.kind in QUEUE_KINDS or isinstance(item, Action) else "tree",
    }


def console_context(session: Session) -> dict[str, Any]:
    """Everything the console's live regions show.

    Four queries in the "why?" phase, whatever the tree; each later phase adds
    what it shows (votes, actions, the earlier plan), again a fixed number.
    """
    causes = list(session.causes.select_related("author"))
    revealed = session.votes_revealed
    built = tree.build(causes, session.asked_id, session.tally() if revealed else None)
    last_undoable = (
        session.events.filter(undone=False, data__has_key="undo").order_by("-seq").first()
    )
    context = {
        "session": session,
        "tree": built,
        "rows": tree_rows(session, built, causes),
        "regions": REGIONS,
        "hidden": [c for c in causes if c.state == Cause.State.HIDDEN],
        "joined": session.participants.count(),
        "undo": last_undoable,
        "undo_label": last_undoable.undo_label if last_undoable else "",
        "undo_target": None,
        "timer_choices": TIMER_CHOICES,
        "level_counts": built.by_level() if built.flat else [],
        "branch": next((n.cause for n in built.flat if n.pk == session.branch_id), None),
    }
    phase = session.phase
    if phase == Session.Phase.REFLECT:
        votes = list(session.votes.values_list("participant_id", "dots"))
        context["voters"] = len({participant for participant, _dots in votes})
        context["dots_placed"] = sum(dots for _participant, dots in votes)
    actions = None
    if phase in {Session.Phase.ACT, Session.Phase.AGREE} or (
        last_undoable and "action" in last_undoable.data
    ):
        actions = plans.load(session, with_authors=True)
        context["actions"] = actions
        context["matters"] = [n for n in built.flat if n.cause.matters_most]
    if phase == Session.Phase.REVIEW:
        context["earlier_plan"] = list(session.earlier_plan())
    if phase == Session.Phase.WHY:
        # The script suggests "Why else?" for a lone answer, "But why?" for several.
        context["answers_here"] = sum(
            1 for c in causes if c.parent_id == session.focus_id and c.state == Cause.State.VISIBLE
        )
    if phase == Session.Phase.CLOSE:
        context["lines"] = list(session.closing_lines.all())
    if last_undoable:
        if "action" in last_undoable.data and actions is not None:
            every = [*actions.visible, *actions.pending, *actions.hidden]
            wanted = last_undoable.data["action"]
            context["undo_target"] = next((a for a in every if a.pk == wanted), None)
        else:
            wanted = last_undoable.data.get("cause")
            context["undo_target"] = next((c for c in causes if c.pk == wanted), None)
    return context


def render_console(session_pk: int, language: str = "") -> tuple[int, str]:
    """The console's live regions, in `language` (the session's if none)."""
    from django.template.loader import render_to_string

    session = Session.objects.select_related("group", "focus").get(pk=session_pk)
    with translation.override(language or session.language):
        html = render_to_string("sessions/console.html#live", console_context(session))
    return session.last_seq, html


def _console(
    request: HtmxHttpRequest,
    session: Session,
    *,
    error: str | Promise = "",
    add_form: CauseForm | None = None,
    action_form: ActionForm | None = None,
    refresh: tuple[str, ...] = (),
    status: int = 200,
    notice: Event | None = None,
    held_form: tuple[int, EditApproveForm] | None = None,
) -> HttpResponse:
    """The console page, or (htmx) its live regions plus the forms named in `refresh`,
    and the notice of what the facilitator just changed. `held_form`: a held
    answer's "Edit and approve" form sent back with what was typed."""
    context = console_context(session)
    context.update(
        held_form=held_form,
        error=error,
        add_form=add_form or CauseForm(),
        action_form=action_form or ActionForm(),
        refresh=refresh,
        notice=notice_for(session, notice),
    )
    template = "sessions/console.html#respond" if request.htmx else "sessions/console.html"
    return render(request, template, context, status=status)


def _respond(
    request: HtmxHttpRequest,
    session: Session,
    action: Callable[[], object],
    refresh: tuple[str, ...] = (),
) -> HttpResponse:
    """Run a console action; answer with the console (htmx) or a redirect to it.
    If the action is refused, the console says why."""
    try:
        done = action()
    except Refused as refusal:
        return _console(request, session, error=refusal.message, status=refusal.status)
    return _done(request, session, done, refresh)


def _done(
    request: HtmxHttpRequest, session: Session, done: object, refresh: tuple[str, ...] = ()
) -> HttpResponse:
    """After a console action: the console with the notice of `done` (htmx), else
    a redirect to it."""
    if request.htmx:
        notice = done if isinstance(done, Event) else None
        return _console(request, session, refresh=refresh, notice=notice)
    return redirect("console", session.public_id)


def _cause(session: Session, cause_id: int) -> Cause:
    return get_object_or_404(Cause, pk=cause_id, session=session)


@never_cache
@login_required
def console(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    return _console(request, session_for_facilitator(request, session_id))


@require_POST
@login_required
def open_session(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.open_for_joining)


@require_POST
@login_required
def close_session(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.close_for_joining)


@require_POST
@login_required
def pause(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """Pause the room: every screen shows a calm message; phones keep what is typed."""
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.pause(True))


@require_POST
@login_required
def resume(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.pause(False))


@require_POST
@login_required
def start_questions(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """From the agreements on the projector to the first question."""
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.show_agreements(False))


@require_POST
@login_required
def show_agreements(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.show_agreements(True))


@require_POST
@login_required
def end_session(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.end)


@require_POST
@login_required
def set_moderation(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        return _console(request, session, error=_("Choose how new answers appear."), status=400)
    return _respond(
        request,
        session,
        lambda: session.set_moderation(
            form.cleaned_data["moderation"], form.cleaned_data["filter_words"]
        ),
    )


@require_POST
@login_required
def add_cause(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """The facilitator writes down an answer for someone without a phone."""
    session = session_for_facilitator(request, session_id)
    form = CauseForm(request.POST)
    if not form.is_valid():
        return _console(request, session, add_form=form, refresh=("add",), status=400)
    parent_id = form.cleaned_data["parent"] or session.focus_id
    return _respond(
        request,
        session,
        lambda: session.add_cause(form.cleaned_data["text"], parent_id),
        refresh=("add",),
    )


@require_POST
@login_required
def focus(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    return _respond(request, session, lambda: session.ask_why(cause))


@require_POST
@login_required
def focus_situation(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.ask_why(None))


@require_POST
@login_required
def why_else(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """Ask for other reasons beside the current question's answers."""
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.ask_why_else)


def _line(session: Session, line_id: int) -> ClosingLine:
    return get_object_or_404(ClosingLine, pk=line_id, session=session)


@require_POST
@login_required
def approve_line(request: AuthenticatedHttpRequest, session_id: str, line_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _line(session, line_id).approve)


@require_POST
@login_required
def reject_line(request: AuthenticatedHttpRequest, session_id: str, line_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _line(session, line_id).reject)


@require_POST
@login_required
def hide_line(request: AuthenticatedHttpRequest, session_id: str, line_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _line(session, line_id).hide)


@require_POST
@login_required
def unhide_line(request: AuthenticatedHttpRequest, session_id: str, line_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _line(session, line_id).unhide)


@require_POST
@login_required
def approve(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).approve)


@require_POST
@login_required
def reject(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).reject)


@require_POST
@login_required
def edit_approve(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    """A held answer, reworded (a name taken out) and approved in one undoable step."""
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    form = EditApproveForm(request.POST)
    if not form.is_valid():
        return _console(
            request, session, error=_form_error(form), status=400, held_form=(cause.pk, form)
        )
    was = form.cleaned_data["was"] if "was" in request.POST else None
    try:
        event = cause.edit_and_approve(form.cleaned_data["text"], was=was)
    except Refused as refusal:
        return _console(
            request,
            session,
            error=refusal.message,
            status=refusal.status,
            held_form=(cause.pk, form),
        )
    return _done(request, session, event)


@require_POST
@login_required
def hide(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).hide)


@require_POST
@login_required
def unhide(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).unhide)


@never_cache
@login_required
def delete_session(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """Delete the session and everything in it: causes, participants, events."""
    session = session_for_facilitator(request, session_id)
    if request.method == "POST":
        group_id = session.group.public_id
        session.delete()
        return redirect("group", group_id)
    return render(request, "sessions/delete.html", {"session": session})


@require_POST
@login_required
def undo(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """Undo the latest change; with `event` (a notice's Undo), only if that is still it."""
    session = session_for_facilitator(request, session_id)
    seq = request.POST.get("event", "")
    wanted = int(seq) if seq.isdecimal() and len(seq) < 18 else None
    return _respond(request, session, lambda: session.undo(wanted))


# Tags, editing, merging and moving one cause: a panel the console opens in
# place (htmx), which is also a page of its own without JavaScript.


def _cause_page(
    request: HtmxHttpRequest,
    session: Session,
    cause: Cause,
    *,
    forms: dict[str, Form] | None = None,
    error: str | Promise = "",
    status: int = 200,
) -> HttpResponse:
    built = tree.load(session)
    others = [n for n in built.flat if n.pk != cause.pk]
    below = _descendants(built, cause.pk)
    forms = forms or {}
    context = {
        "session": session,
        "cause": cause,
        "inplace": bool(request.htmx),
        "edit_form": forms.get("edit") or EditCauseForm(initial={"text": cause.text}),
        "merge_form": forms.get("merge") or MergeCauseForm(choices=others),
        "move_form": forms.get("move")
        or CauseChoiceForm(
            choices=[n for n in others if n.pk not in below],
            allow_situation=True,
            initial={"target": cause.parent_id or ""},
        ),
        "tags_form": forms.get("tags")
        or TagForm(initial={field: getattr(cause, field) for field in Cause.TAG_FIELDS}),
        "error": error,
    }
    template = "sessions/cause.html#panel" if request.htmx else "sessions/cause.html"
    return render(request, template, context, status=status)


def _descendants(built: tree.Tree, pk: int) -> set[int]:
    """The causes below `pk`: those that follow it in depth-first order, deeper than it."""
    found: set[int] = set()
    depth = None
    for node in built.flat:
        if depth is not None:
            if node.depth <= depth:
                break
            found.add(node.pk)
        elif node.pk == pk:
            depth = node.depth
    return found


@never_cache
@vary_on_headers("HX-Request")
@login_required
def cause_detail(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _cause_page(request, session, _cause(session, cause_id))


def _cause_form(
    request: HtmxHttpRequest,
    session: Session,
    cause: Cause,
    name: str,
    form: Form,
    change: Callable[[dict[str, Any]], Event],
) -> HttpResponse:
    """Validate `form` and run `change` with its data, then back to the console
    (htmx: its regions and a notice); otherwise the panel again with the form and why."""
    if not form.is_valid():
        return _cause_page(request, session, cause, forms={name: form}, status=400)
    try:
        event = change(form.cleaned_data)
    except Refused as refusal:
        return _cause_page(
            request,
            session,
            cause,
            forms={name: form},
            error=refusal.message,
            status=refusal.status,
        )
    return _done(request, session, event)


@require_POST
@login_required
def edit_cause(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    form = EditCauseForm(request.POST)
    return _cause_form(
        request,
        session,
        cause,
        "edit",
        form,
        lambda d: cause.edit(d["text"], was=d["was"] if "was" in request.POST else None),
    )


@require_POST
@login_required
def merge_cause(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    others = [n for n in tree.load(session).flat if n.pk != cause.pk]
    form = MergeCauseForm(request.POST, choices=others)

    def merge(data: dict[str, Any]) -> Event:
        other = _cause(session, data["target"])
        return other.merge_into(cause) if data["keep"] == "this" else cause.merge_into(other)

    return _cause_form(request, session, cause, "merge", form, merge)


@require_POST
@login_required
def move_cause(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    built = tree.load(session)
    # Every visible cause is offered, so that a cycle gets a clear message from the model.
    form = CauseChoiceForm(request.POST, choices=built.flat, allow_situation=True)

    def move(data: dict[str, Any]) -> Event:
        target = data["target"]
        return cause.move_under(_cause(session, target) if target else None)

    return _cause_form(request, session, cause, "move", form, move)


# Reflect, act, agree: the room's phase, votes, tags and actions.


def _form_error(form: Form) -> str | Promise:
    """The first error of a small console form, as one message."""
    messages = (e for errors in form.errors.values() for e in errors)
    # ErrorList hands out each error's message; the stubs count a ValidationError in too.
    first: str | Promise = next(messages)  # type: ignore[assignment]
    return first


@require_POST
@login_required
def set_phase(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    form = PhaseForm(request.POST)
    if not form.is_valid():
        return _console(request, session, error=_("Choose a step of the session."), status=400)
    # The action form lists the causes on the board: fresh for the "act" phase.
    return _respond(
        request,
        session,
        lambda: session.set_phase(form.cleaned_data["phase"]),
        refresh=("action",),
    )


@require_POST
@login_required
def set_voting(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    form = VotingForm(request.POST)
    if not form.is_valid():
        return _console(request, session, error=_form_error(form), status=400)
    data = form.cleaned_data
    return _respond(
        request, session, lambda: session.set_voting(data["dot_budget"], data["stack_dots"])
    )


@require_POST
@login_required
def reveal_votes(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.reveal_votes(True))


@require_POST
@login_required
def hide_votes(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.reveal_votes(False))


@require_POST
@login_required
def set_board(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    form = BoardForm(request.POST)
    if not form.is_valid():
        return _console(request, session, error=_("Choose what the projector shows."), status=400)
    data = form.cleaned_data
    return _respond(
        request,
        session,
        lambda: session.set_board(data["board_filter"], data["actions_for_any_cause"]),
    )


@require_POST
@login_required
def matters_most(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    """The quick "matters most" switch on the console's tree."""
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    value = request.POST.get("matters") == "1"
    return _respond(request, session, lambda: cause.tag(matters_most=value))


@require_POST
@login_required
def place_cause(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    """Put a cause on a level (one person … laws, money and power): one click."""
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    return _respond(request, session, lambda: cause.place(request.POST.get("level", "")))


@require_POST
@login_required
def work_on(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    """This cause and what is under it: the smaller part Reflect and Act look at."""
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    return _respond(request, session, lambda: session.work_on(cause))


@require_POST
@login_required
def work_on_whole(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.work_on(None))


@require_POST
@login_required
def levels_view(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """The projector shows the causes by level (show=1), or the tree."""
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.show_levels(request.POST.get("show") == "1"))


@require_POST
@login_required
def level_suggestions(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """Whether phones may suggest the level of their answers (allow=1)."""
    session = session_for_facilitator(request, session_id)
    allowed = request.POST.get("allow") == "1"
    return _respond(request, session, lambda: session.set_level_suggestions(allowed))


@require_POST
@login_required
def tag_cause(request: AuthenticatedHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    form = TagForm(request.POST)
    return _cause_form(request, session, cause, "tags", form, lambda d: cause.tag(**d))


@require_POST
@login_required
def add_action(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """The facilitator writes down an action the room proposes."""
    session = session_for_facilitator(request, session_id)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _console(request, session, action_form=form, refresh=("action",), status=400)
    try:
        done = session.add_action(form.cleaned_data["text"], form.cleaned_data["causes"])
    except Refused as refusal:
        return _console(
            request,
            session,
            error=refusal.message,
            status=refusal.status,
            action_form=form,
            refresh=("action",),
        )
    return _done(request, session, done, refresh=("action",))


def _action(session: Session, action_id: int) -> Action:
    return get_object_or_404(Action, pk=action_id, session=session)


def _action_page(
    request: HttpRequest,
    session: Session,
    action: Action,
    *,
    forms: dict[str, Form] | None = None,
    error: str | Promise = "",
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    others = [a for a in plans.load(session).visible if a.pk != action.pk]
    context = {
        "session": session,
        "action": action,
        "edit_form": forms.get("edit") or EditCauseForm(initial={"text": action.text}),
        "merge_form": forms.get("merge") or ActionChoiceForm(choices=others),
        "agree_form": forms.get("agree")
        or AgreeForm(
            initial={
                "owner": action.owner,
                "owner_outside": action.owner_outside,
                "first_step": action.first_step,
                "due": action.due,
            }
        ),
        "error": error,
    }
    return render(request, "sessions/action.html", context, status=status)


@never_cache
@login_required
def action_detail(
    request: AuthenticatedHttpRequest, session_id: str, action_id: int
) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _action_page(request, session, _action(session, action_id))


def _action_form(
    request: HttpRequest,
    session: Session,
    action: Action,
    name: str,
    form: Form,
    change: Callable[[dict[str, Any]], Event],
) -> HttpResponse:
    """Validate `form` and run `change` with its data, then back to the console;
    otherwise the action's page again with the form and why."""
    if not form.is_valid():
        return _action_page(request, session, action, forms={name: form}, status=400)
    try:
        change(form.cleaned_data)
    except Refused as refusal:
        return _action_page(
            request,
            session,
            action,
            forms={name: form},
            error=refusal.message,
            status=refusal.status,
        )
    return redirect("console", session.public_id)


@require_POST
@login_required
def edit_action(request: AuthenticatedHttpRequest, session_id: str, action_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    form = EditCauseForm(request.POST)
    return _action_form(
        request,
        session,
        action,
        "edit",
        form,
        lambda d: action.edit(d["text"], was=d["was"] if "was" in request.POST else None),
    )


@require_POST
@login_required
def merge_action(
    request: AuthenticatedHttpRequest, session_id: str, action_id: int
) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    others = [a for a in plans.load(session).visible if a.pk != action.pk]
    form = ActionChoiceForm(request.POST, choices=others)
    return _action_form(
        request,
        session,
        action,
        "merge",
        form,
        lambda d: action.merge_into(_action(session, d["target"])),
    )


@require_POST
@login_required
def agree_action(
    request: AuthenticatedHttpRequest, session_id: str, action_id: int
) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    form = AgreeForm(request.POST, current_due=action.due)
    return _action_form(request, session, action, "agree", form, lambda d: action.agree(**d))


@require_POST
@login_required
def approve_action(
    request: AuthenticatedHttpRequest, session_id: str, action_id: int
) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    return _respond(request, session, action.approve)


@require_POST
@login_required
def reject_action(
    request: AuthenticatedHttpRequest, session_id: str, action_id: int
) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    return _respond(request, session, action.reject)


@require_POST
@login_required
def hide_action(request: AuthenticatedHttpRequest, session_id: str, action_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    return _respond(request, session, action.hide)


@require_POST
@login_required
def unhide_action(
    request: AuthenticatedHttpRequest, session_id: str, action_id: int
) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    return _respond(request, session, action.unhide)


@require_POST
@login_required
def leave_plan(request: AuthenticatedHttpRequest, session_id: str, action_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    return _respond(request, session, action.leave_plan)


@require_POST
@login_required
def plan_up(request: AuthenticatedHttpRequest, session_id: str, action_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    return _respond(request, session, lambda: action.move_in_plan(-1))


@require_POST
@login_required
def plan_down(request: AuthenticatedHttpRequest, session_id: str, action_id: int) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    action = _action(session, action_id)
    return _respond(request, session, lambda: action.move_in_plan(1))


@require_POST
@login_required
def review_action(
    request: AuthenticatedHttpRequest, session_id: str, action_id: int
) -> HttpResponse:
    """In a follow-up's Review step: the status and notes of an action of the earlier plan."""
    session = session_for_facilitator(request, session_id)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return _console(request, session, error=_form_error(form), status=400)
    data = form.cleaned_data
    return _respond(
        request, session, lambda: session.review(action_id, data["status"], data["notes"])
    )


@require_POST
@login_required
def start_timer(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    form = TimerForm(request.POST)
    if not form.is_valid():
        return _console(request, session, error=_form_error(form), status=400)
    return _respond(
        request, session, lambda: session.start_timer(form.cleaned_data["minutes"] * 60)
    )


@require_POST
@login_required
def stop_timer(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.stop_timer)
