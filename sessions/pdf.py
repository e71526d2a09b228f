"""The printed summary: what it shows, and the PDF WeasyPrint makes of it.

The browser's summary page and the PDF are the same template
(templates/sessions/summary.html) with the same print stylesheet, so what an
organizer sees is what prints. WeasyPrint may read nothing but our own static
files: `StaticFilesFetcher` refuses every other address, so a cause that reads
`<img src=file:///etc/passwd>` or `@import url(http://…)` prints as text
(templates escape it) and, whatever slipped through, fetches nothing.
"""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from sessions import diagram, tree
from sessions.models import Action, Cause, ClosingLine, Refused, Session
from sessions.templatetags.bidi import direction

# ?paper= values, and what the PAPER_SIZE setting spells.
PAPERS = {"a4": "A4", "letter": "Letter"}

# Where {% static %} addresses point while WeasyPrint renders: a name that can
# never resolve (.invalid is reserved), so only our fetcher ever answers.
BASE_URL = "https://butwhy.invalid/"

# Past this depth the outline numbers ("1.2.1.3.2.1.4") show the nesting and
# the indent stays put, so that a deep branch keeps room for its words.
MAX_INDENT = 5

# The first page's drawing: the width of a landscape page inside its margins
# over the height left under the title (static/css/print.css).
PAGE_ASPECT = 1.8


def paper_from(value: str | None) -> str:
    """The paper for a download: ?paper=a4|letter, or the PAPER_SIZE setting."""
    if value is None or value == "":
        return settings.PAPER_SIZE
    paper = PAPERS.get(value.casefold())
    if paper is None:
        raise Refused(gettext_lazy("The paper size can be A4 or Letter."), status=400)
    return paper


@dataclass
class Item:
    """A visible cause as the summary prints it: its outline number and its dots."""

    cause: Cause
    number: str
    depth: int
    dots: int

    @property
    def indent(self) -> int:
        return min(self.depth, MAX_INDENT)

    @property
    def tags(self) -> list[str]:
        """The tags and dots in words, in the language active when the page renders
        (safe HTML: an actor's name comes isolated in its own direction).

        The template writes them after the cause's words, in the same text rather
        than in a box of their own: WeasyPrint's time grows with every box.
        """
        cause, words = self.cause, []
        if cause.matters_most:
            words.append("★ " + _("Matters most"))
        if self.dots:
            words.append(
                ngettext("%(count)s dot", "%(count)s dots", self.dots) % {"count": self.dots}
            )
        if cause.can_change:
            words.append(_("Can change: %(answer)s") % {"answer": cause.get_can_change_display()})
        if cause.who_can_change == Cause.WhoCanChange.INSIDE:
            words.append(_("We can change it, inside the group"))
        elif cause.who_can_change == Cause.WhoCanChange.OUTSIDE and cause.actor:
            # The actor was typed: isolated in its own direction, like every typed text.
            actor = format_html('<bdi dir="{}">{}</bdi>', direction(cause.actor), cause.actor)
            label = conditional_escape(_("Someone outside the group can change it: %(actor)s"))
            words.append(mark_safe(label % {"actor": actor}))  # both parts escaped
        elif cause.who_can_change == Cause.WhoCanChange.OUTSIDE:
            words.append(_("Someone outside the group can change it"))
        if cause.smaller_part:
            words.append(_("A smaller part, easier to change"))
        if cause.level:
            words.append(_("Level: %(level)s") % {"level": cause.get_level_display()})
        return words


@dataclass
class PlanAction:
    action: Action
    addresses: list[Item] = field(default_factory=list)


