"""The printed summary (HTML and PDF) and the exports (CSV, JSON).

The PDF's text is read back with pypdf: what the organizer walks out with must
hold the situation, every cause on the board and the plan, and nothing that
was hidden. WeasyPrint may read nothing but our own static files.
"""

import asyncio
import csv
import io
import json
import os
import re
import threading
from datetime import date

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.test import AsyncClient
from django.utils import timezone
from pypdf import PdfReader

from butwhy.asgi import application
from sessions import pdf
from sessions.models import Action, Cause, Participant, Session, Vote
from sessions.permissions import PARTICIPANT_COOKIE
from tests.conftest import make_cause, make_group, make_session, make_user
from tests.test_live_asgi import Call, signed

SITUATION = "Young people keep getting hurt at the corner of 5th and Main."
HOSTILE = [
    "<img src=file:///etc/passwd>",
    "@import url(http://evil.example/x.css);",
    '<link rel="stylesheet" href="https://evil.example/y.css">',
    "<style>body { background: url(data:image/png;base64,AAAA) }</style>",
]
# Six levels deep: the last one must still print, indented no further than the fifth.
CHAIN = [
    "Nobody can see the crossing at night",
    "The street lights are broken",
    "Repairs wait for the yearly budget",
    "The council cut the repair budget",
    "Tax income fell when the factory closed",
    "The factory moved to another town",
]
OFF_THE_BOARD = {
    Cause.State.HIDDEN: "A hidden remark about the neighbour",
    Cause.State.REJECTED: "A rejected insult",
    Cause.State.PENDING: "An answer still waiting for approval",
    Cause.State.WITHDRAWN: "An answer its author took back",
}
MERGED = "Lamps are out"


def build(session: Session) -> dict:
    """A session with a deep tree, causes in every state, votes, tags and a plan."""
    causes, parent = [], None
    for text in CHAIN:
        parent = make_cause(session, text, parent)
        causes.append(parent)
    traffic = make_cause(session, "Cars drive too fast")
    hostile = [make_cause(session, text) for text in HOSTILE]
    for state, text in OFF_THE_BOARD.items():
        make_cause(session, text, parent=causes[0], state=state)
    make_cause(session, MERGED).merge_into(causes[1])
    causes[1].tag(matters_most=True, can_change="yes", who_can_change="outside", actor="Council")
    traffic.tag(matters_most=True, smaller_part=True)
    voters = [Participant.objects.create(session=session) for _ in range(3)]
    for voter in voters:
        Vote.objects.create(session=session, participant=voter, cause=traffic, dots=1)
    Vote.objects.create(session=session, participant=voters[0], cause=causes[1], dots=1)
    session.reveal_votes()
    lights = session.add_action("Ask the council to fix the lights", [causes[1].pk])
    lights.agree(
        owner="Maria", owner_outside=False, first_step="Write to the council", due=date(2026, 3, 14)
    )
    signs = session.add_action("Put up slow-down signs", [traffic.pk, causes[0].pk])
    signs.agree(owner="Transit authority", owner_outside=True, first_step="", due=None)
    session.add_action("Paint a zebra crossing", [traffic.pk])
    session.add_action("A hidden idea", [traffic.pk]).hide()
    return {"chain": causes, "traffic": traffic, "hostile": hostile, "lights": lights}


