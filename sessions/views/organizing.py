"""Home, logging in, groups and their members, and preparing sessions."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sessions import ratelimits
from sessions.forms import GroupForm, JoinCodeForm, MemberForm, SessionForm
from sessions.models import Membership, Session
from sessions.permissions import group_for_facilitator, group_for_member

TOO_MANY_LOGINS = "Too many attempts to log in. Please wait a few minutes, then try again."


@never_cache
def login(request):
    """Django's login view, with limits per address and per username."""
    if request.method == "POST":
        username = request.POST.get("username", "")[:150].casefold()
        if ratelimits.exceeded(
            ratelimits.LOGIN_ADDRESS, ratelimits.client_address(request)
        ) or ratelimits.exceeded(ratelimits.LOGIN_USER, username):
            return render(
                request,
                "registration/login.html",
                {"form": AuthenticationForm(request), "error": TOO_MANY_LOGINS},
                status=429,
            )
    return LoginView.as_view()(request)


def home(request):
    if not request.user.is_authenticated:
        return render(request, "sessions/home.html", {"form": JoinCodeForm()})
    memberships = (
        Membership.objects.filter(user=request.user).select_related("group").order_by("group__name")
    )
    return render(
        request,
        "sessions/dashboard.html",
        {"memberships": memberships, "form": GroupForm(), "join_form": JoinCodeForm()},
    )


@require_POST
@login_required
def group_create(request):
    form = GroupForm(request.POST)
    if not form.is_valid():
        memberships = Membership.objects.filter(user=request.user).select_related("group")
        return render(
            request,
            "sessions/dashboard.html",
            {"memberships": memberships, "form": form, "join_form": JoinCodeForm()},
            status=400,
        )
    with transaction.atomic():
        group = form.save()
        Membership.objects.create(group=group, user=request.user, role=Membership.Role.FACILITATOR)
    return redirect("group", group.public_id)


LAST_MEMBER = "A group needs at least one person. Delete the group instead."
LAST_FACILITATOR = "A group needs at least one facilitator to run its sessions. Add another first."


def _group_page(request, group, role, *, member_form=None, error="", status=200):
    sessions = group.sessions.all()
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
        },
        status=status,
    )


@login_required
def group_detail(request, group_id):
    group, role = group_for_member(request, group_id)
    return _group_page(request, group, role)


# Organizers and facilitators alike manage the group's people, and can delete it.


@require_POST
@login_required
def member_add(request, group_id):
    group, role = group_for_member(request, group_id)
    form = MemberForm(request.POST)
    if not form.is_valid():
        return _group_page(request, group, role, member_form=form, status=400)
    user, new_role = form.cleaned_data["username"], form.cleaned_data["role"]
    if new_role != Membership.Role.FACILITATOR and _is_last_facilitator(group, user):
        return _group_page(request, group, role, error=LAST_FACILITATOR, status=409)
    Membership.objects.update_or_create(group=group, user=user, defaults={"role": new_role})
    return redirect("group", group.public_id)


def _is_last_facilitator(group, user) -> bool:
    facilitators = group.memberships.filter(role=Membership.Role.FACILITATOR)
    return facilitators.count() == 1 and facilitators.filter(user=user).exists()


@require_POST
@login_required
def member_remove(request, group_id, membership_id):
    group, role = group_for_member(request, group_id)
    membership = get_object_or_404(Membership, pk=membership_id, group=group)
    if group.memberships.count() == 1:
        return _group_page(request, group, role, error=LAST_MEMBER, status=409)
    if _is_last_facilitator(group, membership.user):
        return _group_page(request, group, role, error=LAST_FACILITATOR, status=409)
    membership.delete()
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("group", group.public_id)


@never_cache
@login_required
def group_delete(request, group_id):
    """Delete the group with every session in it and everything in those."""
    group, _role = group_for_member(request, group_id)
    if request.method == "POST":
        group.delete()
        return redirect("home")
    return render(request, "sessions/group_delete.html", {"group": group})


@login_required
def session_create(request, group_id):
    group = group_for_facilitator(request, group_id)
    form = SessionForm(
        request.POST if request.method == "POST" else None,
        initial={"language": request.LANGUAGE_CODE},
    )
    if request.method == "POST":
        if form.is_valid():
            session: Session = form.save(commit=False)
            session.group = group
            session.created_by = request.user
            session.save()
            return redirect("console", session.public_id)
        return render(
            request, "sessions/session_form.html", {"group": group, "form": form}, status=400
        )
    return render(request, "sessions/session_form.html", {"group": group, "form": form})
