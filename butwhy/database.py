"""PostgreSQL through Django's pool, failing fast while the database is away.

A request waits up to the pool's `timeout` for a connection. That is right
while the database is busy (a room joining at once), and wrong while it is
gone: every page then hung for the whole timeout before failing. So the
pool's connections are `WatchedConnection`s: when a new connection fails,
every request waiting for one is told at once, and until a connection
succeeds again, none waits longer than DATABASE_CONNECT_TIMEOUT. The request
then fails with a database error, which Django answers with the "try again"
page (sessions/views/recovery.py). The pool keeps trying on the next requests,
so service comes back by itself when the database does.
"""

import logging
from typing import Any, Self

import psycopg
from django.conf import settings
from django.db import connections
from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)


def pools() -> list[ConnectionPool[Any]]:
    """The psycopg pools of this process's databases (none on SQLite)."""
    found: list[ConnectionPool[Any]] = []
    for alias in connections:
        pool = getattr(connections[alias], "pool", None)
        if pool is not None:
            found.append(pool)
    return found


def unreachable(error: Exception) -> None:
    """A connection failed: fail the requests waiting, and wait no longer than a connect."""
    for pool in pools():
        pool.timeout = settings.DATABASE_CONNECT_TIMEOUT
        # psycopg_pool offers no public way to tell its waiting clients; its
        # own close() fails them like this.
        lock, waiting = getattr(pool, "_lock", None), getattr(pool, "_waiting", None)
        if lock is None or waiting is None:
            continue
        with lock:
            while waiting:
                waiting.popleft().fail(
                    psycopg.OperationalError(f"the database cannot be reached: {error}")
                )


def reachable() -> None:
    """A connection succeeded: requests may wait for a busy pool again."""
    for pool in pools():
        pool.timeout = settings.DATABASE_POOL_TIMEOUT


class WatchedConnection(psycopg.Connection):
    """A psycopg connection that reports whether connecting worked (see the module)."""

    @classmethod
    def connect(cls, *args: Any, **kwargs: Any) -> Self:
        try:
            connection = super().connect(*args, **kwargs)
        except psycopg.OperationalError as error:
            unreachable(error)
            raise
        reachable()
        return connection


def release_connections() -> None:
    """Close this thread's database connections, as soon as its work is done.

    A live stream must hold none while it waits, and a request or a PDF render
    in a worker thread gives its connection back rather than keep it for the
    thread's next job. A connection inside a transaction (a test's, say)
    belongs to someone else and is left alone.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
