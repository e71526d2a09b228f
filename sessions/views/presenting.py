"""The projector: the situation, the question, the tree, and how to join."""

import time

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.cache import never_cache

from sessions import live, network, plans, tree
from sessions.models import Session
from sessions.permissions import session_for_member

# The phases that show the tree of causes; the others show actions and plans.
TREE_PHASES = {"why", "reflect"}


def projector_context(session: Session) -> dict:
    """What the projector's live regions show.

    Two queries in the "why?" phase, whatever the tree; each later phase adds
    a fixed number (votes, actions, the earlier plan).
    """
    phase = session.phase
    revealed = phase == "reflect" and session.votes_revealed
    built = tree.load(session, with_votes=revealed)
    context = {
        "session": session,
        "tree": built,
        "tree_phases": TREE_PHASES,
        "joined": session.participants.count(),
        "ranked": built.ranked() if revealed else [],
    }
    if session.timer_ends_at is not None:
        # The projector counts down from the server's clock, not its own.
        context["timer_ends_ms"] = int(session.timer_ends_at.timestamp() * 1000)
        context["now_ms"] = int(time.time() * 1000)
    if phase == "reflect":
        context["filtered"] = built.matching(session.board_filter)
        if not revealed:
            context["voters"] = session.votes.values("participant").distinct().count()
    if phase in {"act", "agree"}:
        actions = plans.load(session)
        context["actions"] = actions
        targets = built.open_to_actions(session.actions_for_any_cause)
        for node in targets:
            node.actions = actions.for_cause(node.pk)
        # With any cause allowed, list only those that have ideas (and what matters most).
        context["targets"] = [n for n in targets if n.cause.matters_most or n.actions]
    if phase == "review":
        context["earlier_plan"] = list(session.earlier_plan())
    return context


@live.renderer("projector")
def render_projector(session_pk: int) -> tuple[int, str]:
    session = Session.objects.select_related("focus", "follows").get(pk=session_pk)
    with translation.override(session.language):
        html = render_to_string("sessions/present.html#live", projector_context(session))
    return session.last_seq, html


@never_cache
@login_required
def present(request, session_id):
    session, _role = session_for_member(request, session_id)
    context = projector_context(session)
    # Shown without "http://": shorter to read out, and phones' browsers add it.
    context["join_address"] = network.public_base_url(request).split("://", 1)[-1] + "/join"
    with translation.override(session.language):
        return render(request, "sessions/present.html", context)


@login_required
async def present_stream(request, session_id):
    return await live.respond(
        request, "projector", lambda: session_for_member(request, session_id)[0]
    )


@never_cache
@login_required
def qr_code(request, session_id):
    """The join link as an SVG QR code, for the projector to show."""
    session, _role = session_for_member(request, session_id)
    if not session.join_code:
        return HttpResponse(status=404)
    url = f"{network.public_base_url(request)}/join/{session.join_code}/"
    response = HttpResponse(content_type="image/svg+xml")
    segno.make(url, error="m").save(response, kind="svg", scale=8, border=2, light="#fff")
    return response
