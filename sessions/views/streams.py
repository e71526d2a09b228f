"""The HTTP edge of the live channel: who may follow a session's stream, and
what each audience sees.

The transport (sessions/live.py) knows no session and no template: the views
here check the request, name the audience, and hand the hub that audience's
renderer from `RENDERERS`, the one table of who renders what. butwhy/asgi.py
serves phones' streams with the same check and the same response.
"""

import functools
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from butwhy.database import release_connections
from sessions import live
from sessions.http import AuthenticatedHttpRequest
from sessions.models import Session
from sessions.permissions import session_for_facilitator, session_for_member
from sessions.views import facilitating, participating, presenting

# Audience -> what it sees. The projector speaks the session's language.
# Phones whose owners picked a language, and consoles (which follow their
# facilitator's language), are an audience per language: the channel renders
# once for each language in use, not once per screen. Phones that have
# everyone's answers open ("phone-tree") are an audience of their own: the
# others get each change without the whole tree.
RENDERERS: dict[str, live.Renderer] = {
    "projector": presenting.render_projector,
    "phone": participating.render_phone,
    "phone-tree": functools.partial(participating.render_phone, with_tree=True),
    **{
        f"phone:{code}": functools.partial(participating.render_phone, language=code)
        for code, _name in settings.LANGUAGES
    },
    **{
        f"phone-tree:{code}": functools.partial(
            participating.render_phone, language=code, with_tree=True
        )
        for code, _name in settings.LANGUAGES
    },
    **{
        f"console:{code}": functools.partial(facilitating.render_console, language=code)
        for code, _name in settings.LANGUAGES
    },
}


def cursor_from(request: HttpRequest) -> int | None:
    """The last sequence number the client has: Last-Event-ID, else ?last=."""
    for value in (request.headers.get("Last-Event-ID"), request.GET.get("last")):
        if value is not None:
            try:
                number = int(value)
            except ValueError:
                continue
            if number >= 0:
                return number
    return None


def check(find_session_pk: Callable[[], int]) -> int:
    """The pk `find_session_pk()` returns (or raises for), for a stream.

    Run it in a thread: its database connection is closed right after, so
    the open stream holds none.
    """
    try:
        return find_session_pk()
    finally:
        release_connections()


async def respond(
    request: HttpRequest,
    audience: str,
    find_session_pk: Callable[[], int],
    limits: dict[str, int] | None = None,
) -> HttpResponse | StreamingHttpResponse:
    """Open an SSE response for the session `find_session_pk()` names (or raises for).

    `limits`: how many streams each holder (a participant, an address) may
    have open in this process; past that, 429 (see `stream_response`).

    Through Django, the check runs in the request's own thread (the one
    its middleware ran in). butwhy/asgi.py serves phones' streams without
    Django's request handling and runs the same check in the shared executor.
    """
    session_pk = await sync_to_async(check)(find_session_pk)
    if "poll" in request.GET:
        return await sync_to_async(poll, thread_sensitive=False)(
            session_pk, audience, cursor_from(request)
        )
    return stream_response(session_pk, audience, cursor_from(request), limits or {})


def stream_response(
    session_pk: int, audience: str, cursor: int | None, limits: dict[str, int]
) -> HttpResponse | StreamingHttpResponse:
    """The SSE response, or 429 if a holder in `limits` already has its most streams open.

    Each open stream holds a file descriptor and some memory: one client
    must not take what a room needs. live.js reconnects after a failure.
    """
    hold = live.Hub.for_running_loop().hold(limits)
    if hold is None:
        refused = HttpResponse(
            "Too many open streams.", status=429, content_type="text/plain; charset=utf-8"
        )
        refused["Retry-After"] = "10"
        return refused
    response = StreamingHttpResponse(
        live.Body(live.stream(session_pk, audience, RENDERERS[audience], cursor, hold), hold),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    # A stream is no document: it runs no script and is never framed, so it
    # needs no Content-Security-Policy or X-Frame-Options. These leave them
    # off as @csp_override({}) and @xframe_options_exempt do for a view, and
    # hold for both paths that send a stream: the views below and butwhy/asgi.py.
    response._csp_config = {}  # type: ignore[attr-defined]
    response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response


def poll(session_pk: int, audience: str, cursor: int | None) -> HttpResponse:
    """For a client that cannot hold a stream: the snapshot if anything changed, else 204."""
    try:
        last_seq = Session.objects.filter(pk=session_pk).values_list("last_seq", flat=True).get()
        if cursor is not None and last_seq <= cursor:
            response = HttpResponse(status=204)
        else:
            message = live.render(session_pk, RENDERERS[audience])
            response = HttpResponse(message.html, content_type="text/html; charset=utf-8")
            response["X-Seq"] = str(message.seq)
    finally:
        release_connections()
    response["Cache-Control"] = "no-cache"
    return response


@login_required
async def console_stream(
    request: AuthenticatedHttpRequest, session_id: str
) -> HttpResponse | StreamingHttpResponse:
    return await respond(
        request,
        f"console:{request.LANGUAGE_CODE}",
        lambda: session_for_facilitator(request, session_id).pk,
    )


@login_required
async def present_stream(
    request: AuthenticatedHttpRequest, session_id: str
) -> HttpResponse | StreamingHttpResponse:
    return await respond(
        request, "projector", lambda: session_for_member(request, session_id)[0].pk
    )


async def phone_stream(
    request: HttpRequest, session_id: str
) -> HttpResponse | StreamingHttpResponse:
    return await respond(
        request,
        participating.phone_audience(request),
        functools.partial(participating.phone_stream_session, request, session_id),
        participating.phone_stream_limits(request, session_id),
    )
