"""The projector: the situation, the question, the tree, and how to join."""

import time
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache

from sessions import diagram, levels, network, plans, tree
from sessions.http import AuthenticatedHttpRequest
from sessions.models import ClosingLine, Session
from sessions.permissions import session_for_member

# The phases that show the tree of causes beside nothing else; "act" and
# "agree" show it beside the ideas and the plan, "review" not at all.
TREE_PHASES = {Session.Phase.WHY, Session.Phase.REFLECT}
BESIDE_PLAN = {Session.Phase.ACT, Session.Phase.AGREE}


def aspect(session: Session) -> float:
    """How much wider than high the projector's place for the tree is.

    Measured at 1920x1080 and 1280x720 (the same 16:9): the joining panel
    takes a column while joining is open, the ideas or the plan another in
    "act" and "agree". A drawing of the right shape fills its place.
    """
    if session.phase in BESIDE_PLAN:
        return 1.0 if session.is_open else 1.3
    return 1.75 if session.is_open else 2.2


def projector_context(session: Session) -> dict[str, Any]:
    """What the projector's live regions show.

    Two queries in the "why?" phase, whatever the tree; each later phase adds
    a fixed number (votes, actions, the earlier plan).
    """
    phase = session.phase
    revealed = phase == Session.Phase.REFLECT and session.votes_revealed
    built = tree.load(session, with_votes=revealed)
    # Reflect and Act look only at the smaller part the group chose, if any.
    if phase in {Session.Phase.REFLECT, Session.Phase.ACT} and session.branch_id is not None:
        built = built.within(session.branch_id)
    context = {
        "working_on": len(built.roots) == 1 and built.roots[0].pk == session.branch_id,
        "session": session,
        "tree": built,
        "tree_phases": TREE_PHASES,
        "joined": session.participants.count(),
    }
    if phase not in {Session.Phase.REVIEW, Session.Phase.CLOSE} and built.roots:
        # Only the "why?" step asks about the focus: no mark in the others.
        asked = phase == Session.Phase.WHY
        context["diagram"] = diagram.layout(
            built.roots,
            aspect=aspect(session),
            revealed=revealed,
            rtl=translation.get_language_bidi(),
            focus=asked and session.focus_id is not None,
        )
        context["outline"] = diagram.outline(built.roots)
        if session.levels_view:
            context["levels"] = levels.layout(
                built, aspect=aspect(session), rtl=translation.get_language_bidi()
            )
    if session.timer_ends_at is not None:
        # The projector counts down from the server's clock, not its own.
        context["timer_ends_ms"] = int(session.timer_ends_at.timestamp() * 1000)
        context["now_ms"] = int(time.time() * 1000)
    if phase == Session.Phase.REFLECT:
        context["filtered"] = built.matching(session.board_filter)
        if not revealed:
            context["voters"] = session.votes.values("participant").distinct().count()
    if phase in {Session.Phase.ACT, Session.Phase.AGREE}:
        actions = plans.load(session)
        context["actions"] = actions
        targets = built.open_to_actions(session.actions_for_any_cause)
        for node in targets:
            node.actions = actions.for_cause(node.pk)
        # With any cause allowed, list only those that have ideas (and what matters most).
        context["targets"] = [n for n in targets if n.cause.matters_most or n.actions]
    if phase == Session.Phase.REVIEW:
        context["earlier_plan"] = list(session.earlier_plan())
    if phase == Session.Phase.CLOSE:
        context["lines"] = list(session.closing_lines.filter(state=ClosingLine.State.VISIBLE))
    if session.has_ended:
        context["support"] = list(session.group.support_contacts.all())
    return context


def render_projector(session_pk: int) -> tuple[int, str]:
    session = Session.objects.select_related("focus", "follows", "group").get(pk=session_pk)
    with translation.override(session.language):
        if session.paused:
            # Only the calm message: the room comes back as it was on resume.
            html = render_to_string("sessions/present.html#paused", {"session": session})
        else:
            html = render_to_string("sessions/present.html#live", projector_context(session))
    return session.last_seq, html


@never_cache
@login_required
def present(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session, _role = session_for_member(request, session_id)
    with translation.override(session.language):
        context = projector_context(session)
        # Shown without "http://": shorter to read out, and phones' browsers add it.
        context["join_address"] = network.public_base_url(request).split("://", 1)[-1] + "/join"
        return render(request, "sessions/present.html", context)


@never_cache
@login_required
def qr_code(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """The join link as an SVG QR code, for the projector to show."""
    session, _role = session_for_member(request, session_id)
    if not session.is_open:
        return HttpResponse(status=404)
    url = f"{network.public_base_url(request)}/join/{session.join_code}/"
    response = HttpResponse(content_type="image/svg+xml")
    # segno writes to any file-like object; its types ask for an IO[str].
    qr = segno.make(url, error="m")
    qr.save(response, kind="svg", scale=8, border=2, light="#fff")  # type: ignore[arg-type]
    return response


@never_cache
@login_required
def take_home_qr(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """A QR code of the take-home page, for people who were not on the session:
    only once it has ended (before that the page does not open)."""
    session, _role = session_for_member(request, session_id)
    if not session.has_ended:
        raise Http404("The take-home page opens once the session has ended.")
    url = f"{network.public_base_url(request)}{reverse('take_home', args=[session.public_id])}"
    response = HttpResponse(content_type="image/svg+xml")
    # segno writes to any file-like object; its types ask for an IO[str].
    qr = segno.make(url, error="m")
    qr.save(response, kind="svg", scale=8, border=2, light="#fff")  # type: ignore[arg-type]
    return response
