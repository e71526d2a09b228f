"""A PostgreSQL outage, with a cluster of its own that the test starts and stops.

The server is uvicorn in a subprocess, as `make serve` runs it, pointed at a
throwaway cluster (initdb and pg_ctl of the installed PostgreSQL, on a free
port, in a temporary folder), never at the shared server. While the cluster
is down, pages and new streams answer 503 "try again" with Retry-After, at
once rather than after the pool's timeout, and an answer comes back with its
text; when the cluster is back, the same server serves again, no restart.

It needs no database from the suite, so it runs the same on SQLite and on
PostgreSQL. Every request and wait is bounded, and the cluster and the
server are stopped when the test ends.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

import psycopg
import pytest
from django.db import OperationalError
from django.test import Client

from sessions.views import participating
from tests.test_live_processes import ERRORS, ROOT, SECRET_KEY, Server, free_port, http_request

POSTGRES_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]).parent


class Cluster:
    """A PostgreSQL cluster in a temporary folder, run as the postgres user when we are root."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="butwhy-outage-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(self.folder, "postgres", "postgres")

    def run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, str(POSTGRES_BIN / command[0]), *command[1:]],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def create(self) -> "Cluster":
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        return self.start()

    def start(self) -> "Cluster":
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "postgres.log")
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        return self

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/butwhy"

    def count(self, sql: str) -> int:
        with psycopg.connect(f"{self.url}", connect_timeout=5) as connection:
            row = connection.execute(sql).fetchone()
            assert row is not None
            return int(row[0])


SET_UP = """
import json
from django.test import Client
from sessions.models import Group, Membership, Participant, Session
from django.contrib.auth import get_user_model
fran = get_user_model().objects.create_user("fran", password="fran-password")
group = Group.objects.create(name="Riverside")
Membership.objects.create(group=group, user=fran, role=Membership.Role.FACILITATOR)
session = Session.objects.create(group=group, title="Safety", situation="People get hurt.")
session.open_for_joining()
facilitator = Client()
facilitator.force_login(fran)
phone = Client()
from tests.conftest import sign_participant_cookie
sign_participant_cookie(phone, Participant.join(session))
print(json.dumps({
    "sid": session.public_id,
    "facilitator": {"sessionid": facilitator.cookies["sessionid"].value},
    "phone": {name: morsel.value for name, morsel in phone.cookies.items()},
}))
"""


@pytest.fixture
def served() -> Iterator[tuple[Cluster, Server, dict]]:
    """A cluster with the app's tables and a room in it, and a server on it."""
    cluster = Cluster().create()
    server = None
    try:
        subprocess.run(
            [
                "psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
                "-c", "CREATE DATABASE butwhy",
            ],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        env = {**os.environ, "DATABASE_URL": cluster.url, "SECRET_KEY": SECRET_KEY}
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
        made = subprocess.run(
            [*manage, "shell", "-c", SET_UP],
            cwd=ROOT, env=env, check=True, timeout=60, capture_output=True, text=True,
        )  # fmt: skip
        room = json.loads(made.stdout.strip().splitlines()[-1])
        with mock.patch("tests.test_live_processes.database_url", return_value=cluster.url):
            server = Server("outage", cluster.folder)
        yield cluster, server.start(), room
    finally:
        if server is not None:
            server.kill()
        cluster.remove()
    troubled = [error for error in ERRORS if error in server.log()]
    assert not troubled, f"The server logged {troubled}:\n{server.log()}"


def csrf_of(reply) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', reply.body)
    assert match, reply.body[:500]
    return match.group(1).decode()


def test_during_an_outage_pages_and_streams_say_try_again_and_come_back_by_themselves(served):
    cluster, server, room = served
    sid, facilitator, phone = room["sid"], room["facilitator"], room["phone"]
    pages = {
        "console": (f"/s/{sid}/console/", facilitator),
        "projector": (f"/s/{sid}/present/", facilitator),
        "phone": (f"/p/{sid}/", phone),
    }
    streams = {
        "console stream": (f"/s/{sid}/console/stream/", facilitator),
        "projector stream": (f"/s/{sid}/present/stream/", facilitator),
        "phone stream": (f"/p/{sid}/stream/", phone),
    }
    for name, (path, cookies) in pages.items():
        reply = http_request(server, "GET", path, cookies=cookies)
        assert reply.status == 200, f"{name}: {reply.status}\n{server.log()}"
    form = http_request(server, "GET", f"/p/{sid}/", cookies=phone)
    phone = {**phone, **form.cookies()}
    answer = {"text": "The lights are broken", "parent": "", "key": "k" * 22}
    post = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": csrf_of(form),
    }

    cluster.stop()
    for name, (path, cookies) in {**pages, **streams}.items():
        started = time.monotonic()
        reply = http_request(server, "GET", path, cookies=cookies, timeout=15)
        print(f"{name} during the outage: {reply.status} in {time.monotonic() - started:.2f} s")
        assert reply.status == 503, f"{name}: {reply.status}\n{server.log()}"
        assert reply.headers["Retry-After"] == "5"
        assert b"Please try again in a moment." in reply.body
    sent = http_request(
        server, "POST", f"/p/{sid}/answers/", cookies=phone, headers=post,
        body=urlencode(answer).encode(),
    )  # fmt: skip
    assert sent.status == 503
    assert b"The lights are broken" in sent.body  # the text comes back to send again

    cluster.start()
    for _attempt in range(40):  # the pool tries again on the next requests
        reply = http_request(server, "GET", pages["console"][0], cookies=facilitator)
        if reply.status == 200:
            break
        assert reply.status == 503
        time.sleep(0.25)
    assert reply.status == 200, server.log()
    for name, (path, cookies) in pages.items():
        assert http_request(server, "GET", path, cookies=cookies).status == 200, name
    for _twice in range(2):  # the same key: a retry that already landed is not saved again
        sent = http_request(
            server, "POST", f"/p/{sid}/answers/", cookies=phone, headers=post,
            body=urlencode(answer).encode(),
        )  # fmt: skip
        assert sent.status == 302, sent.body[:500]
    assert cluster.count("SELECT count(*) FROM facilitation_cause") == 1


def test_a_database_error_on_a_page_is_a_503_that_reads_nothing_from_the_database(monkeypatch):
    """No database access is allowed here: the page must render without one."""

    def gone(request, session_id):
        raise OperationalError("connection refused")

    monkeypatch.setattr(participating, "_session_and_participant", gone)
    reply = Client(raise_request_exception=False).get("/p/abcdefgh/")
    assert reply.status_code == 503
    assert reply["Retry-After"] == "5"
    assert '<meta http-equiv="refresh" content="5">' in reply.content.decode()
    assert "Please try again in a moment." in reply.content.decode()


def test_any_other_error_is_still_a_500(monkeypatch):
    def broken(request, session_id):
        raise ValueError("a bug")

    monkeypatch.setattr(participating, "_session_and_participant", broken)
    reply = Client(raise_request_exception=False).get("/p/abcdefgh/")
    assert reply.status_code == 500
    assert "Sorry, something went wrong on our side." in reply.content.decode()