def pdf_text(content: bytes) -> str:
    """The PDF's text with white space collapsed, so that wrapped lines still match."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def url(session: Session, name: str) -> str:
    return f"/s/{session.public_id}/{name}"


# The PDF


def test_the_pdf_holds_the_situation_every_cause_on_the_board_and_the_plan(world):
    built = build(world.session)
    response = world.facilitator.get(url(world.session, "summary.pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert SITUATION in text
    for cause in [*CHAIN, "Cars drive too fast", *HOSTILE]:
        assert cause in text
    for hidden in [*OFF_THE_BOARD.values(), MERGED, "A hidden idea"]:
        assert hidden not in text
    # The plan, in its order, with who and when; the outside actor is marked in words.
    plan = text[text.index("The plan") :]
    assert plan.index("Ask the council to fix the lights") < plan.index("Put up slow-down signs")
    assert "Maria" in plan
    assert "Write to the council" in plan
    assert "March 14, 2026" in plan
    assert "Transit authority (outside the group: to approach)" in plan
    assert "Paint a zebra crossing" in text[text.index("Other ideas") :]
    # What matters most, ranked by dots, with a star and the words.
    matters = text[text.index("What matters most") : text.index("The plan")]
    assert matters.index("Cars drive too fast (3 dots)") < matters.index(
        "The street lights are broken (1 dot)"
    )
    assert "★ Matters most" in text
    assert "Can change: Yes · Someone outside the group can change it: Council" in text
    assert "A smaller part, easier to change" in text
    assert "4 people took part." in text
    assert re.search(r"Page 1 of (\d+)", text)
    pages = len(PdfReader(io.BytesIO(response.content)).pages)
    assert f"Page {pages} of {pages}" in text
    assert built["lights"].agreed


def test_the_pdf_holds_the_closing_round_and_the_plan(world):
    build(world.session)
    world.session.set_phase(Session.Phase.CLOSE)
    voices = [Participant.objects.create(session=world.session) for _ in range(3)]
    world.session.add_closing_line("We are not alone in this", author=voices[0])
    world.session.add_closing_line("Neighbours can change things", author=voices[1])
    world.session.add_closing_line("A line taken down", author=voices[2]).hide()
    response = world.facilitator.get(url(world.session, "summary.pdf"))
    text = pdf_text(response.content)
    plan = text[text.index("The plan") :]
    assert "Ask the council to fix the lights" in plan
    assert "Write to the council" in plan
    assert "March 14, 2026" in plan
    closing = text[text.index("What we learned, what gives us hope") :]
    assert "We are not alone in this" in closing
    assert "Neighbours can change things" in closing
    assert "A line taken down" not in text


def test_the_pdf_is_a_download_named_after_the_session_and_its_day(world):
    Session.objects.filter(pk=world.session.pk).update(title='Safety / "the corner"?')
    response = world.facilitator.get(url(world.session, "summary.pdf"))
    day = timezone.localdate(world.session.created_at).isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="safety-the-corner-{day}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]


def test_hostile_text_prints_as_text_and_fetches_nothing(world, monkeypatch):
    build(world.session)
    asked = []
    fetch = pdf.StaticFilesFetcher.fetch

    def recording(self, address, headers=None):
        asked.append(address)
        return fetch(self, address, headers)

    monkeypatch.setattr(pdf.StaticFilesFetcher, "fetch", recording)
    response = world.facilitator.get(url(world.session, "summary.pdf"))
    assert response.status_code == 200
    assert asked == ["https://butwhy.invalid" + static("css/print.css")]
    for text in HOSTILE:
        assert text in pdf_text(response.content)


def test_markup_that_reached_weasyprint_would_still_fetch_nothing_but_our_static_files(
    monkeypatch,
):
    asked, refused = [], []
    fetch = pdf.StaticFilesFetcher.fetch

    def recording(self, address, headers=None):
        asked.append(address)
        try:
            return fetch(self, address, headers)
        except pdf.NotOurs:
            refused.append(address)
            raise

    monkeypatch.setattr(pdf.StaticFilesFetcher, "fetch", recording)
    document = pdf.write_pdf(
        '<link rel="stylesheet" href="/static/css/print.css">'
        '<link rel="stylesheet" href="http://evil.example/x.css">'
        "<style>@import url(https://evil.example/y.css);</style>"
        '<img src="file:///etc/passwd"><img src="/static/../butwhy/settings.py">'
        '<img src="data:image/svg+xml,%3Csvg%3E%3C/svg%3E"><p>Still printed</p>'
    )
    assert "Still printed" in pdf_text(document)
    assert set(asked) - set(refused) == {"https://butwhy.invalid/static/css/print.css"}
    assert {
        "http://evil.example/x.css",
        "https://evil.example/y.css",
        "file:///etc/passwd",
        "data:image/svg+xml,%3Csvg%3E%3C/svg%3E",
    } <= set(refused)


@pytest.mark.parametrize(
    "address",
    [
        "file:///etc/passwd",
        "http://evil.example/static/css/print.css",
        "https://butwhy.invalid/media/css/print.css",
        "https://butwhy.invalid/static/../butwhy/settings.py",
        "https://butwhy.invalid/static/%2e%2e/butwhy/settings.py",
        "https://butwhy.invalid/static/css/../../pyproject.toml",
        "https://butwhy.invalid/static//etc/passwd",
        "https://butwhy.invalid/static/css\\..\\..\\pyproject.toml",
        "https://butwhy.invalid/static/css/print.css?v=1",
        "https://butwhy.invalid/static/css/no-such.css",
        "https://butwhy.invalid/static/",
        "data:text/css,body{}",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file_of_ours(address):
    with pytest.raises(pdf.NotOurs):
        pdf.StaticFilesFetcher().fetch(address)


def test_the_fetcher_serves_our_static_files():
    response = pdf.StaticFilesFetcher().fetch("https://butwhy.invalid/static/css/print.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


A4 = (595, 842)
LETTER = (612, 792)


def page_size(content: bytes, page: int = -1) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(content)).pages[page].mediabox
    return round(float(box.width)), round(float(box.height))


@pytest.mark.parametrize(
    ("setting", "query", "size"),
    [
        ("A4", "", A4),
        ("Letter", "", LETTER),
        ("A4", "?paper=letter", LETTER),
        ("A4", "?paper=Letter", LETTER),
        ("Letter", "?paper=a4", A4),
    ],
)
def test_the_paper_comes_from_the_setting_or_the_download_link(
    world, settings, setting, query, size
):
    settings.PAPER_SIZE = setting
    make_cause(world.session)
    response = world.organizer.get(url(world.session, "summary.pdf") + query)
    assert response.status_code == 200
    assert page_size(response.content) == size
    # The first page is the tree, drawn across the same paper turned landscape.
    assert page_size(response.content, 0) == size[::-1]


@pytest.mark.parametrize("page", ["summary.pdf", "summary/"])
def test_an_unknown_paper_size_is_a_clear_400(world, page):
    response = world.facilitator.get(url(world.session, page) + "?paper=bogus")
    assert response.status_code == 400
    assert "The paper size can be A4 or Letter." in response.content.decode()


def test_the_paper_setting_is_read_strictly(monkeypatch):
    from butwhy.settings import env_choice

    monkeypatch.setenv("PAPER_SIZE", "letter")
    assert env_choice("PAPER_SIZE", "A4", ["A4", "Letter"]) == "Letter"
    monkeypatch.setenv("PAPER_SIZE", "")
    assert env_choice("PAPER_SIZE", "A4", ["A4", "Letter"]) == "A4"
    monkeypatch.setenv("PAPER_SIZE", "A5")
    with pytest.raises(ImproperlyConfigured, match="PAPER_SIZE must be one of A4, Letter"):
        env_choice("PAPER_SIZE", "A4", ["A4", "Letter"])


@pytest.mark.parametrize("page", ["summary.pdf", "summary/"])
def test_an_empty_session_reads_well(world, page):
    response = world.facilitator.get(url(world.session, page))
    assert response.status_code == 200
    text = (
        pdf_text(response.content)
        if page.endswith(".pdf")
        else " ".join(response.content.decode().split())
    )
    assert "No causes were recorded in this session." in text
    assert "The group did not mark which causes matter most." in text
    assert "No actions were agreed." in text
    assert "No other ideas were proposed." in text
    assert "1 person took part." in text


def test_causes_without_actions_still_say_no_actions_were_agreed(world):
    make_cause(world.session, "No street lights")
    text = pdf_text(world.facilitator.get(url(world.session, "summary.pdf")).content)
    assert "No street lights" in text
    assert "No actions were agreed." in text


def test_names_print_only_when_the_session_asked_for_them(world):
    named = make_session(world.group, title="Named", names=Session.Names.OPTIONAL)
    Participant.objects.create(session=named, name="Amina")
    Participant.objects.create(session=named, name="")
    text = pdf_text(world.facilitator.get(url(named, "summary.pdf")).content)
    assert "2 people took part. Names given: Amina" in text
    # An anonymous session never shows names, even one that slipped in.
    Participant.objects.create(session=world.session, name="Zed")
    text = pdf_text(world.facilitator.get(url(world.session, "summary.pdf")).content)
    assert "2 people took part." in text
    assert "Zed" not in text


def test_a_success_is_worded_as_one(world):
    session = make_session(world.group, kind=Session.Kind.SUCCESS)
    text = pdf_text(world.facilitator.get(url(session, "summary.pdf")).content)
    assert "Looking at a success" in text
    assert "What went well" in text
    assert "Why did this go well?" in text


def test_the_pdf_renders_off_the_event_loop_and_leaves_sync_views_free(world, monkeypatch):
    """While a PDF renders, the event loop and the thread that runs sync views
    both go on: another request is served before the PDF is done."""
    make_cause(world.session)
    rendering, release = threading.Event(), threading.Event()
    seen = {}
    render = pdf.render

    def slow_render(context, paper):
        seen["thread"] = threading.get_ident()
        try:
            asyncio.get_running_loop()
            seen["on_a_loop"] = True
        except RuntimeError:
            seen["on_a_loop"] = False
        rendering.set()
        release.wait(timeout=30)
        return render(context, paper)

    monkeypatch.setattr(pdf, "render", slow_render)
    client = AsyncClient()
    client.force_login(world.facilitator_user)

    async def download_while_serving_another_page():
        loop_thread = threading.get_ident()
        download = asyncio.ensure_future(client.get(url(world.session, "summary.pdf")))
        await asyncio.to_thread(rendering.wait, 30)
        sync_thread = await sync_to_async(threading.get_ident)()
        summary = await client.get(url(world.session, "summary/"))
        finished_first = not download.done()
        release.set()
        return loop_thread, sync_thread, summary, finished_first, await download

    loop_thread, sync_thread, summary, finished_first, response = async_to_sync(
        download_while_serving_another_page
    )()
    assert seen["on_a_loop"] is False
    assert seen["thread"] not in {loop_thread, sync_thread}
    assert summary.status_code == 200
    assert finished_first
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_the_summary_is_read_in_seven_queries_and_rendered_without_any(
    world, django_assert_num_queries
):
    # The render runs in a worker thread: it must not open a connection there.
    build(world.session)
    session = Session.objects.select_related("group").get(pk=world.session.pk)
    # The seventh: the closing round's lines.
    with django_assert_num_queries(7):
        context = pdf.summary(session)
    with django_assert_num_queries(0):
        pdf.render_html(context, "A4")


# The summary page: the same template, in the browser


def test_the_summary_page_links_the_pdf_and_escapes_what_people_wrote(world):
    build(world.session)
    response = world.organizer.get(url(world.session, "summary/"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/s/{world.session.public_id}/summary.pdf?paper=a4"' in html
    assert f'href="/s/{world.session.public_id}/causes.csv"' in html
    assert "&lt;img src=file:///etc/passwd&gt;" in html
    assert "<img" not in html
    assert "<script" not in html
    assert '<h1 dir="ltr">Safety at the corner</h1>' in html
    assert "★ Matters most" in html
    for hidden in [*OFF_THE_BOARD.values(), MERGED, "A hidden idea"]:
        assert hidden not in html


def test_a_deep_tree_indents_no_further_than_five_levels(world):
    built = build(world.session)
    html = world.facilitator.get(url(world.session, "summary/")).content.decode()
    deepest = re.search(r'<li class="d(\d)[^"]*"><span class="number">1\.1\.1\.1\.1\.1<', html)
    assert deepest is not None
    assert deepest.group(1) == "5"
    assert CHAIN[-1] in html
    assert built["chain"][-1].parent == built["chain"][-2]


def test_the_summary_is_in_the_sessions_language(world):
    session = make_session(world.group, language="ar")
    html = world.facilitator.get(url(session, "summary/")).content.decode()
    assert '<html lang="ar" dir="rtl">' in html


def test_each_answer_runs_its_own_way_in_print_too(world):
    # WeasyPrint ignores dir="auto": the page states each text's direction.
    make_cause(world.session, "الإنارة معطلة")
    make_cause(world.session, "2024: no lights")
    make_cause(world.session, "42")
    html = world.facilitator.get(url(world.session, "summary/")).content.decode()
    assert (
        '<li class="d0"><span class="number">1</span> <bdi dir="rtl">الإنارة معطلة</bdi></li>'
        in html
    )
    assert (
        '<li class="d0"><span class="number">2</span> <bdi dir="ltr">2024: no lights</bdi></li>'
        in html
    )
    assert '<li class="d0"><span class="number">3</span> <bdi dir="auto">42</bdi></li>' in html


# Exports


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_causes_csv_lists_every_cause_with_its_state_dots_and_tags(world):
    built = build(world.session)
    response = world.facilitator.get(url(world.session, "causes.csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="safety-at-the-corner')
    assert response["Content-Disposition"].endswith('-causes.csv"')
    rows = read_csv(response)
    header, *causes = rows
    assert header[:7] == ["id", "parent id", "depth", "text", "state", "merged into", "dots"]
    by_text = {row[3]: dict(zip(header, row, strict=True)) for row in causes}
    assert len(causes) == world.session.causes.count()
    traffic = by_text["Cars drive too fast"]
    assert [traffic[c] for c in ("dots", "matters most", "smaller part")] == ["3", "yes", "yes"]
    assert by_text[CHAIN[5]]["depth"] == "5"
    assert by_text[CHAIN[5]]["parent id"] == str(built["chain"][4].pk)
    assert by_text[OFF_THE_BOARD[Cause.State.HIDDEN]]["state"] == "hidden"
    assert by_text[MERGED]["merged into"] == str(built["chain"][1].pk)


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tTab", "\rReturn"]
)
def test_csv_cells_never_start_a_formula(world, text):
    make_cause(world.session, text)
    action = world.session.add_action("Act", [world.session.causes.get().pk])
    action.agree(owner=text, owner_outside=False, first_step=text, due=None)
    causes = read_csv(world.facilitator.get(url(world.session, "causes.csv")))
    actions = read_csv(world.facilitator.get(url(world.session, "actions.csv")))
    assert causes[1][3] == "'" + text
    row = dict(zip(actions[0], actions[1], strict=True))
    assert row["owner"] == row["first step"] == "'" + text


def test_the_actions_csv_lists_the_plan_first_then_every_other_action(world):
    built = build(world.session)
    rows = read_csv(world.facilitator.get(url(world.session, "actions.csv")))
    header, *actions = rows
    table = [dict(zip(header, row, strict=True)) for row in actions]
    assert [a["text"] for a in table] == [
        "Ask the council to fix the lights",
        "Put up slow-down signs",
        "Paint a zebra crossing",
        "A hidden idea",
    ]
    lights, signs, zebra, hidden = table
    assert (lights["agreed"], lights["plan order"], lights["owner"], lights["due"]) == (
        "yes",
        "1",
        "Maria",
        "2026-03-14",
    )
    assert lights["cause ids"] == str(built["chain"][1].pk)
    assert signs["owner outside the group"] == "yes"
    assert (zebra["agreed"], zebra["status"]) == ("no", "not_started")
    assert hidden["state"] == "hidden"


def test_the_json_export_holds_the_whole_session(world):
    built = build(world.session)
    response = world.organizer.get(url(world.session, "export.json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    data = json.loads(response.content)
    assert data["group"] == "Riverside"
    assert data["session"]["situation"] == SITUATION
    assert data["session"]["dot_budget"] == 3
    assert data["participants"] == {"count": 4, "names": []}
    roots = {node["text"]: node for node in data["causes"]}
    node = roots[CHAIN[0]]
    for text in CHAIN[1:]:
        node = next(child for child in node["children"] if child["text"] == text)
    assert node["children"] == []
    lights = next(c for c in roots[CHAIN[0]]["children"] if c["text"] == CHAIN[1])
    assert lights["dots"] == 1
    assert lights["tags"]["matters_most"] is True
    assert lights["tags"]["actor"] == "Council"
    states = {c["text"]: c["state"] for c in roots[CHAIN[0]]["children"]}
    assert states[OFF_THE_BOARD[Cause.State.HIDDEN]] == "hidden"
    assert roots[MERGED]["state"] == "merged"
    assert roots[MERGED]["merged_into"] == built["chain"][1].pk
    actions = {a["text"]: a for a in data["actions"]}
    assert actions["Ask the council to fix the lights"] | {"id": 0, "created_at": ""} == {
        "id": 0,
        "text": "Ask the council to fix the lights",
        "state": "visible",
        "merged_into": None,
        "causes": [built["chain"][1].pk],
        "agreed": True,
        "plan_order": 1,
        "owner": "Maria",
        "owner_outside": False,
        "first_step": "Write to the council",
        "due": "2026-03-14",
        "status": "not_started",
        "notes": "",
        "status_changed_at": None,
        "author": None,
        "created_at": "",
    }
    assert actions["A hidden idea"]["state"] == Action.State.HIDDEN


SUMMARY_URLS = ["summary/", "summary.pdf", "causes.csv", "actions.csv", "export.json"]


@pytest.mark.parametrize("page", SUMMARY_URLS)
def test_another_groups_session_has_no_summary_here(world, page):
    make_cause(world.other_session, "Elsewhere's cause")
    response = world.facilitator.get(url(world.other_session, page))
    assert response.status_code == 404
    assert world.facilitator.get(f"/s/nosuchsession/{page}").status_code == 404


@pytest.mark.parametrize("page", SUMMARY_URLS)
def test_summaries_are_never_stored_by_browsers_or_proxies(world, page):
    response = world.organizer.get(url(world.session, page))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("page", SUMMARY_URLS)
def test_summaries_only_answer_get(world, page):
    response = world.facilitator.post(url(world.session, page))
    assert response.status_code == 405


def test_page_numbers_fall_back_to_figures_when_a_translation_names_the_total_first(
    monkeypatch,
):
    assert pdf.page_words() == ["Page ", " of ", ""]
    monkeypatch.setattr(pdf, "_", lambda message: "%(pages)s 页中的第 %(page)s 页")
    assert pdf.page_words() == ["", " / ", ""]


def test_dots_that_were_never_revealed_do_not_print(world):
    cause = make_cause(world.session, "Cars drive too fast")
    Vote.objects.create(session=world.session, participant=world.me, cause=cause, dots=1)
    page = world.organizer.get(f"/s/{world.session.public_id}/summary/").content.decode()
    assert "Cars drive too fast" in page and "1 dot" not in page
    world.session.reveal_votes()
    page = world.organizer.get(f"/s/{world.session.public_id}/summary/").content.decode()
    assert "1 dot" in page


def test_an_arabic_summary_prints_right_to_left(world):
    """The headings of an Arabic session's PDF start at the right margin."""
    session = make_session(world.group, language="ar", situation="الأطفال يتأذون عند الزاوية")
    make_cause(session, "الإنارة معطلة")
    response = world.facilitator.get(url(session, "summary.pdf"))
    assert response.status_code == 200
    page = PdfReader(io.BytesIO(response.content)).pages[1]  # after the tree's page
    width = float(page.mediabox.width)
    placed: dict[str, float] = {}

    def visit(text, _cm, matrix, _font, _size):
        if text.strip():
            placed.setdefault(text.strip(), matrix[4])

    extracted = page.extract_text(visitor_text=visit)
    assert "الموقف" in extracted  # "The situation", translated
    heading = next(x for text, x in placed.items() if "الموقف" in text)
    # Drawn in the right half: the heading's run starts right of the middle,
    # where a left-to-right page would start it at the left margin.
    assert heading > width / 2, (heading, width)


