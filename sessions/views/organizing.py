"""Home, logging in, groups and their members, preparing sessions, and summaries."""

import csv
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypedDict

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget
from django_stubs_ext import WithAnnotations

from butwhy.database import release_connections
from sessions import export, ics, pdf, ratelimits, storybook
from sessions.forms import (
    ASKED_SETTINGS,
    AgreementsForm,
    CopySessionForm,
    FollowUpForm,
    GroupForm,
    JoinCodeForm,
    MemberForm,
    SessionForm,
    SupportContactForm,
)
from sessions.http import AuthenticatedHttpRequest, HtmxHttpRequest
from sessions.models import (
    SUPPORT_CONTACTS_MAX,
    Action,
    Group,
    Membership,
    Refused,
    Role,
    Session,
    SupportContact,
    default_agreements,
)
from sessions.permissions import (
    group_for_facilitator,
    group_for_member,
    session_for_facilitator,
    session_for_member,
)

TOO_MANY_LOGINS = gettext_lazy(
    "Too many attempts to log in. Please wait a few minutes, then try again."
)


def account_options() -> dict[str, bool]:
    """What the login page offers besides logging in: read per request, as tests change them."""
    return {"email_enabled": settings.EMAIL_ENABLED, "signup_open": settings.SIGNUP == "open"}


def limited_login(
    request: HttpRequest, view: Callable[[HttpRequest], HttpResponseBase]
) -> HttpResponseBase:
    """`view` (a login view) behind the limits per address and per username.

    The username counted is the one authentication will use (see
    ratelimits.login_name), and a login that succeeds is not counted.
    """
    if request.method != "POST":
        return view(request)
    address = ratelimits.client_address(request)
    username = ratelimits.login_name(request.POST.get("username", ""))
    if ratelimits.exceeded(ratelimits.LOGIN_ADDRESS, address) or ratelimits.exceeded(
        ratelimits.LOGIN_USER, username
    ):
        return render(
            request,
            "registration/login.html",
            {"form": AuthenticationForm(request), "error": TOO_MANY_LOGINS, **account_options()},
            status=429,
        )
    response = view(request)
    if request.user.is_authenticated and response.status_code == 302:
        ratelimits.forgive(ratelimits.LOGIN_ADDRESS, address)
        ratelimits.forgive(ratelimits.LOGIN_USER, username)
    return response


@never_cache
def login(request: HttpRequest) -> HttpResponseBase:
    """Django's login view, with limits per address and per username."""
    return limited_login(request, LoginView.as_view(extra_context=account_options()))


@never_cache
def admin_login(request: HttpRequest) -> HttpResponseBase:
    """The admin's login, with the same limits as the other."""
    return limited_login(request, admin.site.login)


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "sessions/home.html", {"form": JoinCodeForm()})
    memberships = (
        Membership.objects.filter(user=request.user).select_related("group").order_by("group__name")
    )
    return render(
        request,
        "sessions/dashboard.html",
        {
            "open_sessions": _open_sessions(request.user),
            "memberships": memberships,
            "form": GroupForm(),
            "join_form": JoinCodeForm(),
        },
    )


def _open_sessions(user: User) -> "QuerySet[WithAnnotations[Session, Role]]":
    """The sessions running now in the user's groups (joining open or closed), newest
    first, with `role`."""
    return (
        Session.objects.running()
        .filter(group__memberships__user=user)
        .annotate_role(user)
        .select_related("group")
        .order_by("-created_at")
    )


@require_POST
@login_required
def group_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = GroupForm(request.POST)
    if not form.is_valid():
        memberships = Membership.objects.filter(user=request.user).select_related("group")
        return render(
            request,
            "sessions/dashboard.html",
            {
                "open_sessions": _open_sessions(request.user),
                "memberships": memberships,
                "form": form,
                "join_form": JoinCodeForm(),
            },
            status=400,
        )
    with transaction.atomic():
        group = form.save()
        Membership.objects.create(group=group, user=request.user, role=Membership.Role.FACILITATOR)
    return redirect("group", group.public_id)


LAST_MEMBER = gettext_lazy("A group needs at least one person. Delete the group instead.")
LAST_FACILITATOR = gettext_lazy(
    "A group needs at least one facilitator to run its sessions. Add another first."
)


OPEN_STATUSES = {Action.Status.NOT_STARTED, Action.Status.STARTED}


def _follow_up_form(action: Action, data: QueryDict | None = None) -> FollowUpForm:
    return FollowUpForm(
        data,
        initial={"status": action.status, "notes": action.notes},
        auto_id=f"action-{action.pk}-%s",
    )


