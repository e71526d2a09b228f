"""Browser tests: Debian's Chromium, driven by Playwright, against the real ASGI app.

Django's own live server is WSGI and buffers streaming responses, so the
Server-Sent Events would never arrive: these tests serve butwhy.asgi with
uvicorn in a thread of the test process instead. The test database is a file
(SQLite) or a real database (PostgreSQL), so that thread sees what the test
commits, and the test sees what the server commits.
"""

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

VIEWPORTS = {
    "projector": {"width": 1920, "height": 1080},
    "phone": {"width": 360, "height": 640},
    "console": {"width": 1280, "height": 800},
}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> Path:
    path = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
    if not path.exists():
        pytest.fail(
            f"Chromium not found at {path}: the browser tests need Debian's Chromium "
            "(apt-get install -y chromium), or CHROMIUM=/path/to/chromium.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Chromium for one test module.

    While Playwright's sync API is started, an asyncio loop counts as running
    in this thread: Django's ORM then refuses to run here unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set, and async_to_sync refuses outright. So
    Playwright lives only as long as a browser test module, and the variable
    is set only meanwhile, instead of for the whole test run.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class AsgiServer:
    """butwhy.asgi served by uvicorn in a daemon thread, on 127.0.0.1."""

    def __init__(self):
        from butwhy.asgi import application

        self.application = application
        self.port = 0
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve on self.port (a free one the first time).

        The socket is bound here and handed to uvicorn, so no other process
        can take the port in between, and a restart gets the same port back.
        """
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.application,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=1,
            ws="none",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                pytest.fail("uvicorn did not start: see the log above.", pytrace=False)
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop as a deploy does: open streams get a second, then are cut."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def asgi_server(browser, transactional_db) -> Iterator[AsgiServer]:
    """The real ASGI application, streams and all.

    transactional_db: the server's threads see only committed rows, so the
    test's data must be committed, and the tables are emptied afterwards.
    """
    server = AsgiServer()
    server.start()
    try:
        yield server
    finally:
        if server.thread.is_alive():
            server.stop()


@pytest.fixture
def live_server_url(asgi_server) -> str:
    return asgi_server.url


@dataclass
class Browsing:
    """Open browser contexts against the live server; collect every page's errors."""

    browser: object
    base_url: str
    errors: list[str] = field(default_factory=list)
    contexts: list = field(default_factory=list)

    def context(self, viewport: str | dict, **options):
        size = VIEWPORTS[viewport] if isinstance(viewport, str) else viewport
        context = self.browser.new_context(base_url=self.base_url, viewport=size, **options)
        context.on("page", self.watch)
        self.contexts.append(context)
        return context

    def page(self, viewport: str | dict, **options):
        return self.context(viewport, **options).new_page()

    def watch(self, page) -> None:
        def on_console(message):
            if message.type == "error":
                source = message.location.get("url") or page.url
                self.errors.append(f"{source}: console: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def forgive(self, expected: str) -> list[str]:
        """Drop the errors that contain `expected` (a restart's cut streams, say)."""
        forgiven = [e for e in self.errors if expected in e]
        self.errors = [e for e in self.errors if expected not in e]
        return forgiven

    def assert_no_errors(self) -> None:
        assert self.errors == [], "The pages logged errors:\n" + "\n".join(self.errors)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, live_server_url) -> Iterator[Browsing]:
    """Contexts close before the server stops, so no stream is left hanging."""
    browsing = Browsing(browser, live_server_url)
    yield browsing
    browsing.close()


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        page.screenshot(path=str(path))
        return path

    return save
