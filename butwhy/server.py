"""The app server: uvicorn, configured from the settings rather than its own defaults.

`python -m butwhy.server --port 8000 [--host 0.0.0.0] [--workers 2]` is what
`make run` and `make serve` start. What uvicorn would otherwise decide by
itself, the settings decide here, in one place:

- **Which proxy is trusted.** uvicorn's own proxy-header handling is off: by
  default it believes X-Forwarded-For from 127.0.0.1, rewriting the client
  address before the app's TRUSTED_PROXIES logic runs, so anyone behind a
  same-host proxy that passes the header on could pick their own address.
  The app alone reads the header (`sessions.ratelimits.client_address`).
- **How many connections a process holds** (SERVER_MAX_CONNECTIONS): past
  it, a request gets a friendly 503 page (`busy.html`), and connections far
  past it are closed at once, so a flood cannot take every file descriptor.
- **How long a request head may take** (REQUEST_HEAD_TIMEOUT_SECONDS): a
  connection whose request line and headers are not complete by then is cut.
"""

import argparse
import asyncio
import os
import resource
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from butwhy.asgitypes import Receive, Scope, Send

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "butwhy.settings")


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head timeout and a friendly 503."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.conf import settings

        self.most_connections = settings.SERVER_MAX_CONNECTIONS
        self.head_timeout = settings.REQUEST_HEAD_TIMEOUT_SECONDS
        self.limit_concurrency = None  # uvicorn's plain-text 503: ours instead
        self.head_timer: asyncio.TimerHandle | None = None

    # A Transport, as uvicorn's own connection_made narrows asyncio's BaseTransport.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > 2 * self.most_connections:
            transport.close()
            return
        self.arm_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.arm_head_timer()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self.disarm_head_timer()
        app = self.app
        if (
            len(self.connections) > self.most_connections
            or len(self.tasks) >= self.most_connections
        ):
            self.app = busy
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm_head_timer()
        super().connection_lost(exc)

    def arm_head_timer(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.head_timeout, self.head_timed_out)

    def disarm_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_timed_out(self) -> None:
        self.head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


async def busy(scope: Scope, receive: Receive, send: Send) -> None:
    from butwhy.asgi import refuse

    await refuse(scope, send, 503, "busy.html")


def config(host: str, port: int, workers: int = 1, **overrides: Any) -> dict[str, Any]:
    """uvicorn's arguments, from the settings."""
    return {
        "app": "butwhy.asgi:application",
        "host": host,
        "port": port,
        "workers": workers,
        "http": Protocol,
        "proxy_headers": False,
        "timeout_graceful_shutdown": 3,
        "access_log": False,
        # Django has no startup or shutdown hooks to run: without this, uvicorn
        # tries the lifespan protocol and warns at every start that it failed.
        "lifespan": "off",
        **overrides,
    }


def raise_open_files_limit() -> None:
    """As many file descriptors as the system allows: each phone's stream is one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto", help="event loop: auto, uvloop, asyncio")
    args = parser.parse_args(argv)
    raise_open_files_limit()
    uvicorn.run(**config(args.host, args.port, args.workers, loop=args.loop))


if __name__ == "__main__":
    main()