@pytest.mark.django_db(transaction=True)
def test_a_full_printer_holds_up_no_live_update_and_asks_the_next_download_to_wait(monkeypatch):
    """PDFs render in their own threads: with every one of them stuck and the
    queue full, a new stream still opens and a change still reaches it, and
    one more download gets the friendly "being prepared" page at once."""
    fran = make_user("fran")
    session = make_session(make_group(facilitators=[fran]))
    participant = Participant.join(session)
    cookie = PARTICIPANT_COOKIE.format(session.public_id)
    phone = {cookie: signed(cookie, participant.key)}
    # As many downloads as the event loop's default executor has threads, so
    # that in a pool shared with the live channel they would fill it.
    count = getattr(os, "process_cpu_count", os.cpu_count)() or 1
    crowd = min(32, count + 4)
    monkeypatch.setattr(pdf, "printer", pdf.Printer(workers=2, waiting=crowd - 2))
    rendering, release = threading.Semaphore(0), threading.Event()

    def stuck_render(context, paper):
        rendering.release()
        release.wait(timeout=30)
        return b"%PDF-1.7 stuck until released"

    monkeypatch.setattr(pdf, "render", stuck_render)
    client = AsyncClient()
    client.force_login(fran)
    address = url(session, "summary.pdf")

    async def scenario():
        downloads = [asyncio.ensure_future(client.get(address)) for _ in range(crowd)]
        try:
            for _ in range(2):
                assert await asyncio.to_thread(rendering.acquire, True, 10)
            for _ in range(1000):
                if pdf.printer.taken == crowd:
                    break
                await asyncio.sleep(0.01)
            assert pdf.printer.taken == crowd

            stream = Call(application, f"/p/{session.public_id}/stream/", cookies=phone)
            status, _headers = await stream.start()
            assert status == 200
            await stream.snapshot()
            cause = await sync_to_async(make_cause)(session, "The lights are broken")
            assert f'data-shown="{cause.pk}"' in await stream.snapshot()
            await stream.hang_up()

            extra = await client.get(address)
            assert extra.status_code == 503
            assert extra["Retry-After"] == "5"
            assert "The PDF is being prepared." in extra.content.decode()
            assert not any(download.done() for download in downloads)
        finally:
            release.set()
        return await asyncio.gather(*downloads)

    responses = async_to_sync(scenario)()
    assert [r.status_code for r in responses] == [200] * crowd
    assert pdf.printer.taken == 0


