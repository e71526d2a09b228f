"""The facilitator's console: open and close, moderate, ask "But why?"."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sessions import live, tree
from sessions.forms import CauseChoiceForm, CauseForm, EditCauseForm, ModerationForm
from sessions.models import Cause, Refused, Session
from sessions.permissions import session_for_facilitator

UNDO_LABELS = {
    "approve": "approving",
    "reject": "rejecting",
    "hide": "hiding",
    "unhide": "showing again",
    "edit": "editing",
    "merge": "merging",
    "move": "moving",
}


def console_context(session: Session) -> dict:
    """Everything the console's live regions show. Four queries, whatever the tree."""
    causes = list(session.causes.select_related("author"))
    built = tree.build(causes, session.focus_id)
    last_undoable = (
        session.events.filter(undone=False, data__has_key="undo").order_by("-seq").first()
    )
    undo_target = None
    if last_undoable:
        undo_target = next((c for c in causes if c.pk == last_undoable.data.get("cause")), None)
    return {
        "session": session,
        "tree": built,
        "hidden": [c for c in causes if c.state == Cause.State.HIDDEN],
        "joined": session.participants.count(),
        "undo": last_undoable,
        "undo_label": UNDO_LABELS.get(last_undoable.kind, "") if last_undoable else "",
        "undo_target": undo_target,
    }


@live.renderer("console")
def render_console(session_pk: int) -> tuple[int, str]:
    from django.template.loader import render_to_string

    session = Session.objects.select_related("group", "focus").get(pk=session_pk)
    html = render_to_string("sessions/console.html#live", console_context(session))
    return session.last_seq, html


def _console(
    request, session: Session, *, error: str = "", add_form=None, status: int = 200
) -> HttpResponse:
    context = console_context(session)
    context.update(error=error, add_form=add_form or CauseForm())
    template = "sessions/console.html#respond" if request.htmx else "sessions/console.html"
    return render(request, template, context, status=status)


def _respond(request, session: Session, action: Callable[[], object]) -> HttpResponse:
    """Run a console action; answer with the console (htmx) or a redirect to it."""
    try:
        action()
    except Refused as refusal:
        return _console(request, session, error=refusal.message, status=refusal.status)
    if request.htmx:
        return _console(request, session)
    return redirect("console", session.public_id)


def _cause(session: Session, cause_id: int) -> Cause:
    return get_object_or_404(Cause, pk=cause_id, session=session)


@never_cache
@login_required
def console(request, session_id):
    return _console(request, session_for_facilitator(request, session_id))


@login_required
async def console_stream(request, session_id):
    return await live.respond(
        request, "console", lambda: session_for_facilitator(request, session_id)
    )


@require_POST
@login_required
def open_session(request, session_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.open_for_joining)


@require_POST
@login_required
def close_session(request, session_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.close_for_joining)


@require_POST
@login_required
def set_moderation(request, session_id):
    session = session_for_facilitator(request, session_id)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        return _console(request, session, error="Choose how new answers appear.", status=400)
    return _respond(
        request,
        session,
        lambda: session.set_moderation(
            form.cleaned_data["moderation"], form.cleaned_data["filter_words"]
        ),
    )


@require_POST
@login_required
def add_cause(request, session_id):
    """The facilitator writes down an answer for someone without a phone."""
    session = session_for_facilitator(request, session_id)
    form = CauseForm(request.POST)
    if not form.is_valid():
        return _console(request, session, add_form=form, status=400)
    parent_id = form.cleaned_data["parent"] or session.focus_id
    return _respond(
        request, session, lambda: session.add_cause(form.cleaned_data["text"], parent_id)
    )


@require_POST
@login_required
def focus(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    return _respond(request, session, lambda: session.ask_why(cause))


@require_POST
@login_required
def focus_situation(request, session_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, lambda: session.ask_why(None))


@require_POST
@login_required
def approve(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).approve)


@require_POST
@login_required
def reject(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).reject)


@require_POST
@login_required
def hide(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).hide)


@require_POST
@login_required
def unhide(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, _cause(session, cause_id).unhide)


@never_cache
@login_required
def delete_session(request, session_id):
    """Delete the session and everything in it: causes, participants, events."""
    session = session_for_facilitator(request, session_id)
    if request.method == "POST":
        group_id = session.group.public_id
        session.delete()
        return redirect("group", group_id)
    return render(request, "sessions/delete.html", {"session": session})


@require_POST
@login_required
def undo(request, session_id):
    session = session_for_facilitator(request, session_id)
    return _respond(request, session, session.undo)


# Editing, merging and moving one cause: a page of its own, so the console stays light.


def _cause_page(request, session, cause, *, forms=None, error="", status=200):
    built = tree.load(session)
    others = [n for n in built.flat if n.pk != cause.pk]
    below = _descendants(built, cause.pk)
    forms = forms or {}
    context = {
        "session": session,
        "cause": cause,
        "edit_form": forms.get("edit") or EditCauseForm(initial={"text": cause.text}),
        "merge_form": forms.get("merge") or CauseChoiceForm(choices=others),
        "move_form": forms.get("move")
        or CauseChoiceForm(
            choices=[n for n in others if n.pk not in below],
            allow_situation=True,
            initial={"target": cause.parent_id or ""},
        ),
        "error": error,
    }
    return render(request, "sessions/cause.html", context, status=status)


def _descendants(built: tree.Tree, pk: int) -> set[int]:
    found: set[int] = set()

    def collect(nodes, inside):
        for node in nodes:
            now_inside = inside or node.pk == pk
            if now_inside and node.pk != pk:
                found.add(node.pk)
            collect(node.children, now_inside)

    collect(built.roots, False)
    return found


@never_cache
@login_required
def cause_detail(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    return _cause_page(request, session, _cause(session, cause_id))


def _cause_action(request, session, cause, form_name, form, action) -> HttpResponse:
    if not form.is_valid():
        return _cause_page(request, session, cause, forms={form_name: form}, status=400)
    try:
        action(form.cleaned_data)
    except Refused as refusal:
        return _cause_page(
            request,
            session,
            cause,
            forms={form_name: form},
            error=refusal.message,
            status=refusal.status,
        )
    return redirect("console", session.public_id)


@require_POST
@login_required
def edit_cause(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    form = EditCauseForm(request.POST)
    return _cause_action(
        request,
        session,
        cause,
        "edit",
        form,
        lambda d: cause.edit(d["text"], was=d["was"] if "was" in request.POST else None),
    )


@require_POST
@login_required
def merge_cause(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    others = [n for n in tree.load(session).flat if n.pk != cause.pk]
    form = CauseChoiceForm(request.POST, choices=others)
    return _cause_action(
        request,
        session,
        cause,
        "merge",
        form,
        lambda d: cause.merge_into(_cause(session, d["target"])),
    )


@require_POST
@login_required
def move_cause(request, session_id, cause_id):
    session = session_for_facilitator(request, session_id)
    cause = _cause(session, cause_id)
    built = tree.load(session)
    # Every visible cause is offered, so that a cycle gets a clear message from the model.
    form = CauseChoiceForm(request.POST, choices=built.flat, allow_situation=True)

    def move(data):
        target = data["target"]
        cause.move_under(_cause(session, target) if target else None)

    return _cause_action(request, session, cause, "move", form, move)
