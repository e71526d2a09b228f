"""What a page gets when something failed on the way: the database, or a CSRF token."""

import contextlib
import sys

from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.defaults import server_error as django_server_error

# How long the "try again" page asks a browser to wait, in seconds.
RETRY_SECONDS = 5
# On a CSRF refusal: what static/js/csrf.js looks for.
CSRF_FAILED_HEADER = "X-CSRF-Failed"


def server_error(request: HttpRequest) -> HttpResponse:
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


@never_cache
@require_safe
def fresh_csrf_token(request: HttpRequest) -> HttpResponse:
    """A CSRF token for a page whose own has gone stale (static/js/csrf.js).

    The response sets the cookie that goes with it. Other sites cannot read
    it: the browser keeps the answer from them, as it does every page's.
    """
    return JsonResponse({"token": get_token(request)})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a post whose CSRF token is stale or whose cookie is gone.

    It says what happened, offers the way back (to a page of ours) and shows
    what was typed on it, so that nothing is lost. The header tells
    static/js/csrf.js to fetch a fresh token and send the same request again,
    once.
    """
    back = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""
    ours = bool(host) and url_has_allowed_host_and_scheme(back, {host}, request.is_secure())
    typed = ""
    if ours:  # a post from another site gets no words of its own shown here
        # An unreadable body (a bad charset, say): there is nothing to give back.
        with contextlib.suppress(Exception):
            typed = request.POST.get("text", "")[:2000]
    else:
        back = reverse("home")
    response = render(request, "403_csrf.html", {"back": back, "typed": typed}, status=403)
    response[CSRF_FAILED_HEADER] = "1"
    return response
