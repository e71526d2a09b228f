"""/healthz: for load balancers and systemd, is this process able to serve?"""

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers one query, 503 otherwise.

    It reads no session, no user and no cookie, sets none, and counts against
    no rate limit; the log leaves it out (butwhy/settings.py, LOGGING), since a
    load balancer asks every few seconds.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
