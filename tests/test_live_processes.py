"""The live channel across real server processes sharing one PostgreSQL.

Each test starts uvicorn in subprocesses, exactly as `make serve` does, all
pointed at pytest-django's test database, and talks to them over HTTP with
the standard library: posts answers as a phone, reads the projector's and the
phones' Server-Sent Events streams, kills and restarts servers.

PostgreSQL only. These tests are about NOTIFY/LISTEN between processes; on
SQLite there is one process by design (DESIGN.md, "Live updates"), so there is
nothing to test. The module sets pytest's `__test__` to whether the configured
database is PostgreSQL: on SQLite pytest collects nothing from it (no skips in
the report), and on PostgreSQL every test runs, so a PostgreSQL that cannot be
reached is a failure (pytest-django cannot create the test database), never a
skip. The condition is the database Django is configured with, the same one
the rest of the suite runs on, not a second reading of DATABASE_URL.

Every network read is bounded by a socket timeout, and every server is killed
when its test ends.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.db import connection
from django.test import Client, override_settings

from sessions.models import Cause, Participant, Session
from tests.conftest import make_group, make_session, make_user, sign_participant_cookie

__test__ = connection.vendor == "postgresql"

ROOT = Path(__file__).resolve().parents[1]

# Both processes and this test sign and check cookies with the same key.
SECRET_KEY = "live-processes-test-key-not-secret-5d1f0c2e9b7a4f63a8e1"
# How long a server process may take to start listening.
READY_SECONDS = 60
HEARTBEAT_SECONDS = 1
GRACEFUL_SECONDS = 3  # as in the Makefile: streams are cancelled after it
# What uvicorn, Django and live.py log when a request or a render fails.
ERRORS = ("Exception in ASGI application", "Internal Server Error", "Could not render")
# How long a change may take to reach a stream on another process.
CROSS_PROCESS_SECONDS = 3.0


# --- Server processes -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database, as the servers' DATABASE_URL."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


class Server:
    """One uvicorn process serving butwhy.asgi, as in production."""

    def __init__(self, name: str, log_dir: Path):
        self.name = name
        self.port = free_port()
        self.log_path = log_dir / f"server-{name}.log"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SECRET_KEY": SECRET_KEY,
            "LIVE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "DEBUG": "false",
            # Names the process's connections in pg_stat_activity, for messages.
            "PGAPPNAME": f"butwhy-test-{name}",
        }

    def start(self) -> "Server":
        """Start (or restart, on the same port) and wait until it accepts connections."""
        return self.launch().wait_until_ready()

    def launch(self) -> "Server":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    # .venv/bin/uvicorn, or wherever this suite's Python is.
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "butwhy.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--timeout-graceful-shutdown",
                    str(GRACEFUL_SECONDS),
                    "--no-access-log",
                    "--lifespan",
                    "off",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_until_ready(self) -> "Server":
        # A server starts in about 5 s; a machine busy with other suites took over 15.
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"Server {self.name} exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"Server {self.name} did not listen within {READY_SECONDS} s:\n{self.log()}"
                    )
                time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer."""
        if self.running:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


@pytest.fixture
def servers(transactional_db, tmp_path) -> Iterator:
    """Start named servers, side by side; all are killed before the test's
    tables are emptied. `a, b = servers("a", "b")`.

    transactional_db: the servers see only what is committed.
    """
    started: list[Server] = []

    def start(*names: str, env: dict[str, str] | None = None) -> list[Server]:
        launched = []
        for name in names:
            server = Server(name, tmp_path)
            server.env.update(env or {})
            launched.append(server.launch())
        started.extend(launched)
        return [server.wait_until_ready() for server in launched]

    yield start
    for server in started:
        server.kill()
    troubled = [f"--- {s.name}:\n{s.log()}" for s in started if any(e in s.log() for e in ERRORS)]
    assert not troubled, "A server logged an error:\n" + "\n".join(troubled)


# --- HTTP and Server-Sent Events, with the standard library -----------------


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        for header in self.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return {name: morsel.value for name, morsel in jar.items()}


