"""Create a demo facilitator, group and open session if the database is empty,
then print how to log in and the address phones on this network should open."""

import io
import secrets
from argparse import ArgumentParser
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from sessions import network
from sessions.models import Group, Membership, Session

USERNAME = "facilitator"
# Each answer, with the answers to its "why?".
type Causes = list[tuple[str, Causes]]

CAUSES: Causes = [
    (
        "There is no light at the corner at night",
        [
            (
                "The city stopped repairing street lights here",
                [
                    ("Nobody from the neighbourhood has asked them to", []),
                ],
            ),
        ],
    ),
    (
        "Cars drive fast on Main Street",
        [
            ("There is no crossing or speed bump", []),
        ],
    ),
    (
        "Young people have nowhere else to meet",
        [
            ("The youth centre closed last year", []),
        ],
    ),
]


class Command(BaseCommand):
    help = "Set up demo data on an empty database and print the login and join addresses."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        User = get_user_model()
        login_file = settings.BASE_DIR / ".demo-login"
        if not User.objects.exists():
            new_password = secrets.token_urlsafe(9)
            user = User.objects.create_user(USERNAME, password=new_password)
            login_file.write_text(new_password)
            login_file.chmod(0o600)
            self.create_demo(user)
        password = login_file.read_text().strip() if login_file.exists() else None

        host = network.lan_address()
        base = settings.PUBLIC_URL or f"http://{host or 'localhost'}:{port}"
        # The demo session keeps its code while it stays open: a code already
        # projected or printed goes on working after a restart.
        session = (
            Session.objects.open()
            .filter(group__memberships__user__username=USERNAME)
            .order_by("created_at")
            .first()
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("But why? is starting."))
        self.stdout.write(f"  Facilitators log in at  {base}/accounts/login/")
        if password and User.objects.filter(username=USERNAME).exists():
            self.stdout.write(f"  Demo login              {USERNAME} / {password}")
        self.stdout.write(f"  Phones on this network  {base}/join/")
        if host or settings.PUBLIC_URL:
            # For a laptop on a hotspot with no internet: phones scan this.
            self.stdout.write("  Or scan:")
            drawing = io.StringIO()
            segno.make(f"{base}/join/", error="m").terminal(out=drawing, compact=True, border=2)
            self.stdout.write(drawing.getvalue(), ending="")
        if session:
            self.stdout.write(f"  Demo session code       {session.spaced_join_code}")
        if not host:
            self.stdout.write(
                "  (No network address found: phones cannot reach this machine yet. "
                "Join a Wi-Fi network or hotspot, then restart.)"
            )
        self.stdout.write("")

    def create_demo(self, user: User) -> None:
        group = Group.objects.create(name="Riverside Neighbours")
        Membership.objects.create(group=group, user=user, role=Membership.Role.FACILITATOR)
        session = Session.objects.create(
            group=group,
            title="Safety at the corner",
            situation="Young people keep getting hurt at the corner of 5th and Main.",
            created_by=user,
        )
        session.open_for_joining()

        def add(items: Causes, parent_id: int | None = None) -> None:
            for text, children in items:
                cause = session.add_cause(text, parent_id)
                add(children, cause.pk)

        add(CAUSES)
