from django.apps import AppConfig


class FacilitationConfig(AppConfig):
    name = "sessions"
    # django.contrib.sessions already owns the label "sessions".
    label = "facilitation"
    verbose_name = "Facilitation"

    def ready(self) -> None:
        from sessions import integrity

        integrity.connect(self)
        # The views register what each audience of the live channel sees.
        from sessions.views import facilitating, participating, presenting  # noqa: F401
