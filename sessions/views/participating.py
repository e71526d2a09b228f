"""Phones: join with a code, answer the current question, follow the room."""

import functools
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from sessions import ics, joincodes, pdf, plans, ratelimits, tree
from sessions.forms import (
    SUBMISSION_KEY,
    ActionForm,
    CauseForm,
    ClosingLineForm,
    JoinCodeForm,
    JoinNameForm,
    VoteForm,
)
from sessions.http import HtmxHttpRequest
from sessions.models import (
    JOINING_CLOSED,
    Action,
    Cause,
    ClosingLine,
    Participant,
    Refused,
    Session,
)
from sessions.permissions import (
    PARTICIPANT_COOKIE,
    PARTICIPANT_COOKIE_AGE,
    joined_session_pk,
    participant_for,
)

logger = logging.getLogger(__name__)

NO_SUCH_CODE = _("No open session has this code. Check the code on the screen and try again.")
TOO_MANY_JOINS = _("Too many tries from this network. Please wait a minute, then try again.")
TOO_MANY_ANSWERS = _(
    "That is a lot of answers in a minute! Please wait a moment, then send this one."
)
NOT_JOINED = _("Please join the session first, with the code on the screen.")


LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def chosen_language(request: HttpRequest) -> str:
    """The language this browser's owner chose with the picker, or "".

    The choice is Django's language cookie (set through `set_language`).
    """
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return chosen if chosen in LANGUAGE_CODES else ""


def browser_language(request: HttpRequest) -> str:
    """The first language of the browser's Accept-Language that the app speaks, or ""."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return ""


def own_language(request: HttpRequest) -> str:
    """The phone's own language, if it has one: its owner's pick, else its browser's.

    The join page, before any session is known, speaks it too (LocaleMiddleware
    reads the same cookie and header), so a phone keeps one language from the
    first page to the last.
    """
    return chosen_language(request) or browser_language(request)


def phone_language(request: HttpRequest, session: Session) -> str:
    """The pick wins, then the browser's language; the session's when the app
    speaks none of the browser's."""
    return own_language(request) or session.language


def phone_context(session: Session, with_tree: bool = False) -> dict[str, Any]:
    """What every phone's live regions show: the same for all, so rendered once.

    Two queries in the "why?" phase, whatever the tree; later phases add a
    fixed number (the votes once revealed, the actions, the earlier plan).
    Everyone's answers (`with_tree`) only for the phones that opened them:
    at 150 causes they are most of a message, which every change would
    otherwise send to every phone.
    """
    causes = list(session.causes.all())
    tally = (
        session.tally()
        if session.phase == Session.Phase.REFLECT and session.votes_revealed
        else None
    )
    built = tree.build(causes, session.asked_id, tally)
    # Reflect and Act look only at the smaller part the group chose, if any.
    part = (
        built.within(session.branch_id)
        if session.phase in {Session.Phase.REFLECT, Session.Phase.ACT}
        else built
    )
    shown: list[int | str] = [
        c.pk for c in causes if c.state in {Cause.State.VISIBLE, Cause.State.MERGED}
    ]
    removed: list[int | str] = [
        c.pk for c in causes if c.state in {Cause.State.HIDDEN, Cause.State.REJECTED}
    ]
    # Answers others have answered below can no longer be withdrawn.
    answered: list[int | str] = sorted(
        {c.parent_id for c in causes if c.parent_id and c.state == Cause.State.VISIBLE}
    )
    context = {
        "session": session,
        "tree": built,
        "ballot": _with_parents(part),
        "everyone": everyone(built) if session.phone_tree and with_tree else None,
    }
    if session.has_ended:
        context["support"] = list(session.group.support_contacts.all())
    if session.phase == Session.Phase.ACT:
        context["targets"] = part.open_to_actions(session.actions_for_any_cause)
    if session.phase in {Session.Phase.ACT, Session.Phase.AGREE}:
        actions = plans.load(session)
        context["actions"] = actions
        # A phone's own ideas follow the board like its answers ("a" + id).
        shown += [f"a{a.pk}" for a in actions.visible]
        removed += [f"a{a.pk}" for a in actions.hidden]
        answered += [f"a{a.pk}" for a in actions.plan]
    if session.phase == Session.Phase.REVIEW:
        context["earlier_plan"] = list(session.earlier_plan())
    if session.phase == Session.Phase.CLOSE:
        lines = list(session.closing_lines.all())
        shown += [f"l{line.pk}" for line in lines if line.state == ClosingLine.State.VISIBLE]
        removed += [
            f"l{line.pk}"
            for line in lines
            if line.state in {ClosingLine.State.HIDDEN, ClosingLine.State.REJECTED}
        ]
    context.update(shown=shown, removed=removed, answered=answered)
    return context


