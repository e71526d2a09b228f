"""Phones' streams served in front of Django (butwhy/asgi.py), called as uvicorn calls them.

Each test compares the route with Django's own answer to the same request
(`django_application`, the full middleware stack and the view): the route
must be a faster path to the same answers, never a different one.
"""

import asyncio
import re
import time
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.core import signing
from django.db import connections
from django.http import HttpResponse

from butwhy.asgi import application, django_application
from sessions import live
from sessions.models import Participant
from sessions.permissions import PARTICIPANT_COOKIE
from tests.conftest import make_cause, make_group, make_session, make_user

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


class Call:
    """One GET to an ASGI application; the client can hang up."""

    def __init__(self, app, path: str, query: str = "", cookies=None, headers=()):
        cookie = "; ".join(f"{name}={value}" for name, value in (cookies or {}).items())
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self.incoming: asyncio.Queue = asyncio.Queue()
        self.incoming.put_nowait({"type": "http.request", "body": b"", "more_body": False})
        self.outgoing: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.ensure_future(app(self.scope, self.incoming.get, self.outgoing.put))

    async def start(self) -> tuple[int, dict[str, str]]:
        message = await asyncio.wait_for(self.outgoing.get(), TIMEOUT)
        assert message["type"] == "http.response.start"
        headers = {name.decode().lower(): value.decode() for name, value in message["headers"]}
        return message["status"], headers

    async def chunk(self) -> str:
        message = await asyncio.wait_for(self.outgoing.get(), TIMEOUT)
        assert message["type"] == "http.response.body"
        return message["body"].decode()

    async def body(self) -> str:
        parts = []
        while True:
            message = await asyncio.wait_for(self.outgoing.get(), TIMEOUT)
            parts.append(message.get("body", b"").decode())
            if not message.get("more_body"):
                return "".join(parts)

    async def snapshot(self) -> str:
        while True:
            chunk = await self.chunk()
            if chunk.startswith("id:"):
                return chunk

    async def hang_up(self) -> None:
        self.incoming.put_nowait({"type": "http.disconnect"})
        await asyncio.wait_for(self.task, TIMEOUT)


def run(scenario) -> None:
    async def and_close():
        try:
            await scenario()
        finally:
            await sync_to_async(connections.close_all)()

    asyncio.run(and_close())


def signed(name: str, value: str, *, age: float = 0) -> str:
    """A cookie value signed as the join view signs it, `age` seconds ago."""
    response = HttpResponse()
    with mock.patch.object(signing.time, "time", return_value=time.time() - age):
        response.set_signed_cookie(name, value)
    return response.cookies[name].value


@pytest.fixture
def room():
    session = make_session(make_group(facilitators=[make_user("fran")]))
    participant = Participant.join(session)
    name = PARTICIPANT_COOKIE.format(session.public_id)
    return session, participant, {name: signed(name, participant.key)}


