"""Groups, sessions, participants, the tree of causes, and the event log.

Every change to a session runs in one transaction that takes the session's
lock (`Session.lock`) and appends an `Event` with the next sequence number
(`Session.record`). Because the lock is held until commit, sequence order is
commit order, and live streams (live.py) can trust the numbers as cursors.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Self, TypedDict, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from sessions import joincodes, live, wordfilter

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def new_public_id() -> str:
    """An unguessable identifier for URLs: never a sequential integer."""
    return secrets.token_urlsafe(9)


def new_participant_key() -> str:
    return secrets.token_urlsafe(24)


# The most dots a session may give each participant.
MAX_DOTS = 20
ACTOR_MAX_LENGTH = 120
OWNER_MAX_LENGTH = 120
NOTES_MAX_LENGTH = 2000
# Group agreements: a few short lines, one agreement a line.
AGREEMENTS_MAX = 12
AGREEMENT_MAX_LENGTH = 200
AGREEMENTS_MAX_LENGTH = AGREEMENTS_MAX * (AGREEMENT_MAX_LENGTH + 1)
# Support contacts: a group keeps a handful.
SUPPORT_CONTACTS_MAX = 10
CONTACT_NAME_MAX_LENGTH = 120
CONTACT_REACH_MAX_LENGTH = 200
CONTACT_HOURS_MAX_LENGTH = 120
# Stories: a short made-up situation, its title and the question it suggests.
STORY_TITLE_MAX_LENGTH = 120
STORY_SITUATION_MAX_LENGTH = 1000
STORY_QUESTION_MAX_LENGTH = 200
# A group keeps at most this many stories of its own.
GROUP_STORIES_MAX = 50
# The closing round: one short line each.
CLOSING_LINE_MAX_LENGTH = 140


def default_agreements() -> list[str]:
    """The agreements the app ships, in the active language."""
    return [
        str(_("What is said here stays here.")),
        str(_("We talk about situations, not about named people.")),
        str(_("Anyone can pass, and anyone can ask for a pause.")),
        str(_("We listen to each other, one at a time.")),
    ]


class Refused(Exception):
    """A request that cannot be done, with a message for the person who asked."""

    def __init__(self, message: str | Promise, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class Group(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=120)
    # The group's own agreements, one a line; empty: the app's default list
    # (default_agreements), in each session's language. New sessions copy it.
    agreements = models.TextField(max_length=AGREEMENTS_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="butwhy_groups"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def agreement_lines(self) -> list[str]:
        """The group's own agreements, or the default list in the active language."""
        return self.agreements.splitlines() or default_agreements()

    def role_of(self, user: User | AnonymousUser) -> str | None:
        """The user's role in this group, or None. Runs a query."""
        if not user.is_authenticated:
            return None
        membership = self.memberships.filter(user=user).first()
        return membership.role if membership else None


