"""Rate limits: fixed windows counted in the database.

Every server process shares the counts. Each attempt is one upsert that adds
one and returns the new count (`RateCount`), so attempts made at the same
moment in several processes are all counted. A count that fails lets the
request through: a broken limit store must never take the meeting down.
"""

import logging
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from sessions.models import RateCount

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int


# Wrong or closed join codes, per address (right codes are never counted).
JOIN_GUESS = Limit("join-guess", count=20, seconds=60)
ANSWER = Limit("answer", count=12, seconds=60)
LOGIN_USER = Limit("login-user", count=10, seconds=15 * 60)
LOGIN_ADDRESS = Limit("login-address", count=30, seconds=15 * 60)
# Accounts made at /accounts/signup/ (SIGNUP=open) and e-mails asked for at
# /accounts/password_reset/, per address: neither may be used to flood.
SIGNUP_ADDRESS = Limit("signup-address", count=10, seconds=60 * 60)
RESET_ADDRESS = Limit("reset-address", count=10, seconds=15 * 60)


def _key(limit: Limit, who: str, window: int) -> str:
    # Addresses and usernames are not kept: the key is a keyed hash of them.
    seen = f"{limit.scope}:{who}:{window}"
    return salted_hmac("ratelimit", seen, algorithm="sha256").hexdigest()


def exceeded(limit: Limit, who: str) -> bool:
    """Count one more attempt by `who`; True if that is over the limit."""
    if not settings.RATE_LIMITS:
        return False
    now = time.time()
    window = int(now // limit.seconds)
    key = _key(limit, who, window)
    try:
        with transaction.atomic():
            count = _count(key, ends=(window + 1) * limit.seconds)
            if count == 1:  # a new window: forget the ended ones
                RateCount.objects.filter(ends__lte=now).delete()
    except DatabaseError:
        logger.warning("The rate-limit store failed; letting the request through.", exc_info=True)
        return False
    return count > limit.count


def forgive(limit: Limit, who: str) -> None:
    """Take back the attempt just counted: it went well (a login that succeeded).

    Counting first and forgiving after keeps the limit exact when many
    attempts arrive at once: none of them can slip past a check made before
    the others were counted.
    """
    if not settings.RATE_LIMITS:
        return
    key = _key(limit, who, int(time.time() // limit.seconds))
    try:
        RateCount.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)
    except DatabaseError:
        logger.warning("The rate-limit store failed to forgive an attempt.", exc_info=True)


def login_name(username: str) -> str:
    """The username as authentication will look it up, so that each spelling of
    one account counts as that account: trimmed and NFKC-normalised like
    Django's login form and user model do. Case is folded too: counting
    "Fran" with "fran" is stricter, never looser.
    """
    name = get_user_model().normalize_username(username.strip())
    return unicodedata.normalize("NFKC", name.casefold())


def _count(key: str, ends: int) -> int:
    """Add one to `key`'s count, creating it at 1; the new count."""
    quote = connection.ops.quote_name
    table = quote(RateCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('key')}, {quote('count')}, {quote('ends')}) "
            f"VALUES (%s, 1, %s) ON CONFLICT ({quote('key')}) "
            f"DO UPDATE SET {quote('count')} = {table}.{quote('count')} + 1 "
            f"RETURNING {quote('count')}",
            [key, ends],
        )
        count: int = cursor.fetchone()[0]
        return count


def client_address(request: HttpRequest) -> str:
    """The client's address: X-Forwarded-For only when the request came from a trusted proxy."""
    address: str = request.META.get("REMOTE_ADDR", "")
    if address in settings.TRUSTED_PROXIES:
        forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The last address a trusted proxy appended is the one it saw.
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        while hops and hops[-1] in settings.TRUSTED_PROXIES:
            hops.pop()
        if hops:
            return hops[-1]
    return address