def http_request(
    server: Server,
    method: str,
    path: str,
    *,
    cookies: dict[str, str],
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10,
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(
            method, path, body=body, headers={"Cookie": cookie_header(cookies), **(headers or {})}
        )
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


@dataclass
class Event:
    kind: str  # "hello", "snapshot", or "comment" (a heartbeat)
    seq: int | None = None
    data: str = ""


class Stream:
    """One open SSE response, read line by line; every read has a deadline."""

    def __init__(
        self, server: Server, path: str, cookies: dict[str, str], headers: dict | None = None
    ):
        self.path = path
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        self.conn.request(
            "GET",
            path,
            headers={
                "Accept": "text/event-stream",
                "Cookie": cookie_header(cookies),
                **(headers or {}),
            },
        )
        self.sock = self.conn.sock
        self.response = self.conn.getresponse()
        assert self.response.status == 200, (
            f"GET {path} on {server.name} answered {self.response.status}; its log:\n{server.log()}"
        )
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.received: list[Event] = []
        self.ended = False

    @property
    def last_seq(self) -> int | None:
        """The client's cursor: the id of the latest snapshot it received."""
        seqs = [e.seq for e in self.received if e.kind == "snapshot"]
        return seqs[-1] if seqs else None

    def next(self, timeout: float) -> Event | None:
        """The next event or heartbeat; None once the server ended the stream.

        Raises TimeoutError if nothing complete arrives within `timeout`.
        """
        deadline = time.monotonic() + timeout
        fields: dict[str, str] = {}
        data: list[str] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Nothing within {timeout} s on {self.path}")
            self.sock.settimeout(left)
            try:
                raw = self.response.readline()
            except (ConnectionError, http.client.IncompleteRead):
                raw = b""
            except OSError as error:  # socket.timeout is TimeoutError, an OSError
                if isinstance(error, TimeoutError):
                    raise
                raw = b""
            if raw == b"":
                self.ended = True
                return None
            line = raw.decode().rstrip("\r\n")
            if line.startswith(":"):
                event = Event("comment", data=line[1:].strip())
            elif line:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                else:
                    fields[name] = value
                continue
            elif not fields and not data:
                continue
            else:
                event = Event(
                    fields.get("event", "message"),
                    int(fields["id"]) if "id" in fields else None,
                    "\n".join(data),
                )
            self.received.append(event)
            return event

    def snapshot(self, timeout: float = 5) -> Event:
        """The next snapshot, skipping the hello and heartbeats."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.next(deadline - time.monotonic())
            except TimeoutError:
                pytest.fail(
                    f"No snapshot within {timeout} s on {self.path}; received {self.kinds()}"
                )
            if event is None:
                pytest.fail(f"{self.path} ended before a snapshot; received {self.kinds()}")
            if event.kind == "snapshot":
                return event

    def read_for(self, seconds: float) -> list[Event]:
        """Everything that arrives within `seconds` (or until the stream ends)."""
        deadline = time.monotonic() + seconds
        events = []
        while not self.ended:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                event = self.next(left)
            except TimeoutError:
                break
            if event is not None:
                events.append(event)
        return events

    def kinds(self) -> list[str]:
        return [e.kind if e.seq is None else f"{e.kind}#{e.seq}" for e in self.received]

    def close(self) -> None:
        self.conn.close()
        self.response.close()


# --- People -------------------------------------------------------------------


@dataclass
class Room:
    session: Session
    facilitator: dict[str, str]  # cookies
    streams: list[Stream] = field(default_factory=list)

    @property
    def sid(self) -> str:
        return self.session.public_id

    def last_seq(self) -> int:
        return Session.objects.values_list("last_seq", flat=True).get(pk=self.session.pk)

    def phone(self) -> "Phone":
        participant = Participant.objects.create(session=self.session)
        with override_settings(SECRET_KEY=SECRET_KEY):
            client = Client()
            sign_participant_cookie(client, participant)
        return Phone(self, {name: morsel.value for name, morsel in client.cookies.items()})

    def projector(self, server: Server, cursor: int | None = None, how: str = "header") -> Stream:
        return self.open(server, f"/s/{self.sid}/present/stream/", self.facilitator, cursor, how)

    def open(self, server, path, cookies, cursor, how) -> Stream:
        headers = {}
        if cursor is not None and how == "header":
            headers["Last-Event-ID"] = str(cursor)
        elif cursor is not None:
            path += f"?last={cursor}"
        stream = Stream(server, path, cookies, headers)
        self.streams.append(stream)
        return stream

    def projector_shows(self, text: str, event: Event) -> bool:
        return f">{text}<" in event.data


@dataclass
class Phone:
    room: Room
    cookies: dict[str, str]

    def stream(self, server: Server, cursor: int | None = None, how: str = "header") -> Stream:
        return self.room.open(server, f"/p/{self.room.sid}/stream/", self.cookies, cursor, how)

    def answer(self, server: Server, text: str) -> Cause:
        """Send an answer as the phone's form does; return it once committed."""
        sid = self.room.sid
        if "csrftoken" not in self.cookies:
            page = http_request(server, "GET", f"/p/{sid}/", cookies=self.cookies)
            assert page.status == 200, f"The phone page answered {page.status}:\n{server.log()}"
            self.cookies["csrftoken"] = page.cookies()["csrftoken"]
        reply = http_request(
            server,
            "POST",
            f"/p/{sid}/answers/",
            cookies=self.cookies,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.cookies["csrftoken"],
            },
            body=urlencode({"text": text, "parent": ""}).encode(),
        )
        assert reply.status == 302, f"Answering answered {reply.status}:\n{server.log()}"
        return Cause.objects.get(session=self.room.session, text=text)


