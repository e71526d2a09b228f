import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from sessions import joincodes, text
from sessions.models import Group, Membership, Session

SUBMISSION_KEY = re.compile(r"\A[A-Za-z0-9_-]{8,40}\Z")


class TypedText(forms.CharField):
    """Text a person typed: normalised once here, then measured."""

    def __init__(self, *, multiline: bool = False, **kwargs):
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

    def to_python(self, value):
        value = super().to_python(value)
        return text.normalise(value, multiline=self.multiline) if value else value


class GroupForm(forms.ModelForm):
    name = TypedText(max_length=120, label=_("Group name"))

    class Meta:
        model = Group
        fields = ["name"]


class SessionForm(forms.ModelForm):
    title = TypedText(max_length=120, label=_("Title"))
    situation = TypedText(
        max_length=1000,
        multiline=True,
        label=_("The situation"),
        help_text=_("What the group will ask “why?” about, in a sentence or two."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Session
        fields = [
            "title",
            "situation",
            "kind",
            "language",
            "names",
            "moderation",
            "filter_words",
            "max_participants",
        ]
        help_texts = {"max_participants": _("Leave empty for no limit.")}
        labels = {
            "max_participants": _("Most people who can join"),
            "filter_words": _("Hold answers with insults or personal details for my approval"),
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

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("Nobody has that username."))
        return user


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

    def clean_code(self):
        code = joincodes.normalise(self.cleaned_data["code"])
        if not joincodes.looks_valid(code):
            raise forms.ValidationError(
                _("A join code has %(length)d letters and digits, like ABC 234."),
                params={"length": joincodes.LENGTH},
            )
        return code


class JoinNameForm(forms.Form):
    name = TypedText(max_length=60, required=False, label=_("Your name"))

    def __init__(self, *args, names: str, **kwargs):
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

    def __init__(self, *args, choices, allow_situation: bool = False, **kwargs):
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
