"""The requests our views receive, as the type checker sees them.

django-htmx's middleware gives every request `request.htmx`, and a
@login_required view only runs for a signed-in user: two facts the plain
HttpRequest of the stubs cannot state. Nothing here exists at run time
beyond the classes' names: Django still builds its own request objects.
"""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: User
