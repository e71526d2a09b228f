"""The live channel: Server-Sent Events streams fed by the event table.

Every change to a session commits an `Event` with the session's next sequence
number (models.Session.record) and then calls `publish()`. Here, in the server
process, one `Channel` per session with open streams wakes up, renders what
each audience sees (projector, phone, console) once, and hands the same
message to every stream of that audience. Streams hold no database
connection while they wait.

A message is a snapshot of the audience's live regions: top-level elements
with ids that the page swaps in (static/js/live.js). Its SSE id is the
session's sequence number, so a client reconnecting with `Last-Event-ID` or
`?last=` gets a snapshot only if something changed since; clients drop
messages they already have. A snapshot is what a client that missed events
needs anyway, so catching up and connecting are the same path.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from butwhy.database import release_connections

logger = logging.getLogger(__name__)

# What an audience sees: function(session_pk) -> (seq, html). The stream
# views name one per audience (sessions/views/streams.py) and hand it over.
Renderer = Callable[[int], tuple[int, str]]


@dataclass(frozen=True)
class Message:
    seq: int
    html: str

    @cached_property
    def encoded(self) -> bytes:
        """The SSE event, encoded once however many streams send it."""
        data = "".join(f"data: {line}\n" for line in self.html.splitlines() or [""])
        return f"id: {self.seq}\nevent: snapshot\n{data}\n".encode()


def render(session_pk: int, renderer: Renderer) -> Message:
    """Render one audience's snapshot, then give the connection back at once."""
    try:
        seq, html = renderer(session_pk)
        return Message(seq, html)
    finally:
        release_connections()


class Wake(asyncio.Event):
    """Set when an audience's message changes, or (heartbeat) when it is time to say so."""

    heartbeat = False


class Channel:
    """The open streams of one session in this process, and their latest messages."""

    def __init__(self, hub: "Hub", session_pk: int):
        self.hub = hub
        self.session_pk = session_pk
        self.subscribers: dict[str, int] = {}
        self.renderers: dict[str, Renderer] = {}
        self.latest: dict[str, Message] = {}
        self.changed: dict[str, Wake] = {}
        self.dirty = False
        self.refreshing: asyncio.Task[None] | None = None
        self.first_render: dict[str, asyncio.Task[None]] = {}
        # The highest sequence number this channel was woken for: the same
        # change can arrive twice (on commit in this process, and by NOTIFY).
        self.woken = 0

    def signal(self, audience: str) -> "Wake":
        """What the audience's streams wait on; whoever sets it also takes it out of `changed`."""
        wake = self.changed.get(audience)
        if wake is None:
            wake = self.changed[audience] = Wake()
        return wake

    def offer(self, audience: str, message: Message) -> None:
        """Keep `message` if it is newer; wake the audience if it looks different."""
        current = self.latest.get(audience)
        if current is not None and (message.seq <= current.seq or message.html == current.html):
            # Older, or nothing this audience sees has changed: clients keep
            # their cursor and get nothing.
            return
        self.latest[audience] = message
        wake = self.changed.pop(audience, None)
        if wake is not None:
            wake.set()

    async def current(self, audience: str) -> Message:
        """The latest message; the first stream of an audience renders it, once."""
        if audience not in self.latest:
            task = self.first_render.get(audience)
            if task is None:
                task = self.first_render[audience] = self.hub.loop.create_task(
                    self.render_first(audience)
                )
            await asyncio.shield(task)
        return self.latest[audience]

    async def render_first(self, audience: str) -> None:
        try:
            message = await sync_to_async(render, thread_sensitive=False)(
                self.session_pk, self.renderers[audience]
            )
            self.offer(audience, message)
        finally:
            self.first_render.pop(audience, None)

    def wake(self, seq: int | None = None) -> None:
        """Re-render soon; `seq` None: something may have changed, look anyway."""
        if seq is not None:
            if seq <= self.woken:
                return
            self.woken = seq
        self.dirty = True
        if self.refreshing is None:
            self.refreshing = self.hub.loop.create_task(self.refresh())

    async def refresh(self) -> None:
        """Render each audience once per burst of changes, however many streams."""
        try:
            while self.dirty:
                self.dirty = False
                for audience in [a for a, n in self.subscribers.items() if n]:
                    try:
                        message = await sync_to_async(render, thread_sensitive=False)(
                            self.session_pk, self.renderers[audience]
                        )
                    except Exception:
                        logger.exception(
                            "Could not render %s for session %s", audience, self.session_pk
                        )
                        continue
                    self.offer(audience, message)
        finally:
            self.refreshing = None