def summary(session: Session) -> dict[str, Any]:
    """Everything the summary shows, read at once: seven queries, whatever the size.

    Only what is on the board prints: hidden, rejected, pending, merged and
    withdrawn causes and actions stay out (the JSON export has them all).
    The session should come with its group (select_related).
    """
    # Counts stay hidden until the facilitator reveals them, on paper too.
    dots = session.tally() if session.votes_revealed else {}
    items: list[Item] = []

    # Outline numbers from the depth-first list (no recursion: a deep tree
    # from before MAX_TREE_DEPTH must still print): one counter per level.
    built = tree.build(list(session.causes.all()), None, dots or None)
    places: list[int] = []
    for node in built.flat:
        del places[node.depth + 1 :]
        if len(places) > node.depth:
            places[node.depth] += 1
        else:
            places.append(1)
        label = ".".join(map(str, places))
        items.append(Item(node.cause, label, node.depth, dots.get(node.pk, 0)))
    by_id = {item.cause.pk: item for item in items}
    order = {item.cause.pk: place for place, item in enumerate(items)}

    actions = []
    for action in session.actions.filter(state=Action.State.VISIBLE).prefetch_related("links"):
        linked = sorted((c for c in action.cause_ids if c in by_id), key=order.__getitem__)
        actions.append(PlanAction(action, [by_id[c] for c in linked]))
    plan = sorted(
        (a for a in actions if a.action.agreed), key=lambda a: (a.action.plan_order, a.action.pk)
    )
    names = list(session.participants.values_list("name", flat=True))
    return {
        "session": session,
        "items": items,
        # Ranked by dots; ties keep the tree's order.
        "matters": sorted((i for i in items if i.cause.matters_most), key=lambda i: -i.dots),
        "plan": plan,
        "others": [a for a in actions if not a.action.agreed],
        "taking_part": len(names),
        "names": sorted({n for n in names if n}, key=str.casefold)
        if session.names != Session.Names.ANONYMOUS
        else [],
        "voted": any(item.dots for item in items),
        # (level, name, causes) from one person to laws, money and power, then
        # those not placed yet; names in the language the page renders in.
        "levels": built.by_level() if items else [],
        "working_on": by_id.get(session.branch_id) if session.branch_id else None,
        # Where to get support, printed for everyone to take home.
        "support": list(session.group.support_contacts.all()),
        # The closing round's lines that were on the wall.
        "lines": list(session.closing_lines.filter(state=ClosingLine.State.VISIBLE)),
        "dated": any(a.action.due for a in plan),
        # Laid out when the page renders, in the session's language.
        "diagram": partial(page_diagram, built.roots, bool(dots)),
    }


def take_home(session: Session) -> dict[str, Any]:
    """What a phone keeps once the session has ended: what the projector
    showed (the situation, the tree, what matters most, the plan, the
    closing round) and the group's support contacts. No names of people,
    nothing hidden or held."""
    found = summary(session)
    kept = ("session", "items", "matters", "plan", "support", "lines", "dated", "voted")
    return {key: found[key] for key in kept}


def page_diagram(roots: list[tree.Node], revealed: bool) -> diagram.Diagram | None:
    """The tree drawn for the first page: A4 or Letter, landscape, under the title."""
    if not roots:
        return None
    return diagram.layout(
        roots,
        aspect=PAGE_ASPECT,
        revealed=revealed,
        rtl=translation.get_language_bidi(),
        focus=False,
        steps=diagram.PAPER_STEPS,
    )


def page_words() -> list[str]:
    """The words of "Page N of M" in the current language, cut around its two numbers.

    The print stylesheet puts the pieces around CSS page counters, page first.
    A translation that names the total first, or drops a number, prints "3 / 5".
    """
    label = _("Page %(page)s of %(pages)s") % {"page": "\0", "pages": "\1"}
    page, pages = label.find("\0"), label.find("\1")
    if not 0 <= page < pages:
        return ["", " / ", ""]
    return [label[:page], label[page + 1 : pages], label[pages + 1 :]]


def filename(session: Session, extension: str, what: str = "") -> str:
    """A download's name from the title and date, with nothing a file system minds."""
    title = slugify(session.title, allow_unicode=True)[:60].strip("-_") or "session"
    day = timezone.localdate(session.created_at).isoformat()
    return f"{title}-{day}{'-' + what if what else ''}.{extension}"


def render_html(context: dict[str, Any], paper: str) -> str:
    """The summary page, in the session's language. Reads nothing from the database."""
    with translation.override(context["session"].language):
        drawn = context["diagram"]()
        return render_to_string(
            "sessions/summary.html",
            {
                **context,
                "paper": paper,
                "page_words": page_words(),
                "for_print": True,
                "diagram": drawn,
                "drawing_css": drawing_css(drawn, paper) if drawn else "",
            },
        )


# The room for the first page's drawing, in mm: the width of the landscape
# page inside its margins, the height left under the title.
DRAWING_ROOM = {"A4": (267.0, 148.0), "Letter": (249.4, 150.0)}


