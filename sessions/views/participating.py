"""Phones: join with a code, answer the current question, follow the room."""

import functools
import logging
import secrets

from django.db import DatabaseError
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sessions import joincodes, live, ratelimits
from sessions.forms import SUBMISSION_KEY, CauseForm, JoinCodeForm, JoinNameForm
from sessions.models import Cause, Participant, Refused, Session
from sessions.permissions import PARTICIPANT_COOKIE, participant_for

logger = logging.getLogger(__name__)

# A phone stays joined for a long meeting, not for weeks.
PARTICIPANT_COOKIE_AGE = 12 * 60 * 60

NO_SUCH_CODE = "No open session has this code. Check the code on the screen and try again."
TOO_MANY_JOINS = "Too many tries from this network. Please wait a minute, then try again."
TOO_MANY_ANSWERS = "That is a lot of answers in a minute! Please wait a moment, then send this one."


def phone_context(session: Session) -> dict:
    """What every phone's live regions show. Two queries, whatever the tree."""
    rows = list(session.causes.values_list("id", "state", "parent_id"))
    shown = [pk for pk, state, _parent in rows if state in {"visible", "merged"}]
    removed = [pk for pk, state, _parent in rows if state in {"hidden", "rejected"}]
    # Answers others have answered below can no longer be withdrawn.
    answered = sorted({parent for _pk, state, parent in rows if parent and state == "visible"})
    return {"session": session, "shown": shown, "removed": removed, "answered": answered}


@live.renderer("phone")
def render_phone(session_pk: int) -> tuple[int, str]:
    session = Session.objects.select_related("focus").get(pk=session_pk)
    with translation.override(session.language):
        html = render_to_string("sessions/participate.html#live", phone_context(session))
    return session.last_seq, html


def _too_many_joins(request) -> bool:
    return request.method == "POST" and ratelimits.exceeded(
        ratelimits.JOIN, ratelimits.client_address(request)
    )


def join(request):
    if _too_many_joins(request):
        return render(request, "sessions/join.html", {"error": TOO_MANY_JOINS}, status=429)
    form = JoinCodeForm(request.POST or request.GET or None)
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"]
        if Session.objects.open().filter(join_code=code).exists():
            return redirect("join_code", code)
        form.add_error("code", NO_SUCH_CODE)
        return render(request, "sessions/join.html", {"form": form}, status=404)
    status = 400 if form.is_bound else 200
    return render(request, "sessions/join.html", {"form": form}, status=status)


@never_cache
def join_code(request, code):
    if _too_many_joins(request):
        return render(request, "sessions/join.html", {"error": TOO_MANY_JOINS}, status=429)
    code = joincodes.normalise(code)
    session = (
        Session.objects.open().filter(join_code=code).first()
        if joincodes.looks_valid(code)
        else None
    )
    if session is None:
        form = JoinCodeForm(initial={"code": code})
        return render(
            request, "sessions/join.html", {"form": form, "error": NO_SUCH_CODE}, status=404
        )
    if participant_for(request, session):
        return redirect("phone", session.public_id)
    form = JoinNameForm(request.POST if request.method == "POST" else None, names=session.names)
    with translation.override(session.language):
        if request.method == "POST":
            if form.is_valid():
                try:
                    participant = Participant.join(session, form.cleaned_data.get("name", ""))
                except Refused as refusal:
                    if refusal.status == 409:  # full
                        return render(
                            request, "sessions/join.html", {"error": refusal.message}, status=409
                        )
                    # Closed just now: answer exactly as for a wrong code.
                    return render(
                        request,
                        "sessions/join.html",
                        {"form": JoinCodeForm(initial={"code": code}), "error": NO_SUCH_CODE},
                        status=404,
                    )
                response = redirect("phone", session.public_id)
                response.set_signed_cookie(
                    PARTICIPANT_COOKIE.format(session.public_id),
                    participant.key,
                    max_age=PARTICIPANT_COOKIE_AGE,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
                return response
            return render(
                request, "sessions/join_name.html", {"session": session, "form": form}, status=400
            )
        return render(request, "sessions/join_name.html", {"session": session, "form": form})


def _phone_page(request, session, participant, *, form=None, error="", status=200):
    context = phone_context(session)
    context.update(
        participant=participant,
        mine=participant.causes.order_by("-id") if participant else [],
        form=form or CauseForm(),
        # A failed post keeps its key, so that sending it again stays one answer.
        submission_key=_key_of(form) or secrets.token_urlsafe(12),
        error=error,
    )
    with translation.override(session.language):
        if request.htmx:
            return render(request, "sessions/participate.html#answered", context, status=status)
        return render(request, "sessions/participate.html", context, status=status)


def _key_of(form) -> str:
    key = form.data.get("key", "") if form is not None and form.is_bound else ""
    return key if SUBMISSION_KEY.match(key) else ""


def _session_and_participant(request, session_id) -> tuple[Session, Participant | None]:
    session = get_object_or_404(Session.objects.select_related("focus"), public_id=session_id)
    return session, participant_for(request, session)


@never_cache
def phone(request, session_id):
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        if session.join_code:
            return redirect("join_code", session.join_code)
        return redirect("join")
    return _phone_page(request, session, participant)


TRY_AGAIN = "We could not save your answer just now. It is still here: please send it again."


def keeps_the_text(view):
    """If the database fails (a restart, say), answer "try again" with what was typed.

    Nothing here may touch the database: it is the thing that failed.
    """

    @functools.wraps(view)
    def wrapper(request, session_id, *args, **kwargs):
        try:
            return view(request, session_id, *args, **kwargs)
        except DatabaseError:
            logger.warning("Database error while saving an answer", exc_info=True)
            form = CauseForm(request.POST)
            context = {
                "form": form,
                "error": TRY_AGAIN,
                "submission_key": _key_of(form),
                "answer_url": reverse("answer", args=[session_id]),
            }
            template = (
                "sessions/participate.html#compose" if request.htmx else "sessions/retry.html"
            )
            return render(request, template, context, status=503)

    return wrapper


@never_cache
@require_POST
@keeps_the_text
def answer(request, session_id):
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    form = CauseForm(request.POST)
    if not form.is_valid():
        return _phone_page(request, session, participant, form=form, status=400)
    if ratelimits.exceeded(ratelimits.ANSWER, f"participant-{participant.pk}"):
        return _phone_page(
            request, session, participant, form=form, error=TOO_MANY_ANSWERS, status=429
        )
    try:
        session.add_cause(
            form.cleaned_data["text"],
            form.cleaned_data["parent"],
            author=participant,
            key=form.cleaned_data["key"],
        )
    except Refused as refusal:
        return _phone_page(
            request, session, participant, form=form, error=refusal.message, status=refusal.status
        )
    if request.htmx:
        return _phone_page(request, session, participant)
    return redirect("phone", session.public_id)


@never_cache
@require_POST
def withdraw(request, session_id, cause_id):
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    cause = get_object_or_404(Cause, pk=cause_id, session=session, author=participant)
    try:
        cause.withdraw()
    except Refused as refusal:
        return _phone_page(
            request, session, participant, error=refusal.message, status=refusal.status
        )
    if request.htmx:
        return _phone_page(request, session, participant)
    return redirect("phone", session.public_id)


def _not_joined(request, session):
    return render(
        request,
        "sessions/join.html",
        {
            "form": JoinCodeForm(),
            "error": "Please join the session first, with the code on the screen.",
        },
        status=403,
    )


async def phone_stream(request, session_id):
    def find():
        session, participant = _session_and_participant(request, session_id)
        if participant is None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Join the session first.")
        return session

    return await live.respond(request, "phone", find)