# Levels: from one person to conditions


def placed(session: Session) -> dict[str, Cause]:
    """Five causes on four levels, one not placed, one hidden (which never counts)."""
    causes = {
        "He drives too fast": "person",
        "His friends dare him": "family",
        "The council cut the budget": "laws",
        "Banks fund the car dealers": "laws",
        "The bus service stopped": "services",
        "Nobody knows yet": "",
    }
    made = {text: make_cause(session, text, level=level) for text, level in causes.items()}
    make_cause(session, "A hidden remark", level="person", state=Cause.State.HIDDEN)
    return made


def test_the_pdf_prints_each_causes_level_and_the_count_per_level(world):
    made = placed(world.session)
    world.session.work_on(made["The council cut the budget"])
    response = world.facilitator.get(url(world.session, "summary.pdf"))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "He drives too fast — Level: One person" in text
    assert "His friends dare him — Level: Family and friends" in text
    assert (
        "The council cut the budget — A smaller part, easier to change · "
        "Level: Laws, money and power" in text
    )
    assert "The bus service stopped — Level: Services and institutions" in text
    counts = text[text.index("From one person to conditions: causes by level") :]
    for line in (
        "One person: 1",
        "Family and friends: 1",
        "The community: 0",
        "Services and institutions: 1",
        "Laws, money and power: 2",
        "Not placed yet: 1",
    ):
        assert line in counts
    assert "The smaller part the group worked on: 3 “The council cut the budget”." in text


