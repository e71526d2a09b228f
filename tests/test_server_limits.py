"""What one client may hold or send: streams, request heads and bodies, connections, proxies.

The stream and body limits are tested on the ASGI application, called as
uvicorn calls it. The head timeout, the connection limit and the trusted
proxy are the server's: those tests start `python -m butwhy.server` (what
`make run` and `make serve` start) in a subprocess and talk to it over TCP.
"""

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from butwhy.asgi import application
from sessions import ratelimits
from sessions.models import Participant
from sessions.permissions import PARTICIPANT_COOKIE
from tests.conftest import make_group, make_session, make_user
from tests.test_live_asgi import Call, run, signed

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 10


# --- Request bodies ----------------------------------------------------------


def post(headers: list[tuple[bytes, bytes]], chunks) -> tuple[dict, int]:
    """POST /join/ with `headers`, the body as `chunks`; the response start and
    how many chunks the application read."""
    read = 0
    ended = False

    async def receive():
        nonlocal read, ended
        if ended:  # the client waits for its answer
            await asyncio.Event().wait()
        read += 1
        chunk = next(chunks, None)
        if chunk is None:
            ended = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/join/",
        "raw_path": b"/join/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(asyncio.wait_for(application(scope, receive, send), TIMEOUT))
    return sent[0], read


def body_of(message_list) -> str:
    return b"".join(m.get("body", b"") for m in message_list).decode()


@pytest.mark.django_db
def test_a_body_larger_than_any_form_is_refused_before_a_byte_of_it_is_read(settings):
    many = iter(lambda: b"x" * 65536, None)  # 400 MB, if anyone read it
    start, read = post([(b"content-length", b"400000000")], many)
    assert start["status"] == 413
    assert read == 0
    headers = dict(start["headers"])
    assert headers[b"connection"] == b"close"
    assert b"default-src" in headers[b"content-security-policy"]


@pytest.mark.django_db
def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_bound(settings):
    settings.REQUEST_BODY_MAX_BYTES = 64 * 1024
    endless = iter(lambda: b"x" * 16384, None)
    start, read = post([(b"transfer-encoding", b"chunked")], endless)
    assert start["status"] == 413
    assert read == 64 * 1024 // 16384 + 1  # one chunk past the bound, and no more


@pytest.mark.django_db
def test_the_refusal_is_a_page_in_the_phones_language(settings):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/join/",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", b"9999999"),
            (b"cookie", f"{settings.LANGUAGE_COOKIE_NAME}=es".encode()),
        ],
        "client": ("127.0.0.1", 50000),
    }
    asyncio.run(application(scope, receive, send))
    page = body_of(sent[1:])
    assert '<html lang="es"' in page
    assert "Eso era demasiado para enviarlo de una vez." in page


@pytest.mark.django_db
def test_a_form_within_the_bound_goes_through_chunked_or_not(world):
    form = f"code={world.session.join_code}".encode()
    for headers in (
        [(b"content-length", str(len(form)).encode())],
        [(b"transfer-encoding", b"chunked")],
    ):
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        start, _read = post(headers, iter([form]))
        # 403: the CSRF check, which only a body that reached Django can fail.
        assert start["status"] == 403
    assert not world.session.participants.exclude(pk=world.me.pk).exists()


# --- Streams per participant and per address ---------------------------------

pytest_transactional = pytest.mark.django_db(transaction=True)


def phone(session) -> dict[str, str]:
    participant = Participant.join(session)
    name = PARTICIPANT_COOKIE.format(session.public_id)
    return {name: signed(name, participant.key)}


@pytest.fixture
def session():
    return make_session(make_group(facilitators=[make_user("fran")]))


def stream_call(session, cookies, address="127.0.0.1", headers=()) -> Call:
    call = Call(application, f"/p/{session.public_id}/stream/", cookies=cookies, headers=headers)
    call.scope["client"] = (address, 50000)
    return call


@pytest_transactional
def test_one_participant_can_hold_only_so_many_streams(session, settings):
    settings.LIVE_STREAMS_PER_PARTICIPANT = 3
    cookies, neighbour = phone(session), phone(session)

    async def scenario():
        held = [stream_call(session, cookies) for _ in range(3)]
        for call in held:
            assert (await call.start())[0] == 200
        refused = stream_call(session, cookies)
        assert (await refused.start())[0] == 429
        await asyncio.wait_for(refused.task, TIMEOUT)
        # Another participant on the same address is not affected.
        assert (await stream_call(session, neighbour).start())[0] == 200
        # One hangs up: its place is free again.
        await held[0].hang_up()
        assert (await stream_call(session, cookies).start())[0] == 200

    run(scenario)


@pytest_transactional
def test_one_address_can_hold_only_so_many_streams(session, settings):
    settings.LIVE_STREAMS_PER_ADDRESS = 3
    phones = [phone(session) for _ in range(5)]

    async def scenario():
        for cookies in phones[:3]:
            assert (await stream_call(session, cookies, "192.0.2.1").start())[0] == 200
        assert (await stream_call(session, phones[3], "192.0.2.1").start())[0] == 429
        assert (await stream_call(session, phones[4], "192.0.2.2").start())[0] == 200

    run(scenario)