def shown_on_phone(event: Event) -> set[int]:
    """The causes a phone's snapshot says are on the board (#states data-shown)."""
    match = re.search(r'id="states"[^>]*data-shown="([^"]*)"', event.data) or re.search(
        r'data-shown="([^"]*)"[^>]*id="states"', event.data
    )
    assert match, f"No #states in the phone's snapshot: {event.data[:500]}"
    return {int(pk) for pk in re.findall(r"\d+", match.group(1))}


@pytest.fixture
def room(transactional_db) -> Iterator[Room]:
    fran = make_user("fran")
    session = make_session(make_group(facilitators=[fran]))
    with override_settings(SECRET_KEY=SECRET_KEY):
        client = Client()
        client.force_login(fran)
    room = Room(session, {"sessionid": client.cookies["sessionid"].value})
    yield room
    for stream in room.streams:
        stream.close()


# --- Tests ----------------------------------------------------------------------


def test_an_answer_sent_through_one_process_reaches_a_projector_on_another(servers, room):
    a, b = servers("a", "b")
    projector = room.projector(b)
    assert projector.snapshot().seq == room.last_seq()

    answer = room.phone().answer(a, "The street lights are broken")
    sent = time.monotonic()
    update = projector.snapshot(timeout=CROSS_PROCESS_SECONDS)
    assert room.projector_shows(answer.text, update), update.data
    assert update.seq == room.last_seq()
    assert time.monotonic() - sent < CROSS_PROCESS_SECONDS


def test_a_client_reconnecting_with_its_cursor_gets_exactly_what_it_missed(servers, room):
    """The cursor as Last-Event-ID: N and, separately, as ?last=N; on the
    process the client was on, and on the other one."""
    a, b = servers("a", "b")
    phone = room.phone()
    projector, phone_stream = room.projector(b), phone.stream(b)
    seen = projector.snapshot().seq
    assert phone_stream.snapshot().seq == seen == room.last_seq()
    projector.close()
    phone_stream.close()

    missed = [phone.answer(a, text) for text in ("Drivers speed", "No lights", "No crossing")]
    latest = room.last_seq()
    assert latest == seen + len(missed)

    caught_up = []
    for how in ("header", "query"):
        for server in (a, b):
            projector = room.projector(server, cursor=seen, how=how)
            snapshot = projector.snapshot()
            assert snapshot.seq == latest, (how, server.name)
            assert all(room.projector_shows(c.text, snapshot) for c in missed), snapshot.data
            phone_stream = phone.stream(server, cursor=seen, how=how)
            snapshot = phone_stream.snapshot()
            assert snapshot.seq == latest, (how, server.name)
            assert {c.pk for c in missed} <= shown_on_phone(snapshot), (how, server.name)
            caught_up += [projector, phone_stream]

    # Up to date now: whoever reconnects with the latest cursor gets no
    # snapshot, only the hello and heartbeats.
    up_to_date = [
        open_stream(server, cursor=latest, how=how)
        for open_stream in (room.projector, phone.stream)
        for server in (a, b)
        for how in ("header", "query")
    ]
    time.sleep(HEARTBEAT_SECONDS * 2)
    for stream in [*up_to_date, *caught_up]:
        stream.read_for(0.2)
    for stream in up_to_date:
        kinds = stream.kinds()
        assert kinds[0] == "hello" and set(kinds[1:]) == {"comment"}, (stream.path, kinds)
        assert len(kinds) >= 2, (stream.path, kinds)
    # And those that caught up got the hello, one snapshot, then only heartbeats.
    for stream in caught_up:
        kinds = stream.kinds()
        assert kinds[:2] == ["hello", f"snapshot#{latest}"], (stream.path, kinds)
        assert set(kinds[2:]) == {"comment"}, (stream.path, kinds)