class Hub:
    """All channels of this server process, on its event loop."""

    _current: "Hub | None" = None

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.channels: dict[int, Channel] = {}
        self.listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        self.heartbeat: asyncio.Task[None] | None = None
        # Open streams per holder (a participant, an address), for `hold`.
        self.held: dict[str, int] = {}

    def hold(self, limits: dict[str, int]) -> "Hold | None":
        """One more stream for each holder in `limits` (holder -> most streams it may
        have open in this process); None, and nothing taken, if one has them all."""
        if any(self.held.get(holder, 0) >= most for holder, most in limits.items()):
            return None
        for holder in limits:
            self.held[holder] = self.held.get(holder, 0) + 1
        return Hold(self, tuple(limits))

    @classmethod
    def for_running_loop(cls) -> "Hub":
        loop = asyncio.get_running_loop()
        if cls._current is None or cls._current.loop is not loop or loop.is_closed():
            cls._current = Hub(loop)
        return cls._current

    def wake(self, session_pk: int, seq: int | None = None) -> None:
        channel = self.channels.get(session_pk)
        if channel is not None:
            channel.wake(seq)

    def wake_all(self) -> None:
        for channel in self.channels.values():
            channel.wake()

    async def beat(self) -> None:
        """One timer for every stream of this process, rather than one per stream."""
        while True:
            await asyncio.sleep(settings.LIVE_HEARTBEAT_SECONDS)
            for channel in list(self.channels.values()):
                for wake in channel.changed.values():
                    wake.heartbeat = True
                    wake.set()
                channel.changed.clear()

    def join(self, session_pk: int, audience: str, renderer: Renderer) -> Channel:
        if self.heartbeat is None:
            self.heartbeat = self.loop.create_task(self.beat())
        if self.listener is None and connections["default"].vendor == "postgresql":
            self.listener = self.loop.create_task(self.listen())
        channel = self.channels.get(session_pk)
        if channel is None:
            channel = self.channels[session_pk] = Channel(self, session_pk)
        channel.subscribers[audience] = channel.subscribers.get(audience, 0) + 1
        channel.renderers[audience] = renderer
        return channel

    def leave(self, channel: Channel, audience: str) -> None:
        channel.subscribers[audience] -= 1
        if not channel.subscribers[audience]:
            del channel.subscribers[audience]
            channel.latest.pop(audience, None)
        if not channel.subscribers:
            self.channels.pop(channel.session_pk, None)

    async def listen(self) -> None:
        """One LISTEN connection per process, so that a change committed by any
        process (on any machine) wakes the streams of every process.

        After connecting, and after every reconnection, every channel looks
        again: changes committed meanwhile are in the event table.
        """
        import psycopg

        delay = 0.5
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(
                    **_listener_params(), autocommit=True
                )
                async with connection:
                    await connection.execute(f"LISTEN {PG_CHANNEL}")
                    delay = 0.5
                    self.wake_all()
                    self.listening.set()
                    async for notice in connection.notifies():
                        session_pk, _, seq = notice.payload.partition(":")
                        self.wake(int(session_pk), int(seq))
            except asyncio.CancelledError:
                raise
            except Exception:
                self.listening.clear()
                logger.warning("The live listener lost PostgreSQL; reconnecting.", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)


class Hold:
    """The streams one response counts against its holders; given back once."""

    def __init__(self, hub: Hub, holders: tuple[str, ...]):
        self.hub = hub
        self.holders = holders

    def release(self) -> None:
        for holder in self.holders:
            left = self.hub.held[holder] - 1
            if left:
                self.hub.held[holder] = left
            else:
                del self.hub.held[holder]
        self.holders = ()


class Body:
    """A stream response's content: its chunks, and `close()` (which Django calls
    when the response ends, even if it never started) to give its hold back."""

    def __init__(self, chunks: AsyncIterator[bytes], hold: Hold):
        self.chunks = chunks
        self.hold = hold

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks

    def close(self) -> None:
        self.hold.release()


# NOTIFY channel that every server process LISTENs on (PostgreSQL only).
PG_CHANNEL = "butwhy_live"


def _listener_params() -> dict[str, Any]:
    db = connections["default"].settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"],
    }
    return {key: value for key, value in params.items() if value}


def notify(connection: BaseDatabaseWrapper, session_pk: int, seq: int) -> None:
    """Tell every server process, once this transaction commits (PostgreSQL only).

    NOTIFY is delivered on commit and in commit order, and not at all on rollback.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, f"{session_pk}:{seq}"])


def publish(session_pk: int, seq: int) -> None:
    """Wake this process's streams of a session; called on commit, from any thread."""
    hub = Hub._current
    if hub is None or hub.loop.is_closed():
        return
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
        hub.loop.call_soon_threadsafe(hub.wake, session_pk, seq)


# How long a browser waits before reconnecting a cut stream, in ms: a range,
# so that a thousand phones cut by a restart do not all come back in the same
# millisecond, and then again two seconds later, in step.
RETRY_MS = (1000, 3000)


def hello() -> bytes:
    """The first chunk: a reconnect delay for this stream, and "hello", which
    tells the client that the stream flows (a buffering proxy would hold it
    back: the client then polls instead)."""
    return f"retry: {random.randint(*RETRY_MS)}\nevent: hello\ndata: \n\n".encode()


async def stream(
    session_pk: int,
    audience: str,
    renderer: Renderer,
    cursor: int | None,
    hold: Hold | None = None,
) -> AsyncIterator[bytes]:
    """The body of one SSE response: a snapshot if the client needs one, then changes.

    `renderer` draws what `audience` sees; every stream of an audience hands
    the same one."""
    hub = Hub.for_running_loop()
    channel = hub.join(session_pk, audience, renderer)
    try:
        yield hello()
        while True:
            waiting = channel.signal(audience)
            message = await channel.current(audience)
            if cursor is None or message.seq > cursor:
                yield message.encoded
                cursor = message.seq
            await waiting.wait()
            if waiting.heartbeat:
                yield b": keep-alive\n\n"
    finally:
        hub.leave(channel, audience)
        if hold is not None:
            hold.release()
