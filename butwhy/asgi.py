"""The ASGI application: Django, with the phones' live streams served in front of it.

A thousand phones each hold a stream open for the whole meeting. Through
Django's request handling, every open stream keeps an OS thread (its
`MiddlewareMixin` middleware runs in a thread-sensitive executor that lives as
long as the response) and every reconnect pays for the whole middleware stack.
So `phone_streams` answers `GET /p/<id>/stream/` itself: the view's own
permission check (`phone_stream_session`) runs in the shared executor, the
response is the view's own (`streams.stream_response`) with the headers of the
middleware that only adds headers, and its chunks go straight to the client.

Whatever it would not answer exactly as Django does goes to Django: a poll, a
disallowed host, an https redirect, a refused cookie or an unknown session
(the 403 and 404 pages), any error. The view stays the path of the test client
and of the other audiences' streams (projectors and consoles are few, and log in).
"""

import asyncio
import functools
import io
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import IO, Any, cast

import django
from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import HttpResponseBase
from django.urls import set_script_prefix

from butwhy.asgitypes import Application, Message, Receive, Scope, Send

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "butwhy.settings")


class OneThreadHandler(ASGIHandler):
    """Django's ASGI handler, with each request handled in one go, in a fixed pool of threads.

    The app's middleware (security, sessions, locale, CSRF, ...) are Django's
    `MiddlewareMixin`s. Under the stock handler each runs in async mode, which
    hands every `process_request` and `process_response` to the request's
    thread and back: about twenty hand-offs a request, half the cost of a
    plain one. And every request gets a thread of its own (Django's
    thread-sensitive context), started and stopped for it, with the request
    signals and the response's closing each handed over again.

    Here a request is read on the event loop, then handled in one call in a
    pool thread: the request signals, the middleware chain in sync mode, the
    view, and for a page its closing (Django's end-of-request work, in the
    thread that did the request's work). The pool has `CONCURRENT_REQUESTS`
    threads, as many as the database pool has connections: under a burst (a
    room joining) the other requests wait in its queue, where waiting costs
    nothing, rather than each taking a thread and a turn at the database pool
    (whose 10-second wait would turn a busy minute into 500s). Each gives its
    database connection back as soon as its response is made.

    An async view (the projector's and console's streams) is called from
    the pool thread and its response streams from the event loop as Django's
    own handler does it, until the client goes away; the phones' streams do
    not pass through Django at all (`phone_streams` below).
    """

    def __init__(self) -> None:
        super().__init__()
        self.pool = ThreadPoolExecutor(CONCURRENT_REQUESTS, thread_name_prefix="request")
        self.respond = sync_to_async(
            self.handle_in_thread, thread_sensitive=False, executor=self.pool
        )
        self.close = sync_to_async(close_response, thread_sensitive=False, executor=self.pool)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            response = await self.respond(scope, body_file)
            if not response.streaming:
                await self.send_response(response, send)
                return

            class Sent(Exception):
                pass

            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self.listen_for_disconnect(receive))
                    await self.send_response(response, send)
                    raise Sent
            except* (Sent, RequestAborted):
                pass
            await self.close(response)

    def handle_in_thread(self, scope: Scope, body_file: IO[bytes]) -> HttpResponseBase:
        """The response to one request; a page's is closed already, a stream's is not."""
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, refused = self.create_request(scope, body_file)
            response = self.get_response(request) if request is not None else refused
            assert response is not None  # create_request gives a request or a response
            if not response.streaming:
                response.close()  # request_finished
            return response
        finally:
            release_connections()


def close_response(response: HttpResponseBase) -> None:
    try:
        response.close()
    finally:
        release_connections()


# As many as the PostgreSQL pool holds connections (DATABASE_POOL_SIZE).
CONCURRENT_REQUESTS = int(os.environ.get("DATABASE_POOL_SIZE") or 10)


django.setup(set_prefix=False)

from butwhy.database import release_connections  # noqa: E402

django_application = OneThreadHandler()

from django.conf import settings  # noqa: E402
from django.core.exceptions import DisallowedHost, SuspiciousOperation  # noqa: E402
from django.core.handlers.asgi import ASGIRequest  # noqa: E402
from django.http import HttpResponse, StreamingHttpResponse  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from django.utils import translation  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from sessions.views import participating, streams  # noqa: E402

# Of settings.MIDDLEWARE, those that only check a request (an https redirect)
# and add headers to a response: a stream served here gets the same headers.
HEADER_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


