"""Compile the committed translations (locale/*/LC_MESSAGES/*.po) into .mo files.

Django's compilemessages needs GNU gettext's msgfmt, which a fresh machine may
not have; polib writes the same files in pure Python. Fuzzy and untranslated
messages are left out, as msgfmt leaves them out. `make run`, `make test` and
`make serve` run this; the .mo files are not committed.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files (pure Python, no gettext needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            import polib
        except ImportError:
            raise CommandError(
                "polib is missing: pip install -e . --group dev (make does it)."
            ) from None
        compiled = 0
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                catalogue = polib.pofile(str(po_path))
                catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
                compiled += 1
                if options["verbosity"] > 1:
                    self.stdout.write(f"{po_path}: {catalogue.percent_translated()} % translated")
        if not compiled:
            raise CommandError(f"No .po files found in {settings.LOCALE_PATHS}.")
        if options["verbosity"] > 0:
            self.stdout.write(f"Compiled {compiled} translation catalogues.")
