"""Personas and small factories, created in one place for every test module."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client

from sessions.models import Action, Cause, Group, Membership, Participant, Session
from sessions.permissions import PARTICIPANT_COOKIE


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def collected_static():
    """Pages name their static files by hash: collect them as `make run` does."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's language: a request through LocaleMiddleware
    leaves its language active in the thread, which must not decide the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def make_user(username: str):
    return get_user_model().objects.create_user(username, password=f"{username}-password")


def make_group(name: str = "Riverside", *, facilitators=(), organizers=()) -> Group:
    group = Group.objects.create(name=name)
    for user in facilitators:
        Membership.objects.create(group=group, user=user, role=Membership.Role.FACILITATOR)
    for user in organizers:
        Membership.objects.create(group=group, user=user, role=Membership.Role.ORGANIZER)
    return group


def make_session(group: Group, *, open: bool = True, **fields) -> Session:
    fields.setdefault("title", "Safety at the corner")
    fields.setdefault("situation", "Young people keep getting hurt at the corner of 5th and Main.")
    session = Session.objects.create(group=group, **fields)
    if open:
        session.open_for_joining()
    return session


def make_cause(
    session: Session, text: str = "No street lights", parent: Cause | None = None, **fields
) -> Cause:
    cause = session.add_cause(text, parent.pk if parent else None)
    if fields:
        Cause.objects.filter(pk=cause.pk).update(**fields)
        cause.refresh_from_db()
    return cause


def make_agreed_action(
    session: Session,
    text: str = "Ask the council for street lights",
    *,
    owner: str = "Amina",
    owner_outside: bool = False,
    first_step: str = "Write the letter",
    due=None,
    **fields,
) -> Action:
    """An action in the session's plan (addressing a new cause), with `fields` set after."""
    action = session.add_action(text, [make_cause(session, f"Cause of: {text}").pk])
    action.agree(owner=owner, owner_outside=owner_outside, first_step=first_step, due=due)
    if fields:
        Action.objects.filter(pk=action.pk).update(**fields)
        action.refresh_from_db()
    return action


def join(client: Client, session: Session, name: str = "") -> Participant:
    """Make `client` a participant of `session`, as the join page would."""
    participant = Participant.objects.create(session=session, name=name)
    sign_participant_cookie(client, participant)
    return participant


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class World:
    """A group with an open session, another group with its own session, and everyone."""

    group: Group
    session: Session
    other_group: Group
    other_session: Session
    facilitator_user: object
    anonymous: Client
    participant: Client
    other_participant: Client
    facilitator: Client
    co_facilitator: Client
    organizer: Client
    outsider: Client
    me: Participant
    someone_else: Participant

    def as_(self, persona: str) -> Client:
        return getattr(self, persona)


PERSONAS = [
    "anonymous",
    "participant",
    "other_participant",
    "facilitator",
    "co_facilitator",
    "organizer",
    "outsider",
]


@pytest.fixture
def world(db) -> World:
    fran, cole, olga, otto = (make_user(n) for n in ("fran", "cole", "olga", "otto"))
    group = make_group("Riverside", facilitators=[fran, cole], organizers=[olga])
    other_group = make_group("Hilltop", facilitators=[otto])
    session = make_session(group)
    other_session = make_session(other_group, title="Elsewhere")
    participant, other_participant = Client(), Client()
    me = join(participant, session)
    someone_else = join(other_participant, other_session)
    return World(
        group=group,
        session=session,
        other_group=other_group,
        other_session=other_session,
        facilitator_user=fran,
        anonymous=Client(),
        participant=participant,
        other_participant=other_participant,
        facilitator=logged_in(fran),
        co_facilitator=logged_in(cole),
        organizer=logged_in(olga),
        outsider=logged_in(otto),
        me=me,
        someone_else=someone_else,
    )


def sign_participant_cookie(client: Client, participant: Participant) -> None:
    """Give `client` the participant cookie exactly as the join view signs it."""
    cookie = PARTICIPANT_COOKIE.format(participant.session.public_id)
    response = HttpResponse()
    response.set_signed_cookie(cookie, participant.key)
    client.cookies[cookie] = response.cookies[cookie].value
