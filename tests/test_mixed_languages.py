"""Typed text in one direction inside a page in the other: each piece is isolated
in its own direction, the app's labels and numbers outside it, in the summary
page, the PDF, the projector and the console alike."""

import io
import re

from pypdf import PdfReader

from tests.conftest import make_agreed_action, make_cause, make_session

ARABIC = "الشارع مظلم في الليل"
ACTOR = "شركة الكهرباء"
ENGLISH = "The street is dark at night"


def visual_lines(content: bytes) -> list[str]:
    """The PDF's lines as drawn, left to right (Arabic letters come out reversed)."""
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def line_with(lines: list[str], *words: str) -> str:
    return next(line for line in lines if all(w in line for w in words))


def tagged(session, text):
    cause = make_cause(session, text)
    cause.tag(can_change="yes", who_can_change="outside", actor=ACTOR)
    return cause


def test_an_arabic_cause_in_an_english_pdf_reads_number_cause_then_tags(world):
    make_cause(world.session, "Cars drive too fast")
    tagged(world.session, ARABIC)
    response = world.facilitator.get(f"/s/{world.session.public_id}/summary.pdf")
    lines = visual_lines(response.content)
    line = line_with(lines, ARABIC[::-1], "Can change")
    # Left to right: the outline number, the cause, then the tags in English.
    assert re.match(rf"^2 {re.escape(ARABIC[::-1])} — Can change: Yes", line), line
    assert line.index("Someone outside the group can change it:") < line.index(ACTOR[::-1]), line


def test_an_english_cause_in_an_arabic_pdf_reads_number_cause_then_tags(world):
    session = make_session(world.group, language="ar", situation="الأطفال يتأذون عند الزاوية")
    make_cause(session, "السيارات سريعة")
    tagged(session, ENGLISH)
    response = world.facilitator.get(f"/s/{session.public_id}/summary.pdf")
    line = line_with(visual_lines(response.content), ENGLISH, "—")
    # Right to left: the number at the right end, the cause left of it, the tags further left.
    assert line.endswith(f"{ENGLISH} 2"), line
    assert line.index(ENGLISH) > line.index("—"), line


def test_the_summary_page_isolates_each_typed_text_with_the_labels_outside(world):
    cause = tagged(world.session, ARABIC)
    make_agreed_action(world.session, "اطلبوا من البلدية إنارة", owner="أمينة")
    html = world.facilitator.get(f"/s/{world.session.public_id}/summary/").content.decode()
    assert f'<span class="number">1</span> <bdi dir="rtl">{ARABIC}</bdi> — ' in html
    assert f'can change it: <bdi dir="rtl">{ACTOR}</bdi>' in html
    assert '<td><bdi dir="rtl">اطلبوا من البلدية إنارة</bdi>' in html
    assert '<td><bdi dir="rtl">أمينة</bdi>' in html
    assert '<li class="d0" dir="rtl">' not in html
    assert cause.pk


def test_the_plan_table_prints_each_cause_whole(world):
    long_cause = "Children cross where the traffic light at the corner of 5th and Main is broken"
    action = world.session.add_action(
        "Ask for a new light", [make_cause(world.session, long_cause).pk]
    )
    action.agree(owner="Amina", owner_outside=False, first_step="Call the city", due=None)
    response = world.facilitator.get(f"/s/{world.session.public_id}/summary.pdf")
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    plan = text.split("The plan: what we agreed to do")[1]
    assert long_cause in plan
    assert "…" not in plan
