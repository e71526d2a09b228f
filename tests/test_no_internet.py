"""A session runs with no internet: nothing the app serves points outside itself.

Every page, as each persona and in each phase, and every stylesheet, script
and image the pages reference, is scanned for URLs to other hosts: absolute
http(s):// and protocol-relative // addresses in attributes, url(...) and
@import in CSS, addresses in JavaScript. Only the app's own paths (or its own
host) and data: URLs pass.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from butwhy.static import StaticFiles
from sessions.models import Session
from tests.conftest import make_agreed_action, make_cause, make_session

HOST = "testserver"
# An absolute address, or a protocol-relative one (//host.name/...) where a
# string or url( starts: not the XPath "//*" inside htmx.
EXTERNAL = re.compile(
    r"""https?://[^\s"'`<>()]+"""
    r"""|(?<=["'`(=\s])//(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?[^\s"'`<>()]*""",
    re.IGNORECASE,
)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]*)["']?\s*\)|@import\s+["']([^"']+)["']""")
# XML namespace names identify a vocabulary; nothing ever fetches them.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def outside(url: str) -> bool:
    """Whether loading `url` from one of our pages would leave the app."""
    url = url.strip()
    if url.lower().startswith("data:"):
        return False
    parts = urlsplit(url)
    if parts.scheme and parts.scheme.lower() not in {"http", "https"}:
        return True  # ftp:, javascript:, a custom scheme: none of ours
    return bool(parts.netloc) and parts.hostname != HOST