def test_the_summary_page_shows_the_levels_in_the_sessions_language(world):
    placed(world.session)
    Session.objects.filter(pk=world.session.pk).update(language="es")
    html = world.facilitator.get(url(world.session, "summary/")).content.decode()
    assert 'data-level="laws">' in html
    assert '<li data-level="">' in html
    assert "Laws, money and power" not in html


def test_the_causes_csv_carries_each_causes_level(world):
    placed(world.session)
    rows = read_csv(world.facilitator.get(url(world.session, "causes.csv")))
    header, *causes = rows
    by_text = {row[3]: dict(zip(header, row, strict=True)) for row in causes}
    assert by_text["He drives too fast"]["level"] == "person"
    assert by_text["The council cut the budget"]["level"] == "laws"
    assert by_text["Nobody knows yet"]["level"] == ""


def test_the_json_export_carries_levels_their_counts_and_the_part_worked_on(world):
    made = placed(world.session)
    world.session.work_on(made["The bus service stopped"])
    data = json.loads(world.organizer.get(url(world.session, "export.json")).content)
    roots = {node["text"]: node for node in data["causes"]}
    assert roots["His friends dare him"]["tags"]["level"] == "family"
    assert roots["A hidden remark"]["tags"]["level"] == "person"
    assert data["levels"] == {
        "": 1,
        "person": 1,
        "family": 1,
        "community": 0,
        "services": 1,
        "laws": 2,
    }
    assert data["session"]["working_on"] == made["The bus service stopped"].pk