def _with_parents(built: tree.Tree) -> list[tuple[tree.Node, Cause | None]]:
    """Each cause on the board with the cause it answers (None: the situation)."""
    by_pk = {node.pk: node.cause for node in built.flat}
    return [(node, by_pk.get(node.cause.parent_id or 0)) for node in built.flat]


def everyone(built: tree.Tree) -> list[tuple[tree.Node, bool, range]]:
    """The board for "See everyone's answers": depth first, the asked branch first,
    nested in one flat loop (tree.nesting)."""
    first = sorted(built.roots, key=lambda node: not node.on_focus_path)
    stack = list(reversed(first))
    order: list[tree.Node] = []
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(sorted(node.children, key=lambda child: not child.on_focus_path)))
    return tree.nesting(order)


def render_phone(session_pk: int, language: str = "", with_tree: bool = False) -> tuple[int, str]:
    """What every phone in the room sees: in the session's language, or in `language`;
    with everyone's answers for the phones that have them open (`with_tree`)."""
    session = Session.objects.select_related("focus", "group").get(pk=session_pk)
    with translation.override(language or session.language):
        if session.paused:
            # Only the calm message: what the room was doing comes back on resume.
            html = render_to_string("sessions/participate.html#paused", {"session": session})
        else:
            html = render_to_string(
                "sessions/participate.html#live", phone_context(session, with_tree)
            )
    return session.last_seq, html


def wants_tree(request: HttpRequest) -> bool:
    """The phone has everyone's answers open (`?tree=1`: phone.js says so when
    they are opened, and so does the link that opens them without JavaScript)."""
    return request.GET.get("tree") == "1"


def phone_audience(request: HttpRequest) -> str:
    """The stream's audience: the language, and whether it carries everyone's answers."""
    own = own_language(request)
    audience = "phone-tree" if wants_tree(request) else "phone"
    return f"{audience}:{own}" if own else audience


def _wrong_code(request: HttpRequest, code: str = "") -> HttpResponse:
    """A wrong or closed code: the same answer for both, and one more guess counted.

    Only guesses count towards the join limit, by GET and POST alike: a whole
    room joining an open session with the right code often shares one address.
    """
    if ratelimits.exceeded(ratelimits.JOIN_GUESS, ratelimits.client_address(request)):
        return render(request, "sessions/join.html", {"error": TOO_MANY_JOINS}, status=429)
    form = JoinCodeForm(initial={"code": code})
    return render(request, "sessions/join.html", {"form": form, "error": NO_SUCH_CODE}, status=404)


def join(request: HttpRequest) -> HttpResponse:
    form = JoinCodeForm(request.POST or request.GET or None)
    if not form.is_bound:
        return render(request, "sessions/join.html", {"form": form})
    if not form.is_valid():
        return render(request, "sessions/join.html", {"form": form}, status=400)
    code = form.cleaned_data["code"]
    session = Session.objects.running().filter(join_code=code).first()
    if session is None:
        return _wrong_code(request, code)
    if request.method != "POST":
        # A GET changes nothing: the QR link's page has the button.
        return redirect("join_code", code)
    # Typing the code and pressing Join is the one tap: straight to the
    # question, or to the name form when the session asks for names.
    name_form = JoinNameForm(names=session.names)
    if "name" not in name_form.fields:
        name_form = JoinNameForm({}, names=session.names)
    return _join(request, session, code, name_form)


@never_cache
def join_code(request: HttpRequest, code: str) -> HttpResponse:
    code = joincodes.normalise(code)
    session = (
        Session.objects.running().filter(join_code=code).first()
        if joincodes.looks_valid(code)
        else None
    )
    if session is None:
        return _wrong_code(request, code)
    form = JoinNameForm(request.POST if request.method == "POST" else None, names=session.names)
    return _join(request, session, code, form)


