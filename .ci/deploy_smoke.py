"""The meeting .ci/deploy-smoke plays through nginx and https, with the standard library only.

A facilitator logs in, prepares a session and opens it; a projector's stream
is opened through nginx; a phone joins with the QR code's link and answers;
the projector must receive the answer within a second. Then the summary's
PDF downloads, /healthz answers, and a static file comes from nginx with its
long cache headers. Every step prints one line; any failure exits non-zero.
"""

import argparse
import http.client
import http.cookiejar
import re
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ANSWER = "The street lights are off after ten"


class Failed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


class Browser:
    """Cookies and CSRF as a browser keeps them; redirects followed."""

    def __init__(self, base: str, context: ssl.SSLContext):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.HTTPSHandler(context=context),
        )

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.jar if c.name == name), "")

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def open(self, path: str, data: dict | None = None, headers: dict | None = None):
        """(status, final path, headers, body) of a GET, or of a POST with the CSRF token."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        if data is not None:
            data = {"csrfmiddlewaretoken": self.cookie("csrftoken"), **data}
            request.data = urllib.parse.urlencode(data).encode()
            request.add_header("Origin", self.base)
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                final = urllib.parse.urlsplit(response.geturl()).path
                return response.status, final, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, path, error.headers, error.read()

    def page(self, path: str, data: dict | None = None) -> tuple[str, str]:
        status, final, _headers, body = self.open(path, data)
        check(status == 200, f"{'POST' if data is not None else 'GET'} {path} answered {status}")
        return final, body.decode()


class Stream(threading.Thread):
    """An open Server-Sent Events stream, read in the background."""

    def __init__(self, base: str, path: str, context: ssl.SSLContext, cookies: str):
        super().__init__(daemon=True)
        parts = urllib.parse.urlsplit(base)
        self.connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=context, timeout=30
        )
        self.connection.request(
            "GET", path, headers={"Cookie": cookies, "Accept": "text/event-stream"}
        )
        self.response = self.connection.getresponse()
        self.received = b""
        self.lock = threading.Lock()
        self.seen: dict[bytes, float] = {}
        self.watch: list[bytes] = []

    def run(self) -> None:
        try:
            while chunk := self.response.read1(65536):
                now = time.monotonic()
                with self.lock:
                    self.received += chunk
                    for needle in self.watch:
                        if needle not in self.seen and needle in self.received:
                            self.seen[needle] = now
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by close()

    def wait_for(self, needle: bytes, seconds: float) -> float | None:
        """When `needle` arrived (time.monotonic()), or None after `seconds`."""
        with self.lock:
            self.watch.append(needle)
            if needle in self.received:
                self.seen.setdefault(needle, time.monotonic())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if needle in self.seen:
                    return self.seen[needle]
            time.sleep(0.005)
        return None

    def close(self) -> None:
        # Shut the socket down first: the reader is blocked in a read until
        # the next heartbeat otherwise.
        if self.connection.sock is not None:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.join(5)
        self.connection.close()


def step(name: str, started: float) -> None:
    print(f"  ok  {name} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)


def run(base: str, cafile: str, username: str, password: str, group: str) -> None:
    context = ssl.create_default_context(cafile=cafile)

    t = time.monotonic()
    facilitator = Browser(base, context)
    facilitator.page("/accounts/login/")
    final, page = facilitator.page(
        "/accounts/login/", {"username": username, "password": password, "next": ""}
    )
    check(final == "/", f"the login led to {final}, not the dashboard")
    check("Smoke group" in page, "the dashboard does not list the facilitator's group")
    step("a facilitator logs in over https", t)

    t = time.monotonic()
    final, _page = facilitator.page(
        f"/g/{group}/sessions/new/",
        {
            "title": "Smoke test",
            "situation": "The corner of 5th and Main is dark at night.",
            "kind": "problem",
            "language": "en",
            "names": "anonymous",
            "moderation": "show",
            "phone_tree": "on",
        },
    )
    found = re.fullmatch(r"/s/([A-Za-z0-9_-]+)/console/", final)
    check(found is not None, f"creating the session led to {final}, not its console")
    assert found is not None
    session = found[1]
    facilitator.page(f"/s/{session}/open/", {})
    _final, projector = facilitator.page(f"/s/{session}/present/")
    code = re.search(r"qr\.svg\?code=([A-Z0-9]+)", projector)
    check(code is not None, "the projector shows no QR code to join")
    assert code is not None
    status, _final, headers, svg = facilitator.open(f"/s/{session}/qr.svg?code={code[1]}")
    check(status == 200 and b"<svg" in svg, f"the QR code answered {status}")
    step(f"the facilitator creates and opens a session (code {code[1]})", t)

    # Two projectors, one after the other: nginx sends them to the two app
    # processes in turn, so the answer crosses from one process to the other.
    t = time.monotonic()
    streams = []
    for _ in range(2):
        stream = Stream(base, f"/s/{session}/present/stream/", context, facilitator.cookie_header())
        status = stream.response.status
        check(status == 200, f"the projector's stream answered {status}")
        check(
            stream.response.getheader("Content-Type", "").startswith("text/event-stream"),
            "the projector's stream is not text/event-stream",
        )
        check(stream.response.getheader("Content-Encoding") is None, "nginx compressed the stream")
        stream.start()
        check(stream.wait_for(b"event: snapshot", 10) is not None, "the stream sent no snapshot")
        streams.append(stream)
    step("two projectors' streams open through nginx", t)

    t = time.monotonic()
    phone = Browser(base, context)
    phone.page(f"/join/{code[1]}/")  # the QR code's link
    final, page = phone.page(f"/join/{code[1]}/", {})
    check(final == f"/p/{session}/", f"joining led to {final}, not the phone's page")
    key = re.search(r'name="key" value="([^"]+)"', page)
    check(key is not None, "the phone's page has no answer form")
    assert key is not None
    step("a phone joins with the QR code's link", t)

    t = time.monotonic()
    sent = time.monotonic()
    status, _final, _headers, _body = phone.open(
        f"/p/{session}/answers/", {"text": ANSWER, "parent": "", "key": key[1]}
    )
    check(status == 200, f"the answer was answered {status}")
    latencies = []
    for stream in streams:
        arrived = stream.wait_for(ANSWER.encode(), 5)
        check(arrived is not None, "a projector's stream never received the answer")
        assert arrived is not None
        latencies.append(arrived - sent)
        stream.close()
    latency = max(latencies)
    check(latency < 1.0, f"the answer reached a projector after {latency:.2f} s, over 1 s")
    shown = " and ".join(f"{s * 1000:.0f} ms" for s in latencies)
    step(f"the phone answers; both projectors' streams have it after {shown}", t)

    t = time.monotonic()
    status, _final, headers, pdf = facilitator.open(f"/s/{session}/summary.pdf")
    check(status == 200, f"the PDF answered {status}")
    check(pdf.startswith(b"%PDF-"), "the summary is not a PDF")
    check(headers.get("Content-Type") == "application/pdf", "the summary is not application/pdf")
    step(f"the summary's PDF downloads ({len(pdf) // 1024} KB)", t)

    t = time.monotonic()
    status, _final, _headers, body = Browser(base, context).open("/healthz")
    check((status, body.strip()) == (200, b"ok"), f"/healthz answered {status} {body!r}")
    step("/healthz answers through nginx", t)

    t = time.monotonic()
    stylesheet = re.search(r'href="(/static/css/[a-z]+\.[0-9a-f]{12}\.css)"', projector)
    check(stylesheet is not None, "no hashed stylesheet on the pages")
    assert stylesheet is not None
    status, _final, headers, _css = facilitator.open(
        stylesheet[1], headers={"Accept-Encoding": "gzip"}
    )
    check(status == 200, f"{stylesheet[1]} answered {status}")
    check("immutable" in headers.get("Cache-Control", ""), "static files lack the long cache")
    check(headers.get("Content-Encoding") == "gzip", "nginx did not serve the gzipped copy")
    step("static files come from nginx, gzipped, cached for a year", t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="https://host:port")
    parser.add_argument("--cafile", required=True, help="the self-signed certificate")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--group", required=True, help="the facilitator's group's public id")
    args = parser.parse_args()
    try:
        run(args.base, args.cafile, args.username, args.password, args.group)
    except Failed as failure:
        print(f"  FAILED  {failure}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
