"""Delete closed sessions older than a number of days, with everything in them.

Run it from cron or a systemd timer; SESSION_RETENTION_DAYS sets the default.
"""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sessions.models import Session


class Command(BaseCommand):
    help = "Delete closed sessions created more than --older-than days ago."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.SESSION_RETENTION_DAYS,
            metavar="DAYS",
            help="Default: SESSION_RETENTION_DAYS (%(default)s).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, older_than: int, dry_run: bool, **options: Any) -> None:
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more days.")
        cutoff = timezone.now() - timedelta(days=older_than)
        old = Session.objects.filter(join_code__isnull=True, created_at__lt=cutoff)
        count = old.count()
        if not dry_run:
            for session in old.iterator():
                session.delete()
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} closed session(s) older than {older_than} days.")
