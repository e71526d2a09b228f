from django.apps import AppConfig


class FacilitationConfig(AppConfig):
    name = "sessions"
    # django.contrib.sessions already owns the label "sessions".
    label = "facilitation"
    verbose_name = "Facilitation"