def page(html: str) -> str:
    """An error page, without its CSRF token (a new one for every request)."""
    html = re.sub(r'"x-csrftoken": "[^"]*"', "", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def path_of(session) -> str:
    return f"/p/{session.public_id}/stream/"


def served_here(call: Call) -> bool:
    """Whether the route answered itself: Django sets Content-Language, the route does not."""
    return "content-language" not in call.headers


async def open_both(path, **request) -> tuple[Call, Call]:
    """The same request through the route and through Django alone, both started."""
    calls = (Call(application, path, **request), Call(django_application, path, **request))
    for call in calls:
        call.status, call.headers = await call.start()  # type: ignore[attr-defined]
    return calls


def forged(session, participant) -> dict:
    name = PARTICIPANT_COOKIE.format(session.public_id)
    value = signed(name, participant.key)
    return {name: value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")}


@pytest.mark.parametrize(
    ("cookies", "status"),
    [
        pytest.param(lambda s, p, good: {}, 403, id="missing"),
        pytest.param(lambda s, p, good: forged(s, p), 403, id="forged"),
        pytest.param(
            lambda s, p, good: {PARTICIPANT_COOKIE.format(s.public_id): "garbage"}, 403, id="junk"
        ),
        pytest.param(
            lambda s, p, good: {
                PARTICIPANT_COOKIE.format(s.public_id): signed(
                    PARTICIPANT_COOKIE.format("elsewhere"), p.key
                )
            },
            403,
            id="signed-for-another-cookie",
        ),
        pytest.param(
            lambda s, p, good: {
                PARTICIPANT_COOKIE.format(s.public_id): signed(
                    PARTICIPANT_COOKIE.format(s.public_id), "not-a-participant"
                )
            },
            403,
            id="unknown-participant",
        ),
        # Past its 12 hours, whatever the browser kept: refused by both.
        pytest.param(
            lambda s, p, good: {
                PARTICIPANT_COOKIE.format(s.public_id): signed(
                    PARTICIPANT_COOKIE.format(s.public_id), p.key, age=13 * 3600
                )
            },
            403,
            id="signed-13-hours-ago",
        ),
        pytest.param(lambda s, p, good: good, 200, id="valid"),
    ],
)
def test_every_cookie_gets_the_answer_the_view_gives(room, cookies, status):
    session, participant, good = room

    async def scenario():
        calls = await open_both(path_of(session), cookies=cookies(session, participant, good))
        assert [call.status for call in calls] == [status, status]
        if status == 200:
            for call in calls:
                assert call.headers["content-type"] == "text/event-stream"
                await call.hang_up()
        else:
            route, django = calls
            assert page(await route.body()) == page(await django.body())

    run(scenario)


def test_an_unknown_session_is_404_as_from_the_view(room):
    _session, _participant, good = room

    async def scenario():
        calls = await open_both("/p/nosuchsession/stream/", cookies=good)
        assert [call.status for call in calls] == [404, 404]
        bodies = [page(await call.body()) for call in calls]
        assert bodies[0] == bodies[1]

    run(scenario)


def test_the_stream_has_the_headers_django_gives_it(room):
    session, _participant, good = room

    async def scenario():
        route, django = await open_both(path_of(session), cookies=good)
        assert served_here(route)
        assert not served_here(django)
        # Django also says which language the (language-less) stream is in.
        del django.headers["content-language"], django.headers["vary"]
        assert route.headers == django.headers
        assert route.headers["cache-control"] == "no-cache"
        assert route.headers["x-accel-buffering"] == "no"
        assert route.headers["x-content-type-options"] == "nosniff"
        # No document: no policy for scripts or frames.
        assert "x-frame-options" not in route.headers
        assert "content-security-policy" not in route.headers
        await route.hang_up()
        await django.hang_up()

    run(scenario)


def test_a_change_reaches_the_stream(room):
    session, _participant, good = room
    start = session.last_seq

    async def scenario():
        call = Call(application, path_of(session), cookies=good)
        _status, call.headers = await call.start()  # type: ignore[attr-defined]
        assert served_here(call)
        assert (await call.chunk()).startswith("retry: ")
        assert f"id: {start}\n" in await call.snapshot()
        cause = await sync_to_async(make_cause)(session, "The lights are broken")
        assert f"id: {start + 1}\n" in await call.snapshot()
        await sync_to_async(session.ask_why)(cause)
        assert "The lights are broken" in await call.snapshot()
        await call.hang_up()

    run(scenario)


@pytest.mark.parametrize("how", ["header", "query"])
def test_a_cursor_resumes_the_stream(room, settings, how):
    session, _participant, good = room
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    behind = session.last_seq

    def opened(cursor):
        if how == "header":
            return Call(
                application,
                path_of(session),
                cookies=good,
                headers=[(b"last-event-id", str(cursor).encode())],
            )
        return Call(application, path_of(session), f"last={cursor}", cookies=good)

    async def scenario():
        missed = await sync_to_async(make_cause)(session, "Missed while away")
        up_to_date = behind + 1
        caught_up = opened(behind)
        await caught_up.start()
        snapshot = await caught_up.snapshot()
        assert f"id: {up_to_date}\n" in snapshot
        assert f'data-shown="{missed.pk}"' in snapshot
        current = opened(up_to_date)
        await current.start()
        assert (await current.chunk()).startswith("retry: ")
        assert await current.chunk() == ": keep-alive\n\n"
        for call in (caught_up, current):
            await call.hang_up()

    run(scenario)


def test_hanging_up_leaves_the_channel(room):
    session, _participant, good = room

    async def scenario():
        calls = [Call(application, path_of(session), cookies=good) for _ in range(3)]
        for call in calls:
            await call.start()
            await call.snapshot()
        hub = live.Hub.for_running_loop()
        assert hub.channels[session.pk].subscribers == {"phone": 3}
        await calls[0].hang_up()
        assert hub.channels[session.pk].subscribers == {"phone": 2}
        for call in calls[1:]:
            await call.hang_up()
        assert session.pk not in hub.channels

    run(scenario)


def test_polling_answers_as_the_view_does(room):
    session, _participant, good = room

    async def scenario():
        for query, status in [(f"poll=1&last={session.last_seq}", 204), ("poll=1", 200)]:
            answers = []
            for app in (application, django_application):
                call = Call(app, path_of(session), query, cookies=good)
                answers.append((await call.start())[0])
                answers.append(await call.body())
            assert answers[0] == answers[2] == status
            assert answers[1] == answers[3]
        # An up-to-date poll is empty; one without a cursor has the prompt.
        assert 'id="prompt"' in answers[1]

    run(scenario)


def test_phones_are_told_to_come_back_at_different_moments(room):
    session, _participant, good = room

    async def scenario():
        calls = [Call(application, path_of(session), cookies=good) for _ in range(20)]
        delays = set()
        for call in calls:
            await call.start()
            hello = await call.chunk()
            delays.add(int(hello.split("\n")[0].removeprefix("retry: ")))
        assert len(delays) > 1
        assert all(live.RETRY_MS[0] <= delay <= live.RETRY_MS[1] for delay in delays)
        for call in calls:
            await call.hang_up()

    run(scenario)


def test_other_requests_go_to_django(room):
    session, _participant, good = room

    async def scenario():
        call = Call(application, f"/p/{session.public_id}/", cookies=good)
        status, headers = await call.start()
        assert status == 200
        assert "text/html" in headers["content-type"]
        await call.body()

    run(scenario)


def test_a_query_django_refuses_is_refused_alike(room):
    session, _participant, good = room
    query = "&".join(f"f{i}=1" for i in range(1100))

    async def scenario():
        calls = await open_both(path_of(session), query=query, cookies=good)
        assert [call.status for call in calls] == [400, 400]

    run(scenario)


def test_a_phone_that_chose_a_language_gets_its_stream_in_that_language(room, settings):
    session, _participant, good = room

    async def scenario():
        cookies = {**good, settings.LANGUAGE_COOKIE_NAME: "fr"}
        call = Call(application, path_of(session), cookies=cookies)
        _status, call.headers = await call.start()  # type: ignore[attr-defined]
        assert served_here(call)
        await call.chunk()
        assert "Pourquoi est-ce que ça arrive" in await call.snapshot()
        await call.hang_up()

    run(scenario)
