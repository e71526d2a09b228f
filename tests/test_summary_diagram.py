"""The summary's first page: the tree drawn as on the projector, on a landscape page.

The PDF is read back with pypdf: page 1 holds every cause the drawing shows,
and says how many are left for the numbered list. The pages are also saved
as images (test-artifacts/) to be looked at.
"""

import io
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from sessions import diagram, pdf, tree
from sessions.models import Cause, Session
from tests.browser.test_live_session import SIXTY
from tests.conftest import logged_in, make_cause, make_group, make_session, make_user

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def grow(session: Session, size: int) -> None:
    """`size` causes: six top-level ones, the rest spread up to eight levels deep."""
    rnd = random.Random(size)
    made = []
    texts = iter(SIXTY * 4)
    for i in range(size):
        candidates = [(c, d) for c, d in made if d < 7]
        if i < 6 or not candidates:
            made.append((make_cause(session, f"{next(texts)} ({i})"), 0))
        else:
            parent, depth = rnd.choice(candidates)
            made.append((make_cause(session, f"{next(texts)} ({i})", parent), depth + 1))


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("size", [20, 200])
def test_the_first_page_is_the_tree_with_every_cause_it_draws(db, size):
    session = make_session(make_group())
    grow(session, size)
    session = Session.objects.select_related("group").get(pk=session.pk)
    context = pdf.summary(session)
    document = pdf.render(context, "A4")
    reader = PdfReader(io.BytesIO(document))
    first = reader.pages[0]
    assert first.mediabox.width > first.mediabox.height  # landscape
    assert reader.pages[1].mediabox.width < reader.pages[1].mediabox.height
    text = squeeze(first.extract_text())
    drawn = context["diagram"]()
    shown = [box.node.cause.text for box in drawn.boxes]
    assert len(shown) == drawn.shown
    missing = [t for t in shown if squeeze(t) not in text]
    assert not missing, f"{len(missing)} of {len(shown)} drawn causes are not on page 1"
    # Nothing left out unannounced: the boxes' "+N more" add up to the rest.
    assert drawn.shown + drawn.folded == size
    assert text.count("more") >= sum(1 for box in drawn.boxes if box.more)
    if drawn.folded:
        assert squeeze(f"{drawn.folded} more causes are in the numbered list") in text
    # The numbered outline follows, with every cause.
    rest = squeeze("".join(page.extract_text() for page in reader.pages[1:]))
    assert all(squeeze(node.cause.text) in rest for node in tree.load(session).flat)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"summary-{size}.pdf").write_bytes(document)
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "2",
                str(ARTIFACTS / f"summary-{size}.pdf"),
                str(ARTIFACTS / f"summary-{size}"),
            ],
            check=True,
        )


def test_the_summary_page_in_the_browser_draws_the_tree_too(db):
    fran = make_user("fran")
    session = make_session(make_group(facilitators=[fran]))
    make_cause(session, "Drivers speed <b>on</b> Main Street")
    html = logged_in(fran).get(f"/s/{session.public_id}/summary/").content.decode()
    assert '<svg class="diagram"' in html
    assert "Drivers speed &lt;b&gt;on&lt;/b&gt; Main Street" in html
    assert "<b>on</b>" not in html


def test_a_deep_tree_is_drawn_without_recursion(db):
    """Deeper than Python's recursion limit would allow a recursive layout."""
    session = make_session(make_group())
    # Past MAX_TREE_DEPTH: as a tree from before the limit, straight into the database.
    causes = [make_cause(session, "Because")]
    for _ in range(40):
        causes.append(Cause.objects.create(session=session, parent=causes[-1], text="Because"))
    built = tree.load(session)
    drawn = diagram.layout(built.roots, aspect=2.0)
    assert drawn.shown + drawn.folded == 41