def _joining_closed(request: HttpRequest) -> HttpResponse:
    """A late joiner of a session that runs with joining closed: say so, not "wrong code"."""
    context = {"error": JOINING_CLOSED, "closed": True}
    return render(request, "sessions/join.html", context, status=403)


def _join(request: HttpRequest, session: Session, code: str, form: JoinNameForm) -> HttpResponse:
    """Join `session` with a bound `form` that holds what it asks; else show the form."""
    if participant_for(request, session):
        return redirect("phone", session.public_id)
    with translation.override(phone_language(request, session)):
        if not session.is_open:
            return _joining_closed(request)
        if not form.is_valid():
            status = 400 if form.is_bound else 200
            return render(
                request,
                "sessions/join_name.html",
                {"session": session, "form": form},
                status=status,
            )
        try:
            participant = Participant.join(session, form.cleaned_data.get("name", ""))
        except Refused as refusal:
            if refusal.status == 409:  # full
                return render(request, "sessions/join.html", {"error": refusal.message}, status=409)
            if refusal.status == 403:  # joining closed just now
                return _joining_closed(request)
            # Ended just now: answer exactly as for a wrong code.
            return _wrong_code(request, code)
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


def _asked(session: Session, form: Form | None) -> Cause | None:
    """The question an answer form is for: the one it was sent for, or else the one asked now.

    A form sent back with an error keeps its question, so that the phone
    still offers the choice between it and the new one (phone.js). One query,
    only for a form sent for an earlier question that is still on the board.
    """
    cleaned = getattr(form, "cleaned_data", {}) if form is not None else {}
    if "parent" not in cleaned or cleaned["parent"] == session.focus_id:
        return session.focus
    if cleaned["parent"] is None:
        return None
    earlier = session.causes.filter(pk=cleaned["parent"], state=Cause.State.VISIBLE).first()
    return earlier or session.focus


def _phone_page(
    request: HtmxHttpRequest,
    session: Session,
    participant: Participant | None,
    *,
    form: CauseForm | None = None,
    action_form: ActionForm | None = None,
    line_form: ClosingLineForm | None = None,
    error: str | Promise = "",
    vote_error: str | Promise = "",
    status: int = 200,
    template: str = "",
) -> HttpResponse:
    context = phone_context(session, with_tree=wants_tree(request))
    my_dots = dict(participant.votes.values_list("cause_id", "dots")) if participant else {}
    for node in context["tree"].flat:
        node.mine = my_dots.get(node.pk, 0)
    context.update(
        participant=participant,
        # Before answering; once the session has ended, its thanks and support show instead.
        must_agree=bool(
            session.use_agreements
            and not session.has_ended
            and participant
            and not participant.agreed_at
        ),
        asked=_asked(session, form),
        full=True,
        tree_open=context["everyone"] is not None,
        mine=participant.causes.order_by("-id") if participant else [],
        my_actions=participant.actions.order_by("-id") if participant else [],
        my_dots=my_dots,
        dots_left=max(0, session.dot_budget - sum(my_dots.values())),
        form=form or CauseForm(),
        action_form=action_form or ActionForm(),
        line_form=line_form or ClosingLineForm(),
        my_line=participant.closing_lines.first() if participant else None,
        line_key=_key_of(line_form) or secrets.token_urlsafe(12),
        # A failed post keeps its key, so that sending it again stays one answer.
        submission_key=_key_of(form) or secrets.token_urlsafe(12),
        action_key=_key_of(action_form) or secrets.token_urlsafe(12),
        error=error,
        vote_error=vote_error,
    )
    with translation.override(phone_language(request, session)):
        if request.htmx:
            template = template or "sessions/participate.html#answered"
            return render(request, template, context, status=status)
        return render(request, "sessions/participate.html", context, status=status)


def _key_of(form: Form | None) -> str:
    key: str = form.data.get("key", "") if form is not None and form.is_bound else ""
    return key if SUBMISSION_KEY.match(key) else ""


def _session_and_participant(
    request: HttpRequest, session_id: str
) -> tuple[Session, Participant | None]:
    session = get_object_or_404(
        Session.objects.select_related("focus", "group"), public_id=session_id
    )
    return session, participant_for(request, session)


