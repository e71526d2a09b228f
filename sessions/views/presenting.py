"""The projector: the situation, the question, the tree, and how to join."""

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.cache import never_cache

from sessions import live, network, tree
from sessions.models import Session
from sessions.permissions import session_for_member


def projector_context(session: Session) -> dict:
    """What the projector's live regions show. Two queries, whatever the tree."""
    return {
        "session": session,
        "tree": tree.load(session),
        "joined": session.participants.count(),
    }


@live.renderer("projector")
def render_projector(session_pk: int) -> tuple[int, str]:
    session = Session.objects.select_related("focus").get(pk=session_pk)
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