class ActionRow(TypedDict):
    """An agreed action as the group's page lists it, with its follow-up form."""

    action: Action
    form: FollowUpForm
    error: str | Promise


def _actions(group: Group, failed: ActionRow | None = None) -> dict[str, Any]:
    """The group's agreed actions, open and closed (done or dropped), as the page lists them.

    `failed` is a row (see _action_row) whose follow-up form did not go through.
    """
    # Soonest first, so that what is overdue comes to the top.
    plan = (
        Action.objects.filter(session__group=group, agreed=True)
        .select_related("session")
        .order_by(F("due").asc(nulls_last=True), "session__created_at", "plan_order", "id")
    )
    rows: list[ActionRow] = []
    for action in plan:
        if failed and failed["action"].pk == action.pk:
            rows.append(failed)
        else:
            rows.append({"action": action, "form": _follow_up_form(action), "error": ""})
    closed = [row for row in rows if row["action"].status not in OPEN_STATUSES]
    return {
        "open_actions": [row for row in rows if row["action"].status in OPEN_STATUSES],
        "closed_actions": closed,
        "show_closed": any(row["form"].errors or row["error"] for row in closed),
    }


def group_page(
    request: HttpRequest,
    group: Group,
    role: str,
    *,
    member_form: MemberForm | None = None,
    error: str | Promise = "",
    status: int = 200,
    failed: ActionRow | None = None,
    action_error: str | Promise = "",
    agreements_form: AgreementsForm | None = None,
    contact_form: SupportContactForm | None = None,
    contact_error: str | Promise = "",
) -> HttpResponse:
    """The group's page. Five queries, however many sessions and actions it has."""
    sessions = group.sessions.select_related("follows")
    members = group.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "sessions/group.html",
        {
            "group": group,
            "role": role,
            "sessions": sessions,
            "members": members,
            "member_form": member_form or MemberForm(),
            "error": error,
            **_actions(group, failed),
            "action_error": action_error,
            "agreements_form": agreements_form
            or AgreementsForm(initial={"agreements": "\n".join(group.agreement_lines)}),
            "contacts": list(group.support_contacts.all()),
            "contact_form": contact_form or SupportContactForm(),
            "contact_error": contact_error,
        },
        status=status,
    )