@never_cache
def phone(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        if session.join_code:
            return redirect("join_code", session.join_code)
        return redirect("join")
    return _phone_page(request, session, participant)


TRY_AGAIN = _("We could not save this just now. It is still here: please send it again.")


def keeps_the_text(
    step: str, carries: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """If the database fails (a restart, say), answer "try again" with what was typed.

    `step` is the phase whose form this is ("why", "act"); `carries` the field
    besides the text and the key that goes with it (the parent, the causes).
    Nothing here may touch the database: it is the thing that failed. The
    form posts again to the same address, with the same key, so a post that
    did land after all is not saved twice.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(
            request: HtmxHttpRequest, session_id: str, *args: Any, **kwargs: Any
        ) -> HttpResponse:
            try:
                return view(request, session_id, *args, **kwargs)
            except DatabaseError:
                logger.warning("Database error while saving %s", request.path, exc_info=True)
                carried = [(carries, value) for value in request.POST.getlist(carries)[:100]]
                key = request.POST.get("key", "")
                carried.append(("key", key if SUBMISSION_KEY.match(key) else ""))
                context = {
                    "error": TRY_AGAIN,
                    "text": request.POST.get("text", "")[:2000],
                    "carried": carried,
                    "form_class": f"for-{step}",
                    "retry_url": request.path,
                }
                template = "sessions/retry.html#compose" if request.htmx else "sessions/retry.html"
                return render(request, template, context, status=503)

        return wrapper

    return decorate


@never_cache
@require_POST
@keeps_the_text("why", carries="parent")
def answer(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    data = request.POST.copy()
    if not session.phones_suggest_level:
        data.pop("level", None)  # not asked for: nothing to refuse
    return _contribute(
        request,
        session,
        participant,
        "form",
        CauseForm(data),
        lambda d: session.add_cause(
            d["text"], d["parent"], author=participant, key=d["key"], level=d["level"]
        ),
    )


def _contribute(
    request: HtmxHttpRequest,
    session: Session,
    participant: Participant,
    form_name: str,
    form: CauseForm | ActionForm | ClosingLineForm,
    add: Callable[[dict[str, Any]], object],
) -> HttpResponse:
    """What a phone sends (an answer, an idea, a closing line): `add(cleaned_data)`
    once the form is valid and the phone within its rate; otherwise the phone page
    again, with the form (as `form_name`) and what went wrong."""
    sent: dict[str, Any] = {form_name: form}
    again = functools.partial(_phone_page, request, session, participant, **sent)
    if not form.is_valid():
        return again(status=400)
    if ratelimits.exceeded(ratelimits.ANSWER, f"participant-{participant.pk}"):
        return again(error=TOO_MANY_ANSWERS, status=429)
    try:
        add(form.cleaned_data)
    except Refused as refusal:
        return again(error=refusal.message, status=refusal.status)
    if request.htmx:
        return _phone_page(request, session, participant)
    return redirect("phone", session.public_id)


@never_cache
@require_POST
def agree(request: HttpRequest, session_id: str) -> HttpResponse:
    """ "I agree, let's start": the phone may answer from now on (asked once)."""
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    if participant.agreed_at is None:
        Participant.objects.filter(pk=participant.pk, agreed_at__isnull=True).update(
            agreed_at=timezone.now()
        )
    return redirect("phone", session.public_id)


@never_cache
def support(request: HttpRequest, session_id: str) -> HttpResponse:
    """Where to get support, at any time: the group's contacts."""
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        if session.join_code:
            return redirect("join_code", session.join_code)
        return redirect("join")
    context = {"session": session, "support": list(session.group.support_contacts.all())}
    with translation.override(phone_language(request, session)):
        return render(request, "sessions/support.html", context)


def _withdraw[Item: (Cause, Action)](
    request: HtmxHttpRequest, session_id: str, model: type[Item], pk: int
) -> HttpResponse:
    """A participant takes back their own answer or idea."""
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    item = get_object_or_404(model, pk=pk, session=session, author=participant)
    try:
        item.withdraw()
    except Refused as refusal:
        return _phone_page(
            request, session, participant, error=refusal.message, status=refusal.status
        )
    if request.htmx:
        return _phone_page(request, session, participant)
    return redirect("phone", session.public_id)


@never_cache
@require_POST
def withdraw(request: HtmxHttpRequest, session_id: str, cause_id: int) -> HttpResponse:
    return _withdraw(request, session_id, Cause, cause_id)


@never_cache
@require_POST
def vote(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """Put a number of one's dots on a cause; the answer is this phone's own dots."""
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    form = VoteForm(request.POST)
    error: str | Promise = ""
    status = 200
    if not form.is_valid():
        error, status = _("Choose a cause and how many dots to put on it."), 400
    else:
        try:
            session.vote(participant, form.cleaned_data["cause"], form.cleaned_data["dots"])
        except Refused as refusal:
            error, status = refusal.message, refusal.status
    if request.htmx or status != 200:
        return _phone_page(
            request,
            session,
            participant,
            vote_error=error,
            status=status,
            template="sessions/participate.html#voted",
        )
    return redirect("phone", session.public_id)


@never_cache
@require_POST
@keeps_the_text("act", carries="causes")
def propose_action(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    return _contribute(
        request,
        session,
        participant,
        "action_form",
        ActionForm(request.POST),
        lambda d: session.add_action(d["text"], d["causes"], author=participant, key=d["key"]),
    )


@never_cache
@require_POST
@keeps_the_text("close", carries="")
def closing_line(request: HtmxHttpRequest, session_id: str) -> HttpResponse:
    """One short line for the closing round: what we learned, what gives us hope."""
    session, participant = _session_and_participant(request, session_id)
    if participant is None:
        return _not_joined(request, session)
    return _contribute(
        request,
        session,
        participant,
        "line_form",
        ClosingLineForm(request.POST),
        lambda d: session.add_closing_line(d["text"], author=participant, key=d["key"]),
    )


TOO_EARLY = "The take-home page opens once the session has ended."


@never_cache
@require_safe
def take_home(request: HttpRequest, session_id: str) -> HttpResponse:
    """What the group found and agreed, to keep: read-only, no names, nothing
    hidden. Once the session has ended, for anyone with the link (it shows
    only what the projector showed); before that a phone goes back to the room."""
    session, participant = _session_and_participant(request, session_id)
    if not session.has_ended:
        if participant is not None:
            return redirect("phone", session.public_id)
        raise Http404(TOO_EARLY)
    with translation.override(phone_language(request, session)):
        return render(request, "sessions/take_home.html", pdf.take_home(session))


@never_cache
@require_safe
def take_home_ics(request: HttpRequest, session_id: str) -> HttpResponse:
    """The plan's dated actions as a calendar file, from the take-home page."""
    session, participant = _session_and_participant(request, session_id)
    if not session.has_ended:
        if participant is not None:
            return redirect("phone", session.public_id)
        raise Http404(TOO_EARLY)
    return ics.download(session)


@never_cache
@require_POST
def withdraw_action(request: HtmxHttpRequest, session_id: str, action_id: int) -> HttpResponse:
    return _withdraw(request, session_id, Action, action_id)


def _not_joined(request: HttpRequest, session: Session) -> HttpResponse:
    return render(
        request,
        "sessions/join.html",
        {
            "form": JoinCodeForm(),
            "error": NOT_JOINED,
        },
        status=403,
    )


def phone_stream_session(request: HttpRequest, session_id: str) -> int:
    """The pk of the session whose stream this phone may follow: 404 if none, 403 if not joined.

    One query for a phone that joined. butwhy/asgi.py asks the same question
    when it serves the stream itself.
    """
    session_pk = joined_session_pk(request, session_id)
    if session_pk is None:
        _session_and_participant(request, session_id)  # 404 for no such session
        raise PermissionDenied("Join the session first.")
    return session_pk


def phone_stream_limits(request: HttpRequest, session_id: str) -> dict[str, int]:
    """How many streams this phone's participant, and its address, may hold open.

    The address's bound is far above a room behind one venue's Wi-Fi; the
    participant's allows a few tabs and reconnects that overlap.
    """
    cookie = request.COOKIES.get(PARTICIPANT_COOKIE.format(session_id), "")
    return {
        f"participant:{session_id}:{cookie}": settings.LIVE_STREAMS_PER_PARTICIPANT,
        f"address:{ratelimits.client_address(request)}": settings.LIVE_STREAMS_PER_ADDRESS,
    }