def drawing_css(drawn: diagram.Diagram, paper: str) -> str:
    """Where each box of the drawing goes on paper, as CSS rules.

    On paper the words are HTML boxes over the SVG's lines: WeasyPrint draws
    SVG text a letter at a time, which breaks Arabic (no joining, no
    right-to-left order). Only WeasyPrint reads this page (no browser, no
    CSP); numbers only, nothing typed.
    """
    width, room = DRAWING_ROOM[paper]
    unit = min(width / drawn.width, room / drawn.height)
    size = f"width: {drawn.width * unit:.1f}mm; height: {drawn.height * unit:.1f}mm;"
    rules = [f".print-drawing {{ {size} }}"]
    for box in drawn.boxes:
        rules.append(
            f"#pbox-{box.pk} {{ left: {box.x * unit:.2f}mm; top: {box.y * unit:.2f}mm; "
            f"width: {box.w * unit:.2f}mm; height: {box.h * unit:.2f}mm; "
            f"font-size: {box.font * unit:.2f}mm; padding: {diagram.PAD * unit:.2f}mm; }}"
        )
    return "\n".join(rules)


def render(context: dict[str, Any], paper: str) -> bytes:
    """The PDF of `summary(session)` on A4 or Letter paper.

    About a second of CPU for a few pages: call it off the event loop, in the
    printer's threads (the summary view does). It reads nothing from the database.
    """
    return write_pdf(render_html(context, paper))


class Printer:
    """PDF rendering's own threads, and a bounded queue in front of them.

    Not the event loop's default executor: that one runs every stream's
    check, live render and poll, so a few big PDFs there would hold up the
    live channel of every room this process serves. Here `workers` render at
    once and `waiting` more wait their turn; past that, `run` says no at once
    and the view answers "being prepared, try again in a moment".
    """

    def __init__(self, workers: int, waiting: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pdf")
        self.capacity = workers + waiting
        self.taken = 0  # jobs accepted and not done: rendering or waiting
        self.lock = threading.Lock()

    async def run(self, function: Callable[..., bytes], *args: object) -> bytes | None:
        """`function(*args)` in a printer thread, or None if the queue is full."""
        with self.lock:
            if self.taken >= self.capacity:
                return None
            self.taken += 1
        job = self.executor.submit(function, *args)
        # The place is free when the job is done, not when its client hangs
        # up: a render already running goes on, and still counts.
        job.add_done_callback(self.done)
        return await asyncio.wrap_future(job)

    def done(self, _job: Future[bytes]) -> None:
        with self.lock:
            self.taken -= 1


printer = Printer(settings.PDF_WORKERS, settings.PDF_QUEUE)


def write_pdf(html: str) -> bytes:
    """WeasyPrint, reading nothing but our static files."""
    pdf: bytes = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf()
    return pdf


class NotOurs(ValueError):
    """An address the summary may not read."""


def static_file(url: str) -> Path:
    """The file of ours that `url` names under STATIC_URL, or NotOurs."""
    prefix = urljoin(BASE_URL, settings.STATIC_URL)
    if not url.startswith(prefix):
        raise NotOurs(f"not one of our static files: {url[:200]!r}")
    parts = urlsplit(url)
    if parts.query:
        raise NotOurs(f"static files take no query: {url[:200]!r}")
    name = unquote(url[len(prefix) :].partition("#")[0])
    if (
        not name
        or "\\" in name
        or "\0" in name
        or name.startswith("/")
        or posixpath.normpath(name) != name
        or name.split("/")[0] == ".."
    ):
        raise NotOurs(f"not a plain static path: {url[:200]!r}")
    found = finders.find(name)
    if found is None and settings.STATIC_ROOT:
        collected = Path(settings.STATIC_ROOT) / name
        found = str(collected) if collected.is_file() else None
    if found is None:
        raise NotOurs(f"no such static file: {name!r}")
    return Path(found)


# WeasyPrint ships no types, so to mypy URLFetcher is Any.
class StaticFilesFetcher(URLFetcher):  # type: ignore[misc]
    """Serves WeasyPrint our own static files, from disk, and nothing else.

    Every other address (file:, http:, data:, another host, a path that climbs
    out of the static folders) raises, so WeasyPrint skips it with a warning.
    """

    def __init__(self) -> None:
        # URLFetcher's own fetching (replaced by `fetch` below) is switched off:
        # no protocol, no redirect. A bare SSL context, never used, spares the
        # default one's loading of the system's certificates for every PDF.
        super().__init__(
            ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
            allowed_protocols=(),
            allow_redirects=False,
        )

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        path = static_file(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