class Membership(models.Model):
    class Role(models.TextChoices):
        ORGANIZER = "organizer", _("Organizer")
        FACILITATOR = "facilitator", _("Facilitator")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="butwhy_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FACILITATOR)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="membership_once_per_group"),
            models.CheckConstraint(
                condition=Q(role__in=["organizer", "facilitator"]), name="membership_role_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.group}"


INVITATION_DAYS = 7


def new_invitation_selector() -> str:
    return secrets.token_urlsafe(12)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def open(self) -> Self:
        return self.filter(used_at=None, withdrawn_at=None, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A link for one use: into a group with a role, or to set a member's new password.

    No secret is stored. The link carries `selector`, which finds the row, and
    a verifier, an HMAC of the row's selector, kind, group, role and user under
    SECRET_KEY, compared in constant time (`matches`). A copy of the database
    alone opens no invitation, and the group's facilitators can show an open
    link again (with its QR code) until it is used, withdrawn or expires.
    """

    class Kind(models.TextChoices):
        JOIN = "join", _("Invitation")
        RESET = "reset", _("New password")

    selector = models.CharField(
        max_length=24, unique=True, default=new_invitation_selector, editable=False
    )
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.JOIN)
    # The role a JOIN invitation gives; blank for a RESET link.
    role = models.CharField(max_length=20, choices=Membership.Role.choices, blank=True)
    # Whose password a RESET link sets; None for a JOIN invitation.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="password_links",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_made",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_used",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="join", role__in=["organizer", "facilitator"], user__isnull=True)
                    | Q(kind="reset", role="", user__isnull=False)
                ),
                name="invitation_join_or_reset",
            ),
        ]
        indexes = [
            # The group's invitations page, newest first.
            models.Index(fields=["group", "-created_at"], name="invitation_group_newest"),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.RESET:
            return f"New password for {self.user} ({self.group})"
        return f"{self.role} invitation to {self.group}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.expires_at is None:
            self.expires_at = self.created_at + timedelta(days=INVITATION_DAYS)
        super().save(*args, **kwargs)

    @classmethod
    def invite(cls, group: Group, role: str, by: User) -> Invitation:
        return cls.objects.create(group=group, kind=cls.Kind.JOIN, role=role, created_by=by)

    @classmethod
    def reset_password(cls, group: Group, user: User, by: User) -> Invitation:
        """A new-password link for `user`; their earlier open ones are withdrawn."""
        with transaction.atomic():
            cls.objects.open().filter(kind=cls.Kind.RESET, user=user).update(
                withdrawn_at=timezone.now()
            )
            return cls.objects.create(group=group, kind=cls.Kind.RESET, user=user, created_by=by)

    def _verifier(self, secret: str | bytes) -> str:
        value = f"{self.selector}:{self.kind}:{self.group_id}:{self.role}:{self.user_id}"
        mac = salted_hmac("butwhy.invitation", value, secret=secret, algorithm="sha256")
        return mac.hexdigest()

    @property
    def verifier(self) -> str:
        return self._verifier(settings.SECRET_KEY)

    def matches(self, verifier: str) -> bool:
        """Whether `verifier` is this invitation's, under SECRET_KEY or a fallback."""
        keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        return any([constant_time_compare(self._verifier(key), verifier) for key in keys])

    @property
    def state(self) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        if self.used_at is not None:
            return "used"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def withdraw(self) -> None:
        Invitation.objects.filter(pk=self.pk, used_at=None).update(withdrawn_at=timezone.now())
        self.refresh_from_db(fields=["withdrawn_at", "used_at"])

    def claim(self, user: User) -> None:
        """Use this invitation up for `user`, or raise Refused if it no longer can be.

        One conditional UPDATE: of two people opening the same link at once,
        only one gets it. Call inside the transaction that acts on it.
        """
        now = timezone.now()
        claimed = Invitation.objects.filter(
            pk=self.pk, used_at=None, withdrawn_at=None, expires_at__gt=now
        ).update(used_at=now, used_by=user)
        if claimed != 1:
            raise Refused(_("This link has just been used or withdrawn."), status=410)
        self.used_at, self.used_by = now, user

    def join(self, user: User) -> Membership:
        """Put `user` in the group with the invitation's role, and use it up.

        Someone already in the group is raised to facilitator by a facilitator
        invitation, never lowered by an organizer one.
        """
        with transaction.atomic():
            self.claim(user)
            membership, created = Membership.objects.get_or_create(
                group=self.group, user=user, defaults={"role": self.role}
            )
            if not created and self.role == Membership.Role.FACILITATOR:
                membership.role = self.role
                membership.save(update_fields=["role"])
            return membership


# Sessions open for joining now (Session.is_open, as a query).
OPEN_FOR_JOINING = Q(join_code__isnull=False, joining_closed=False)


class Role(TypedDict):
    """What SessionQuerySet.annotate_role adds to each session."""

    role: str


class SessionQuerySet(models.QuerySet["Session"]):
    def open(self) -> Self:
        """Sessions open for joining now."""
        return self.filter(OPEN_FOR_JOINING)

    def running(self) -> Self:
        """Sessions opened and not ended: their phones take part, joining open or not."""
        return self.filter(join_code__isnull=False)

    def for_member(self, user: User) -> Self:
        return self.filter(group__memberships__user=user)

    def annotate_role(self, user: User) -> models.QuerySet[WithAnnotations[Session, Role]]:
        """Add `role`: the user's role in the session's group (filter by membership first)."""
        roles = Membership.objects.filter(group=models.OuterRef("group"), user=user)
        annotated = self.annotate(role=models.Subquery(roles.values("role")[:1]))
        # The stubs' plugin types a subquery's value as Any; it is the role's text.
        return cast("models.QuerySet[WithAnnotations[Session, Role]]", annotated)


class Session(models.Model):
    class Kind(models.TextChoices):
        PROBLEM = "problem", _("A problem: why does this happen?")
        SUCCESS = "success", _("A success: what went well, and why?")

    class Names(models.TextChoices):
        ANONYMOUS = "anonymous", _("Anonymous: nobody gives a name")
        OPTIONAL = "optional", _("Names optional")
        REQUIRED = "required", _("Names required")

    class Moderation(models.TextChoices):
        SHOW = "show", _("Show answers at once")
        HOLD = "hold", _("Hold answers for my approval")

    class Phase(models.TextChoices):
        # The order the facilitator usually takes them in; they may move freely.
        REVIEW = "review", _("Review")
        WHY = "why", _("Why?")
        REFLECT = "reflect", _("Reflect")
        ACT = "act", _("Act")
        AGREE = "agree", _("Agree")
        # The closing round: what we learned, what gives us hope.
        CLOSE = "close", pgettext_lazy("a step of the session", "Close")

    # The steps that work on the causes: they wait until there are some.
    NEEDS_CAUSES = frozenset({Phase.REFLECT, Phase.ACT, Phase.AGREE})

    class BoardFilter(models.TextChoices):
        ALL = "all", _("Every cause")
        MATTERS = "matters", _("What matters most")
        CHANGEABLE = "changeable", _("What can change")

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=120)
    situation = models.TextField(max_length=1000)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PROBLEM)
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    names = models.CharField(max_length=10, choices=Names.choices, default=Names.ANONYMOUS)
    moderation = models.CharField(
        max_length=10, choices=Moderation.choices, default=Moderation.SHOW
    )
    # Hold answers with insults or personal details for approval (wordfilter.py).
    filter_words = models.BooleanField(default=False)
    # Phones can open the whole tree ("See everyone's answers"); off, they see only the question.
    phone_tree = models.BooleanField(default=True)
    # The session opens with the group agreements: the projector shows them
    # until the facilitator starts, and each phone agrees before answering.
    use_agreements = models.BooleanField(default=False)
    # The agreements, copied from the group when the session is made; empty:
    # the default list, in the session's language.
    agreements = models.TextField(max_length=AGREEMENTS_MAX_LENGTH, blank=True, default="")
    showing_agreements = models.BooleanField(default=True)
    # The facilitator paused the room: every screen shows a calm message and
    # phones send nothing until the room goes on.
    paused = models.BooleanField(default=False)
    # The most phones that may join; None: no limit.
    max_participants = models.PositiveIntegerField(null=True, blank=True)
    # Set while the session runs, from its opening to its end, so that a code
    # only ever leads to a running session (one whose joining is closed then
    # says so to late joiners). NULL, not "", so that the unique constraint
    # ignores sessions that have not started or have ended.
    join_code = models.CharField(max_length=8, null=True, blank=True)  # noqa: DJ001
    # New people may not join; those already in go on taking part.
    joining_closed = models.BooleanField(default=False)
    # When the facilitator ended the session: phones thank people, nothing
    # they do changes the tree any more.
    ended_at = models.DateTimeField(null=True, blank=True)
    focus = models.ForeignKey(
        "Cause", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sequence number of the latest Event: the cursor live streams use.
    last_seq = models.PositiveBigIntegerField(default=0)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.WHY)
    # Dot votes: how many dots each participant has, and whether several may
    # go on one cause. Counts stay hidden until the facilitator reveals them.
    dot_budget = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(MAX_DOTS)]
    )
    stack_dots = models.BooleanField(default=False)
    votes_revealed = models.BooleanField(default=False)
    # Phones propose actions for the causes that matter most, or for any cause.
    actions_for_any_cause = models.BooleanField(default=False)
    board_filter = models.CharField(
        max_length=10, choices=BoardFilter.choices, default=BoardFilter.ALL
    )
    # The projector shows the causes by level (one person … laws, money and
    # power) instead of the tree.
    levels_view = models.BooleanField(default=False)
    # Phones may suggest the level of their answer; the facilitator's choice wins.
    phones_suggest_level = models.BooleanField(default=False)
    # "A smaller part to work on": this cause and what is under it are what
    # Reflect and Act look at (the projector, the ballot). None: the whole tree.
    branch = models.ForeignKey(
        "Cause", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A round timer the facilitator starts and the projector counts down.
    timer_ends_at = models.DateTimeField(null=True, blank=True)
    # A made-up story (storybook.py), not someone's real life: the projector
    # and the phones say so. `story_question`: the question it suggests first.
    made_up = models.BooleanField(default=False)
    story_question = models.CharField(max_length=STORY_QUESTION_MAX_LENGTH, blank=True, default="")
    # "Why else?": the room is asked for other reasons beside the answers the
    # question has, instead of "But why?" under it. Asking "But why?" clears it.
    why_else = models.BooleanField(default=False)
    # The earlier session whose plan this one opens by reviewing.
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["join_code"], name="session_join_code_unique"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(join_code__isnull=True),
                name="session_ended_has_no_code",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["problem", "success"]), name="session_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(names__in=["anonymous", "optional", "required"]),
                name="session_names_known",
            ),
            models.CheckConstraint(
                condition=Q(moderation__in=["show", "hold"]), name="session_moderation_known"
            ),
            models.CheckConstraint(
                condition=Q(phase__in=["review", "why", "reflect", "act", "agree", "close"]),
                name="session_phase_known",
            ),
            models.CheckConstraint(
                condition=Q(dot_budget__gte=1, dot_budget__lte=MAX_DOTS),
                name="session_dot_budget_in_range",
            ),
            models.CheckConstraint(
                condition=Q(board_filter__in=["all", "matters", "changeable"]),
                name="session_board_filter_known",
            ),
            models.CheckConstraint(condition=~Q(follows=F("id")), name="session_not_own_follow_up"),
            # The target of the composite foreign key that keeps a follow-up in its group.
            models.UniqueConstraint(fields=["group", "id"], name="session_group_id_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        """Open for joining: new people may come in."""
        return self.join_code is not None and not self.joining_closed

    @property
    def is_running(self) -> bool:
        """Opened and not ended: the phones already in take part."""
        return self.join_code is not None

    @property
    def has_ended(self) -> bool:
        """Whether the facilitator ended the session: phones thank people and
        show the group's support contacts, and nothing they do changes the tree."""
        return self.ended_at is not None

    @property
    def agreement_lines(self) -> list[str]:
        """The agreements this session opens with (the default list, in the active
        language, if it has none of its own)."""
        return self.agreements.splitlines() or default_agreements()

    @property
    def on_agreements(self) -> bool:
        """Whether the projector shows the agreements instead of the question
        (never once the session has ended: then it thanks and shows support)."""
        return self.use_agreements and self.showing_agreements and not self.has_ended

    @property
    def asked_id(self) -> int | None:
        """The cause the room is asked about now: the focus, in the "why?" step only."""
        return self.focus_id if self.phase == Session.Phase.WHY else None

    @property
    def spaced_join_code(self) -> str:
        return joincodes.spaced(self.join_code or "")

    # Every change goes through lock() and record(), inside transaction.atomic().

    def lock(self) -> Session:
        """Take this session's write lock until commit and return its fresh row.

        On PostgreSQL a row lock; on SQLite the IMMEDIATE transaction already
        holds the database's single write lock.
        """
        return Session.objects.select_for_update().get(pk=self.pk)

    def record(self, kind: str, **data: Any) -> Event:
        """Append the next event; the live channel wakes up once it commits."""
        seq = Session.objects.filter(pk=self.pk).values_list("last_seq", flat=True).get() + 1
        Session.objects.filter(pk=self.pk).update(last_seq=seq)
        self.last_seq = seq
        event = Event.objects.create(session_id=self.pk, seq=seq, kind=kind, data=data)
        if connection.vendor == "postgresql":
            live.notify(connection, self.pk, seq)
        # This process's own streams need not wait for the round trip.
        transaction.on_commit(lambda: live.publish(self.pk, seq))
        return event

    def open_for_joining(self) -> None:
        """Let people join: a running session opens again with its code; one not
        started, or ended, starts (again) with a code no other session holds."""
        for _attempt in range(10):
            try:
                with transaction.atomic():
                    session = self.lock()
                    if session.join_code:
                        self.join_code = session.join_code
                        if session.joining_closed:
                            Session.objects.filter(pk=self.pk).update(joining_closed=False)
                            self.joining_closed = False
                            self.record(Event.Kind.OPENED)
                        return
                    code = joincodes.new()
                    fields = {"join_code": code, "joining_closed": False, "ended_at": None}
                    Session.objects.filter(pk=self.pk).update(**fields)
                    self.__dict__.update(fields)
                    self.record(Event.Kind.OPENED)
                    return
            except IntegrityError:
                self.join_code = None
                continue
        raise Refused(_("Could not find a free join code. Please try again."), status=503)

    def close_for_joining(self) -> None:
        """Stop new people joining; those already in go on (end() stops them)."""
        with transaction.atomic():
            session = self.lock()
            if not session.join_code or session.joining_closed:
                return
            Session.objects.filter(pk=self.pk).update(joining_closed=True)
            self.joining_closed = True
            self.record(Event.Kind.CLOSED)

    def end(self) -> None:
        """End the session for everyone: phones thank people, the code is freed,
        and nothing a participant does changes the tree any more."""
        with transaction.atomic():
            session = self.lock()
            if session.ended_at is not None:
                self.ended_at = session.ended_at
                return
            fields = {"join_code": None, "joining_closed": False, "ended_at": timezone.now()}
            Session.objects.filter(pk=self.pk).update(**fields)
            self.__dict__.update(fields)
            self.record(Event.Kind.ENDED)

    def _set(self, kind: str, fields: dict[str, Any], **data: Any) -> None:
        """Set the session's `fields` under its lock, and record `kind` with `data`."""
        with transaction.atomic():
            self.lock()
            Session.objects.filter(pk=self.pk).update(**fields)
            for name, value in fields.items():
                setattr(self, name, value)
            self.record(kind, **data)

    def pause(self, paused: bool = True) -> None:
        """Pause the room (every screen shows a calm message, phones send nothing),
        or go on exactly where it was."""
        self._set(Event.Kind.PAUSE if paused else "resume", {"paused": paused})

    def show_agreements(self, showing: bool) -> None:
        """The projector shows the agreements, or (False) the question: the start."""
        if not self.use_agreements:
            raise Refused(_("This session does not open with agreements."), status=409)
        self._set(Event.Kind.AGREEMENTS, {"showing_agreements": showing})

    def holds(self, text: str) -> bool:
        """Whether a phone's `text` waits for the facilitator's approval: the
        session holds every answer, or its word filter catches this one."""
        return self.moderation == Session.Moderation.HOLD or bool(
            self.filter_words
            and wordfilter.matches(text, self.language, settings.WORD_FILTER_EXTRA)
        )

    def refuse_participant(self, participant: Participant) -> None:
        """Raise if a phone may not send anything now: paused, or not agreed yet.

        `self` should be fresh from lock().
        """
        if self.paused:
            raise Refused(PAUSED, status=409)
        if self.use_agreements and participant.agreed_at is None:
            raise Refused(AGREE_FIRST, status=409)

    def set_moderation(self, moderation: str, filter_words: bool) -> None:
        fields = {"moderation": moderation, "filter_words": filter_words}
        self._set(Event.Kind.SETTINGS, fields, **fields)

    def ask_why(self, cause: Cause | None) -> None:
        """Make `cause` the focus (None: back to the situation) for every phone,
        in the "why?" round."""
        with transaction.atomic():
            self.lock()
            if cause is not None:
                cause = Cause.objects.get(pk=cause.pk)
                if cause.session_id != self.pk:
                    raise Refused(_("That cause belongs to another session."), status=404)
                if cause.state != Cause.State.VISIBLE:
                    raise Refused(_("Only a cause on the board can be asked about."), status=409)
            # Asking "why?" again takes the room back to the "why?" round.
            Session.objects.filter(pk=self.pk).update(
                focus=cause, phase=Session.Phase.WHY, why_else=False
            )
            self.focus = cause
            self.phase = Session.Phase.WHY
            self.why_else = False
            self.record(Event.Kind.FOCUS, cause=cause.pk if cause else None)

    def ask_why_else(self) -> None:
        """Ask the room "Why else?" about the current question: other reasons
        beside the answers it has (the same parent), not deeper under one."""
        with transaction.atomic():
            session = self.lock()
            Session.objects.filter(pk=self.pk).update(why_else=True, phase=Session.Phase.WHY)
            self.why_else, self.phase = True, Session.Phase.WHY
            self.record(Event.Kind.WHY_ELSE, cause=session.focus_id)

    def save_as_story(self) -> GroupStory:
        """Keep this session's situation as one of its group's stories, for
        its next sessions (they start from it as a made-up story)."""
        with transaction.atomic():
            group = Group.objects.select_for_update().get(pk=self.group_id)
            if group.stories.count() >= GROUP_STORIES_MAX:
                raise Refused(
                    _("This group keeps at most %(most)d stories.") % {"most": GROUP_STORIES_MAX},
                    status=409,
                )
            return GroupStory.objects.create(
                group=group,
                title=self.title[:STORY_TITLE_MAX_LENGTH],
                situation=self.situation[:STORY_SITUATION_MAX_LENGTH],
                question=self.story_question,
                kind=self.kind,
                language=self.language,
            )

    def add_closing_line(
        self, text: str, *, author: Participant | None = None, key: str = ""
    ) -> ClosingLine:
        """One short line of the closing round ("What did we learn today?"),
        moderated like answers. Only in the Close step of an open session, one
        a phone; `key` makes a retried post return the first line."""
        with transaction.atomic():
            session = self.lock()
            earlier = resent(ClosingLine, author, key)
            if earlier is not None:
                if earlier.text != text:
                    raise Refused(SENT_WITH_OTHER_WORDS, 409)
                return earlier
            if author is not None:
                if not session.is_running:
                    raise Refused(ENDED, status=409)
                session.refuse_participant(author)
                if session.phase != Session.Phase.CLOSE:
                    raise Refused(NOT_CLOSING, status=409)
                if ClosingLine.objects.filter(author=author).exists():
                    raise Refused(_("You have sent your line already. Thank you!"), status=409)
            held = author is not None and session.holds(text)
            line = ClosingLine.objects.create(
                session_id=self.pk,
                text=text,
                author=author,
                state=ClosingLine.State.PENDING if held else ClosingLine.State.VISIBLE,
                submission_key=key if author is not None else "",
            )
            self.record(Event.Kind.CLOSING_ADDED, line=line.pk)
            return line

    def set_phase(self, phase: str) -> None:
        """Move the whole room to `phase`: every phone shows what it asks of them."""
        with transaction.atomic():
            session = self.lock()
            if phase == Session.Phase.REVIEW and session.follows_id is None:
                raise Refused(_("Only a follow-up session has an earlier plan to review."), 409)
            if phase in Session.NEEDS_CAUSES and not session.has_causes():
                raise Refused(NO_CAUSES_YET, 409)
            Session.objects.filter(pk=self.pk).update(phase=phase)
            self.phase = phase
            self.record(Event.Kind.PHASE, phase=phase)

    def set_voting(self, dot_budget: int, stack_dots: bool) -> None:
        """How many dots each person has, and whether several may go on one cause.

        Dots already placed stay; a smaller budget only stops new ones.
        """
        fields = {"dot_budget": dot_budget, "stack_dots": stack_dots}
        self._set(Event.Kind.VOTING, fields, **fields)

    def reveal_votes(self, revealed: bool = True) -> None:
        """Show the counts to everyone (voting stops), or hide them and let voting go on."""
        if revealed and not self.has_causes():
            raise Refused(NO_CAUSES_YET, 409)
        self._set(Event.Kind.REVEAL if revealed else "unreveal", {"votes_revealed": revealed})

    def has_causes(self) -> bool:
        """Whether any cause is on the board: something to vote on and act on. A query."""
        return self.causes.filter(state=Cause.State.VISIBLE).exists()

    def set_board(self, board_filter: str, actions_for_any_cause: bool) -> None:
        fields = {"board_filter": board_filter, "actions_for_any_cause": actions_for_any_cause}
        self._set(Event.Kind.BOARD, fields, board_filter=board_filter)

    def show_levels(self, showing: bool) -> None:
        """The projector shows the causes by level, or (False) the tree."""
        self._set(Event.Kind.LEVELS_VIEW, {"levels_view": showing}, showing=showing)

    def set_level_suggestions(self, allowed: bool) -> None:
        """Whether phones may suggest the level of their answers."""
        self._set(
            Event.Kind.SETTINGS, {"phones_suggest_level": allowed}, phones_suggest_level=allowed
        )

    def work_on(self, cause: Cause | None) -> None:
        """Make `cause` and what is under it the smaller part the group works on
        in Reflect and Act (the projector and the ballot show only that branch);
        None: the whole tree again. The cause gets the "smaller part, easier to
        change" tag; clearing the branch leaves the tag as it is."""
        with transaction.atomic():
            self.lock()
            if cause is not None:
                cause = Cause.objects.filter(pk=cause.pk, session_id=self.pk).first()
                if cause is None:
                    raise Refused(_("That cause belongs to another session."), status=404)
                if cause.state != Cause.State.VISIBLE:
                    raise Refused(_("Only a cause on the board can be worked on."), status=409)
                if not cause.smaller_part:
                    Cause.objects.filter(pk=cause.pk).update(smaller_part=True)
            Session.objects.filter(pk=self.pk).update(branch=cause)
            self.branch = cause
            self.record(Event.Kind.BRANCH, cause=cause.pk if cause else None)

    def in_branch(self, cause_id: int) -> bool:
        """Whether a cause is in the smaller part the group works on (always,
        with none chosen). Runs a query when a branch is chosen."""
        if self.branch_id is None or cause_id == self.branch_id:
            return True
        return is_descendant(self.parent_map(), cause_id, of=self.branch_id)

    def start_timer(self, seconds: int) -> None:
        ends = timezone.now() + timedelta(seconds=seconds)
        self._set(Event.Kind.TIMER, {"timer_ends_at": ends}, seconds=seconds)

    def stop_timer(self) -> None:
        self._set(Event.Kind.TIMER, {"timer_ends_at": None}, seconds=0)

    @property
    def voting_open(self) -> bool:
        return self.phase == Session.Phase.REFLECT and not self.votes_revealed and self.is_running

    def vote(self, participant: Participant, cause_id: int, dots: int) -> int:
        """Put `dots` of the participant's dots on a cause (0 takes them all back).

        Setting a number rather than adding one makes a retried request
        harmless. Returns the dots the participant has left.
        """
        with transaction.atomic():
            session = self.lock()
            session.refuse_participant(participant)
            if not session.voting_open:
                raise Refused(_("Voting is not open right now."), status=409)
            cause = Cause.objects.filter(pk=cause_id, session_id=self.pk).first()
            if cause is None:
                raise Refused(_("That cause is not part of this session."), status=404)
            if cause.state != Cause.State.VISIBLE:
                raise Refused(_("That cause is no longer on the board."), status=409)
            if dots and not session.in_branch(cause.pk):
                raise Refused(
                    _("The group is working on a smaller part now: vote for a cause in it."), 409
                )
            if dots < 0:
                raise Refused(_("Choose how many dots to put on this cause."))
            if dots > 1 and not session.stack_dots:
                raise Refused(_("In this session, each cause can get only one of your dots."))
            mine = Vote.objects.filter(participant=participant)
            elsewhere = sum(v.dots for v in mine if v.cause_id != cause_id)
            if elsewhere + dots > session.dot_budget:
                raise Refused(
                    _("You have used all your dots. Take one back from another cause first."),
                    status=409,
                )
            if dots:
                Vote.objects.update_or_create(
                    session_id=self.pk,
                    participant=participant,
                    cause_id=cause_id,
                    defaults={"dots": dots},
                )
            else:
                mine.filter(cause_id=cause_id).delete()
            self.record(Event.Kind.VOTE)
            return session.dot_budget - elsewhere - dots

    def tally(self) -> dict[int, int]:
        """Dots per cause, merged causes' dots counted on their target. One query."""
        rows = self.votes.values_list("cause_id", "cause__merged_into_id", "dots")
        counts: dict[int, int] = {}
        for cause_id, merged_into, dots in rows:
            target = merged_into or cause_id
            counts[target] = counts.get(target, 0) + dots
        return counts

    def add_action(
        self,
        text: str,
        cause_ids: list[int],
        *,
        author: Participant | None = None,
        key: str = "",
    ) -> Action:
        """A proposed action addressing one or more causes.

        Participants propose only in the "act" phase of an open session, and
        only for the causes that matter most unless the session allows any;
        their proposals are moderated like answers. `key` works as in add_cause.
        """
        with transaction.atomic():
            session = self.lock()
            earlier = resent(Action, author, key)
            if earlier is not None:
                if earlier.text != text or set(earlier.cause_ids) != set(cause_ids):
                    raise Refused(SENT_WITH_OTHER_WORDS, 409)
                return earlier
            if author is not None:
                if not session.join_code:
                    raise Refused(_("This session is closed: ideas can no longer be sent."), 409)
                session.refuse_participant(author)
                if session.phase != Session.Phase.ACT:
                    raise Refused(_("The group is not collecting actions right now."), 409)
            if not cause_ids:
                raise Refused(_("Choose at least one cause this action addresses."))
            causes = list(Cause.objects.filter(pk__in=set(cause_ids), session_id=self.pk))
            if len(causes) != len(set(cause_ids)):
                raise Refused(_("That cause is not part of this session."), status=404)
            if any(c.state != Cause.State.VISIBLE for c in causes):
                raise Refused(_("That cause is no longer on the board."), status=409)
            if (
                author is not None
                and not session.actions_for_any_cause
                and not all(c.matters_most for c in causes)
            ):
                raise Refused(_("Actions are collected for the causes that matter most."), 409)
            held = author is not None and session.holds(text)
            action = Action.objects.create(
                session_id=self.pk,
                text=text,
                author=author,
                state=Action.State.PENDING if held else Action.State.VISIBLE,
                submission_key=key if author is not None else "",
            )
            ActionLink.objects.bulk_create(
                ActionLink(session_id=self.pk, action=action, cause=c) for c in causes
            )
            self.record(Event.Kind.ACTION_ADDED, action=action.pk)
            return action

    def add_cause(
        self,
        text: str,
        parent_id: int | None = None,
        *,
        author: Participant | None = None,
        key: str = "",
        level: str = "",
    ) -> Cause:
        """A new answer under cause `parent_id` (None: under the situation).

        Participants can answer only while the session is open, and only
        under causes on the board; their answers wait for approval if the
        session holds them. The facilitator's own additions skip moderation.
        `key` makes a participant's retried submission (a double tap, a lost
        response) return the first cause instead of adding a second one.
        """
        with transaction.atomic():
            session = self.lock()
            earlier = resent(Cause, author, key)
            if earlier is not None:
                if (earlier.text, earlier.parent_id) != (text, parent_id):
                    raise Refused(SENT_WITH_OTHER_WORDS, 409)
                return earlier
            if author is not None and not session.join_code:
                raise Refused(_("This session is closed: answers can no longer be sent."), 409)
            if author is not None:
                session.refuse_participant(author)
            if parent_id is not None:
                parent = Cause.objects.filter(pk=parent_id, session_id=self.pk).first()
                if parent is None:
                    raise Refused(_("That question is not part of this session."), status=404)
                if parent.state != Cause.State.VISIBLE:
                    raise Refused(
                        _("That cause is no longer on the board. Please answer the new question."),
                        status=409,
                    )
                if author is not None and not session.was_asked(parent_id):
                    raise Refused(NOT_ASKED, status=409)
                if depth_of(self.parent_map(), parent_id) + 1 > settings.MAX_TREE_DEPTH:
                    raise Refused(too_deep(), status=409)
            held = author is not None and session.holds(text)
            cause = Cause.objects.create(
                session_id=self.pk,
                parent_id=parent_id,
                text=text,
                author=author,
                state=Cause.State.PENDING if held else Cause.State.VISIBLE,
                submission_key=key if author is not None else "",
                # A phone's suggestion counts only where the session asks for one.
                level=level if author is None or session.phones_suggest_level else "",
            )
            self.record(Event.Kind.CAUSE_ADDED, cause=cause.pk)
            return cause

    def undo(self, seq: int | None = None) -> Event:
        """Put back what the latest moderation action changed that is not undone yet.

        `seq`: the event a notice's Undo button was shown for; refused if
        something else was changed since, so that it never undoes another change.
        """
        with transaction.atomic():
            session = self.lock()
            event = self.events.filter(undone=False, data__has_key="undo").order_by("-seq").first()
            if event is None:
                raise Refused(_("There is nothing to undo."), status=409)
            if seq is not None and event.seq != seq:
                raise Refused(
                    _("This was undone already, or something was changed since: look again."),
                    status=409,
                )
            undo = event.data["undo"]
            parents = self.parent_map()
            now = dict(parents)
            restored: list[Cause | Action] = []
            for model in (Cause, Action):
                entries = undo.get(model.UNDO_KEY, [])
                items = {i.pk: i for i in model.objects.filter(pk__in=[e["id"] for e in entries])}
                for before in entries:
                    item = items.get(before["id"])
                    if item is None or item.state == Cause.State.WITHDRAWN:
                        continue  # Its author took it back since: that stands.
                    if isinstance(item, Cause) and before["parent_id"] != item.parent_id:
                        parents[item.pk] = before["parent_id"]
                    for field in model.UNDOABLE_FIELDS:
                        # An event from before a field existed leaves it as it is.
                        if field in before:
                            setattr(item, field, before[field])
                    restored.append(item)
            if any(isinstance(i, Cause) and creates_cycle(parents, i.pk) for i in restored):
                raise Refused(_("This can no longer be undone: it would make a loop."), 409)
            # Answers added since may have made a branch too deep to go back.
            for item in restored:
                if isinstance(item, Cause) and parents[item.pk] != now[item.pk]:
                    levels = levels_from(parents, item.pk) - 1
                    refuse_deeper(
                        depth_of(parents, item.pk) + levels, depth_of(now, item.pk) + levels
                    )
            for item in restored:
                item.save(update_fields=item.UNDOABLE_FIELDS)
            for action_id, cause_id in undo.get("links_added", []):
                ActionLink.objects.filter(action_id=action_id, cause_id=cause_id).delete()
            if session.focus_id == undo.get("focus_after"):
                Session.objects.filter(pk=self.pk).update(focus_id=undo.get("focus_before"))
                self.focus_id = undo.get("focus_before")
            event.undone = True
            event.save(update_fields=["undone"])
            return self.record(Event.Kind.UNDO, of=event.seq)

    def was_asked(self, cause_id: int) -> bool:
        """Whether the room is asked "but why?" about this cause, now or earlier.

        Phones answer the question on their screen; a draft typed before the
        focus moved on still belongs to the question it was typed for. The
        event log says which causes were ever the focus (one query, only when
        the cause is not the focus now; self should be fresh from lock()).
        """
        if cause_id == self.focus_id:
            return True
        return self.events.filter(kind="focus", data__cause=cause_id).exists()

    def refocus_away_from(self, cause: Cause, to: Cause | None = None) -> None:
        """When the focused cause leaves the board, ask about its parent (or `to`) instead."""
        if self.focus_id != cause.pk:
            return
        new_focus = to.pk if to is not None else cause.parent_id
        Session.objects.filter(pk=self.pk).update(focus_id=new_focus)
        self.focus_id = new_focus

    def parent_map(self) -> dict[int, int | None]:
        """Every cause's parent id, in one query: enough to check for loops."""
        return dict(self.causes.values_list("id", "parent_id"))

    def review(self, action_id: int, status: str, notes: str) -> Event:
        """In the Review step: what became of an action of the earlier plan.

        The action's own session records its change too (Action.follow_up);
        this one records it for the room that is reviewing it now.
        """
        with transaction.atomic():
            session = self.lock()
            earlier = session.follows_id
            action = (
                Action.objects.filter(pk=action_id, session_id=earlier, agreed=True).first()
                if earlier is not None
                else None
            )
            if action is None:
                raise Refused(_("This action is not in the plan under review."), status=404)
            action.follow_up(status, notes)
            return self.record(Event.Kind.REVIEW, action=action.pk)

    def earlier_plan(self) -> models.QuerySet[Action]:
        """The plan this follow-up opens by reviewing: the agreed actions of the
        session it follows, in plan order, with their links and causes
        prefetched (two queries when evaluated; none, and empty, if it follows
        nothing). Each action's `status`, `notes` and `is_overdue` say what
        became of it.
        """
        if self.follows_id is None:
            return Action.objects.none()
        return (
            Action.objects.filter(session_id=self.follows_id, agreed=True)
            .order_by("plan_order", "id")
            .with_causes()
        )


class Participant(models.Model):
    """Someone on a phone, with no account: the browser keeps `key` in a cookie."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    key = models.CharField(max_length=40, unique=True, default=new_participant_key, editable=False)
    name = models.CharField(max_length=60, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    # When this phone agreed to the group agreements (asked once, not again).
    agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            # The target of the composite foreign key that keeps votes in one session.
            models.UniqueConstraint(fields=["session", "id"], name="participant_session_id_unique"),
        ]

    def __str__(self) -> str:
        return self.name or f"Participant {self.pk}"

    @classmethod
    def join(cls, session: Session, name: str = "") -> Participant:
        with transaction.atomic():
            locked = session.lock()
            if not locked.join_code:
                raise Refused(_("This session is not open for joining."), status=404)
            if locked.joining_closed:
                raise Refused(JOINING_CLOSED, status=403)
            if (
                locked.max_participants is not None
                and cls.objects.filter(session=session).count() >= locked.max_participants
            ):
                raise Refused(_("This session is full. Please ask the facilitator."), status=409)
            participant = cls.objects.create(session=session, name=name)
            session.record(Event.Kind.JOINED)
            return participant


PAUSED = _(
    "The room is taking a moment. Your words are kept on this phone: "
    "send them when the room goes on."
)
AGREE_FIRST = _("Please read the group agreements and agree first. Your words are kept.")

NOT_CLOSING = _(
    "The closing round has not started yet. Your line is kept: send it when the "
    "facilitator asks what we learned."
)

NO_CAUSES_YET = _(
    "There are no causes on the board yet: ask the group why first, then reflect and act on them."
)
JOINING_CLOSED = _(
    "Joining is closed for this session. If you are in the room, ask the facilitator to let you in."
)
ENDED = _("The session has ended: answers stay as they are.")
NOT_ASKED = _("Nobody asked about that answer yet. Please answer the question on the screen.")
SENT_WITH_OTHER_WORDS = _("This form was already sent with other words. Please reload.")


def resent[T: (Cause, Action, ClosingLine)](
    model: type[T], author: Participant | None, key: str
) -> T | None:
    """What a phone's form submission `key` already made, if this post is a retry
    (a double tap, a lost response): the caller returns it rather than add a second."""
    if author is None or not key:
        return None
    return model.objects.filter(author=author, submission_key=key).first()


def _too_deep_message() -> str:
    limit = settings.MAX_TREE_DEPTH
    return ngettext(
        "The tree can only be %(limit)d level deep. Please answer a question higher up.",
        "The tree can only be %(limit)d levels deep. Please answer a question higher up.",
        limit,
    ) % {"limit": limit}


def _too_deep_to_move_message() -> str:
    limit = settings.MAX_TREE_DEPTH
    return ngettext(
        "There, these answers would go deeper than the tree's %(limit)d level.",
        "There, these answers would go deeper than the tree's %(limit)d levels.",
        limit,
    ) % {"limit": limit}


# Lazy, so that the message reads in the language the page answers in.
too_deep = lazy(_too_deep_message, str)
too_deep_to_move = lazy(_too_deep_to_move_message, str)


def refuse_deeper(deepest: int, before: int) -> None:
    """Refuse a change whose deepest answer would land past MAX_TREE_DEPTH, unless
    it sat deeper still before: a branch from before the limit may move up."""
    if deepest > settings.MAX_TREE_DEPTH and deepest > before:
        raise Refused(too_deep_to_move(), status=409)


def depth_of(parents: dict[int, int | None], pk: int) -> int:
    """How deep `pk` sits: 1 for an answer to the situation itself."""
    depth, node, seen = 1, parents.get(pk), {pk}
    while node is not None and node not in seen:
        depth += 1
        seen.add(node)
        node = parents.get(node)
    return depth


def levels_from(parents: dict[int, int | None], pk: int) -> int:
    """How many levels `pk` and its answers span: 1 for a cause nobody answered."""
    children: dict[int | None, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    levels, level, seen = 0, [pk], {pk}
    while level:
        levels += 1
        level = [c for p in level for c in children.get(p, []) if c not in seen]
        seen.update(level)
    return levels


def creates_cycle(parents: dict[int, int | None], start: int) -> bool:
    """Whether following parents up from `start` comes back to it."""
    seen = {start}
    node = parents.get(start)
    while node is not None:
        if node in seen:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


class Moderated:
    """What the facilitator does to what phones send: a cause, an action, a closing line."""

    # The Event.Kind of approve(), reject(), hide() and unhide() starts with this.
    EVENT_PREFIX = ""
    # Each has its own states; these four are the ones every one has.
    State: Any

    def approve(self) -> Event:
        return self._set_state(
            self.EVENT_PREFIX + "approve", self.State.VISIBLE, allowed={self.State.PENDING}
        )

    def reject(self) -> Event:
        return self._set_state(
            self.EVENT_PREFIX + "reject", self.State.REJECTED, allowed={self.State.PENDING}
        )

    def hide(self) -> Event:
        return self._set_state(
            self.EVENT_PREFIX + "hide", self.State.HIDDEN, allowed={self.State.VISIBLE}
        )

    def unhide(self) -> Event:
        return self._set_state(
            self.EVENT_PREFIX + "unhide", self.State.VISIBLE, allowed={self.State.HIDDEN}
        )

    def _set_state(self, kind: str, state: str, *, allowed: set[str]) -> Event:
        raise NotImplementedError


class Contribution(Moderated, models.Model):
    """What people contribute and the facilitator moderates: a cause, an action."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        VISIBLE = "visible", _("On the board")
        HIDDEN = "hidden", _("Hidden")
        REJECTED = "rejected", _("Not shown")
        MERGED = "merged", _("Merged")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="%(class)ss")
    text = models.CharField(max_length=settings.CAUSE_MAX_LENGTH)
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="%(class)ss"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.VISIBLE)
    # CASCADE: a merge target goes only with its whole session, and a merged
    # one must keep its target (%(class)s_merged_has_target).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The participant's form submission that made it (see Session.add_cause).
    submission_key = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="%(class)s_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=["pending", "visible", "hidden", "rejected", "merged", "withdrawn"]
                ),
                name="%(class)s_state_known",
            ),
            models.CheckConstraint(
                condition=Q(state="merged", merged_into__isnull=False)
                | (~Q(state="merged") & Q(merged_into__isnull=True)),
                name="%(class)s_merged_has_target",
            ),
            # The target of the composite foreign keys that keep parents, merge
            # targets and links inside the same session (migration 0002).
            models.UniqueConstraint(fields=["session", "id"], name="%(class)s_session_id_unique"),
            # Also the index for "has this participant sent this form already?".
            models.UniqueConstraint(
                fields=["author", "submission_key"],
                condition=~Q(submission_key=""),
                name="%(class)s_submitted_once",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Cause(Contribution):
    class CanChange(models.TextChoices):
        UNKNOWN = "", _("Not discussed")
        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNSURE = "unsure", _("Not sure")

    class WhoCanChange(models.TextChoices):
        UNKNOWN = "", _("Not discussed")
        INSIDE = "inside", _("We can, inside the group")
        OUTSIDE = "outside", _("Someone outside the group")

    class Level(models.TextChoices):
        """Where a cause sits, from one person's choices to the conditions around
        them: the guide's "larger social issues". In this order on every screen."""

        UNPLACED = "", _("Not placed yet")
        PERSON = "person", _("One person")
        FAMILY = "family", _("Family and friends")
        COMMUNITY = "community", _("The community")
        SERVICES = "services", _("Services and institutions")
        LAWS = "laws", _("Laws, money and power")

    # What undo puts back (Session.undo), under this key of the event's data.
    UNDO_KEY = "causes"
    TAG_FIELDS = ["matters_most", "can_change", "who_can_change", "actor", "smaller_part", "level"]
    UNDOABLE_FIELDS = ["state", "parent_id", "text", "merged_into_id", *TAG_FIELDS]
    # What reword() says when the wording cannot be changed.
    GONE = _("This cause is no longer on the board.")
    EDITED_MEANWHILE = _(
        "Someone changed this cause while you were editing it. Check the "
        "wording it has now, then save yours again."
    )

    # Null: an answer to the situation itself. The parent is always in the same
    # session: a composite foreign key enforces it (migration 0002).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # Tags the facilitator sets while the group reflects.
    matters_most = models.BooleanField(default=False)
    can_change = models.CharField(
        max_length=10, choices=CanChange.choices, blank=True, default=CanChange.UNKNOWN
    )
    who_can_change = models.CharField(
        max_length=10, choices=WhoCanChange.choices, blank=True, default=WhoCanChange.UNKNOWN
    )
    # Who outside the group could change it ("the city council").
    actor = models.CharField(max_length=ACTOR_MAX_LENGTH, blank=True, default="")
    # "A smaller part, easier to change."
    smaller_part = models.BooleanField(default=False)
    # From one person to laws, money and power (Level). A phone's suggestion
    # lands here too when the session asks for it; the facilitator's wins.
    level = models.CharField(
        max_length=10, choices=Level.choices, blank=True, default=Level.UNPLACED
    )

    class Meta(Contribution.Meta):
        constraints = [
            *Contribution.Meta.constraints,
            models.CheckConstraint(
                condition=Q(can_change__in=["", "yes", "no", "unsure"]),
                name="cause_can_change_known",
            ),
            models.CheckConstraint(
                condition=Q(who_can_change__in=["", "inside", "outside"]),
                name="cause_who_can_change_known",
            ),
            models.CheckConstraint(
                condition=Q(level__in=["", "person", "family", "community", "services", "laws"]),
                name="cause_level_known",
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="cause_not_its_own_parent"),
        ]

    @property
    def is_visible(self) -> bool:
        return self.state == self.State.VISIBLE

    @property
    def next_level(self) -> str:
        """The level one click (or L) on the console moves it to: the next one
        out, from one person to laws, money and power, then not placed again."""
        order = Cause.Level.values
        return order[(order.index(self.level) + 1) % len(order)] if self.level in order else ""

    def _set_state(self, kind: str, state: str, *, allowed: set[str]) -> Event:
        def change(cause: Cause, session: Session) -> None:
            if cause.state not in allowed:
                raise Refused(_("Someone changed this cause already. Look again."), status=409)
            cause.state = state
            cause.save(update_fields=["state"])
            if state != self.State.VISIBLE:
                session.refocus_away_from(cause)

        return moderate(self, kind, change)

    def edit(self, text: str, was: str | None = None) -> Event:
        return reword(self, Event.Kind.EDIT, text, was)

    def edit_and_approve(self, text: str, was: str | None = None) -> Event:
        """New wording for a held answer (a name taken out, say), and on the board:
        one step, and one undo puts back both."""

        def change(cause: Cause, session: Session) -> None:
            if cause.state != self.State.PENDING:
                raise Refused(_("Someone changed this cause already. Look again."), status=409)
            if was is not None and cause.text != was:
                raise Refused(self.EDITED_MEANWHILE, status=409)
            cause.text = text
            cause.state = self.State.VISIBLE
            cause.save(update_fields=["text", "state"])

        return moderate(self, Event.Kind.EDIT_APPROVE, change)

    def merge_into(self, target: Cause) -> Event:
        """Fold this duplicate into `target`: its children follow it there."""

        def change(cause: Cause, session: Session) -> Changed:
            into = Cause.objects.filter(pk=target.pk, session_id=session.pk).first()
            if into is None:
                raise Refused(_("That cause is not part of this session."), status=404)
            if into.pk == cause.pk:
                raise Refused(_("A cause cannot be merged into itself."))
            if cause.state != self.State.VISIBLE or into.state != self.State.VISIBLE:
                raise Refused(_("Only causes on the board can be merged."), status=409)
            parents = session.parent_map()
            if is_descendant(parents, into.pk, of=cause.pk):
                raise Refused(_("A cause cannot be merged into one of its own answers."))
            # Its answers move under `into`: the deepest of them must still fit.
            below = levels_from(parents, cause.pk) - 1
            if below:
                refuse_deeper(
                    depth_of(parents, into.pk) + below, depth_of(parents, cause.pk) + below
                )
            children = list(cause.children.all())
            cause.children.update(parent=into)
            cause.state = self.State.MERGED
            cause.merged_into = into
            cause.save(update_fields=["state", "merged_into"])
            session.refocus_away_from(cause, to=into)
            # Actions for the duplicate now address the cause it joined.
            have = set(into.action_links.values_list("action_id", flat=True))
            links = [
                ActionLink(session_id=session.pk, action_id=a, cause=into)
                for a in cause.action_links.values_list("action_id", flat=True)
                if a not in have
            ]
            ActionLink.objects.bulk_create(links)
            return Changed(items=children, links=[(link.action_id, into.pk) for link in links])

        return moderate(self, Event.Kind.MERGE, change)

    def place(self, level: str) -> Event:
        """Put the cause on a level (Level; "" takes it off). Undone like a tag."""
        if level not in Cause.Level.values:
            raise Refused(_("Choose one of the five levels."))
        return self.tag(level=level)

    def tag(self, **tags: Any) -> Event:
        """Set the reflection tags (TAG_FIELDS) on a cause that is on the board."""
        unknown = set(tags) - set(self.TAG_FIELDS)
        assert not unknown, f"not tags: {unknown}"

        def change(cause: Cause, session: Session) -> None:
            if cause.state != self.State.VISIBLE:
                raise Refused(_("Only a cause on the board can be tagged."), status=409)
            for field, value in tags.items():
                setattr(cause, field, value)
            cause.save(update_fields=list(tags))

        return moderate(self, Event.Kind.TAG, change)

    def move_under(self, parent: Cause | None) -> Event:
        """Move this cause (and its answers) under `parent`; None: under the situation."""

        def change(cause: Cause, session: Session) -> None:
            new_parent = None
            if parent is not None:
                new_parent = Cause.objects.filter(pk=parent.pk, session_id=session.pk).first()
                if new_parent is None:
                    raise Refused(_("That cause is not part of this session."), status=404)
                if new_parent.state != self.State.VISIBLE:
                    raise Refused(_("Causes can only be moved under a cause on the board."), 409)
            parents = session.parent_map()
            cause_depth_before = depth_of(parents, cause.pk)
            parents[cause.pk] = new_parent.pk if new_parent else None
            if new_parent and (new_parent.pk == cause.pk or creates_cycle(parents, cause.pk)):
                raise Refused(_("A cause cannot be moved under itself or one of its own answers."))
            # The whole moved branch must fit; moving a too deep one up is fine.
            levels = levels_from(parents, cause.pk) - 1
            refuse_deeper(depth_of(parents, cause.pk) + levels, cause_depth_before + levels)
            cause.parent = new_parent
            cause.save(update_fields=["parent"])

        return moderate(self, Event.Kind.MOVE, change)

    def withdraw(self) -> Event:
        """The author takes their answer back (nothing to undo for the facilitator)."""
        with transaction.atomic():
            session = self.session.lock()
            if not session.is_running:
                raise Refused(ENDED, status=409)
            fresh = Cause.objects.get(pk=self.pk)
            if fresh.state not in {self.State.PENDING, self.State.VISIBLE}:
                raise Refused(_("This answer is no longer on the board."), status=409)
            if fresh.children.filter(state=self.State.VISIBLE).exists():
                raise Refused(
                    _("Others have already answered below this one, so it stays."), status=409
                )
            fresh.state = self.State.WITHDRAWN
            fresh.save(update_fields=["state"])
            self.state = fresh.state
            session.refocus_away_from(fresh)
            return session.record(Event.Kind.WITHDRAW, cause=self.pk)


def is_descendant(parents: dict[int, int | None], pk: int, *, of: int) -> bool:
    node = parents.get(pk)
    seen = set()
    while node is not None and node not in seen:
        if node == of:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def snapshot(item: Cause | Action) -> dict[str, Any]:
    return {"id": item.pk, **{field: getattr(item, field) for field in item.UNDOABLE_FIELDS}}


def reword(item: Cause | Action, kind: str, text: str, was: str | None) -> Event:
    """New wording for a cause or an action; `was` is the wording the editor
    saw, so that an edit made meanwhile by someone else is not overwritten unseen."""

    def change(fresh: Cause | Action, session: Session) -> None:
        if fresh.state in {Cause.State.MERGED, Cause.State.WITHDRAWN}:
            raise Refused(item.GONE, status=409)
        if was is not None and fresh.text != was:
            raise Refused(item.EDITED_MEANWHILE, status=409)
        fresh.text = text
        fresh.save(update_fields=["text"])

    return moderate(item, kind, change)


@dataclasses.dataclass(frozen=True)
class Changed:
    """What a moderation changed besides its own cause or action, for undo."""

    # Other causes or actions it changed (a merge's children), as they were.
    items: Sequence[Cause | Action] = ()
    # The links it added, as (action_id, cause_id).
    links: Sequence[tuple[int, int]] = ()


def moderate(
    item: Cause | Action, kind: str, change: Callable[[Any, Session], Changed | None]
) -> Event:
    """Run `change(fresh, session)` under the session lock, recording how to undo it.

    `change` returns what else it changed, if anything.
    """
    model = type(item)
    with transaction.atomic():
        session = item.session.lock()
        fresh = model.objects.get(pk=item.pk)
        if fresh.session_id != session.pk:
            raise Refused(_("That belongs to another session."), status=404)
        before: dict[str, list[dict[str, Any]]] = {model.UNDO_KEY: [snapshot(fresh)]}
        focus_before = session.focus_id
        changed = change(fresh, session) or Changed()
        for other in changed.items:
            before.setdefault(type(other).UNDO_KEY, []).append(snapshot(other))
        focus_after = Session.objects.filter(pk=session.pk).values_list("focus_id", flat=True)
        for field in model.UNDOABLE_FIELDS:
            setattr(item, field, getattr(fresh, field))
        return session.record(
            kind,
            **{model.__name__.lower(): item.pk},
            undo={
                **before,
                "links_added": changed.links,
                "focus_before": focus_before,
                "focus_after": focus_after.get(),
            },
        )


class Vote(models.Model):
    """A participant's dots on one cause."""

    # The cause and the participant are in this session: composite foreign
    # keys on PostgreSQL, triggers on SQLite (integrity.py).
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="votes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="votes")
    cause = models.ForeignKey(Cause, on_delete=models.CASCADE, related_name="votes")
    dots = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            # Also the index for "this participant's dots".
            models.UniqueConstraint(fields=["participant", "cause"], name="vote_once_per_cause"),
            models.CheckConstraint(
                condition=Q(dots__gte=1, dots__lte=MAX_DOTS), name="vote_dots_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dots} on {self.cause_id}"


class ActionQuerySet(models.QuerySet["Action"]):
    def with_causes(self) -> Self:
        """Prefetch each action's links with their causes (`cause_ids`, `addressed`)."""
        return self.prefetch_related(
            models.Prefetch(
                "links", queryset=ActionLink.objects.select_related("cause").order_by("cause_id")
            )
        )


class Action(Contribution):
    """Something the group could do about one or more causes; agreed ones make the plan."""

    EVENT_PREFIX = "action_"

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        STARTED = "started", _("Started")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    UNDO_KEY = "actions"
    UNDOABLE_FIELDS = ["state", "text", "merged_into_id"]
    GONE = _("This action is no longer on the board.")
    EDITED_MEANWHILE = _(
        "Someone changed this action while you were editing it. Check the "
        "wording it has now, then save yours again."
    )

    causes = models.ManyToManyField(Cause, through="ActionLink", related_name="actions")
    # The plan: agreed actions, in the order the group chose.
    agreed = models.BooleanField(default=False)
    plan_order = models.PositiveIntegerField(null=True, blank=True)
    # Who will do it: someone of the group, or an outside actor to approach.
    owner = models.CharField(max_length=OWNER_MAX_LENGTH, blank=True, default="")
    owner_outside = models.BooleanField(default=False)
    first_step = models.CharField(max_length=settings.CAUSE_MAX_LENGTH, blank=True, default="")
    due = models.DateField(null=True, blank=True)
    # Followed up on the group's page, from one meeting to the next.
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    notes = models.TextField(max_length=NOTES_MAX_LENGTH, blank=True, default="")
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = ActionQuerySet.as_manager()

    class Meta(Contribution.Meta):
        constraints = [
            *Contribution.Meta.constraints,
            models.CheckConstraint(
                condition=Q(status__in=["not_started", "started", "done", "dropped"]),
                name="action_status_known",
            ),
            models.CheckConstraint(
                condition=Q(agreed=False) | Q(plan_order__isnull=False),
                name="action_agreed_has_place_in_plan",
            ),
        ]
        indexes = [
            # The group page: open actions across a group's sessions.
            models.Index(fields=["agreed", "status"], name="action_agreed_status"),
        ]

    @property
    def cause_ids(self) -> list[int]:
        """The causes it addresses. Runs a query unless links were prefetched."""
        return [link.cause_id for link in self.links.all()]

    @property
    def addressed(self) -> list[Cause]:
        """The causes on the board it addresses. Queries unless links come prefetched."""
        return [link.cause for link in self.links.all() if link.cause.state == Cause.State.VISIBLE]

    @property
    def is_overdue(self) -> bool:
        return (
            self.due is not None
            and self.status in {self.Status.NOT_STARTED, self.Status.STARTED}
            and self.due < timezone.localdate()
        )

    def _set_state(self, kind: str, state: str, *, allowed: set[str]) -> Event:
        def change(action: Action, session: Session) -> None:
            if action.state not in allowed:
                raise Refused(_("Someone changed this action already. Look again."), status=409)
            if action.agreed:
                raise Refused(_("Take this action out of the plan first."), status=409)
            action.state = state
            action.save(update_fields=["state"])

        return moderate(self, kind, change)

    def edit(self, text: str, was: str | None = None) -> Event:
        return reword(self, Event.Kind.ACTION_EDIT, text, was)

    def merge_into(self, target: Action) -> Event:
        """Fold this duplicate into `target`, which then addresses the causes of both."""

        def change(action: Action, session: Session) -> Changed:
            into = Action.objects.filter(pk=target.pk, session_id=session.pk).first()
            if into is None:
                raise Refused(_("That action is not part of this session."), status=404)
            if into.pk == action.pk:
                raise Refused(_("An action cannot be merged into itself."))
            if action.state != self.State.VISIBLE or into.state != self.State.VISIBLE:
                raise Refused(_("Only actions on the board can be merged."), status=409)
            if action.agreed:
                raise Refused(_("Take this action out of the plan before merging it."), 409)
            have = set(into.links.values_list("cause_id", flat=True))
            added = [c for c in action.links.values_list("cause_id", flat=True) if c not in have]
            ActionLink.objects.bulk_create(
                ActionLink(session_id=session.pk, action=into, cause_id=c) for c in added
            )
            action.state = self.State.MERGED
            action.merged_into = into
            action.save(update_fields=["state", "merged_into"])
            return Changed(links=[(into.pk, c) for c in added])

        return moderate(self, Event.Kind.ACTION_MERGE, change)

    def withdraw(self) -> Event:
        """The author takes their proposal back."""
        with transaction.atomic():
            session = self.session.lock()
            if not session.is_running:
                raise Refused(ENDED, status=409)
            fresh = Action.objects.get(pk=self.pk)
            if fresh.state not in {self.State.PENDING, self.State.VISIBLE} or fresh.agreed:
                raise Refused(_("This idea is no longer open to withdraw."), status=409)
            fresh.state = self.State.WITHDRAWN
            fresh.save(update_fields=["state"])
            self.state = fresh.state
            return session.record(Event.Kind.ACTION_WITHDRAW, action=self.pk)

    def agree(self, *, owner: str, owner_outside: bool, first_step: str, due: date | None) -> Event:
        """Put the action in the plan (at the end, if new there): who, first step, when."""
        with transaction.atomic():
            session = self.session.lock()
            fresh = Action.objects.get(pk=self.pk)
            if fresh.state != self.State.VISIBLE:
                raise Refused(_("Only an action on the board can go in the plan."), status=409)
            if not fresh.agreed:
                last = session.actions.filter(agreed=True).aggregate(models.Max("plan_order"))
                fresh.plan_order = (last["plan_order__max"] or 0) + 1
            fresh.agreed = True
            fresh.owner, fresh.owner_outside = owner, owner_outside
            fresh.first_step, fresh.due = first_step, due
            fresh.save()
            self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_state"})
            return session.record(Event.Kind.PLAN, action=self.pk)

    def leave_plan(self) -> Event:
        with transaction.atomic():
            session = self.session.lock()
            Action.objects.filter(pk=self.pk).update(agreed=False, plan_order=None)
            self.agreed, self.plan_order = False, None
            return session.record(Event.Kind.PLAN, action=self.pk)

    def move_in_plan(self, steps: int) -> Event:
        """Move up (negative) or down the plan, swapping places with its neighbours."""
        with transaction.atomic():
            session = self.session.lock()
            plan = list(session.actions.filter(agreed=True).order_by("plan_order", "id"))
            index = next((i for i, a in enumerate(plan) if a.pk == self.pk), None)
            if index is None:
                raise Refused(_("This action is not in the plan."), status=409)
            target = max(0, min(len(plan) - 1, index + steps))
            plan.insert(target, plan.pop(index))
            for place, action in enumerate(plan, start=1):
                if action.plan_order != place:
                    action.plan_order = place
                    action.save(update_fields=["plan_order"])
            return session.record(Event.Kind.PLAN, action=self.pk)

    def follow_up(self, status: str, notes: str) -> Event:
        """What became of it, between meetings: a status and notes."""
        with transaction.atomic():
            session = self.session.lock()
            if not Action.objects.filter(pk=self.pk, agreed=True).exists():
                raise Refused(_("This action is no longer in the plan."), status=409)
            changed = Action.objects.filter(pk=self.pk).values_list("status", flat=True).get()
            fields: dict[str, Any] = {"status": status, "notes": notes}
            if changed != status:
                fields["status_changed_at"] = timezone.now()
            Action.objects.filter(pk=self.pk).update(**fields)
            for key, value in fields.items():
                setattr(self, key, value)
            return session.record(Event.Kind.ACTION_STATUS, action=self.pk)


class ActionLink(models.Model):
    """An action addresses a cause of the same session (composite keys, integrity.py)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="links")
    cause = models.ForeignKey(Cause, on_delete=models.CASCADE, related_name="action_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "cause"], name="action_link_once"),
        ]

    def __str__(self) -> str:
        return f"{self.action_id} → {self.cause_id}"


class ClosingLine(Moderated, models.Model):
    """One line of the closing round: what we learned, what gives us hope.

    Shown on the projector as a wall without names, and printed.
    """

    EVENT_PREFIX = "closing_"

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        VISIBLE = "visible", _("On the board")
        HIDDEN = "hidden", _("Hidden")
        REJECTED = "rejected", _("Not shown")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="closing_lines")
    text = models.CharField(max_length=CLOSING_LINE_MAX_LENGTH)
    author = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="closing_lines",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.VISIBLE)
    submission_key = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "visible", "hidden", "rejected"]),
                name="closing_line_state_known",
            ),
            # One line a phone; also the index for "has this phone sent its line?".
            models.UniqueConstraint(
                fields=["author"],
                condition=Q(author__isnull=False),
                name="closing_line_once_per_participant",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def _set_state(self, kind: str, state: str, *, allowed: set[str]) -> Event:
        with transaction.atomic():
            session = self.session.lock()
            fresh = ClosingLine.objects.get(pk=self.pk)
            if fresh.state not in allowed:
                raise Refused(_("Someone changed this line already. Look again."), status=409)
            ClosingLine.objects.filter(pk=self.pk).update(state=state)
            self.state = state
            return session.record(kind, line=self.pk)


class GroupStory(models.Model):
    """A situation a group kept as a story for its next sessions.

    The app's own stories are files (storybook.py); these are the group's.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="stories")
    title = models.CharField(max_length=STORY_TITLE_MAX_LENGTH)
    situation = models.TextField(max_length=STORY_SITUATION_MAX_LENGTH)
    question = models.CharField(max_length=STORY_QUESTION_MAX_LENGTH, blank=True, default="")
    kind = models.CharField(max_length=10, choices=Session.Kind.choices, default="problem")
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["problem", "success"]), name="group_story_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SupportContact(models.Model):
    """Where to get support after a session: a helpline, a counsellor."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="support_contacts")
    name = models.CharField(max_length=CONTACT_NAME_MAX_LENGTH)
    # A phone number, an address, or a link (http, https or tel: only; forms.py).
    reach = models.CharField(max_length=CONTACT_REACH_MAX_LENGTH)
    hours = models.CharField(max_length=CONTACT_HOURS_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def href(self) -> str:
        """A link for `reach`: itself if it is http(s) or tel:, tel: for a phone
        number, "" for an address."""
        reach = self.reach.strip()
        if re.match(r"(?i)https?://", reach):
            return reach
        if re.match(r"(?i)tel:", reach):
            return "tel:" + re.sub(r"[^\d+]", "", reach[4:])
        if re.fullmatch(r"\+?[\d\s().-]{3,}", reach) and sum(c.isdigit() for c in reach) >= 3:
            return "tel:" + re.sub(r"[^\d+]", "", reach)
        return ""


class Event(models.Model):
    """One change to a session. The table is the truth; live streams are wake-ups."""

    class Kind(models.TextChoices):
        """What changed. The label of a change the console can undo names it
        in "Undo <label>"; the others are never shown."""

        ACTION_APPROVE = "action_approve", _("approving")
        ACTION_EDIT = "action_edit", _("editing")
        ACTION_HIDE = "action_hide", _("hiding")
        ACTION_MERGE = "action_merge", _("merging")
        ACTION_REJECT = "action_reject", _("rejecting")
        ACTION_UNHIDE = "action_unhide", _("showing again")
        APPROVE = "approve", _("approving")
        EDIT = "edit", _("editing")
        EDIT_APPROVE = "edit_approve", _("editing and approving")
        HIDE = "hide", _("hiding")
        MERGE = "merge", _("merging")
        MOVE = "move", _("moving")
        REJECT = "reject", _("rejecting")
        TAG = "tag", _("tagging")
        UNHIDE = "unhide", _("showing again")

        ACTION_ADDED = "action_added"
        ACTION_STATUS = "action_status"
        ACTION_WITHDRAW = "action_withdraw"
        AGREEMENTS = "agreements"
        BOARD = "board"
        BRANCH = "branch"
        CAUSE_ADDED = "cause_added"
        CLOSED = "closed"
        CLOSING_ADDED = "closing_added"
        CLOSING_APPROVE = "closing_approve"
        CLOSING_HIDE = "closing_hide"
        CLOSING_REJECT = "closing_reject"
        CLOSING_UNHIDE = "closing_unhide"
        ENDED = "ended"
        FOCUS = "focus"
        JOINED = "joined"
        LEVELS_VIEW = "levels_view"
        OPENED = "opened"
        PAUSE = "pause"
        PHASE = "phase"
        PLAN = "plan"
        REVEAL = "reveal"
        REVIEW = "review"
        SETTINGS = "settings"
        TIMER = "timer"
        UNDO = "undo"
        VOTE = "vote"
        VOTING = "voting"
        WHY_ELSE = "why_else"
        WITHDRAW = "withdraw"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=30)
    data = models.JSONField(default=dict)
    undone = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            # Also the index for "events of this session after seq N".
            models.UniqueConstraint(fields=["session", "seq"], name="event_seq_unique_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq} {self.kind}"

    @property
    def undo_label(self) -> str:
        """What the console's Undo names ("Undo approving"); "" for a change it cannot undo."""
        return str(self.Kind(self.kind).label) if "undo" in self.data else ""


class RateCount(models.Model):
    """Attempts counted against one rate limit, by one client, in one window.

    `sessions/ratelimits.py` counts with a single upsert, so concurrent attempts
    in several server processes are all counted. The key names no one: the
    client's address or participant is hashed into it.
    """

    key = models.CharField(max_length=100, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    # When the window ends, in seconds since the epoch; later rows are dropped.
    ends = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
