"""Benchmark the live channel end to end, as a room full of phones would use it.

Starts the real app server (uvicorn, production settings) on SQLite or
PostgreSQL, creates a session with N participants, opens N phone streams and
M projector streams with cheap raw-asyncio clients, then posts answers through
the real participant endpoint at a fixed rate (open loop: every answer has a
scheduled send time, whatever happened to the previous one), asks
"But why?" about the newest cause every few seconds through the facilitator's
endpoint, and pauses the room (then resumes it a second later) every ten
seconds. Every client records when each cause first appears in its state, and
when its phone shows the new question, the pause and the end of the pause.

    .venv/bin/python bench/live.py --clients 1000 --rate 5 --seconds 60 --pin
    .venv/bin/python bench/live.py --db postgres --processes 2 --clients 1000 --pin
    .venv/bin/python bench/live.py --clients 1000 --churn 0.03 --seconds 30
    .venv/bin/python bench/live.py --clients 1000 --restart --seconds 30

Each run creates its own facilitator, group, open session and participants
(bulk-created; cookies signed here with the server's SECRET_KEY). Answers go
to POST /p/<id>/answers/ with CSRF, from the participants in turn (the answer
rate limit is per participant); focus changes to the facilitator's
POST /s/<id>/causes/<pk>/focus/; pauses and resumes to POST
/s/<id>/pause/ and /s/<id>/resume/ (phones send no answers while paused: the
answers scheduled in a pause, and 0.3 s either side, are skipped).
`--app-dir` serves another checkout (say a `git archive` of one commit) so
that edits in the working tree don't change the code under test halfway
through a series of runs.

What counts:
- latency: submit (the answer's scheduled send time) to the moment a client's
  state first contains the new cause; over all deliveries, and per cause the
  last client to get it. Focus and pause: per change, until every phone shows it.
- missed: causes posted that a client's final state lacks (summed over clients).
- duplicated: a snapshot whose sequence number is not above what the client
  already has (on the same connection, or right after resuming with a cursor),
  plus a cause that vanished from a client's state and came back.
- errors: failed posts or focus changes, streams refused or cut unexpectedly,
  a server that died. Connections cut by --churn or --restart are expected.

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import resource
import secrets
import shlex
import signal
import subprocess
import sys
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
UVICORN = REPO / ".venv" / "bin" / "uvicorn"
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BENCH_APP_NAME = "butwhy-bench-client"

now = time.monotonic


# ---------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--processes", type=int, default=1, help="server processes (ports)")
    parser.add_argument("--clients", type=int, default=100, help="phone streams")
    parser.add_argument("--projectors", type=int, default=1, help="projector streams")
    parser.add_argument("--rate", type=float, default=5.0, help="answers per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long answers are posted")
    parser.add_argument(
        "--churn",
        type=float,
        default=0.0,
        help="per answer, this fraction of clients drop their TCP connection and resume",
    )
    parser.add_argument(
        "--churn-delay",
        type=float,
        default=0.5,
        help="a dropped client reconnects after a random delay up to this many seconds",
    )
    parser.add_argument("--restart", action="store_true", help="SIGTERM the server mid-run")
    parser.add_argument(
        "--tree-open",
        type=int,
        default=0,
        help="how many phones follow with everyone's answers open (the others get the count)",
    )
    parser.add_argument(
        "--no-phone-tree", action="store_true", help="phones without everyone's answers"
    )
    parser.add_argument("--pin", action="store_true", help="server on core 0, clients on core 1")
    parser.add_argument("--focus-every", type=float, default=5.0, help="seconds between focuses")
    parser.add_argument(
        "--pause-every", type=float, default=10.0, help="seconds between pauses (0: none)"
    )
    parser.add_argument(
        "--pause-length", type=float, default=1.0, help="seconds before the room resumes"
    )
    parser.add_argument("--port", type=int, default=8810, help="first server port")
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/butwhy_bench", help="--db postgres"
    )
    parser.add_argument("--sqlite-path", default="/tmp/butwhy-bench.sqlite3", help="--db sqlite")
    parser.add_argument("--settle", type=float, default=10.0, help="max wait for stragglers (s)")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument(
        "--uvicorn-args", default="", help="extra uvicorn arguments, e.g. '--loop uvloop'"
    )
    parser.add_argument(
        "--server-pythonpath",
        default="",
        help="the server's PYTHONPATH, e.g. a `pip install --target` dir with uvloop and httptools",
    )
    parser.add_argument(
        "--profile", default="", help="py-spy record the (first) server into this file"
    )
    parser.add_argument("--py-spy", default=os.environ.get("PY_SPY", "py-spy"))
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=REPO,
        help="the checkout to serve (e.g. a `git archive` of a commit); the venv stays this one",
    )
    parser.add_argument("--quiet", action="store_true", help="print the JSON line only")
    args = parser.parse_args(argv)
    if args.processes < 1 or args.clients < 1 or args.rate <= 0 or args.seconds <= 0:
        parser.error("--processes, --clients, --rate and --seconds must be positive")
    if args.processes > 1 and args.db == "sqlite":
        parser.error("several processes need --db postgres (SQLite wakes streams in-process)")
    return args


def say(args: argparse.Namespace, *parts: object) -> None:
    if not args.quiet:
        print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- database and data


def database_url(args: argparse.Namespace) -> str:
    if args.db == "postgres":
        return args.pg_url
    # settings.database_from_url treats sqlite:////abs as a relative path;
    # a host part makes the path absolute.
    return f"sqlite://localhost{args.sqlite_path}"


def prepare_database(args: argparse.Namespace, env: dict[str, str]) -> None:
    if args.db == "postgres":
        import psycopg
        from psycopg import sql

        name = args.pg_url.rsplit("/", 1)[1]
        admin = args.pg_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    done = subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "--noinput", "-v0"],
        cwd=args.app_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"manage.py migrate failed:\n{done.stdout}{done.stderr}")


@dataclass
class Setup:
    session_pk: int
    public_id: str
    phone_cookies: list[str]  # "name=value" for each phone
    author_cookies: list[str]  # who posts the answers: the phones, and more if needed
    facilitator_cookie: str  # sessionid=...
    secret_key: str


def extra_authors(args: argparse.Namespace) -> int:
    """Participants beyond the phones, so that no author hits the answer rate limit.

    Authors take turns; each should send at most ~6 answers a minute (the limit is 12).
    """
    return max(0, math.ceil(args.rate * 60 / 6) - args.clients)


def create_data(args: argparse.Namespace) -> Setup:
    """A facilitator, a group, an open session, participants; their cookies."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections
    from django.http import HttpResponse

    from sessions.models import Group, Membership, Participant, Session
    from sessions.permissions import PARTICIPANT_COOKIE

    tag = secrets.token_hex(4)
    user = get_user_model().objects.create_user(
        username=f"bench-{tag}", password=secrets.token_urlsafe(16)
    )
    group = Group.objects.create(name=f"Bench {tag}")
    Membership.objects.create(group=group, user=user, role=Membership.Role.FACILITATOR)
    session = Session.objects.create(
        group=group,
        title=f"Bench {tag}",
        situation="Young people keep getting hurt at the corner of 5th and Main.",
        created_by=user,
        phone_tree=not args.no_phone_tree,
    )
    session.open_for_joining()
    people = Participant.objects.bulk_create(
        [Participant(session=session) for _ in range(args.clients + extra_authors(args))]
    )
    name = PARTICIPANT_COOKIE.format(session.public_id)

    def cookie(participant: Participant) -> str:
        response = HttpResponse()
        response.set_signed_cookie(name, participant.key)
        return f"{name}={response.cookies[name].value}"

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    setup = Setup(
        session_pk=session.pk,
        public_id=session.public_id,
        phone_cookies=[cookie(p) for p in people[: args.clients]],
        author_cookies=[cookie(p) for p in people],
        facilitator_cookie=f"{settings.SESSION_COOKIE_NAME}={store.session_key}",
        secret_key=settings.SECRET_KEY,
    )
    connections.close_all()
    return setup