@pytest_transactional
def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_bound(session, settings):
    settings.LIVE_STREAMS_PER_ADDRESS = 2
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    phones = [phone(session) for _ in range(5)]

    async def scenario():
        for i in range(4):
            forwarded = [(b"x-forwarded-for", f"198.51.100.{i // 2}".encode())]
            call = stream_call(session, phones[i], "10.0.0.1", forwarded)
            assert (await call.start())[0] == 200
        forwarded = [(b"x-forwarded-for", b"198.51.100.0")]
        call = stream_call(session, phones[4], "10.0.0.1", forwarded)
        assert (await call.start())[0] == 429

    run(scenario)


def test_the_default_bounds_let_a_room_of_a_thousand_phones_share_one_address(settings):
    assert settings.LIVE_STREAMS_PER_ADDRESS >= 1500
    assert settings.SERVER_MAX_CONNECTIONS >= 2 * 1000 + 500  # a stream and a request each
    assert settings.LIVE_STREAMS_PER_PARTICIPANT >= 5


# --- The server process ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite://localhost{Path(db['NAME']).resolve()}"
    user = db["USER"] or ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}@{host}{port}/{db['NAME']}"


@pytest.fixture
def server(transactional_db, tmp_path):
    """Start `python -m butwhy.server` with these settings; killed at the end."""
    started = []

    def start(**env: str) -> int:
        port = free_port()
        log = (tmp_path / f"server-{port}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "butwhy.server", "--port", str(port)],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": database_url(),
                "SECRET_KEY": "server-limits-test-key-not-secret",
                "DEBUG": "false",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, (tmp_path / f"server-{port}.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return port
            except OSError:
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.05)

    yield start
    for process in started:
        process.kill()
        process.wait(timeout=10)


def request(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(raw)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def test_a_request_head_that_never_completes_is_cut(server):
    port = server(REQUEST_HEAD_TIMEOUT_SECONDS="1")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /join/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert sock.recv(100) == b""  # the server hung up, without an answer
    # Meanwhile, and after, complete requests are answered.
    assert (
        status_of(request(port, b"GET /join/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        == 200
    )


def test_past_the_connection_limit_a_request_gets_a_friendly_503(server):
    port = server(SERVER_MAX_CONNECTIONS="4")
    held = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(4)]
    try:
        time.sleep(0.2)  # let the server accept them
        reply = request(port, b"GET /join/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status_of(reply) == 503
        assert b"Too many people are connected right now." in reply
        assert re.search(rb"(?i)content-security-policy: ", reply)
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    reply = request(port, b"GET /join/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(reply) == 200


def guesses(port: int, forwarded_for) -> list[int]:
    # Limits count in fixed windows: start in one with room for every guess.
    left = ratelimits.JOIN_GUESS.seconds - time.time() % ratelimits.JOIN_GUESS.seconds
    if left < 15:
        time.sleep(left + 0.5)
    statuses = []
    for i in range(ratelimits.JOIN_GUESS.count + 1):
        raw = (
            f"GET /join/ZZZZZZ/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"X-Forwarded-For: {forwarded_for(i)}\r\n\r\n"
        ).encode()
        statuses.append(status_of(request(port, raw)))
    return statuses


def test_a_forwarded_address_from_the_same_host_is_not_believed_by_default(server):
    port = server()  # TRUSTED_PROXIES empty: nobody's X-Forwarded-For counts
    statuses = guesses(port, lambda i: f"203.0.113.{i}")
    assert statuses == [404] * ratelimits.JOIN_GUESS.count + [429]


def test_a_forwarded_address_is_believed_from_a_trusted_proxy_only(server):
    port = server(TRUSTED_PROXIES="127.0.0.1")
    statuses = guesses(port, lambda i: f"203.0.113.{i}")
    assert statuses == [404] * (ratelimits.JOIN_GUESS.count + 1)
    # The same proxy, passing on one address: that address is limited.
    statuses = guesses(port, lambda i: "198.51.100.7")
    assert statuses == [404] * ratelimits.JOIN_GUESS.count + [429]


def test_the_makefile_starts_the_server_that_follows_the_settings():
    makefile = (ROOT / "Makefile").read_text()
    starts = re.findall(r"^\texec (.*)$", makefile, re.MULTILINE)
    assert len(starts) == 2  # make run, make serve
    for line in starts:
        assert line.startswith("$(BIN)/python -m butwhy.server "), line


def test_the_server_starts_without_a_lifespan_warning(server, tmp_path):
    port = server()
    reply = request(port, b"GET /join/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(reply) == 200
    (log,) = tmp_path.glob(f"server-{port}.log")
    printed = log.read_text()
    assert "Uvicorn running" in printed  # uvicorn's own start-up lines are in this log
    assert "lifespan" not in printed.lower()


# --- Django requests at once -------------------------------------------------


@pytest_transactional
def test_a_burst_of_requests_waits_its_turn_instead_of_taking_every_connection(monkeypatch):
    import threading

    from butwhy import asgi
    from sessions.views import participating

    monkeypatch.setattr(asgi, "CONCURRENT_REQUESTS", 2)
    running, most = 0, 0
    lock = threading.Lock()
    render = participating.render

    def slow_render(*args, **kwargs):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # long enough for the others to arrive meanwhile
            return render(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(participating, "render", slow_render)

    handler = asgi.OneThreadHandler()  # its pool has CONCURRENT_REQUESTS threads

    async def scenario():
        calls = [Call(handler, "/join/") for _ in range(8)]
        statuses = [(await call.start())[0] for call in calls]
        assert statuses == [200] * 8

    run(scenario)
    assert most == 2