@never_cache
@login_required
def group_detail(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    group, role = group_for_member(request, group_id)
    return group_page(request, group, role)


NOT_IN_PLAN = gettext_lazy("This action is no longer in the plan, so it has nothing to follow up.")


def _action_row(
    request: HtmxHttpRequest, group: Group, role: str, row: ActionRow, *, status: int
) -> HttpResponse:
    """One action's row after a follow-up: the row (htmx), or the page with what went wrong."""
    if request.htmx:
        context = {"group": group, "role": role, "row": row}
        return render(request, "sessions/group.html#action", context, status=status)
    return group_page(request, group, role, failed=row, action_error=row["error"], status=status)


@require_POST
@login_required
def action_follow_up(
    request: AuthenticatedHttpRequest, group_id: str, action_id: int
) -> HttpResponse:
    """Organizers and facilitators say what became of an agreed action."""
    group, role = group_for_member(request, group_id)
    action = get_object_or_404(
        Action.objects.select_related("session"), pk=action_id, session__group=group
    )
    form = _follow_up_form(action, request.POST)
    if not action.agreed:
        row: ActionRow = {"action": action, "form": form, "error": NOT_IN_PLAN}
        return _action_row(request, group, role, row, status=409)
    if not form.is_valid():
        row = {"action": action, "form": form, "error": ""}
        return _action_row(request, group, role, row, status=400)
    was_open = action.status in OPEN_STATUSES
    try:
        action.follow_up(form.cleaned_data["status"], form.cleaned_data["notes"])
    except Refused as refusal:  # taken out of the plan meanwhile
        row = {"action": action, "form": form, "error": refusal.message}
        return _action_row(request, group, role, row, status=refusal.status)
    if request.htmx and was_open == (action.status in OPEN_STATUSES):
        row = {"action": action, "form": _follow_up_form(action), "error": ""}
        return _action_row(request, group, role, row, status=200)
    if request.htmx:
        # Done, dropped or reopened: the row moves to the other list.
        context = {"group": group, "role": role, **_actions(group)}
        response = render(request, "sessions/group.html#actions", context)
        return reswap(retarget(response, "#actions"), "outerHTML")
    return redirect("group", group.public_id)


# A safe room: the group's agreements (its facilitators) and where to get
# support after a session (its facilitators and organizers).


@require_POST
@login_required
def group_agreements(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    group = group_for_facilitator(request, group_id)
    form = AgreementsForm(request.POST)
    if not form.is_valid():
        role = Membership.Role.FACILITATOR
        return group_page(request, group, role, agreements_form=form, status=400)
    agreements = form.cleaned_data["agreements"]
    # The app's own list sent back unchanged stays the app's: in each session's language.
    group.agreements = "" if agreements.splitlines() == default_agreements() else agreements
    group.save(update_fields=["agreements"])
    return redirect(_group_url(group, "agreements"))


@require_POST
@login_required
def group_agreements_default(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    """Back to the app's own list, in each session's language."""
    group = group_for_facilitator(request, group_id)
    group.agreements = ""
    group.save(update_fields=["agreements"])
    return redirect(_group_url(group, "agreements"))


TOO_MANY_CONTACTS = gettext_lazy(
    "A group keeps at most %(most)d support contacts. Remove one before adding another."
)


@require_POST
@login_required
def support_add(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    group, role = group_for_member(request, group_id)
    form = SupportContactForm(request.POST)
    if not form.is_valid():
        return group_page(request, group, role, contact_form=form, status=400)
    if group.support_contacts.count() >= SUPPORT_CONTACTS_MAX:
        message = TOO_MANY_CONTACTS % {"most": SUPPORT_CONTACTS_MAX}
        return group_page(
            request, group, role, contact_form=form, contact_error=message, status=409
        )
    contact = form.save(commit=False)
    contact.group = group
    contact.save()
    return redirect(_group_url(group, "support"))


@require_POST
@login_required
def support_remove(
    request: AuthenticatedHttpRequest, group_id: str, contact_id: int
) -> HttpResponse:
    group, _role = group_for_member(request, group_id)
    get_object_or_404(SupportContact, pk=contact_id, group=group).delete()
    return redirect(_group_url(group, "support"))


def _group_url(group: Group, part: str) -> str:
    return f"{reverse('group', args=[group.public_id])}#{part}"


# Organizers look and print; facilitators act, and only they manage the
# group's people or delete it (an organizer may still leave).


@require_POST
@login_required
def member_add(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    group = group_for_facilitator(request, group_id)
    role = Membership.Role.FACILITATOR
    form = MemberForm(request.POST)
    if not form.is_valid():
        return group_page(request, group, role, member_form=form, status=400)
    user, new_role = form.cleaned_data["username"], form.cleaned_data["role"]
    if new_role != Membership.Role.FACILITATOR and _is_last_facilitator(group, user):
        return group_page(request, group, role, error=LAST_FACILITATOR, status=409)
    Membership.objects.update_or_create(group=group, user=user, defaults={"role": new_role})
    return redirect("group", group.public_id)


def _is_last_facilitator(group: Group, user: User) -> bool:
    facilitators = group.memberships.filter(role=Membership.Role.FACILITATOR)
    return facilitators.count() == 1 and facilitators.filter(user=user).exists()


@require_POST
@login_required
def member_remove(
    request: AuthenticatedHttpRequest, group_id: str, membership_id: int
) -> HttpResponse:
    group, role = group_for_member(request, group_id)
    membership = get_object_or_404(Membership, pk=membership_id, group=group)
    if role != Membership.Role.FACILITATOR and membership.user_id != request.user.pk:
        raise PermissionDenied("Only the group's facilitators manage its people.")
    if group.memberships.count() == 1:
        return group_page(request, group, role, error=LAST_MEMBER, status=409)
    if _is_last_facilitator(group, membership.user):
        return group_page(request, group, role, error=LAST_FACILITATOR, status=409)
    membership.delete()
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("group", group.public_id)


@never_cache
@login_required
def group_delete(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    """Delete the group with every session in it and everything in those."""
    group = group_for_facilitator(request, group_id)
    if request.method == "POST":
        group.delete()
        return redirect("home")
    return render(request, "sessions/group_delete.html", {"group": group})


# The settings the session form does not ask about.
UNASKED_SETTINGS = ["dot_budget", "stack_dots", "actions_for_any_cause"]
# What a session shares with its copy or its follow-up: the situation and the settings.
SETTINGS = [*ASKED_SETTINGS, *UNASKED_SETTINGS, "made_up", "story_question"]
PK = re.compile(r"\A[0-9]{1,18}\Z")


def _follow_up_initial(request: HttpRequest, group: Group) -> dict[str, Any]:
    """What `?follows=<session>` (and `&from_action=<pk>`) prefill in a new session.

    A done action of the group starts a success session about it; it follows
    the action's session. Anything of another group is a 404.
    """
    follows_id = request.GET.get("follows", "")
    action_id = request.GET.get("from_action", "")
    earlier, action = None, None
    if follows_id:
        earlier = group.sessions.filter(public_id=follows_id).first()
        if earlier is None:
            raise Http404("No such session in this group.")
    if action_id:
        if not PK.match(action_id):
            raise Http404("No such action.")
        action = (
            Action.objects.select_related("session")
            .filter(pk=action_id, session__group=group, agreed=True)
            .first()
        )
        if action is None or (earlier is not None and action.session_id != earlier.pk):
            raise Http404("No such action in this group's plans.")
        if action.status != Action.Status.DONE:
            raise Refused(_("Only a done action can start a success session about it."), 409)
        earlier = action.session
    if earlier is None:
        return {"language": request.LANGUAGE_CODE}
    initial = {field: getattr(earlier, field) for field in SETTINGS}
    initial.update(
        title=Truncator(_("Follow-up: %(title)s") % {"title": earlier.title}).chars(120),
        situation=earlier.situation,
        follows=earlier,
    )
    if action is not None:
        initial.update(
            title=Truncator(_("What went well: %(action)s") % {"action": action.text}).chars(120),
            situation=_("We did this: %(action)s") % {"action": action.text},
            kind=Session.Kind.SUCCESS,
        )
    return initial


@login_required
def session_create(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    """A new session. One that follows an earlier session starts by reviewing its plan."""
    group = group_for_facilitator(request, group_id)
    if request.method == "POST":
        form = SessionForm(request.POST, group=group)
        if not form.is_valid():
            context: dict[str, Any] = {"group": group, "form": form}
            return render(request, "sessions/session_form.html", context, status=400)
        session: Session = form.save(commit=False)
        session.group = group
        session.created_by = request.user
        # The group's agreements as they are today: later edits change new sessions only.
        session.agreements = group.agreements
        if session.follows is not None:
            session.phase = Session.Phase.REVIEW
            for field in UNASKED_SETTINGS:
                setattr(session, field, getattr(session.follows, field))
        session.save()
        return redirect("console", session.public_id)
    picker = _story_picker(request, group)
    try:
        initial = _follow_up_initial(request, group)
        if request.GET.get("story"):
            initial = _story_initial(request, group)
    except Refused as refusal:
        form = SessionForm(initial={"language": request.LANGUAGE_CODE}, group=group)
        context = {"group": group, "form": form, "error": refusal.message, **picker}
        return render(request, "sessions/session_form.html", context, status=refusal.status)
    form = SessionForm(initial=initial, group=group)
    context = {
        "group": group,
        "form": form,
        "followed": initial.get("follows"),
        "story": initial.get("story"),
        **picker,
    }
    return render(request, "sessions/session_form.html", context)


LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _stories_language(request: HttpRequest) -> str:
    """The language the story picker lists: `?stories=`, else the page's."""
    chosen = request.GET.get("stories", "")
    return chosen if chosen in LANGUAGE_CODES else request.LANGUAGE_CODE


def _story_picker(request: HttpRequest, group: Group) -> dict[str, Any]:
    """The stories to start from: the app's, in one language, and the group's own."""
    language = _stories_language(request)
    return {
        "stories": storybook.stories_in(language),
        "stories_language": language,
        "story_languages": settings.LANGUAGES,
        "group_stories": list(group.stories.all()),
    }


STORY_GONE = gettext_lazy("That story is not available. Please choose another one.")


def _story_initial(request: HttpRequest, group: Group) -> dict[str, Any]:
    """What `?story=<key>` (one of the app's) or `?story=g<id>` (the group's) prefill."""
    key = request.GET.get("story", "")
    if re.fullmatch(r"g[0-9]{1,18}", key):
        kept = group.stories.filter(pk=key[1:]).first()
        if kept is None:
            raise Refused(STORY_GONE, 404)
        title, situation, question = kept.title, kept.situation, kept.question
        kind, language = kept.kind, kept.language
    else:
        found = storybook.find(key, _stories_language(request))
        if found is None:
            raise Refused(STORY_GONE, 404)
        title, situation, question = found.title, found.situation, found.question
        kind, language = found.kind, found.language
    return {
        "title": title,
        "situation": situation,
        "story_question": question,
        "kind": kind,
        "language": language,
        "made_up": True,
        "story": title,
    }


@require_POST
@login_required
def save_story(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """Keep this session's situation as a story of its group, for its next sessions."""
    session = session_for_facilitator(request, session_id)
    try:
        story = session.save_as_story()
    except Refused as refusal:
        return _refused(request, refusal)
    url = reverse("session_create", args=[session.group.public_id])
    return redirect(f"{url}?story=g{story.pk}")


def copy_title(title: str) -> str:
    """A copy's title says it is one, and when it was made; the original is cut to fit."""
    today = timezone.localdate().isoformat()
    suffix = _(" (copy, %(date)s)") % {"date": today}
    limit = Session._meta.get_field("title").max_length or 120
    return Truncator(title).chars(limit - len(suffix)) + suffix


@never_cache
@login_required
def session_copy(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """Run a session again, here or with another group: its situation and settings,
    none of its causes, actions, participants or votes. The copy starts closed."""
    session = session_for_facilitator(request, session_id)
    form = CopySessionForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial={"group": session.group, "title": copy_title(session.title)},
    )
    if request.method == "POST" and form.is_valid():
        copy = Session.objects.create(
            group=form.cleaned_data["group"],
            title=form.cleaned_data["title"],
            situation=session.situation,
            # A new session of a group opens with that group's agreements.
            agreements=form.cleaned_data["group"].agreements,
            created_by=request.user,
            **{field: getattr(session, field) for field in SETTINGS},
        )
        return redirect("console", copy.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "sessions/copy.html", {"session": session, "form": form}, status=status)


# Summaries: the printable page, its PDF, and the exports. The group's
# organizers and facilitators may read them; everyone else gets 404.


def _summary(request: AuthenticatedHttpRequest, session_id: str) -> tuple[Session, dict[str, Any]]:
    """The session and everything its summary shows, on the paper asked for."""
    session, role = session_for_member(request, session_id)
    context = pdf.summary(session)
    context.update(role=role, paper=pdf.paper_from(request.GET.get("paper")))
    return session, context


def _refused(request: HttpRequest, refusal: Refused) -> HttpResponse:
    return render(request, "400.html", {"message": refusal.message}, status=refusal.status)


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@never_cache
@require_safe
@login_required
def summary(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    try:
        session, context = _summary(request, session_id)
    except Refused as refusal:
        return _refused(request, refusal)
    with translation.override(session.language):
        context["page_words"] = pdf.page_words()
        return render(request, "sessions/summary.html", context)


def _render_pdf(context: dict[str, Any], paper: str) -> bytes:
    """pdf.render in a worker thread, which then gives back any connection it opened."""
    try:
        return pdf.render(context, paper)
    finally:
        release_connections()


# How long the "being prepared" page asks a browser to wait before trying again.
PDF_RETRY_SECONDS = 5


def _printer_busy(request: HttpRequest, session: Session) -> HttpResponse:
    response = render(request, "sessions/pdf_busy.html", {"session": session}, status=503)
    response["Retry-After"] = str(PDF_RETRY_SECONDS)
    return response


@never_cache
@require_safe
@login_required
async def summary_pdf(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """The summary as a PDF. Rendering takes about a second of CPU, so it runs
    in the printer's own threads (pdf.Printer): not on the event loop, where
    every live stream of this process would stall, nor among the threads that
    serve the live channel. When the printer's queue is full: 503, try again."""
    try:
        session, context = await sync_to_async(_summary)(request, session_id)
    except Refused as refusal:
        return await sync_to_async(_refused)(request, refusal)
    document = await pdf.printer.run(_render_pdf, context, context["paper"])
    if document is None:
        return await sync_to_async(_printer_busy)(request, session)
    response = HttpResponse(document, content_type="application/pdf")
    return _attachment(response, pdf.filename(session, "pdf"))


def _csv(session: Session, what: str, rows: Iterable[list[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")  # so that spreadsheets read the file as UTF-8
    csv.writer(response).writerows(rows)
    return _attachment(response, pdf.filename(session, "csv", what))


@never_cache
@require_safe
@login_required
def causes_csv(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session, _role = session_for_member(request, session_id)
    return _csv(session, "causes", export.cause_rows(session))


@never_cache
@require_safe
@login_required
def actions_csv(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session, _role = session_for_member(request, session_id)
    return _csv(session, "actions", export.action_rows(session))


@never_cache
@require_safe
@login_required
def export_json(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session, _role = session_for_member(request, session_id)
    response = HttpResponse(
        json.dumps(export.everything(session), ensure_ascii=False, indent=2),
        content_type="application/json",
    )
    return _attachment(response, pdf.filename(session, "json"))


@never_cache
@require_safe
@login_required
def plan_ics(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session, _role = session_for_member(request, session_id)
    return ics.download(session)