@functools.cache
def header_middleware() -> list[Any]:
    return [
        import_string(path)(get_response=lambda request: None)
        for path in settings.MIDDLEWARE
        if path in HEADER_MIDDLEWARE
    ]


# The view's permission check, in the shared executor: a few threads, so a
# few database connections, however many phones reconnect at once.
check = sync_to_async(streams.check, thread_sensitive=False)


class Delegate(Exception):
    """Django answers this request."""


def phone_streams(application: Application) -> Application:
    """Serve phones' streams; hand everything else to `application`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope.get("method") == "GET" and path.startswith("/p/") and path.endswith("/stream/"):
            try:
                response, request = await open_phone_stream(scope)
            except Delegate:
                pass
            else:
                await serve(response, request, receive, send)
                return
        await application(scope, receive, send)

    return app


async def open_phone_stream(scope: Scope) -> tuple[StreamingHttpResponse, ASGIRequest]:
    request = ASGIRequest(scope, io.BytesIO())
    try:
        match = resolve(request.path_info)
        request.get_host()  # ALLOWED_HOSTS
        polling = "poll" in request.GET
        cursor = streams.cursor_from(request)
    except (Resolver404, DisallowedHost, SuspiciousOperation):  # too many fields, say
        raise Delegate from None
    if match.func is not streams.phone_stream or polling:
        raise Delegate
    for middleware in header_middleware():
        if hasattr(middleware, "process_request") and middleware.process_request(request):
            raise Delegate
    find = functools.partial(participating.phone_stream_session, request, **match.kwargs)
    try:
        session_pk = await check(find)
    except Exception:  # 403, 404, a database error: Django's pages and logging
        raise Delegate from None
    response = streams.stream_response(
        session_pk,
        participating.phone_audience(request),
        cursor,
        participating.phone_stream_limits(request, **match.kwargs),
    )
    # 429: too many streams; Django answers it the same way.
    if not isinstance(response, StreamingHttpResponse):
        raise Delegate
    for middleware in reversed(header_middleware()):
        response = middleware.process_response(request, response)
    return response, request


async def serve(
    response: StreamingHttpResponse, request: ASGIRequest, receive: Receive, send: Send
) -> None:
    """Send the stream until it ends or the client goes away."""

    async def pump() -> None:
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in response.items()
                ],
            }
        )
        # An async generator (live.Body): the stubs allow a plain iterator too.
        chunks = cast(AsyncIterator[bytes], response.streaming_content)
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def hang_up() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping = asyncio.ensure_future(pump())
    listening = asyncio.ensure_future(hang_up())
    try:
        await asyncio.wait((pumping, listening), return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Cancelling the pump closes the stream, which leaves its channel.
        for task in (pumping, listening):
            task.cancel()
        await asyncio.gather(pumping, listening, return_exceptions=True)
        response.close()  # gives the stream's hold back, even if it never started
    if not pumping.cancelled() and (error := pumping.exception()) is not None:
        raise error


@functools.cache
def refusal_page(template: str, language: str) -> bytes:
    """A page for a request refused before Django sees it, rendered once per language."""
    with translation.override(language):
        return render_to_string(template).encode()


async def refuse(scope: Scope, send: Send, status: int, template: str) -> None:
    """Answer with a refusal page and the headers every page has; then hang up."""
    request = ASGIRequest(scope, io.BytesIO())
    # The picker's cookie, else Accept-Language, as LocaleMiddleware reads them.
    language = translation.get_language_from_request(request)
    response = HttpResponse(refusal_page(template, language), status=status)
    # The rest of a refused body is never read: the connection ends here.
    response["Connection"] = "close"
    response["Cache-Control"] = "no-store"
    if status == 503:
        response["Retry-After"] = "5"
    for middleware in reversed(header_middleware()):
        response = middleware.process_response(request, response)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.content})


def body_limit(application: Application) -> Application:
    """Refuse a body above REQUEST_BODY_MAX_BYTES before anyone reads it.

    With a Content-Length, at once. A chunked body is read here, into memory,
    up to the bound: Django would otherwise write all of it to a temporary
    file before any view could say no.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await application(scope, receive, send)
        most = settings.REQUEST_BODY_MAX_BYTES
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > most:
                return await refuse(scope, send, 413, "413.html")
            return await application(scope, receive, send)
        if b"transfer-encoding" not in headers:
            return await application(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > most:
                return await refuse(scope, send, 413, "413.html")
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        return await application(scope, replay, send)

    return app


application = body_limit(phone_streams(django_application))

if settings.SERVE_STATIC:
    from butwhy.static import StaticFiles

    application = StaticFiles(application)
