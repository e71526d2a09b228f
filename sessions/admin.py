"""Django's admin, for the site's operator: groups, people, sessions and invitations.

What people typed in a session (its situation, causes, actions) is not shown
here: the operator sees what exists and how big it is, not what was said.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, cast

from django.contrib import admin
from django.contrib.auth.models import Group as AuthGroup
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise, WithAnnotations

from sessions.models import (
    OPEN_FOR_JOINING,
    Action,
    Cause,
    Group,
    Invitation,
    InvitationQuerySet,
    Membership,
    Participant,
    Session,
)

# Django's own groups of permissions go unused here: listed beside ours, they
# would only be mistaken for them.
admin.site.unregister(AuthGroup)


class MembershipInline(admin.TabularInline[Membership, Group]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class GroupSizes(TypedDict):
    people: int
    session_count: int


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin[Group]):
    list_display = ["name", "public_id", "created_at", "people", "session_count"]
    search_fields = ["name", "public_id", "memberships__user__username"]
    list_filter = ["created_at"]
    readonly_fields = ["public_id"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                people=Count("memberships", distinct=True),
                session_count=Count("sessions", distinct=True),
            )
        )

    @admin.display(description=_("People"), ordering="people")
    def people(self, group: WithAnnotations[Group, GroupSizes]) -> int:
        return group.people

    @admin.display(description=_("Sessions"), ordering="session_count")
    def session_count(self, group: WithAnnotations[Group, GroupSizes]) -> int:
        return group.session_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "group", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "group__name"]
    list_select_related = ["user", "group"]
    autocomplete_fields = ["user", "group"]


def _count(model: type[Participant | Cause | Action], **extra: object) -> Coalesce:
    """How many rows of `model` belong to the session: a subquery, so counts do not multiply."""
    rows = (
        model.objects.filter(session=OuterRef("pk"), **extra)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class OpenFilter(admin.SimpleListFilter):
    title = _("joining")
    parameter_name = "open"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Session]
    ) -> Sequence[tuple[str, StrOrPromise]]:
        return [("yes", _("open")), ("no", _("closed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Session]) -> QuerySet[Session]:
        if self.value() == "yes":
            return queryset.filter(OPEN_FOR_JOINING)
        if self.value() == "no":
            return queryset.exclude(OPEN_FOR_JOINING)
        return queryset


class SessionSizes(TypedDict):
    participants_n: int
    causes_n: int
    actions_n: int


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin[Session]):
    """Sessions by title, group, state and dates, with their sizes: never what was said."""

    list_display = [
        "title",
        "group",
        "is_open",
        "phase",
        "kind",
        "language",
        "created_at",
        "participant_count",
        "cause_count",
        "action_count",
    ]
    list_filter = [OpenFilter, "phase", "kind", "language", "created_at"]
    search_fields = ["title", "public_id", "group__name"]
    list_select_related = ["group"]
    date_hierarchy = "created_at"
    # The change page shows these and nothing else: no situation, causes or actions.
    fields = readonly_fields = (
        "title",
        "group",
        "public_id",
        "kind",
        "language",
        "phase",
        "join_code",
        "created_at",
        "created_by",
        "participant_count",
        "cause_count",
        "action_count",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Session]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                participants_n=_count(Participant),
                causes_n=_count(Cause),
                actions_n=_count(Action),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions are prepared by facilitators, in the app

    @admin.display(description=_("open"), boolean=True)
    def is_open(self, session: Session) -> bool:
        return session.is_open

    @admin.display(description=_("Participants"), ordering="participants_n")
    def participant_count(self, session: WithAnnotations[Session, SessionSizes]) -> int:
        return session.participants_n

    @admin.display(description=_("Causes"), ordering="causes_n")
    def cause_count(self, session: WithAnnotations[Session, SessionSizes]) -> int:
        return session.causes_n

    @admin.display(description=_("Actions"), ordering="actions_n")
    def action_count(self, session: WithAnnotations[Session, SessionSizes]) -> int:
        return session.actions_n


class InvitationStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Invitation]
    ) -> Sequence[tuple[str, StrOrPromise]]:
        return [("open", _("open")), ("used", _("used")), ("withdrawn", _("withdrawn"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Invitation]
    ) -> QuerySet[Invitation]:
        if self.value() == "open":
            # The admin lists Invitation.objects, whose queryset knows what is open.
            return cast(InvitationQuerySet, queryset).open()
        if self.value() == "used":
            return queryset.filter(used_at__isnull=False)
        if self.value() == "withdrawn":
            return queryset.filter(withdrawn_at__isnull=False)
        return queryset


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    """Invitations and links for a new password: who made them, for what, what became of them.

    The links themselves are not shown: they are the group's to hand out.
    """

    list_display = [
        "group",
        "kind",
        "role",
        "user",
        "created_by",
        "created_at",
        "expires_at",
        "state",
        "used_by",
    ]
    list_filter = [InvitationStateFilter, "kind", "role", "created_at"]
    search_fields = ["group__name", "created_by__username", "used_by__username", "user__username"]
    list_select_related = ["group", "user", "created_by", "used_by"]
    fields = readonly_fields = (
        "group",
        "kind",
        "role",
        "user",
        "created_by",
        "created_at",
        "expires_at",
        "used_at",
        "used_by",
        "withdrawn_at",
    )
    actions = ["withdraw"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made from the group's page, where the link can be shown

    @admin.display(description=_("state"))
    def state(self, invitation: Invitation) -> str:
        return invitation.state

    @admin.action(description=_("Withdraw the chosen invitations"))
    def withdraw(self, request: HttpRequest, queryset: InvitationQuerySet) -> None:
        queryset.open().update(withdrawn_at=timezone.now())
