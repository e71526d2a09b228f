"""The anchor of bench/join.py: the app's settings, middleware and server, one trivial view.

Served as `DJANGO_SETTINGS_MODULE=anchor` (with bench/ on the path), so that a
plain request pays for exactly what every request of the app pays for
(server, ASGI wrappers, middleware) and nothing a view adds.
"""

from django.http import HttpResponse
from django.urls import path

from butwhy.settings import *  # noqa: F403

ROOT_URLCONF = "anchor"


def plain(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("plain/", plain)]
