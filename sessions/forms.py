import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sessions import joincodes, text, tree
from sessions.models import (
    ACTOR_MAX_LENGTH,
    AGREEMENT_MAX_LENGTH,
    AGREEMENTS_MAX,
    AGREEMENTS_MAX_LENGTH,
    CLOSING_LINE_MAX_LENGTH,
    CONTACT_HOURS_MAX_LENGTH,
    CONTACT_NAME_MAX_LENGTH,
    CONTACT_REACH_MAX_LENGTH,
    MAX_DOTS,
    NOTES_MAX_LENGTH,
    OWNER_MAX_LENGTH,
    STORY_QUESTION_MAX_LENGTH,
    Action,
    Cause,
    Group,
    Membership,
    Session,
    SupportContact,
)

SUBMISSION_KEY = re.compile(r"\A[A-Za-z0-9_-]{8,40}\Z")


DAMAGED = _(
    "Some of this text did not arrive intact (it was not valid UTF-8). Please type it again."
)
INVISIBLE = _("This has nothing that can be seen, only invisible characters. Please write words.")


class TypedText(forms.CharField):
    """Text a person typed: normalised once here, then measured."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("Please write something first."),
                "max_length": _(
                    "Please keep it to %(limit_value)d characters (this has %(show_value)d)."
                ),
            },
        )
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any | None) -> str | None:
        value = super().to_python(value)
        return text.normalise(value, multiline=self.multiline) if value else value

    def validate(self, value: str | None) -> None:
        super().validate(value)
        if value and text.is_damaged(value):
            raise forms.ValidationError(DAMAGED, code="damaged")
        if value and text.is_invisible(value):
            raise forms.ValidationError(INVISIBLE, code="invisible")


class GroupForm(forms.ModelForm[Group]):
    name = TypedText(max_length=120, label=_("Group name"), widget=forms.TextInput({"dir": "auto"}))

    class Meta:
        model = Group
        fields = ["name"]


class SessionChoiceField(forms.ModelChoiceField[Session]):
    """A session of one group, chosen by its public id (never its sequential pk)."""

    def __init__(self, queryset: QuerySet[Session], **kwargs: Any) -> None:
        super().__init__(queryset, to_field_name="public_id", **kwargs)

    def label_from_instance(self, obj: Session) -> str:
        return f"{obj.title} ({obj.created_at:%Y-%m-%d})"


# The settings asked when a session is prepared (voting's are set on the console).
ASKED_SETTINGS = [
    "kind",
    "language",
    "names",
    "moderation",
    "filter_words",
    "phone_tree",
    "use_agreements",
    "max_participants",
]


class SessionForm(forms.ModelForm[Session]):
    title = TypedText(max_length=120, label=_("Title"), widget=forms.TextInput({"dir": "auto"}))
    situation = TypedText(
        max_length=1000,
        multiline=True,
        label=_("The situation"),
        help_text=_("What the group will ask “why?” about, in a sentence or two."),
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
    story_question = TypedText(
        max_length=STORY_QUESTION_MAX_LENGTH,
        required=False,
        label=_("A first question to suggest (optional)"),
        help_text=_("The console suggests it to you when the session starts."),
        widget=forms.TextInput({"dir": "auto"}),
    )
    # Only the group's own sessions are choices: another group's is "not a valid choice".
    follows = SessionChoiceField(
        Session.objects.none(),
        required=False,
        label=_("Follows up on"),
        empty_label=_("Nothing: a new topic"),
        help_text=_("A follow-up session opens by reviewing that session's plan."),
    )

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new session opens with the agreements unless the facilitator says not.
        self.fields["use_agreements"].initial = self.initial.get("use_agreements", True)
        follows = self.fields["follows"]
        assert isinstance(follows, SessionChoiceField)
        follows.queryset = group.sessions.all()

    class Meta:
        model = Session
        fields = ["title", "situation", "made_up", "story_question", *ASKED_SETTINGS, "follows"]
        help_texts = {"max_participants": _("Leave empty for no limit.")}
        labels = {
            "max_participants": _("Most people who can join"),
            "made_up": _("This is a made-up story (the projector and the phones say so)"),
            "filter_words": _("Hold answers with insults or personal details for my approval"),
            "phone_tree": _("Phones can see everyone's answers (the whole tree)"),
            "use_agreements": _(
                "Open with the group agreements (on the projector, and each phone agrees)"
            ),
            "kind": _("We look at"),
            "language": _("Language"),
            "names": _("Names"),
            "moderation": _("New answers"),
        }
        widgets = {
            "kind": forms.RadioSelect,
            "names": forms.RadioSelect,
            "moderation": forms.RadioSelect,
        }


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, label=_("Username"))
    role = forms.ChoiceField(choices=Membership.Role.choices, label=_("Role"))

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("Nobody has that username."))
        return user


class InvitationForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices, label=_("Invite as"))


class SignupForm(UserCreationForm[User]):
    """A username and a password (Django's validators).

    An e-mail address, optional, only where the site sends e-mail (for resets).
    """

    email = forms.EmailField(
        required=False,
        label=_("E-mail (optional)"),
        help_text=_("Only to send you a link if you forget your password."),
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not settings.EMAIL_ENABLED:
            del self.fields["email"]
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "dir": "auto"})


class CauseForm(forms.Form):
    text = TypedText(
        max_length=settings.CAUSE_MAX_LENGTH,
        label=_("Your answer"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": settings.CAUSE_MAX_LENGTH}),
    )
    # The cause whose "why?" this answers; empty for the situation itself.
    parent = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    # One per rendered form: a retried post with the same key adds nothing.
    key = forms.RegexField(regex=SUBMISSION_KEY, required=False, widget=forms.HiddenInput)
    # A phone's suggestion, where the session asks for one (Session.phones_suggest_level).
    level = forms.ChoiceField(
        choices=Cause.Level.choices,
        required=False,
        label=_("At what level is it? (your suggestion)"),
        error_messages={"invalid_choice": _("Choose one of the five levels.")},
    )


class ModerationForm(forms.Form):
    moderation = forms.ChoiceField(choices=Session.Moderation.choices)
    filter_words = forms.BooleanField(required=False)


class JoinCodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        label=_("Join code"),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        code = joincodes.normalise(self.cleaned_data["code"])
        if not joincodes.looks_valid(code):
            raise forms.ValidationError(
                _("A join code has %(length)d letters and digits, like ABC 234."),
                params={"length": joincodes.LENGTH},
            )
        return code


class JoinNameForm(forms.Form):
    name = TypedText(max_length=60, required=False, label=_("Your name"))

    def __init__(self, *args: Any, names: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if names == Session.Names.REQUIRED:
            self.fields["name"].required = True
            self.fields["name"].error_messages["required"] = _("This session asks for a name.")
        elif names == Session.Names.ANONYMOUS:
            del self.fields["name"]


class EditCauseForm(forms.Form):
    text = TypedText(
        max_length=settings.CAUSE_MAX_LENGTH,
        label=_("Wording"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": settings.CAUSE_MAX_LENGTH}),
    )
    # The wording the editor started from (see Cause.edit).
    was = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)


class CauseChoiceForm(forms.Form):
    """Pick another cause of the session (merge into, move under)."""

    target = forms.TypedChoiceField(coerce=int, empty_value=None)

    def __init__(
        self,
        *args: Any,
        choices: Sequence[tree.Node],
        allow_situation: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        options: list[tuple[object, object]] = [
            (node.pk, f"{'— ' * node.depth}{node.cause.text}") for node in choices
        ]
        if allow_situation:
            options.insert(0, ("", _("The situation itself (top level)")))
            self.fields["target"].required = False
        target = self.fields["target"]
        assert isinstance(target, forms.TypedChoiceField)
        target.choices = options


class MergeCauseForm(CauseChoiceForm):
    """Fold two causes that say the same into one: which of them stays is asked.

    The form shows nothing chosen and requires a choice; a post without
    `keep` keeps the target, as the form did before it asked.
    """

    keep = forms.ChoiceField(choices=[("other", "other"), ("this", "this")], required=False)


class PhaseForm(forms.Form):
    phase = forms.ChoiceField(choices=Session.Phase.choices)


class VotingForm(forms.Form):
    dot_budget = forms.IntegerField(
        min_value=1,
        max_value=MAX_DOTS,
        label=_("Dots for each person"),
        error_messages={
            "min_value": _("Give each person at least one dot."),
            "max_value": _("Give each person at most %(limit_value)s dots."),
            "invalid": _("Write the number of dots as a whole number."),
            "required": _("Write the number of dots."),
        },
    )
    stack_dots = forms.BooleanField(required=False, label=_("Several dots on one cause"))


class BoardForm(forms.Form):
    board_filter = forms.ChoiceField(choices=Session.BoardFilter.choices)
    actions_for_any_cause = forms.BooleanField(required=False)


class TagForm(forms.Form):
    matters_most = forms.BooleanField(required=False, label=_("Matters most"))
    can_change = forms.ChoiceField(
        choices=Cause.CanChange.choices, required=False, label=_("Can it change?")
    )
    who_can_change = forms.ChoiceField(
        choices=Cause.WhoCanChange.choices, required=False, label=_("Who can change it?")
    )
    actor = TypedText(
        max_length=ACTOR_MAX_LENGTH,
        required=False,
        label=_("Which actor (for example “the city council”)"),
    )
    smaller_part = forms.BooleanField(required=False, label=_("A smaller part, easier to change"))
    level = forms.ChoiceField(
        choices=Cause.Level.choices,
        required=False,
        label=_("At what level is it?"),
        error_messages={"invalid_choice": _("Choose one of the five levels.")},
    )


class IdListField(forms.Field):
    """Several ids from checkboxes; whether they belong to the session is the model's to say."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Choose at least one cause this action addresses."),
        "invalid": _("Choose the causes from the list."),
    }

    def to_python(self, value: Any | None) -> list[int]:
        if value in self.empty_values:
            return []
        if not isinstance(value, list | tuple) or len(value) > 100:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(not 0 < i < 2**63 for i in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return list(dict.fromkeys(ids))


class ActionForm(forms.Form):
    text = TypedText(
        max_length=settings.CAUSE_MAX_LENGTH,
        label=_("Your idea for an action"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": settings.CAUSE_MAX_LENGTH}),
    )
    causes = IdListField()
    key = forms.RegexField(regex=SUBMISSION_KEY, required=False, widget=forms.HiddenInput)


class VoteForm(forms.Form):
    cause = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    dots = forms.IntegerField(min_value=0, max_value=MAX_DOTS)


class AgreeForm(forms.Form):
    owner = TypedText(
        max_length=OWNER_MAX_LENGTH,
        label=_("Who will do it"),
        error_messages={
            "required": _("Write who will do it: a person of the group, or who to approach."),
            "max_length": _(
                "Please keep it to %(limit_value)d characters (this has %(show_value)d)."
            ),
        },
    )
    owner_outside = forms.BooleanField(
        required=False, label=_("Someone outside the group, to approach")
    )
    first_step = TypedText(
        max_length=settings.CAUSE_MAX_LENGTH, required=False, label=_("First step")
    )
    due = forms.DateField(
        required=False,
        label=_("By when"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Write the date like 2026-12-31.")},
    )

    def __init__(self, *args: Any, current_due: date | None = None, **kwargs: Any) -> None:
        """`current_due`: the action's date so far, which may stay even once it has passed."""
        super().__init__(*args, **kwargs)
        self.current_due = current_due
        if current_due is None or current_due >= timezone.localdate():
            self.fields["due"].widget.attrs["min"] = timezone.localdate().isoformat()

    def clean_due(self) -> date | None:
        due: date | None = self.cleaned_data["due"]
        if due is not None and not 2000 <= due.year <= 2100:
            raise forms.ValidationError(_("Choose a date between 2000 and 2100."))
        # A day gone by (in the app's time zone) would make the action overdue
        # the moment it is agreed. A date it already had may stay, so that
        # changing who does a late action still works.
        if due is not None and due < timezone.localdate() and due != self.current_due:
            raise forms.ValidationError(_("This date has passed: choose today or a later day."))
        return due


class ActionChoiceForm(forms.Form):
    """Pick another action of the session (merge into)."""

    target = forms.TypedChoiceField(coerce=int, empty_value=None, label=_("Merge into"))

    def __init__(self, *args: Any, choices: Sequence[Action], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.TypedChoiceField)
        target.choices = [(action.pk, action.text) for action in choices]


class TimerForm(forms.Form):
    minutes = forms.IntegerField(
        min_value=1,
        max_value=60,
        error_messages={
            "min_value": _("Set the timer to at least one minute."),
            "max_value": _("Set the timer to at most an hour."),
            "invalid": _("Write the minutes as a whole number."),
            "required": _("Write how many minutes."),
        },
    )


class FollowUpForm(forms.Form):
    """What became of an agreed action since the meeting (Action.follow_up)."""

    status = forms.ChoiceField(choices=Action.Status.choices, label=_("Status"))
    notes = TypedText(
        max_length=NOTES_MAX_LENGTH,
        multiline=True,
        required=False,
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTES_MAX_LENGTH, "dir": "auto"}),
    )


class CopySessionForm(forms.Form):
    """Run a session's situation and settings again, here or with another group."""

    group = forms.ModelChoiceField(
        Group.objects.none(),
        to_field_name="public_id",
        empty_label=None,
        label=_("Group"),
        help_text=_("Any group where you are a facilitator."),
    )
    title = TypedText(max_length=120, label=_("Title"), widget=forms.TextInput({"dir": "auto"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group = self.fields["group"]
        assert isinstance(group, forms.ModelChoiceField)
        group.queryset = Group.objects.filter(
            memberships__user=user, memberships__role=Membership.Role.FACILITATOR
        )


class AgreementsForm(forms.Form):
    """A group's own agreements: one a line, a few short lines."""

    agreements = TypedText(
        max_length=AGREEMENTS_MAX_LENGTH,
        multiline=True,
        label=_("Our agreements, one a line"),
        widget=forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
        error_messages={
            "required": _("Write at least one agreement, or go back to the default list."),
            "max_length": _(
                "Please keep the agreements to %(limit_value)d characters (this has "
                "%(show_value)d)."
            ),
        },
    )

    def clean_agreements(self) -> str:
        lines = [line for line in self.cleaned_data["agreements"].splitlines() if line]
        if len(lines) > AGREEMENTS_MAX:
            raise forms.ValidationError(
                _("Please keep to %(most)d agreements (this has %(count)d)."),
                params={"most": AGREEMENTS_MAX, "count": len(lines)},
            )
        for line in lines:
            if len(line) > AGREEMENT_MAX_LENGTH:
                raise forms.ValidationError(
                    _(
                        "Please keep each agreement to %(most)d characters: "
                        "“%(line)s…” has %(count)d."
                    ),
                    params={"most": AGREEMENT_MAX_LENGTH, "line": line[:40], "count": len(line)},
                )
        # Blank lines between agreements go: one agreement a line.
        return "\n".join(lines)


# A link a contact may carry: a web page or a phone call, nothing else
# (no javascript:, data:, file:).
SCHEME = re.compile(r"\A([A-Za-z][A-Za-z0-9+.-]*):")
SAFE_SCHEMES = {"http", "https", "tel"}
UNSAFE_SCHEMES = {"javascript", "vbscript", "data", "file", "blob"}


class SupportContactForm(forms.ModelForm[SupportContact]):
    name = TypedText(
        max_length=CONTACT_NAME_MAX_LENGTH,
        label=_("Name (for example a local helpline)"),
        widget=forms.TextInput({"dir": "auto"}),
    )
    reach = TypedText(
        max_length=CONTACT_REACH_MAX_LENGTH,
        label=_("Phone number, address or web address"),
        widget=forms.TextInput({"dir": "auto"}),
    )
    hours = TypedText(
        max_length=CONTACT_HOURS_MAX_LENGTH,
        required=False,
        label=_("When it is open"),
        widget=forms.TextInput({"dir": "auto"}),
    )

    class Meta:
        model = SupportContact
        fields = ["name", "reach", "hours"]

    def clean_reach(self) -> str:
        reach: str = self.cleaned_data["reach"]
        scheme = SCHEME.match(reach)
        name = scheme.group(1).lower() if scheme else ""
        # "Phone: 0800 123" is text; "javascript:…" and "mailto:x" are links we refuse.
        if name in UNSAFE_SCHEMES or (scheme and not re.match(r"\A\w+:\s", reach)):
            if name not in SAFE_SCHEMES:
                raise forms.ValidationError(
                    _("A link can only be a web address (http or https) or a phone number (tel:).")
                )
            if name in {"http", "https"} and not re.match(r"(?i)\Ahttps?://[^\s/]+", reach):
                raise forms.ValidationError(_("This web address is not complete."))
        return reach


class EditApproveForm(EditCauseForm):
    """Take a name out of a held answer and put it on the board, in one step."""


class ClosingLineForm(forms.Form):
    text = TypedText(
        max_length=CLOSING_LINE_MAX_LENGTH,
        label=_("Your line"),
        widget=forms.TextInput(attrs={"maxlength": CLOSING_LINE_MAX_LENGTH, "dir": "auto"}),
    )
    key = forms.RegexField(regex=SUBMISSION_KEY, required=False, widget=forms.HiddenInput)
