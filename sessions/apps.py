from django.apps import AppConfig


class FacilitationConfig(AppConfig):
    name = "sessions"
    # django.contrib.sessions already owns the label "sessions".
    label = "facilitation"
    verbose_name = "Facilitation"

    def ready(self) -> None:
        from sessions import integrity

        integrity.connect(self)
        from django.core import checks

        from sessions import storybook

        # A story file that cannot be read is named, with its line, as the
        # process starts (the log) and by `manage.py check`; the others load.
        storybook.library()
        checks.register(storybook.check_stories)