def orm_last_seq(session_pk: int) -> int:
    from django.db import connections

    from sessions.models import Session

    try:
        return Session.objects.filter(pk=session_pk).values_list("last_seq", flat=True).get()
    finally:
        connections.close_all()


def orm_final_state(session_pk: int) -> tuple[dict[int, str], int | None, int]:
    """Every visible cause (pk -> text), the focus and the last sequence number."""
    from django.db import connections

    from sessions.models import Cause, Session

    try:
        causes = dict(
            Cause.objects.filter(session_id=session_pk, state=Cause.State.VISIBLE).values_list(
                "pk", "text"
            )
        )
        focus, last_seq = (
            Session.objects.filter(pk=session_pk).values_list("focus_id", "last_seq").get()
        )
        return causes, focus, last_seq
    finally:
        connections.close_all()


# ---------------------------------------------------------------- server processes


def raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """One uvicorn process on one port; CPU and memory read from /proc."""

    def __init__(self, args: argparse.Namespace, port: int, env: dict[str, str]):
        self.args = args
        self.port = port
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(f"/tmp/butwhy-bench-server-{port}.log")
        self.spent_cpu = 0.0  # CPU seconds of earlier (restarted) incarnations
        self.exit_codes: list[int] = []

    def start(self) -> None:
        command = [
            str(UVICORN),
            "butwhy.asgi:application",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--timeout-graceful-shutdown",
            "5",
            "--no-access-log",
            "--lifespan",
            "off",
            # As butwhy/server.py runs it: the limits on, proxy headers the app's.
            "--http",
            "butwhy.server:Protocol",
            "--no-proxy-headers",
            *shlex.split(self.args.uvicorn_args),
        ]
        if self.args.pin:
            command = ["taskset", "-c", "0", *command]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=self.args.app_dir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_nofile,
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu(self) -> float:
        """CPU seconds (user + system) of this port's processes so far."""
        if not self.alive():
            return self.spent_cpu
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            return self.spent_cpu
        return self.spent_cpu + (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kb(self) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except FileNotFoundError:
            pass
        return 0

    def threads(self) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("Threads:"):
                    return int(line.split()[1])
        except FileNotFoundError:
            pass
        return 0

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, wait, and keep the CPU it used (wait4 gives the child's rusage)."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        deadline = now() + timeout
        while now() < deadline:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                self.spent_cpu += usage.ru_utime + usage.ru_stime
                self.process.returncode = os.waitstatus_to_exitcode(status)
                self.exit_codes.append(self.process.returncode)
                return
            time.sleep(0.05)
        self.process.kill()
        _pid, status, usage = os.wait4(self.pid, 0)
        self.spent_cpu += usage.ru_utime + usage.ru_stime
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.exit_codes.append(self.process.returncode)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


# ---------------------------------------------------------------- a tiny HTTP/1.1 client


class HttpError(Exception):
    pass


class Http:
    """One keep-alive HTTP/1.1 connection (asyncio streams): enough for posting."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        reused = not (
            self.writer is None
            or self.writer.is_closing()
            or (self.reader is not None and self.reader.at_eof())
        )
        try:
            return await self._request(method, path, headers, body)
        except HttpError:
            if not reused:
                raise
        # The server closed the idle keep-alive connection meanwhile: it saw nothing.
        return await self._request(method, path, headers, body)

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None or self.writer.is_closing() or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        elif self.reader.at_eof():
            self.close()
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        try:
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            self.close()
            raise HttpError(f"connection closed: {error!r}") from error
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        response_headers: dict[str, str] = {}
        cookies = []
        for line in header_lines:
            if ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                if key == "set-cookie":
                    cookies.append(value.strip())
                response_headers[key] = value.strip()
        response_headers["set-cookie"] = "\n".join(cookies)
        if response_headers.get("transfer-encoding", "").lower() == "chunked":
            content = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                content += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                del content[-2:]
            data = bytes(content)
        else:
            data = await self.reader.readexactly(int(response_headers.get("content-length", 0)))
        if response_headers.get("connection", "").lower() == "close":
            self.close()
        return status, response_headers, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = self.reader = None


def csrf_from(headers: dict[str, str]) -> str | None:
    match = re.search(r"csrftoken=([^;\s]+)", headers.get("set-cookie", ""))
    return match.group(1) if match else None


# ---------------------------------------------------------------- snapshots and clients

PHONE_SHOWN = re.compile(rb'id="states"[^>]*data-shown="([^"]*)"')
PHONE_FOCUS = re.compile(rb'id="prompt" [^>]*data-question="(\d*)"')
PROJECTOR_CAUSE = re.compile(rb'id="cause-(\d+)"')
PROJECTOR_FOCUS = re.compile(rb'is-focus"[^>]*>\s*<div class="cause" id="cause-(\d+)"')
# The pause covers every screen: its region, without `hidden` while paused.
PAUSE = re.compile(rb'id="pause"[^>]*>')


@dataclass(eq=False)
class Snapshot:
    seq: int
    ids: frozenset[int]
    focus: int | None
    # A paused room's message carries only the pause: `ids` and `focus` are
    # then the client's from before (Client.on_snapshot).
    paused: bool = False


EMPTY = Snapshot(-1, frozenset(), None)


class Parser:
    """Every client of an audience receives the same bytes: parse each message once."""

    def __init__(self, audience: str):
        self.audience = audience
        self.cache: dict[bytes, Snapshot] = {}
        self.diffs: dict[tuple[Snapshot, Snapshot], tuple[frozenset[int], frozenset[int]]] = {}

    def parse(self, block: bytes) -> Snapshot | None:
        snapshot = self.cache.get(block)
        if snapshot is not None:
            return snapshot
        seq = None
        event = "message"
        data = []
        for line in block.split(b"\n"):
            name, _, value = line.partition(b":")
            value = value.removeprefix(b" ")
            if name == b"id":
                seq = int(value)
            elif name == b"event":
                event = value.decode()
            elif name == b"data":
                data.append(value)
        if event != "snapshot" or seq is None:
            return None
        html = b"\n".join(data)
        if self.audience == "phone":
            shown = PHONE_SHOWN.search(html)
            ids = frozenset(int(x) for x in shown.group(1).split()) if shown else frozenset()
            focus_match = PHONE_FOCUS.search(html)
        else:
            ids = frozenset(int(x) for x in PROJECTOR_CAUSE.findall(html))
            focus_match = PROJECTOR_FOCUS.search(html)
        focus = int(focus_match.group(1)) if focus_match and focus_match.group(1) else None
        pause = PAUSE.search(html)
        paused = pause is not None and b" hidden" not in pause.group()
        snapshot = self.cache[block] = Snapshot(seq, ids, focus, paused)
        return snapshot

    def diff(self, old: Snapshot, new: Snapshot) -> tuple[frozenset[int], frozenset[int]]:
        """(appeared, vanished) from `old` to `new`, computed once per pair."""
        key = (old, new)
        result = self.diffs.get(key)
        if result is None:
            result = self.diffs[key] = (new.ids - old.ids, old.ids - new.ids)
        return result


@dataclass
class Stats:
    """What every client records, shared (one event loop, no locks)."""

    recv: dict[int, array] = field(default_factory=dict)  # cause pk -> first-seen times
    focus_recv: dict[int, array] = field(default_factory=dict)  # focus pk -> phones' times
    # The n-th pause or resume -> the phones' times (each phone sees them in order).
    pause_recv: dict[int, array] = field(default_factory=dict)
    deliveries: int = 0
    dup_same_connection: int = 0
    dup_after_resume: int = 0
    reappeared: int = 0
    vanished: int = 0
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    expected_drops: int = 0
    measuring: bool = False
    restarting: bool = False
    restart_sigterm_at: float | None = None

    def error(self, message: str) -> None:
        self.errors.append(message)


class Client:
    """One phone or projector: one SSE stream at a time, resumed with its cursor."""

    def __init__(
        self,
        index: int,
        audience: str,
        port: int,
        path: str,
        cookie: str,
        parser: Parser,
        stats: Stats,
    ):
        self.index = index
        self.audience = audience
        self.port = port
        self.path = path
        self.cookie = cookie
        self.parser = parser
        self.stats = stats
        self.snapshot = EMPTY
        self.last_seq: int | None = None
        self.retry = 1.0
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] | None = None
        self.first_snapshot = asyncio.get_running_loop().create_future()
        self.connected_at: float | None = None
        self.messages_on_connection = 0
        self.expect_drop = False
        self.stopping = False
        self.vanished_ids: set[int] = set()
        self.connections = 0
        # (time, seq) of every snapshot and (time, "hello") after a restart began.
        self.history: list[tuple[float, int]] = []
        self.hellos: list[tuple[float, int]] = []  # (time, last seq then)
        self.use_header = index % 2 == 1  # half resume with Last-Event-ID, half with ?last=
        self.paused = False
        self.pause_changes_seen = 0

    def request(self) -> bytes:
        path = self.path
        headers = [
            f"GET {{}} HTTP/1.1\r\nHost: {HOST}:{self.port}",
            "Accept: text/event-stream",
            "Cache-Control: no-cache",
            f"Cookie: {self.cookie}",
        ]
        if self.last_seq is not None:
            if self.use_header:
                headers.append(f"Last-Event-ID: {self.last_seq}")
            else:
                path += f"{'&' if '?' in path else '?'}last={self.last_seq}"
        headers[0] = headers[0].format(path)
        return ("\r\n".join(headers) + "\r\n\r\n").encode()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping:
            self.lost = loop.create_future()
            try:
                await loop.create_connection(lambda: StreamProtocol(self), HOST, self.port)
            except OSError as error:
                if not self.stats.restarting:
                    self.stats.error(f"{self.audience} {self.index} connect: {error!r}")
                await asyncio.sleep(self.retry)
                continue
            self.connections += 1
            await self.lost
            if self.stopping:
                return
            if self.expect_drop:
                self.expect_drop = False
                await asyncio.sleep(random.uniform(0, self.churn_delay))
            else:
                await asyncio.sleep(self.retry)
            self.stats.reconnects += 1

    churn_delay = 0.5

    def drop(self) -> None:
        """The phone loses its connection (a churned client): no goodbye."""
        if self.transport is not None and not self.transport.is_closing():
            self.expect_drop = True
            self.stats.expected_drops += 1
            self.transport.abort()

    def stop(self) -> None:
        self.stopping = True
        if self.transport is not None:
            self.transport.abort()

    # Called by the protocol.

    def on_hello(self, block: bytes, at: float) -> None:
        for line in block.split(b"\n"):
            if line.startswith(b"retry:"):
                self.retry = int(line[6:]) / 1000
        if self.stats.restart_sigterm_at is not None:
            self.hellos.append((at, -1 if self.last_seq is None else self.last_seq))

    def on_snapshot(self, block: bytes, at: float) -> None:
        snapshot = self.parser.parse(block)
        if snapshot is None:
            return
        stats = self.stats
        if stats.measuring:
            stats.deliveries += 1
        self.messages_on_connection += 1
        if self.last_seq is not None and snapshot.seq <= self.last_seq:
            if self.messages_on_connection == 1:
                stats.dup_after_resume += 1
            else:
                stats.dup_same_connection += 1
            return
        self.last_seq = snapshot.seq
        if snapshot.paused != self.paused:
            self.paused = snapshot.paused
            if self.audience == "phone" and self.snapshot is not EMPTY:
                times = stats.pause_recv.get(self.pause_changes_seen)
                if times is None:
                    times = stats.pause_recv[self.pause_changes_seen] = array("d")
                times.append(at)
            self.pause_changes_seen += 1
        if snapshot.paused:
            # Only the pause came: the room behind it is as it was.
            snapshot = Snapshot(snapshot.seq, self.snapshot.ids, self.snapshot.focus, True)
        appeared, vanished = self.parser.diff(self.snapshot, snapshot)
        if self.snapshot is not EMPTY:
            for pk in appeared:
                if pk in self.vanished_ids:
                    stats.reappeared += 1
                    self.vanished_ids.discard(pk)
                    continue
                times = stats.recv.get(pk)
                if times is None:
                    times = stats.recv[pk] = array("d")
                times.append(at)
            if vanished:
                stats.vanished += len(vanished)
                self.vanished_ids |= vanished
            if (
                self.audience == "phone"
                and snapshot.focus is not None
                and snapshot.focus != self.snapshot.focus
            ):
                times = stats.focus_recv.get(snapshot.focus)
                if times is None:
                    times = stats.focus_recv[snapshot.focus] = array("d")
                times.append(at)
        self.snapshot = snapshot
        if stats.restart_sigterm_at is not None:
            self.history.append((at, snapshot.seq))
        if not self.first_snapshot.done():
            self.first_snapshot.set_result(None)

    def on_lost(self, error: str | None, reported: bool = False) -> None:
        self.transport = None
        if not (reported or self.stopping or self.expect_drop or self.stats.restarting):
            self.stats.error(f"{self.audience} {self.index} stream lost: {error}")
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)


class StreamProtocol(asyncio.Protocol):
    """HTTP/1.1 response head, chunked body, Server-Sent Events: parsed incrementally."""

    def __init__(self, client: Client):
        self.client = client
        self.buffer = bytearray()
        self.events = bytearray()
        self.state = "head"
        self.need = 0
        self.error: str | None = None
        self.reported = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.client.transport = transport
        self.client.messages_on_connection = 0
        transport.write(self.client.request())

    def data_received(self, data: bytes) -> None:
        at = now()
        buffer = self.buffer
        buffer += data
        while True:
            if self.state == "chunk-size":
                end = buffer.find(b"\r\n")
                if end < 0:
                    break
                self.need = int(buffer[:end].split(b";")[0], 16)
                del buffer[: end + 2]
                if self.need == 0:
                    self.state = "done"
                    self.error = "the server ended the stream"
                    break
                self.state = "chunk"
            elif self.state == "chunk":
                if len(buffer) < self.need + 2:
                    break
                self.events += buffer[: self.need]
                del buffer[: self.need + 2]
                self.state = "chunk-size"
            elif self.state == "head":
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buffer[:end]).decode("latin-1")
                del buffer[: end + 4]
                status = int(head.split(" ", 2)[1])
                if status != 200 or "chunked" not in head.lower():
                    self.client.stats.error(
                        f"{self.client.audience} {self.client.index} stream answered {status}"
                    )
                    self.state = "done"
                    self.error = f"status {status}"
                    self.reported = True
                    assert self.client.transport is not None
                    self.client.transport.close()
                    break
                self.state = "chunk-size"
            else:
                buffer.clear()
                break
        events = self.events
        while True:
            end = events.find(b"\n\n")
            if end < 0:
                break
            block = bytes(events[:end])
            del events[: end + 2]
            if block.startswith(b"id:"):
                self.client.on_snapshot(block, at)
            elif block.startswith(b"retry:"):
                self.client.on_hello(block, at)
            # ": keep-alive" comments need nothing.

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.on_lost(
            repr(exc) if exc else self.error or "closed by the server", self.reported
        )


# ---------------------------------------------------------------- the run


def app_version(app_dir: Path) -> str:
    """The commit served: `git describe` of a checkout, or a .bench-commit file in an export."""
    marker = app_dir / ".bench-commit"
    if marker.exists():
        return marker.read_text().strip()
    done = subprocess.run(
        ["git", "-C", str(app_dir), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or str(app_dir)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))
    return values[index]


def seconds(value: float | None) -> float | None:
    """Rounded seconds; None for never (JSON has no infinity)."""
    return None if value is None or value == float("inf") else round(value, 2)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


class Bench:
    def __init__(self, args: argparse.Namespace, setup: Setup, servers: list[Server]):
        self.args = args
        self.setup = setup
        self.servers = servers
        self.stats = Stats()
        self.phone_parser = Parser("phone")
        self.projector_parser = Parser("projector")
        self.clients: list[Client] = []
        self.submitted: dict[str, float] = {}  # answer text -> scheduled send time
        self.send_lag: list[float] = []
        self.post_retries = 0
        self.post_times: list[float] = []  # request sent -> response read
        self.focus_changes: list[tuple[int, float]] = []  # (cause pk, scheduled time)
        self.pause_changes: list[tuple[bool, float]] = []  # (paused, scheduled time)
        self.pause_windows: list[tuple[float, float]] = []
        self.skipped_in_pause = 0
        self.refused_in_pause = 0
        self.focus_pk: int | None = None
        self.idle_posters: list[Http] = []
        self.poster_index = 0
        self.csrf: str | None = None
        self.pg_connections: list[int] = []
        self.restart_ready_at: float | None = None
        self.restart_ready_seq: int | None = None
        self.tag = secrets.token_hex(3)

    def port_for(self, index: int) -> int:
        return self.servers[index % len(self.servers)].port

    # -- posting

    async def poster(self) -> Http:
        """An idle keep-alive connection, or a new one (round robin over the servers)."""
        if self.idle_posters:
            return self.idle_posters.pop()
        http = Http(self.port_for(self.poster_index))
        self.poster_index += 1
        return http

    async def post(self, path: str, fields: dict[str, str], cookie: str) -> tuple[int, float]:
        """POST a form like a browser, as `cookie` ("facilitator": the facilitator).

        Retried while the server is restarting. Returns the status (0: failed)
        and when the attempt that counted was sent.
        """
        while True:
            sent = now()
            try:
                if cookie == "facilitator":
                    http = await self.facilitator()
                    who = self.setup.facilitator_cookie
                    csrf = self.facilitator_csrf
                else:
                    http = await self.poster()
                    who = cookie
                    csrf = self.csrf
                origin = f"http://{HOST}:{http.port}"
                status, _headers, body = await http.request(
                    "POST",
                    path,
                    {
                        "Cookie": f"{who}; csrftoken={csrf}",
                        "X-CSRFToken": str(csrf),
                        "Origin": origin,
                        "Referer": origin + f"/p/{self.setup.public_id}/",
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    urlencode(fields).encode(),
                )
            except (OSError, HttpError, asyncio.IncompleteReadError) as error:
                if self.stats.restarting:
                    self.post_retries += 1
                    await asyncio.sleep(0.25)
                    continue
                self.stats.error(f"POST {path}: {error!r}")
                return 0, sent
            if status >= 500 and self.stats.restarting:
                self.post_retries += 1
                await asyncio.sleep(0.25)
                continue
            if cookie == "facilitator":
                self.facilitator_http = http
            else:
                self.idle_posters.append(http)
            if status == 409 and b"The room is taking a moment" in body:
                # Sent just before the pause and answered just after: a phone
                # keeps it and sends it when the room goes on; not an error.
                self.refused_in_pause += 1
            elif status != 302:
                self.stats.error(f"POST {path} answered {status}: {body[:200]!r}")
            self.post_times.append(now() - sent)
            return status, sent

    facilitator_http: Http | None = None
    facilitator_csrf: str | None = None

    async def facilitator(self) -> Http:
        if self.facilitator_http is not None:
            http = self.facilitator_http
            self.facilitator_http = None
            return http
        http = Http(self.port_for(0))
        if self.facilitator_csrf is None:
            status, headers, _ = await http.request(
                "GET",
                f"/s/{self.setup.public_id}/console/",
                {"Cookie": self.setup.facilitator_cookie},
            )
            self.facilitator_csrf = csrf_from(headers)
            if status != 200 or self.facilitator_csrf is None:
                raise HttpError(f"console answered {status} without a CSRF cookie")
        return http

    async def answer(self, n: int, scheduled: float) -> None:
        text = f"Answer {self.tag}-{n}: because the crossing light is too short for kids"
        self.send_lag.append(now() - scheduled)
        self.submitted[text] = scheduled
        parent = "" if self.focus_pk is None else str(self.focus_pk)
        # The phones in the room answer, each in turn (answers are rate-limited per phone).
        author = self.setup.author_cookies[n % len(self.setup.author_cookies)]
        status, sent = await self.post(
            f"/p/{self.setup.public_id}/answers/", {"text": text, "parent": parent}, author
        )
        if status in {0, 409}:
            self.submitted.pop(text, None)
        elif sent - scheduled > 0.1:
            # Retried while the server restarted: counts from the attempt that got through.
            self.submitted[text] = sent

    async def focus(self, scheduled: float) -> None:
        """Ask "But why?" about the newest cause the first phone has."""
        known = self.clients[0].snapshot.ids - {pk for pk, _ in self.focus_changes}
        if not known:
            return
        pk = max(known)
        self.focus_changes.append((pk, scheduled))
        await self.post(f"/s/{self.setup.public_id}/causes/{pk}/focus/", {}, "facilitator")
        self.focus_pk = pk

    async def pause(self, paused: bool, scheduled: float) -> None:
        """Pause the room, or resume it: every phone shows the change."""
        self.pause_changes.append((paused, scheduled))
        step = "pause" if paused else "resume"
        await self.post(f"/s/{self.setup.public_id}/{step}/", {}, "facilitator")

    async def schedule(self, start: float) -> None:
        """Open loop: every answer, focus change and pause has its own send time."""
        tasks = []
        args = self.args
        total = int(args.seconds * args.rate)
        focuses = int(args.seconds / args.focus_every) if args.focus_every else 0
        plan = [(start + n / args.rate, "answer", n) for n in range(total)]
        plan += [(start + (k + 0.5) * args.focus_every, "focus", k) for k in range(focuses)]
        pauses = int(args.seconds / args.pause_every) if args.pause_every else 0
        for k in range(pauses):
            at = start + (k + 0.8) * args.pause_every
            plan += [(at, "pause", 1), (at + args.pause_length, "pause", 0)]
            # Phones send nothing while paused (the Send button is gone).
            self.pause_windows.append((at - 0.3, at + args.pause_length + 0.3))
        plan.sort()
        churners = round(self.args.churn * len(self.clients))
        phones = [c for c in self.clients if c.audience == "phone"]
        for at, kind, n in plan:
            delay = at - now()
            if delay > 0:
                await asyncio.sleep(delay)
            if kind == "answer" and any(a <= at <= b for a, b in self.pause_windows):
                self.skipped_in_pause += 1
            elif kind == "answer":
                tasks.append(asyncio.create_task(self.answer(n, at)))
                for client in random.sample(phones, min(churners, len(phones))):
                    client.drop()
            elif kind == "pause":
                # In order: a resume never overtakes its pause.
                await self.pause(bool(n), at)
            else:
                tasks.append(asyncio.create_task(self.focus(at)))
        await asyncio.gather(*tasks)

    # -- restart

    async def restart(self, at: float) -> None:
        await asyncio.sleep(max(0.0, at - now()))
        say(self.args, "restart: SIGTERM")
        self.stats.restarting = True
        self.stats.restart_sigterm_at = now()
        loop = asyncio.get_running_loop()
        for server in self.servers:
            await loop.run_in_executor(None, server.stop)
        say(self.args, f"restart: stopped after {now() - self.stats.restart_sigterm_at:.1f} s")
        for server in self.servers:
            await loop.run_in_executor(None, server.start)
        await self.wait_ready()
        self.restart_ready_at = now()
        self.restart_ready_seq = await loop.run_in_executor(
            None, orm_last_seq, self.setup.session_pk
        )
        say(self.args, f"restart: answering {now() - self.stats.restart_sigterm_at:.1f} s")
        # Connections refused or cut are expected until every client is back.
        sigterm = self.stats.restart_sigterm_at
        deadline = now() + 30
        while now() < deadline and not all(
            any(t >= sigterm for t, _seq in c.hellos) for c in self.clients
        ):
            await asyncio.sleep(0.1)
        self.stats.restarting = False

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = now() + timeout
        for server in self.servers:
            while True:
                if not server.alive():
                    raise RuntimeError(f"server on {server.port} died:\n{server.log_tail()}")
                http = Http(server.port)
                try:
                    status, _h, _b = await http.request("GET", "/join/", {})
                    if status == 200:
                        break
                except (OSError, HttpError):
                    pass
                finally:
                    http.close()
                if now() > deadline:
                    raise RuntimeError(f"server on {server.port} did not answer")
                await asyncio.sleep(0.05)

    # -- sampling PostgreSQL

    async def sample_pg(self, stop: asyncio.Event) -> None:
        if self.args.db != "postgres":
            return
        import psycopg

        name = self.args.pg_url.rsplit("/", 1)[1]
        connection = await psycopg.AsyncConnection.connect(
            self.args.pg_url, autocommit=True, application_name=BENCH_APP_NAME
        )
        async with connection:
            while not stop.is_set():
                cursor = await connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                    " AND pid <> pg_backend_pid() AND application_name NOT LIKE 'butwhy-bench%%'",
                    [name],
                )
                row = await cursor.fetchone()
                self.pg_connections.append(row[0] if row else 0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)

    # -- the whole run

    async def run(self) -> dict:
        args = self.args
        stats = self.stats
        Client.churn_delay = args.churn_delay
        await self.wait_ready()
        # Warm every server up (templates, URL resolver) before the idle baseline.
        for server in self.servers:
            http = Http(server.port)
            status, headers, _ = await http.request(
                "GET", f"/p/{self.setup.public_id}/", {"Cookie": self.setup.phone_cookies[0]}
            )
            self.csrf = csrf_from(headers)
            if status != 200 or self.csrf is None:
                raise HttpError(f"phone page answered {status} without a CSRF cookie")
            self.idle_posters.append(http)
        self.facilitator_http = await self.facilitator()
        await asyncio.sleep(0.5)
        rss_idle = sum(s.rss_kb() for s in self.servers)
        threads_idle = sum(s.threads() for s in self.servers)

        public_id = self.setup.public_id
        for i, cookie in enumerate(self.setup.phone_cookies):
            self.clients.append(
                Client(
                    i,
                    "phone",
                    self.port_for(i),
                    f"/p/{public_id}/stream/" + ("?tree=1" if i < args.tree_open else ""),
                    cookie,
                    self.phone_parser,
                    stats,
                )
            )
        for j in range(args.projectors):
            self.clients.append(
                Client(
                    j,
                    "projector",
                    self.port_for(j),
                    f"/s/{public_id}/present/stream/",
                    self.setup.facilitator_cookie,
                    self.projector_parser,
                    stats,
                )
            )
        ramp_start = now()
        runners = []
        gate = asyncio.Semaphore(args.connect_concurrency)

        async def open_one(client: Client) -> None:
            async with gate:
                runners.append(asyncio.create_task(client.run()))
                await asyncio.wait_for(client.first_snapshot, 60)

        try:
            await asyncio.gather(*(open_one(c) for c in self.clients))
        except TimeoutError:
            raise RuntimeError(
                f"streams did not open within 60 s; first errors: {stats.errors[:5]}"
            ) from None
        ramp = now() - ramp_start
        say(args, f"{len(self.clients)} streams open in {ramp:.1f} s")
        await asyncio.sleep(1.0)
        rss_open = sum(s.rss_kb() for s in self.servers)
        threads_open = sum(s.threads() for s in self.servers)
        streams = len(self.clients)

        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(self.sample_pg(stop_sampling))
        profiler = None
        if args.profile:
            profiler = subprocess.Popen(
                [
                    args.py_spy,
                    "record",
                    "--pid",
                    str(self.servers[0].pid),
                    "--duration",
                    str(int(args.seconds)),
                    "--rate",
                    "50",
                    "--gil",
                    "--format",
                    {".json": "speedscope", ".svg": "flamegraph"}.get(
                        Path(args.profile).suffix, "raw"
                    ),
                    "--output",
                    args.profile,
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        cpu_start = sum(s.cpu() for s in self.servers)
        bench_cpu_start = time.process_time()
        stats.measuring = True
        start = now() + 0.2
        restart = None
        if args.restart:
            restart = asyncio.create_task(self.restart(start + args.seconds / 2))
        await self.schedule(start)
        if restart is not None:
            await restart
        posted_until = now()
        say(
            args,
            f"posted {len(self.submitted)} answers, {len(self.focus_changes)} focus changes, "
            f"{len(self.pause_changes)} pauses and resumes",
        )

        # Wait until every client has every cause (or --settle runs out).
        loop = asyncio.get_running_loop()
        causes, focus, _last_seq = await loop.run_in_executor(
            None, orm_final_state, self.setup.session_pk
        )
        want = frozenset(causes)
        deadline = now() + args.settle
        while now() < deadline:
            if all(
                want <= c.snapshot.ids and (c.audience != "phone" or c.snapshot.focus == focus)
                for c in self.clients
            ):
                break
            await asyncio.sleep(0.05)
        settle = now() - posted_until
        stats.measuring = False
        elapsed = now() - start
        server_cpu = sum(s.cpu() for s in self.servers) - cpu_start
        bench_cpu = time.process_time() - bench_cpu_start
        rss_end = sum(s.rss_kb() for s in self.servers)
        stop_sampling.set()
        await sampler
        if profiler is not None:
            try:
                profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                profiler.terminate()

        for client in self.clients:
            client.stop()
        await asyncio.gather(*runners, return_exceptions=True)
        for server in self.servers:
            if not server.alive() and not args.restart:
                stats.error(f"server on {server.port} died")

        # -- figures
        submitted_at = {pk: self.submitted[text] for pk, text in causes.items()}
        latencies: list[float] = []
        last_client: list[float] = []
        first_client: list[float] = []
        for pk, sent in submitted_at.items():
            times = stats.recv.get(pk)
            if not times:
                continue
            latencies.extend(t - sent for t in times)
            last_client.append(max(times) - sent)
            first_client.append(min(times) - sent)
        focus_last: list[float] = []
        focus_incomplete = 0
        focus_all: list[float] = []
        phones = [c for c in self.clients if c.audience == "phone"]
        for pk, sent in self.focus_changes:
            times = stats.focus_recv.get(pk)
            if not times:
                continue
            focus_all.extend(t - sent for t in times)
            focus_last.append(max(times) - sent)
            if len(times) < len(phones):
                focus_incomplete += 1
        pause_last: list[float] = []
        pause_all: list[float] = []
        pause_by_kind: dict[bool, list[float]] = {True: [], False: []}
        pause_incomplete = 0
        for n, (paused, sent) in enumerate(self.pause_changes):
            times = stats.pause_recv.get(n)
            if not times:
                pause_incomplete += 1
                continue
            pause_all.extend(t - sent for t in times)
            pause_last.append(max(times) - sent)
            pause_by_kind[paused].append(max(times) - sent)
            if len(times) < len(phones):
                pause_incomplete += 1
        missed_pause = sum(1 for c in phones if c.paused)
        missed = sum(len(want - c.snapshot.ids) for c in self.clients)
        missed_focus = sum(1 for c in phones if c.snapshot.focus != focus)
        clients_missing = sum(1 for c in self.clients if not want <= c.snapshot.ids)
        duplicated = stats.dup_same_connection + stats.dup_after_resume + stats.reappeared
        restart_back = restart_converged = None
        not_converged = 0
        back: list[float] = []
        if args.restart and self.restart_ready_at is not None:
            converged = []
            ready_seq = self.restart_ready_seq or 0
            for client in self.clients:
                hellos = [(t, seq) for t, seq in client.hellos if t >= stats.restart_sigterm_at]
                if not hellos:
                    back.append(float("inf"))
                    converged.append(float("inf"))
                    continue
                hello_at, seq_then = hellos[0]
                back.append(hello_at - self.restart_ready_at)
                if seq_then >= ready_seq:
                    done = hello_at  # it had everything already: back is converged
                else:
                    reached = [t for t, seq in client.history if seq >= ready_seq and t >= hello_at]
                    done = reached[0] if reached else float("inf")
                converged.append(done - self.restart_ready_at)
            restart_back = max(back)
            restart_converged = max(converged)
            not_converged = sum(1 for c in converged if c == float("inf"))

        pg = max(self.pg_connections) if self.pg_connections else None
        result = {
            "clients": args.clients,
            "projectors": args.projectors,
            "processes": args.processes,
            "db": args.db,
            "rate": args.rate,
            "seconds": args.seconds,
            "churn": args.churn,
            "tree_open": args.tree_open,
            "restart": args.restart,
            "pinned": args.pin,
            "app": app_version(args.app_dir),
            "answers": len(submitted_at),
            "deliveries": stats.deliveries,
            "p50_ms": ms(percentile(latencies, 50)),
            "p95_ms": ms(percentile(latencies, 95)),
            "p99_ms": ms(percentile(latencies, 99)),
            "max_ms": ms(max(latencies) if latencies else None),
            "last_client_p99_ms": ms(percentile(last_client, 99)),
            "first_client_p50_ms": ms(percentile(first_client, 50)),
            "first_client_p99_ms": ms(percentile(first_client, 99)),
            "post_p50_ms": ms(percentile(self.post_times, 50)),
            "post_p99_ms": ms(percentile(self.post_times, 99)),
            "focus_changes": len(self.focus_changes),
            "focus_p99_ms": ms(percentile(focus_last, 99)),
            "focus_delivery_p99_ms": ms(percentile(focus_all, 99)),
            "missed": missed,
            "clients_missing": clients_missing,
            "missed_focus": missed_focus,
            "focus_incomplete": focus_incomplete,
            "pause_changes": len(self.pause_changes),
            "pause_p99_ms": ms(percentile(pause_last, 99)),
            "pause_delivery_p99_ms": ms(percentile(pause_all, 99)),
            # The pause alone (a small message), and the resume (the whole room again).
            "pause_only_p99_ms": ms(percentile(pause_by_kind[True], 99)),
            "resume_p99_ms": ms(percentile(pause_by_kind[False], 99)),
            "pause_incomplete": pause_incomplete,
            "missed_pause": missed_pause,
            "answers_skipped_in_pause": self.skipped_in_pause,
            "answers_refused_in_pause": self.refused_in_pause,
            "duplicated": duplicated,
            "dup_same_connection": stats.dup_same_connection,
            "dup_after_resume": stats.dup_after_resume,
            "reappeared": stats.reappeared,
            "vanished": stats.vanished,
            "server_cpu_us_per_delivery": round(server_cpu / stats.deliveries * 1e6, 1)
            if stats.deliveries
            else None,
            "server_cpu_pct": round(server_cpu / elapsed * 100, 1),
            "bench_cpu_pct": round(bench_cpu / elapsed * 100, 1),
            "rss_kb_per_connection": round((rss_open - rss_idle) / streams, 1),
            "rss_idle_kb": rss_idle,
            "rss_open_kb": rss_open,
            "rss_end_kb": rss_end,
            "threads_per_connection": round((threads_open - threads_idle) / streams, 2),
            "pg_connections": pg,
            "ramp_s": round(ramp, 2),
            "settle_s": round(settle, 2),
            "send_lag_p99_ms": ms(percentile(self.send_lag, 99)),
            "post_retries": self.post_retries,
            "reconnects": stats.reconnects,
            "expected_drops": stats.expected_drops,
            "restart_back_p50_s": seconds(percentile(back, 50)) if args.restart else None,
            "restart_back_s": seconds(restart_back),
            "restart_converged_s": seconds(restart_converged),
            "restart_not_converged": not_converged,
            "loadavg": round(os.getloadavg()[0], 2),
            "errors": len(stats.errors),
        }
        if stats.errors:
            result["first_errors"] = stats.errors[:5]
        return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_nofile()
    if args.pin:
        os.sched_setaffinity(0, {1})
    url = database_url(args)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "butwhy.settings"
    os.environ.setdefault("DEBUG", "0")
    os.environ["PGAPPNAME"] = "butwhy-bench"  # the sampler ignores the bench's own queries
    sys.path.insert(0, str(args.app_dir))

    env = {k: v for k, v in os.environ.items() if k not in {"PGAPPNAME", "PYTHONPATH"}}
    env.update(DATABASE_URL=url, DEBUG="0", DJANGO_SETTINGS_MODULE="butwhy.settings")
    if args.server_pythonpath:
        env["PYTHONPATH"] = args.server_pythonpath
    prepare_database(args, env)
    setup = create_data(args)
    env["SECRET_KEY"] = setup.secret_key
    servers = [Server(args, args.port + i, env) for i in range(args.processes)]
    for server in servers:
        if server.log_path.exists():
            server.log_path.unlink()
        server.start()
    say(args, f"session {setup.public_id}; servers on {[s.port for s in servers]}")
    try:
        result = asyncio.run(Bench(args, setup, servers).run())
    finally:
        for server in servers:
            server.stop()
    if result["errors"]:
        for server in servers:
            kept = server.log_path.with_suffix(f".{int(time.time())}.log")
            with contextlib.suppress(FileNotFoundError):
                kept.write_bytes(server.log_path.read_bytes())
            say(args, f"--- server {server.port} log ({kept}), tail\n{server.log_tail(40)}")
    say(args, "")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
