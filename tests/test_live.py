"""The live channel: snapshots on connect, wake-ups on commit, one render per change."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import RequestFactory

from sessions import live
from sessions.views import streams
from tests.conftest import make_cause, make_group, make_session, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session():
    return make_session(make_group(facilitators=[make_user("fran")]))


async def next_message(body, timeout: float = 3.0) -> str:
    """The next chunk that is not a retry hint or a heartbeat."""
    async with asyncio.timeout(timeout):
        while True:
            chunk = (await anext(body)).decode()
            if chunk.startswith("id:"):
                return chunk


def run(scenario) -> None:
    """Run an async scenario; close the connections its ORM calls opened in threads."""

    async def and_close():
        try:
            await scenario()
        finally:
            await sync_to_async(connections.close_all)()

    asyncio.run(and_close())


async def settled(session_pk: int) -> None:
    """Wait until this process listens (PostgreSQL) and the channel has nothing left to render."""
    hub = live.Hub.for_running_loop()
    if hub.listener is not None:
        await asyncio.wait_for(hub.listening.wait(), 5)
    channel = hub.channels[session_pk]
    while channel.refreshing is not None or channel.first_render:
        await asyncio.sleep(0.01)


def test_a_message_is_one_sse_event_with_the_sequence_as_id():
    encoded = live.Message(7, "<p>one</p>\n<p>two</p>").encoded.decode()
    assert encoded == "id: 7\nevent: snapshot\ndata: <p>one</p>\ndata: <p>two</p>\n\n"


@pytest.mark.parametrize(
    ("header", "query", "cursor"),
    [
        (None, None, None),
        ("5", None, 5),
        (None, "9", 9),
        ("5", "9", 5),
        ("x", "9", 9),
        ("-1", None, None),
    ],
)
def test_the_cursor_comes_from_last_event_id_then_last(header, query, cursor):
    headers = {"Last-Event-ID": header} if header is not None else {}
    request = RequestFactory().get("/", {"last": query} if query else {}, headers=headers)
    assert streams.cursor_from(request) == cursor


def test_a_client_without_a_cursor_gets_a_snapshot_then_each_change(session):
    start = session.last_seq

    async def scenario():
        body = live.stream(session.pk, "projector", streams.RENDERERS["projector"], None)
        first = await next_message(body)
        assert f"id: {start}\n" in first
        await sync_to_async(make_cause)(session, "The lights are broken")
        second = await next_message(body)
        assert "The lights are broken" in second
        assert f"id: {start + 1}\n" in second
        await body.aclose()

    run(scenario)


def test_a_client_that_is_up_to_date_gets_no_snapshot(session, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.2

    async def scenario():
        body = live.stream(
            session.pk, "projector", streams.RENDERERS["projector"], session.last_seq
        )
        hello, *chunks = [(await asyncio.wait_for(anext(body), 2)).decode() for _ in range(2)]
        assert hello.startswith("retry: ")
        assert hello.endswith("\nevent: hello\ndata: \n\n")
        assert chunks == [": keep-alive\n\n"]
        await body.aclose()

    run(scenario)


def test_a_client_behind_gets_the_current_state_at_once(session):
    behind = session.last_seq
    make_cause(session, "Missed while away")

    async def scenario():
        body = live.stream(session.pk, "projector", streams.RENDERERS["projector"], behind)
        message = await next_message(body)
        assert "Missed while away" in message
        await body.aclose()

    run(scenario)


def test_each_audience_renders_once_per_change_however_many_streams(session):
    renders = {"projector": 0, "phone": 0}

    def counting(audience):
        def render(pk):
            renders[audience] += 1
            return streams.RENDERERS[audience](pk)

        return render

    projector, phone = counting("projector"), counting("phone")

    async def scenario():
        bodies = [live.stream(session.pk, "projector", projector, None) for _ in range(20)]
        bodies += [live.stream(session.pk, "phone", phone, None) for _ in range(20)]
        await asyncio.gather(*(next_message(b) for b in bodies))
        await settled(session.pk)
        before = dict(renders)
        cause = await sync_to_async(make_cause)(session, "Everyone sees this")
        await asyncio.gather(*(next_message(b) for b in bodies))
        await settled(session.pk)
        assert renders == {audience: count + 1 for audience, count in before.items()}
        await sync_to_async(session.ask_why)(cause)
        messages = await asyncio.gather(*(next_message(b) for b in bodies[20:]))
        assert all("Everyone sees this" in m for m in messages)
        for body in bodies:
            await body.aclose()

    run(scenario)


def test_a_change_phones_cannot_see_sends_them_nothing(session, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.3

    async def scenario():
        phone = live.stream(session.pk, "phone", streams.RENDERERS["phone"], None)
        projector = live.stream(session.pk, "projector", streams.RENDERERS["projector"], None)
        await next_message(phone)
        await next_message(projector)
        from sessions.models import Participant

        await sync_to_async(Participant.join)(session)  # the projector's count changes
        assert "1 person joined" in await next_message(projector)
        with pytest.raises(TimeoutError):
            await next_message(phone, timeout=0.8)
        await phone.aclose()
        await projector.aclose()

    run(scenario)


def test_the_channel_is_dropped_when_its_last_stream_closes(session):
    async def scenario():
        body = live.stream(session.pk, "projector", streams.RENDERERS["projector"], None)
        await next_message(body)
        hub = live.Hub.for_running_loop()
        assert session.pk in hub.channels
        await body.aclose()
        assert session.pk not in hub.channels

    run(scenario)


def test_polling_answers_nothing_when_nothing_changed(session):
    response = streams.poll(session.pk, "projector", session.last_seq)
    assert response.status_code == 204
    assert response.content == b""


def test_polling_answers_the_current_state_when_something_changed(session):
    behind = session.last_seq
    make_cause(session, "Missed while polling")
    response = streams.poll(session.pk, "projector", behind)
    assert response.status_code == 200
    assert int(response["X-Seq"]) == behind + 1
    assert "Missed while polling" in response.content.decode()
    assert 'id="tree"' in response.content.decode()


def test_polling_without_a_cursor_answers_the_current_state(session):
    response = streams.poll(session.pk, "phone", None)
    assert response.status_code == 200
    assert 'id="prompt"' in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("facilitator", "/s/{}/console/stream/"),
        ("facilitator", "/s/{}/present/stream/"),
        ("participant", "/p/{}/stream/"),
    ],
)
def test_a_stream_is_no_document_and_has_no_policy_for_scripts_or_frames(world, persona, url):
    url = url.format(world.session.public_id)
    stream = world.as_(persona).get(url)
    try:
        assert stream["Content-Type"] == "text/event-stream"
        assert stream["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in stream
        assert "X-Frame-Options" not in stream
    finally:
        stream.close()
    # Polled, the same address answers HTML, with the headers of every page.
    polled = world.as_(persona).get(url, {"poll": "1"})
    assert polled["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in polled["Content-Security-Policy"]
    assert polled["X-Frame-Options"] == "DENY"
