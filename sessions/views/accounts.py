"""Accounts without e-mail: invitations, links for a new password, sign-up, e-mail resets.

A facilitator (or an organizer, for organizers) makes an invitation: a link
with a QR code, for one use within a week, sent by any messenger. Whoever
opens it chooses a username and a password and lands in the group; someone
already logged in joins with one button. A facilitator makes a link for a
new password the same way, for a member of their group.
"""

from datetime import timedelta
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.contrib.auth.views import PasswordResetView
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.forms import ChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from sessions import network, ratelimits
from sessions.forms import InvitationForm, SignupForm
from sessions.http import AuthenticatedHttpRequest
from sessions.models import Group, Invitation, Membership, Refused
from sessions.permissions import group_for_facilitator, group_for_member
from sessions.views.organizing import group_page

FACILITATOR = Membership.Role.FACILITATOR
# Used, withdrawn and expired invitations stay on the list this long.
LISTED_DAYS = 30

USERNAME_TAKEN = gettext_lazy("A user with that username already exists.")
TOO_MANY = gettext_lazy("Too many attempts from this network. Please wait a while, then try again.")
OWN_PASSWORD = gettext_lazy(
    "To change your own password, use “Password” at the top of the page while logged in."
)
NOT_HERE = gettext_lazy(
    "Only the site's operator can give this person a new password: they are in a group "
    "you do not facilitate, or they run the site."
)


# The group's invitations


def _listed(group: Group, role: str, user: User) -> list[Invitation]:
    """The invitations this member may see: a facilitator all, an organizer their own."""
    invitations = group.invitations.select_related("created_by", "used_by", "user").filter(
        created_at__gte=timezone.now() - timedelta(days=LISTED_DAYS)
    )
    if role != FACILITATOR:
        invitations = invitations.filter(created_by=user, kind=Invitation.Kind.JOIN)
    # Open ones first, each part newest first.
    return sorted(invitations[:100], key=lambda invitation: invitation.state != "open")


def _qr_svg(link: str) -> str:
    """The link as an inline SVG QR code (no style attributes: the CSP allows none)."""
    svg = segno.make(link, error="m").svg_inline(
        scale=4, border=2, light="#fff", omitsize=True, title=_("The link as a QR code")
    )
    return mark_safe(svg)


