"""/healthz: what a load balancer or systemd asks a server process."""

import logging
from unittest import mock

from django.db import OperationalError
from django.test import Client

from sessions.models import Session
from tests.conftest import make_group, make_session


def test_it_answers_200_while_the_database_answers(db, django_assert_num_queries):
    with django_assert_num_queries(1):  # one SELECT 1: no session, no user
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_when_the_database_does_not(db, caplog):
    failing = mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=OperationalError("connection refused"),
    )
    with failing, caplog.at_level(logging.DEBUG, logger="django.request"):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database unavailable\n"
    assert not response.cookies
    # Every few seconds from a load balancer: it stays out of the log.
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_other_failures_are_still_logged(db, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().get("/no-such-page/")
    assert [r for r in caplog.records if r.name == "django.request"]


def test_it_touches_no_session_and_no_rate_limit(db):
    group = make_group("Riverside")
    make_session(group)
    client = Client()
    for _ in range(100):  # far past every rate limit
        assert client.get("/healthz").status_code == 200
    assert not client.cookies
    assert Session.objects.count() == 1


def test_it_only_answers_get_and_head(db):
    assert Client().head("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405