def test_a_server_killed_and_restarted_loses_nothing(servers, room):
    a, b = servers("a", "b")
    phone = room.phone()
    projector, phone_stream = room.projector(b), phone.stream(b)
    start = projector.snapshot().seq
    phone_stream.snapshot()

    # Committed (the 302 came back) through the process about to die, and
    # through the other one; then SIGKILL at once, whatever b's streams had
    # or had not been sent by then.
    before = [phone.answer(b, "Answered on b"), phone.answer(a, "Answered on a")]
    b.kill()
    for stream in (projector, phone_stream):
        stream.read_for(2)
        assert stream.ended, f"{stream.path} still open after its server was killed"
    while_down = phone.answer(a, "Answered while b was down")
    sent = [*before, while_down]
    assert set(Cause.objects.filter(session=room.session).values_list("text", flat=True)) == {
        c.text for c in sent
    }

    b.start()
    latest = room.last_seq()
    assert latest == start + len(sent)
    projector = room.projector(b, cursor=projector.last_seq)
    phone_stream = phone.stream(b, cursor=phone_stream.last_seq)
    first = projector.snapshot()
    assert all(room.projector_shows(c.text, first) for c in sent), first.data
    assert {c.pk for c in sent} <= shown_on_phone(phone_stream.snapshot())
    # Both clients converge on the session's latest sequence number.
    assert projector.last_seq == phone_stream.last_seq == room.last_seq()

    # And the restarted server is live again: its LISTEN connection is back.
    later = phone.answer(a, "Answered after the restart")
    assert room.projector_shows(later.text, projector.snapshot(timeout=CROSS_PROCESS_SECONDS))
    assert projector.last_seq == room.last_seq()


def test_a_process_whose_listen_connection_dies_catches_up_when_it_is_back(servers, room):
    """PostgreSQL drops b's LISTEN connection (a restart, a failover, an
    idle-session timeout); what is committed before b listens again still
    reaches b's streams."""
    a, b = servers("a", "b")
    projector = room.projector(b)
    projector.snapshot()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'butwhy-test-b' AND query LIKE 'LISTEN %%'"
        )
        assert cursor.fetchall() == [(True,)], "b should hold exactly one LISTEN connection"
    answer = room.phone().answer(a, "Sent while b was not listening")
    update = projector.snapshot(timeout=CROSS_PROCESS_SECONDS + 10)
    assert room.projector_shows(answer.text, update), update.data
    assert update.seq == room.last_seq()


