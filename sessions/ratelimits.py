"""Rate limits: fixed windows counted in Django's cache.

With the database cache (the default here) every server process shares the
counts. A cache that fails lets the request through: a broken limit store
must never take the meeting down.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int


JOIN = Limit("join", count=20, seconds=60)
ANSWER = Limit("answer", count=12, seconds=60)
LOGIN_USER = Limit("login-user", count=10, seconds=15 * 60)
LOGIN_ADDRESS = Limit("login-address", count=30, seconds=15 * 60)


def exceeded(limit: Limit, who: str) -> bool:
    """Count one more attempt by `who`; True if that is over the limit."""
    if not settings.RATE_LIMITS:
        return False
    window = int(time.time() // limit.seconds)
    key = f"rl:{limit.scope}:{who}:{window}"
    try:
        cache.add(key, 0, timeout=limit.seconds)
        return cache.incr(key) > limit.count
    except Exception:
        logger.warning("The rate-limit store failed; letting the request through.", exc_info=True)
        return False


def client_address(request) -> str:
    """The client's address: X-Forwarded-For only when the request came from a trusted proxy."""
    address = request.META.get("REMOTE_ADDR", "")
    if address in settings.TRUSTED_PROXIES:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # The last address a trusted proxy appended is the one it saw.
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        while hops and hops[-1] in settings.TRUSTED_PROXIES:
            hops.pop()
        if hops:
            return hops[-1]
    return address
