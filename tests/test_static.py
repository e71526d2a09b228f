"""Static files: hashed names, gzip for browsers that take it, cached for a year."""

import asyncio
import gzip

import pytest
from django.templatetags.static import static

from butwhy.static import StaticFiles


async def passed_on(scope, receive, send):
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


def get(path: str, *, method: str = "GET", gzip_ok: bool = True, app: StaticFiles | None = None):
    """Ask StaticFiles (in front of a stand-in app) for `path`: status, headers, body."""
    sent = []
    headers = [(b"accept-encoding", b"gzip, deflate")] if gzip_ok else []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    asyncio.run((app or StaticFiles(passed_on))(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_pages_name_static_files_by_their_content():
    assert static("js/live.js") != "/static/js/live.js"
    assert static("js/live.js").startswith("/static/js/live.") and static("js/live.js").endswith(
        ".js"
    )


def test_a_hashed_file_is_gzipped_and_cached_for_a_year():
    status, headers, body = get(static("js/live.js"))
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (
        headers["content-type"].startswith("text/javascript")
        or "javascript" in headers["content-type"]
    )
    assert headers["vary"] == "Accept-Encoding"
    assert b"EventSource" in gzip.decompress(body)
    assert int(headers["content-length"]) == len(body)


def test_a_browser_that_takes_no_gzip_gets_the_file_as_it_is():
    status, headers, body = get(static("css/base.css"), gzip_ok=False)
    assert status == 200 and "content-encoding" not in headers
    assert b":root" in body


def test_an_unhashed_name_is_served_but_not_cached():
    status, headers, _body = get("/static/css/base.css")
    assert status == 200 and headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../butwhy/settings.py",
        "/static/%2e%2e/butwhy/settings.py",
        "/static/css/nothing.css",
        "/static/js/",
        "/static/css/base.css\x00",
    ],
)
def test_nothing_outside_the_collected_files_is_served(path):
    status, _headers, body = get(path)
    assert status == 404 and b"SECRET" not in body


def test_the_gzipped_copies_are_not_addressed_directly():
    assert get(static("js/live.js") + ".gz")[0] == 404


def test_only_get_and_head_are_answered():
    assert get(static("css/base.css"), method="POST")[0] == 405
    status, headers, body = get(static("css/base.css"), method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_everything_else_goes_on_to_django():
    assert get("/p/abc/") == (299, {}, b"django")


def test_files_are_read_once_and_then_served_from_memory(monkeypatch):
    from pathlib import Path

    served = StaticFiles(passed_on)
    assert get(static("css/base.css"), app=served)[0] == 200  # the first request reads them all
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    def no_disk(*args, **kwargs):
        raise AssertionError("a request touched the disk")

    for method in ("read_bytes", "stat", "is_file", "exists", "resolve", "open"):
        monkeypatch.setattr(Path, method, no_disk)
    scope = {"type": "http", "method": "GET", "path": static("js/live.js"), "headers": []}
    asyncio.run(served(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b"EventSource" in sent[1]["body"]