class Page(HTMLParser):
    """Every attribute that holds an address, and the resources to fetch."""

    URL_ATTRIBUTES = {
        *("href", "src", "action", "formaction", "poster", "data", "srcset", "cite"),
        *("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "data-stream"),
    }

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.resources: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if value is None or name == "xmlns" or name.startswith("xmlns:"):
                continue
            if name in self.URL_ATTRIBUTES:
                self.urls += [u.split()[0] for u in value.split(",") if u.strip()]
            elif name == "style":
                self.styles.append(value)
            elif name == "content" and "url=" in value.lower():  # <meta http-equiv=refresh>
                self.urls.append(value.lower().split("url=", 1)[1])
            else:  # any other attribute that smuggles in an address
                self.urls += urls_in_script(value)
        if tag == "link" and attributes.get("href"):
            self.resources.append(attributes["href"])
        if tag in {"script", "img"} and attributes.get("src"):
            self.resources.append(attributes["src"])

    def handle_data(self, data):
        if self.lasttag == "style":
            self.styles.append(data)
        elif self.lasttag == "script":
            self.scripts.append(data)


def urls_in_css(css: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(css)]


def urls_in_script(script: str) -> list[str]:
    return [m.group() for m in EXTERNAL.finditer(script) if m.group() not in NAMESPACES]


class Scan:
    def __init__(self):
        self.problems: list[str] = []
        self.pages: list[str] = []
        self.resources: dict[str, str] = {}
        # One index of the collected files, as the ASGI app keeps one.
        self.static = StaticFiles(None)

    def page(self, client, path: str, persona: str) -> None:
        response = client.get(path)
        assert response.status_code < 500, f"{persona} {path}: {response.status_code}"
        where = f"{persona} {path} ({response.status_code})"
        self.pages.append(where)
        csp = response.headers.get("Content-Security-Policy", "")
        self.report(where + " CSP", urls_in_script(csp))
        parser = Page()
        parser.feed(response.content.decode())
        self.report(where, parser.urls)
        self.report(where + " <style>", [u for s in parser.styles for u in urls_in_css(s)])
        self.report(where + " <script>", [u for s in parser.scripts for u in urls_in_script(s)])
        for url in parser.resources:
            self.resource(client, url, where)

    def resource(self, client, url: str, where: str) -> None:
        if outside(url):
            return  # reported with the page
        path = urlsplit(url).path
        if path in self.resources:
            return
        if path.startswith(settings.STATIC_URL):
            # As the ASGI app serves them (butwhy/static.py): from STATIC_ROOT.
            found = self.static.find(path.removeprefix(settings.STATIC_URL))
            assert found is not None, f"{url}, referenced by {where}: not collected"
            body = found.read_bytes()
            path = settings.STATIC_URL + str(
                found.relative_to(settings.STATIC_ROOT).with_name(
                    StaticFiles.unhashed_name(found.name)
                )
            )
            if path in self.resources:
                return
            self.resources[path] = body.decode()
            if path.endswith(".css"):
                self.report(path, urls_in_css(body.decode()))
            return
        else:
            response = client.get(url)
            body = response.content
        assert response.status_code == 200, f"{url}, referenced by {where}: {response.status_code}"
        text = body.decode()
        self.resources[path] = text
        if path.endswith(".css"):
            self.report(path, urls_in_css(text))
        elif path.endswith(".js"):
            self.report(path, urls_in_script(text))
        elif path.endswith(".svg") or "svg" in response.get("Content-Type", ""):
            parser = Page()
            parser.feed(text)
            self.report(path, parser.urls)

    def report(self, where: str, urls: list[str]) -> None:
        self.problems += [f"{where}: {url}" for url in urls if outside(url)]


def test_the_scan_finds_what_points_outside():
    """The scan itself: what it must catch, and what it must let through."""
    parser = Page()
    parser.feed(
        '<link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<script src="//cdn.example.com/htmx.js"></script>'
        '<img src="data:image/png;base64,AAAA"><a href="/join/">join</a>'
        '<div style="background: url(//fonts.example.com/a.woff2)"></div>'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
        f'<form action="http://{HOST}/join/"></form>'
    )
    assert [u for u in parser.urls if outside(u)] == [
        "https://cdn.example.com/x.css",
        "//cdn.example.com/htmx.js",
    ]
    assert [u for s in parser.styles for u in urls_in_css(s)] == ["//fonts.example.com/a.woff2"]
    assert urls_in_script("x.evaluate(\"//*[@*[starts-with(name(), 'hx-on')]]\")") == []
    css = '@import "https://fonts.example.com/css"; a { background: url("img/a.png") }'
    assert [u for u in urls_in_css(css) if outside(u)] == ["https://fonts.example.com/css"]
    assert urls_in_script('fetch("https://api.example.com/x")') == ["https://api.example.com/x"]


@pytest.fixture
def rooms(world):
    """world.session in every phase, as a follow-up of a session with a plan."""
    earlier = make_session(world.group, title="Last spring", open=False)
    make_agreed_action(earlier, due=timezone.localdate() - timedelta(days=3))
    session = world.session
    Session.objects.filter(pk=session.pk).update(follows=earlier, names="optional")
    session.refresh_from_db()
    speeding = make_cause(session, "Drivers speed", matters_most=True)
    answer = make_cause(session, "The road is wide", speeding)
    make_cause(session, "Aliens did it").hide()
    make_cause(session, "Held for approval", author=world.me, state="pending")
    session.ask_why(speeding)
    action = session.add_action("Ask for a speed camera", [speeding.pk])
    session.add_action("Paint a crossing", [speeding.pk])
    return session, answer, action


def test_no_page_stylesheet_or_script_points_outside_the_app(world, rooms):
    session, answer, action = rooms
    sid, gid = session.public_id, world.group.public_id
    scan = Scan()

    for path in ("/", "/accounts/login/", "/join/", "/join/?code=NOPE", "/nothing/here/"):
        scan.page(world.anonymous, path, "anonymous")
    scan.page(world.anonymous, f"/join/{session.join_code}/", "anonymous")
    for path in ("/", f"/g/{gid}/", f"/s/{sid}/present/", f"/s/{sid}/console/"):
        scan.page(world.organizer, path, "organizer")
    scan.page(world.outsider, f"/s/{sid}/console/", "outsider")
    for path in (
        "/",
        f"/g/{gid}/",
        f"/g/{gid}/sessions/new/",
        f"/g/{gid}/sessions/new/?follows={sid}",
        f"/s/{sid}/copy/",
        f"/s/{sid}/causes/{answer.pk}/",
        f"/s/{sid}/actions/{action.pk}/",
        f"/s/{sid}/delete/",
        f"/g/{gid}/delete/",
    ):
        scan.page(world.facilitator, path, "facilitator")

    def agree():
        action.agree(owner="Amina", owner_outside=False, first_step="", due=None)
        session.set_phase("agree")

    def review():
        session.set_phase("review")
        session.start_timer(60)

    steps = [
        lambda: None,  # why?, with a focus
        lambda: session.set_phase("reflect"),
        session.reveal_votes,
        lambda: session.set_phase("act"),
        agree,
        review,
        session.close_for_joining,
        session.end,
    ]
    for step in steps:
        step()
        scan.page(world.participant, f"/p/{sid}/", "participant")
        scan.page(world.facilitator, f"/s/{sid}/console/", "facilitator")
        scan.page(world.co_facilitator, f"/s/{sid}/present/", "co_facilitator")

    assert scan.problems == [], "Addresses outside the app:\n" + "\n".join(scan.problems)
    # The scan saw the app's own CSS, JavaScript and the QR code, not nothing.
    fetched = set(scan.resources)
    assert {"/static/css/base.css", "/static/js/live.js", "/static/js/phone.js"} <= fetched
    assert any(p.startswith("/static/django_htmx/") for p in fetched)
    assert any(p.endswith("/qr.svg") for p in fetched)
    assert len(scan.pages) == 44