def _invitations_page(
    request: AuthenticatedHttpRequest,
    group: Group,
    role: str,
    *,
    form: InvitationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    base = network.public_base_url(request)
    rows = []
    for invitation in _listed(group, role, request.user):
        row: dict[str, Any] = {"invitation": invitation, "state": invitation.state}
        if row["state"] == "open":
            row["link"] = base + reverse(
                "invitation", args=[invitation.selector, invitation.verifier]
            )
            row["qr"] = _qr_svg(row["link"])
        rows.append(row)
    if form is None:
        form = InvitationForm(initial={"role": Membership.Role.ORGANIZER})
    if role != FACILITATOR:
        choice = form.fields["role"]
        assert isinstance(choice, ChoiceField)
        choice.choices = [(Membership.Role.ORGANIZER, Membership.Role.ORGANIZER.label)]
    context = {"group": group, "role": role, "rows": rows, "form": form, "days": LISTED_DAYS}
    return render(request, "sessions/invitations.html", context, status=status)


@never_cache
@login_required
def invitations(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    group, role = group_for_member(request, group_id)
    return _invitations_page(request, group, role)


@require_POST
@login_required
def invitation_create(request: AuthenticatedHttpRequest, group_id: str) -> HttpResponse:
    """Facilitators invite either role; organizers invite organizers only."""
    group, role = group_for_member(request, group_id)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _invitations_page(request, group, role, form=form, status=400)
    if form.cleaned_data["role"] == FACILITATOR and role != FACILITATOR:
        raise PermissionDenied("Only the group's facilitators invite facilitators.")
    Invitation.invite(group, form.cleaned_data["role"], request.user)
    return redirect("invitations", group.public_id)


@require_POST
@login_required
def invitation_withdraw(
    request: AuthenticatedHttpRequest, group_id: str, invitation_id: int
) -> HttpResponse:
    group, role = group_for_member(request, group_id)
    invitation = get_object_or_404(Invitation, pk=invitation_id, group=group)
    own = invitation.created_by_id == request.user.pk and invitation.kind == Invitation.Kind.JOIN
    if role != FACILITATOR and not own:
        raise PermissionDenied("Organizers withdraw only their own invitations.")
    invitation.withdraw()
    return redirect("invitations", group.public_id)


@require_POST
@login_required
def password_link(
    request: AuthenticatedHttpRequest, group_id: str, membership_id: int
) -> HttpResponse:
    """A link for a new password, for a member of the group, made as an invitation is.

    Refused for oneself, for the site's staff, and for someone who is also in
    a group this facilitator does not facilitate: a facilitator could
    otherwise take over an account that reaches further than their groups.
    """
    group = group_for_facilitator(request, group_id)
    memberships = Membership.objects.select_related("user")
    member = get_object_or_404(memberships, pk=membership_id, group=group).user
    if member.pk == request.user.pk:
        return group_page(request, group, FACILITATOR, error=OWN_PASSWORD, status=409)
    facilitated = Membership.objects.filter(user=request.user, role=FACILITATOR).values("group")
    elsewhere = Membership.objects.filter(user=member).exclude(group__in=facilitated)
    if member.is_staff or member.is_superuser or elsewhere.exists():
        return group_page(request, group, FACILITATOR, error=NOT_HERE, status=409)
    invitation = Invitation.reset_password(group, member, request.user)
    return redirect(reverse("invitations", args=[group.public_id]) + f"#invitation-{invitation.pk}")


# Opening a link


def _unusable(request: HttpRequest, invitation: Invitation | None, *, status: int) -> HttpResponse:
    context = {"invitation": invitation, "state": invitation.state if invitation else ""}
    return render(request, "sessions/invitation_unusable.html", context, status=status)


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request: HttpRequest, selector: str, verifier: str) -> HttpResponse:
    """Open an invitation or a link for a new password.

    A link that is not whole or was never made is a 404; a used, withdrawn or
    expired one a 410 that says which, and what to do.
    """
    found = Invitation.objects.select_related("group", "user").filter(selector=selector).first()
    if found is None or not found.matches(verifier):
        return _unusable(request, None, status=404)
    if not found.is_open:
        return _unusable(request, found, status=410)
    if found.kind == Invitation.Kind.RESET:
        return _new_password(request, found)
    if request.user.is_authenticated:
        return _join_as_member(request, found, request.user)
    return _sign_up(request, found)


def _join_as_member(request: HttpRequest, invitation: Invitation, user: User) -> HttpResponse:
    current = invitation.group.role_of(user)
    already = current in {FACILITATOR, invitation.role}
    if request.method == "POST":
        if already:
            return redirect("group", invitation.group.public_id)
        try:
            invitation.join(user)
        except Refused as refusal:
            invitation.refresh_from_db()
            return _unusable(request, invitation, status=refusal.status)
        return redirect("group", invitation.group.public_id)
    context = {"invitation": invitation, "current": current, "already": already}
    return render(request, "sessions/invitation.html", context)


def _save_new_user(form: SignupForm) -> User | None:
    """The form's user, saved; None (with the form's error) if the username was taken meanwhile."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.add_error("username", USERNAME_TAKEN)
        return None


def _sign_up(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = _save_new_user(form)
                if user is not None:
                    invitation.join(user)
        except Refused as refusal:
            invitation.refresh_from_db()
            return _unusable(request, invitation, status=refusal.status)
        if user is not None:
            auth_login(request, user)
            return redirect("group", invitation.group.public_id)
    status = 400 if request.method == "POST" else 200
    context = {"invitation": invitation, "form": form}
    return render(request, "sessions/invitation.html", context, status=status)


def _new_password(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    member = invitation.user
    assert member is not None  # a RESET invitation always names its member (a constraint)
    form = SetPasswordForm(member, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                invitation.claim(member)
                form.save()
        except Refused as refusal:
            invitation.refresh_from_db()
            return _unusable(request, invitation, status=refusal.status)
        auth_login(request, member)
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    context = {"invitation": invitation, "form": form, "member": member}
    return render(request, "sessions/invitation.html", context, status=status)


# Open sign-up and e-mail resets: only where the deployer turns them on


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Anyone makes an account (SIGNUP=open); then the dashboard offers a new group."""
    if settings.SIGNUP != "open":
        return render(request, "registration/signup_closed.html", status=404)
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if ratelimits.exceeded(ratelimits.SIGNUP_ADDRESS, ratelimits.client_address(request)):
            context = {"form": form, "error": TOO_MANY}
            return render(request, "registration/signup.html", context, status=429)
        if form.is_valid() and (user := _save_new_user(form)) is not None:
            auth_login(request, user)
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@never_cache
def password_reset(request: HttpRequest) -> HttpResponseBase:
    """Django's reset by e-mail where the deployer configured e-mail; elsewhere, what to do instead.

    The link in the e-mail starts with the address phones are given
    (network.public_base_url), never with a Host header as sent.
    """
    if not settings.EMAIL_ENABLED:
        return render(request, "registration/password_reset_unavailable.html")
    if request.method == "POST" and ratelimits.exceeded(
        ratelimits.RESET_ADDRESS, ratelimits.client_address(request)
    ):
        context = {"error": TOO_MANY}
        return render(request, "registration/password_reset_form.html", context, status=429)
    view = PasswordResetView.as_view(
        extra_email_context={"base_url": network.public_base_url(request)}
    )
    # A mail server that fails is logged by Django's form, and the page says
    # the same as for any address: it never tells who has an account.
    return view(request)
