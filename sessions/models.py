"""Groups, sessions, participants, the tree of causes, and the event log.

Every change to a session runs in one transaction that takes the session's
lock (`Session.lock`) and appends an `Event` with the next sequence number
(`Session.record`). Because the lock is held until commit, sequence order is
commit order, and live streams (live.py) can trust the numbers as cursors.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sessions import joincodes, wordfilter


def new_public_id() -> str:
    """An unguessable identifier for URLs: never a sequential integer."""
    return secrets.token_urlsafe(9)


def new_participant_key() -> str:
    return secrets.token_urlsafe(24)


class Refused(Exception):
    """A request that cannot be done, with a message for the person who asked."""

    def __init__(self, message, status: int = 400):  # message: str, or lazily translated
        super().__init__(message)
        self.message = message
        self.status = status


class Group(models.Model):
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="butwhy_groups"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def role_of(self, user) -> str | None:
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


class SessionQuerySet(models.QuerySet["Session"]):
    def open(self):
        return self.filter(join_code__isnull=False)

    def for_member(self, user):
        return self.filter(group__memberships__user=user)

    def annotate_role(self, user):
        """Add `role`: the user's role in the session's group (filter by membership first)."""
        return self.annotate(
            role=models.Subquery(
                Membership.objects.filter(group=models.OuterRef("group"), user=user).values("role")[
                    :1
                ]
            )
        )


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
    # The most phones that may join; None: no limit.
    max_participants = models.PositiveIntegerField(null=True, blank=True)
    # Set while the session is open for joining; cleared when it closes, so a
    # code only ever leads to an open session. NULL, not "", so that the
    # unique constraint ignores closed sessions.
    join_code = models.CharField(max_length=8, null=True, blank=True)  # noqa: DJ001
    focus = models.ForeignKey(
        "Cause", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sequence number of the latest Event: the cursor live streams use.
    last_seq = models.PositiveBigIntegerField(default=0)
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
                condition=Q(kind__in=["problem", "success"]), name="session_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(names__in=["anonymous", "optional", "required"]),
                name="session_names_known",
            ),
            models.CheckConstraint(
                condition=Q(moderation__in=["show", "hold"]), name="session_moderation_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.join_code is not None

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
        from sessions import live

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
        """Give the session a join code no other open session holds."""
        for _attempt in range(10):
            try:
                with transaction.atomic():
                    session = self.lock()
                    if session.join_code:
                        self.join_code = session.join_code
                        return
                    code = joincodes.new()
                    Session.objects.filter(pk=self.pk).update(join_code=code)
                    self.join_code = code
                    self.record("opened")
                    return
            except IntegrityError:
                self.join_code = None
                continue
        raise Refused(_("Could not find a free join code. Please try again."), status=503)

    def close_for_joining(self) -> None:
        with transaction.atomic():
            session = self.lock()
            if not session.join_code:
                return
            Session.objects.filter(pk=self.pk).update(join_code=None)
            self.join_code = None
            self.record("closed")

    def set_moderation(self, moderation: str, filter_words: bool) -> None:
        with transaction.atomic():
            self.lock()
            Session.objects.filter(pk=self.pk).update(
                moderation=moderation, filter_words=filter_words
            )
            self.moderation = moderation
            self.filter_words = filter_words
            self.record("settings", moderation=moderation, filter_words=filter_words)

    def ask_why(self, cause: Cause | None) -> None:
        """Make `cause` the focus (None: back to the situation) for every phone."""
        with transaction.atomic():
            self.lock()
            if cause is not None:
                cause = Cause.objects.get(pk=cause.pk)
                if cause.session_id != self.pk:
                    raise Refused(_("That cause belongs to another session."), status=404)
                if cause.state != Cause.State.VISIBLE:
                    raise Refused(_("Only a cause on the board can be asked about."), status=409)
            Session.objects.filter(pk=self.pk).update(focus=cause)
            self.focus = cause
            self.record("focus", cause=cause.pk if cause else None)

    def add_cause(
        self,
        text: str,
        parent_id: int | None = None,
        *,
        author: Participant | None = None,
        key: str = "",
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
            if author is not None and key:
                earlier = Cause.objects.filter(author=author, submission_key=key).first()
                if earlier is not None:
                    if (earlier.text, earlier.parent_id) != (text, parent_id):
                        raise Refused(
                            _("This form was already sent with other words. Please reload."), 409
                        )
                    return earlier
            if author is not None and not session.join_code:
                raise Refused(_("This session is closed: answers can no longer be sent."), 409)
            if parent_id is not None:
                parent = Cause.objects.filter(pk=parent_id, session_id=self.pk).first()
                if parent is None:
                    raise Refused(_("That question is not part of this session."), status=404)
                if parent.state != Cause.State.VISIBLE:
                    raise Refused(
                        _("That cause is no longer on the board. Please answer the new question."),
                        status=409,
                    )
            held = author is not None and (
                session.moderation == Session.Moderation.HOLD
                or (
                    session.filter_words
                    and wordfilter.matches(text, session.language, settings.WORD_FILTER_EXTRA)
                )
            )
            cause = Cause.objects.create(
                session_id=self.pk,
                parent_id=parent_id,
                text=text,
                author=author,
                state=Cause.State.PENDING if held else Cause.State.VISIBLE,
                submission_key=key if author is not None else "",
            )
            self.record("cause_added", cause=cause.pk)
            return cause

    def undo(self) -> Event:
        """Put back what the latest moderation action changed that is not undone yet."""
        with transaction.atomic():
            session = self.lock()
            event = self.events.filter(undone=False, data__has_key="undo").order_by("-seq").first()
            if event is None:
                raise Refused(_("There is nothing to undo."), status=409)
            undo = event.data["undo"]
            causes = {c.pk: c for c in self.causes.filter(pk__in=[c["id"] for c in undo["causes"]])}
            parents = self.parent_map()
            for before in undo["causes"]:
                cause = causes.get(before["id"])
                if cause is None or cause.state == Cause.State.WITHDRAWN:
                    # Its author took it back since: that stands.
                    causes.pop(before["id"], None)
                    continue
                if before["parent_id"] != cause.parent_id:
                    parents[cause.pk] = before["parent_id"]
                for field in Cause.UNDOABLE_FIELDS:
                    setattr(cause, field, before[field])
            if any(creates_cycle(parents, pk) for pk in causes):
                raise Refused(_("This can no longer be undone: it would make a loop."), 409)
            for cause in causes.values():
                cause.save(update_fields=Cause.UNDOABLE_FIELDS)
            if session.focus_id == undo.get("focus_after"):
                Session.objects.filter(pk=self.pk).update(focus_id=undo.get("focus_before"))
                self.focus_id = undo.get("focus_before")
            event.undone = True
            event.save(update_fields=["undone"])
            return self.record("undo", of=event.seq)

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


class Participant(models.Model):
    """Someone on a phone, with no account: the browser keeps `key` in a cookie."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    key = models.CharField(max_length=40, unique=True, default=new_participant_key, editable=False)
    name = models.CharField(max_length=60, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined_at"]

    def __str__(self) -> str:
        return self.name or f"Participant {self.pk}"

    @classmethod
    def join(cls, session: Session, name: str = "") -> Participant:
        with transaction.atomic():
            locked = session.lock()
            if not locked.join_code:
                raise Refused(_("This session is not open for joining."), status=404)
            if (
                locked.max_participants is not None
                and cls.objects.filter(session=session).count() >= locked.max_participants
            ):
                raise Refused(_("This session is full. Please ask the facilitator."), status=409)
            participant = cls.objects.create(session=session, name=name)
            session.record("joined")
            return participant


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


class Cause(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        VISIBLE = "visible", _("On the board")
        HIDDEN = "hidden", _("Hidden")
        REJECTED = "rejected", _("Not shown")
        MERGED = "merged", _("Merged")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # What undo puts back (Session.undo).
    UNDOABLE_FIELDS = ["state", "parent_id", "text", "merged_into_id"]

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="causes")
    # Null: an answer to the situation itself. The parent is always in the same
    # session: a composite foreign key enforces it (migration 0002).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    text = models.CharField(max_length=settings.CAUSE_MAX_LENGTH)
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="causes"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.VISIBLE)
    # CASCADE: a merge target goes only with its whole session, and a merged
    # cause must keep its target (cause_merged_has_target).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The participant's form submission that made this cause (see add_cause).
    submission_key = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="cause_not_its_own_parent"),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="cause_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=["pending", "visible", "hidden", "rejected", "merged", "withdrawn"]
                ),
                name="cause_state_known",
            ),
            models.CheckConstraint(
                condition=Q(state="merged", merged_into__isnull=False)
                | (~Q(state="merged") & Q(merged_into__isnull=True)),
                name="cause_merged_has_target",
            ),
            # The target of the composite foreign keys that keep parent and
            # merge target inside the same session (migration 0002).
            models.UniqueConstraint(fields=["session", "id"], name="cause_session_id_unique"),
            # Also the index for "has this participant sent this form already?".
            models.UniqueConstraint(
                fields=["author", "submission_key"],
                condition=~Q(submission_key=""),
                name="cause_submitted_once",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_visible(self) -> bool:
        return self.state == self.State.VISIBLE

    def _moderate(self, kind: str, change, *extra: Cause) -> Event:
        """Run `change(cause, session)` under the session lock, recording how to undo it."""
        with transaction.atomic():
            session = self.session.lock()
            fresh = Cause.objects.get(pk=self.pk)
            if fresh.session_id != session.pk:
                raise Refused(_("That cause belongs to another session."), status=404)
            touched = [fresh, *(Cause.objects.get(pk=c.pk) for c in extra)]
            before = [snapshot(c) for c in touched]
            focus_before = session.focus_id
            moved = change(fresh, session) or []
            before += [snapshot(c) for c in moved]
            focus_after = Session.objects.filter(pk=session.pk).values_list("focus_id", flat=True)
            for field in Cause.UNDOABLE_FIELDS:
                setattr(self, field, getattr(fresh, field))
            return session.record(
                kind,
                cause=self.pk,
                undo={
                    "causes": before,
                    "focus_before": focus_before,
                    "focus_after": focus_after.get(),
                },
            )

    def approve(self) -> Event:
        return self._set_state("approve", self.State.VISIBLE, allowed={self.State.PENDING})

    def reject(self) -> Event:
        return self._set_state("reject", self.State.REJECTED, allowed={self.State.PENDING})

    def hide(self) -> Event:
        return self._set_state("hide", self.State.HIDDEN, allowed={self.State.VISIBLE})

    def unhide(self) -> Event:
        return self._set_state("unhide", self.State.VISIBLE, allowed={self.State.HIDDEN})

    def _set_state(self, kind: str, state: str, *, allowed: set[str]) -> Event:
        def change(cause: Cause, session: Session) -> None:
            if cause.state not in allowed:
                raise Refused(_("Someone changed this cause already. Look again."), status=409)
            cause.state = state
            cause.save(update_fields=["state"])
            if state != self.State.VISIBLE:
                session.refocus_away_from(cause)

        return self._moderate(kind, change)

    def edit(self, text: str, was: str | None = None) -> Event:
        """New wording; `was` is the wording the editor saw, so that an edit made
        meanwhile by someone else is not overwritten unseen."""

        def change(cause: Cause, session: Session) -> None:
            if cause.state in {self.State.MERGED, self.State.WITHDRAWN}:
                raise Refused(_("This cause is no longer on the board."), status=409)
            if was is not None and cause.text != was:
                raise Refused(
                    _(
                        "Someone changed this cause while you were editing it. Check the "
                        "wording it has now, then save yours again."
                    ),
                    status=409,
                )
            cause.text = text
            cause.save(update_fields=["text"])

        return self._moderate("edit", change)

    def merge_into(self, target: Cause) -> Event:
        """Fold this duplicate into `target`: its children follow it there."""

        def change(cause: Cause, session: Session) -> list[Cause]:
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
            children = list(cause.children.all())
            cause.children.update(parent=into)
            cause.state = self.State.MERGED
            cause.merged_into = into
            cause.save(update_fields=["state", "merged_into"])
            session.refocus_away_from(cause, to=into)
            return children

        return self._moderate("merge", change)

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
            parents[cause.pk] = new_parent.pk if new_parent else None
            if new_parent and (new_parent.pk == cause.pk or creates_cycle(parents, cause.pk)):
                raise Refused(_("A cause cannot be moved under itself or one of its own answers."))
            cause.parent = new_parent
            cause.save(update_fields=["parent"])

        return self._moderate("move", change)

    def withdraw(self) -> Event:
        """The author takes their answer back (nothing to undo for the facilitator)."""
        with transaction.atomic():
            session = self.session.lock()
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
            return session.record("withdraw", cause=self.pk)


def is_descendant(parents: dict[int, int | None], pk: int, *, of: int) -> bool:
    node = parents.get(pk)
    seen = set()
    while node is not None and node not in seen:
        if node == of:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def snapshot(cause: Cause) -> dict[str, Any]:
    return {"id": cause.pk, **{field: getattr(cause, field) for field in Cause.UNDOABLE_FIELDS}}


class Event(models.Model):
    """One change to a session. The table is the truth; live streams are wake-ups."""

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