def connections_to_test_database() -> list[tuple]:
    """The servers' connections (PGAPPNAME names them), not this test process's pool."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, left(query, 80) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name LIKE 'butwhy-test-%%'",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchall()


def connections_held_over(seconds: float) -> list[tuple]:
    """The connections to the test database open all through `seconds`.

    A connection that only shows in some samples is one being opened or
    closed (a backend exits a moment after its client closed it, later still
    on a busy machine); one a stream holds while it waits is in every sample.
    """
    held: set[int] | None = None
    rows: dict[int, tuple] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sample = connections_to_test_database()
        rows.update((row[0], row) for row in sample)
        pids = {row[0] for row in sample}
        held = pids if held is None else held & pids
        time.sleep(0.1)
    return sorted(rows[pid] for pid in held or ())


def test_open_streams_hold_no_database_connection_while_they_wait(servers, room):
    """With 5 or with 20 phone streams (and as many projector streams) open on
    one process, the same few connections: its LISTEN connection, and at most
    one more. Measured while the streams wait through heartbeats, and again
    after a change that every stream rendered and received.

    The server's pool has one connection: a stream that kept it would also
    leave every later check, render and request waiting."""
    (server,) = servers("a", env={"DATABASE_POOL_SIZE": "1"})
    phone = room.phone()
    held = {}
    streams: list[Stream] = []
    for k in (5, 20):
        while len(streams) < 2 * k:
            streams += [phone.stream(server), room.projector(server)]
        for stream in streams:
            if stream.last_seq is None:
                stream.snapshot()
        waiting = connections_held_over(HEARTBEAT_SECONDS * 1.2)
        phone.answer(server, f"A change with {k} phones open")
        for stream in streams:
            while stream.last_seq != room.last_seq():
                stream.snapshot(timeout=CROSS_PROCESS_SECONDS)
        held[k] = max(waiting, connections_held_over(HEARTBEAT_SECONDS * 1.2), key=len)

    assert len(held[5]) <= 2 and len(held[20]) <= 2, held
    assert len(held[5]) == len(held[20]), held


def test_polling_answers_204_when_nothing_changed_else_the_snapshot(servers, room):
    a, b = servers("a", "b")
    phone = room.phone()
    seen = room.last_seq()
    paths = {"phone": (f"/p/{room.sid}/stream/", phone.cookies)}
    paths["projector"] = (f"/s/{room.sid}/present/stream/", room.facilitator)

    def poll(server, audience, cursor) -> Reply:
        path, cookies = paths[audience]
        return http_request(server, "GET", f"{path}?poll=1&last={cursor}", cookies=cookies)

    for audience in paths:
        nothing = poll(a, audience, seen)
        assert (nothing.status, nothing.body) == (204, b""), audience

    missed = [phone.answer(b, "Sent through b"), phone.answer(b, "Also through b")]
    latest = room.last_seq()
    projector = poll(a, "projector", seen)
    assert projector.status == 200
    assert int(projector.headers["X-Seq"]) == latest
    assert all(f">{c.text}<" in projector.body.decode() for c in missed)
    on_phone = poll(a, "phone", seen)
    assert on_phone.status == 200
    assert int(on_phone.headers["X-Seq"]) == latest
    assert {c.pk for c in missed} <= shown_on_phone(
        Event("snapshot", latest, on_phone.body.decode())
    )
    for audience in paths:
        assert poll(a, audience, latest).status == 204, audience


def test_sigterm_stops_a_server_with_open_streams_within_the_grace_period(servers, room):
    (server,) = servers("a")
    phone = room.phone()
    streams = [phone.stream(server), phone.stream(server), room.projector(server)]
    for stream in streams:
        stream.snapshot()

    server.process.send_signal(signal.SIGTERM)
    start = time.monotonic()
    try:
        server.process.wait(timeout=GRACEFUL_SECONDS + 5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Still running {GRACEFUL_SECONDS + 5} s after SIGTERM:\n{server.log()}")
    took = time.monotonic() - start
    assert took < 5, f"Stopped {took:.1f} s after SIGTERM:\n{server.log()}"
    # A clean stop: uvicorn finished (and then re-raises the SIGTERM
    # it handled, so the exit status says "terminated by SIGTERM").
    assert server.process.returncode in {0, -signal.SIGTERM}, server.log()
    assert "Finished server process" in server.log()
    for stream in streams:
        stream.read_for(1)
        assert stream.ended, f"{stream.path} still open after its server stopped"


def test_rate_limits_hold_across_processes(servers, room):
    from sessions import ratelimits

    a, b = servers("a", "b")
    phone = room.phone()
    # Limits count in fixed windows: start early in one, so that every answer
    # below falls inside it.
    left = ratelimits.ANSWER.seconds - time.time() % ratelimits.ANSWER.seconds
    if left < 30:
        time.sleep(left + 0.5)
    for i in range(ratelimits.ANSWER.count):
        phone.answer((a, b)[i % 2], f"Reason number {i}")
    reply = http_request(
        b,
        "POST",
        f"/p/{room.sid}/answers/",
        cookies=phone.cookies,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": phone.cookies["csrftoken"],
        },
        body=urlencode({"text": "One too many", "parent": ""}).encode(),
    )
    assert reply.status == 429, b.log()
    assert not Cause.objects.filter(session=room.session, text="One too many").exists()
