"""A long unbroken word stays on the printed page: in the tree, "What matters
most", the plan's table and "Other ideas". WeasyPrint's own layout says where
every piece of text went."""

import io

import pytest
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from sessions import pdf
from sessions.models import Session
from tests.conftest import make_cause

WORD = "Unbroken" * 35  # 280 characters


def long_words(session: Session) -> None:
    Session.objects.filter(pk=session.pk).update(title="T" * 120)
    top = make_cause(session, "A" + WORD[1:])
    top.tag(matters_most=True, who_can_change="outside", actor="C" * 120)
    make_cause(session, "B" + WORD[1:], top)
    agreed = session.add_action("P" + WORD[1:], [top.pk])
    agreed.agree(owner="O" * 120, owner_outside=True, first_step="F" * 280, due=None)
    session.add_action("I" + WORD[1:], [top.pk])


def text_boxes_past_the_page(html: str) -> list[str]:
    """Each piece of text that runs past its page's edge, and by how much."""
    document = HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=pdf.StaticFilesFetcher())
    past = []
    for number, page in enumerate(document.render().pages, start=1):
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TextBox):
                right = box.position_x + box.width
                if box.position_x < -0.5 or right > page.width + 0.5:
                    past.append(
                        f"page {number}: {box.text[:20]!r} ends at {right:.0f} of {page.width:.0f}"
                    )
    return past


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_long_words_stay_inside_the_printed_page(world, paper):
    long_words(world.session)
    session = Session.objects.select_related("group").get(pk=world.session.pk)
    html = pdf.render_html(pdf.summary(session), paper)
    assert text_boxes_past_the_page(html) == []


def test_the_pdf_keeps_every_letter_of_a_long_word(world):
    long_words(world.session)
    content = world.facilitator.get(f"/s/{world.session.public_id}/summary.pdf").content
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
    for first in "ABPI":
        assert first + WORD[1:] in text
