"""What a page gets when something failed on the way: the database, or a CSRF token."""

import sys

from django.db import DatabaseError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

# How long the "try again" page asks a browser to wait, in seconds.
RETRY_SECONDS = 5


def server_error(request):
    """500, except while the database is away: 503, "try again in a moment".

    Nothing here may touch the database (it may be what failed): the page
    reads no user and no session.
    """
    error = sys.exc_info()[1]
    if not isinstance(error, DatabaseError):
        return django_server_error(request)
    html = render_to_string(
        "503.html", {"refresh": RETRY_SECONDS if request.method in ("GET", "HEAD") else None}
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
