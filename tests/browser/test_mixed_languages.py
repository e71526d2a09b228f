"""Typed text in another direction than the page's: it reads its own way, but
starts at the page's own start edge, and the app's labels and bullets stay
on the page's side (console, projector and summary; phones alike)."""

import pytest

from sessions.models import Session
from tests.browser.test_live_session import log_in
from tests.conftest import make_cause, make_group, make_session, make_user

ARABIC = ["الشارع مظلم", "السيارات سريعة جدا", "لا يوجد ممر"]
ENGLISH = ["No street lights", "Cars drive too fast", "No crossing"]

# Block-level typed text whose words do not start at the page's start edge,
# and list items (bullets) that run the other way from the page.
MISALIGNED = """() => {
  const rtl = getComputedStyle(document.documentElement).direction === 'rtl';
  const bad = [];
  for (const el of document.querySelectorAll('[dir="auto"], [dir="rtl"], [dir="ltr"], .text')) {
    if (el === document.documentElement || el.matches('input, textarea, select, svg *')) continue;
    if (el.closest('.visually-hidden, [hidden], .languages, .projector-tools')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'inline' || el.offsetParent === null || !el.textContent.trim()) continue;
    if (style.textAlign === 'center') continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = [...range.getClientRects()].filter(r => r.width > 0);
    if (!lines.length) continue;
    const box = el.getBoundingClientRect();
    const gap = rtl
      ? (box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth))
        - Math.max(...lines.map(r => r.right))
      : Math.min(...lines.map(r => r.left))
        - (box.left + parseFloat(style.paddingLeft) + parseFloat(style.borderLeftWidth));
    const words = el.textContent.trim().slice(0, 30);
    if (gap > 2) bad.push(`${el.tagName}.${el.className} "${words}" ${gap.toFixed(0)}px`);
  }
  for (const li of document.querySelectorAll('li')) {
    if (li.offsetParent === null || li.closest('.visually-hidden')) continue;
    if (getComputedStyle(li).direction !== (rtl ? 'rtl' : 'ltr'))
      bad.push('li runs the other way: "' + li.textContent.trim().slice(0, 30) + '"');
  }
  // The drawing's boxes: every line starts by the box's edge on the page's start side.
  for (const group of document.querySelectorAll('svg.diagram g.box')) {
    const rect = group.querySelector('rect').getBBox();
    for (const text of group.querySelectorAll('text')) {
      const words = text.getBBox();
      const gap = rtl ? (rect.x + rect.width) - (words.x + words.width) : words.x - rect.x;
      const said = text.textContent.trim().slice(0, 30);
      if (gap > 12) bad.push(`drawn ${text.getAttribute('class')} "${said}" ${gap.toFixed(0)}`);
    }
  }
  return bad;
}"""


@pytest.mark.parametrize(
    ("language", "mine", "theirs"), [("en", ENGLISH, ARABIC), ("ar", ARABIC, ENGLISH)]
)
def test_typed_text_starts_at_the_pages_start_edge_whatever_its_direction(
    browsing, transactional_db, screenshot, language, mine, theirs
):
    fran = make_user("fran")
    session = make_session(make_group(facilitators=[fran]), language=language)
    causes = []
    for own, other in zip(mine, theirs, strict=True):
        causes.append(make_cause(session, own, matters_most=True))
        causes.append(make_cause(session, other, matters_most=True))
    causes[1].tag(who_can_change="outside", actor=theirs[2])
    console = browsing.page({"width": 1366, "height": 768})
    log_in(console, fran, f"/s/{session.public_id}/console/")
    console.context.add_cookies(
        [{"name": "django_language", "value": language, "url": browsing.base_url}]
    )
    projector = browsing.page({"width": 1920, "height": 1080})
    log_in(projector, fran, f"/s/{session.public_id}/present/")
    problems = {}
    for step in ["why", "act", "agree"]:
        session.set_phase(step)
        if step == "act":
            for n, cause in enumerate(causes):
                session.add_action(
                    f"{theirs[n % 3]} {n}" if n % 2 else f"{mine[n % 3]} {n}", [cause.pk]
                )
        if step == "agree":
            action = session.actions.first()
            action.agree(owner=theirs[0], owner_outside=False, first_step=theirs[1], due=None)
        for name, page, path in [
            ("console", console, f"/s/{session.public_id}/console/"),
            ("projector", projector, f"/s/{session.public_id}/present/"),
            ("summary", console, f"/s/{session.public_id}/summary/"),
        ]:
            page.goto(path)
            page.wait_for_load_state("load")
            found = page.evaluate(MISALIGNED)
            if found:
                problems[f"{name}, {step}"] = found
            screenshot(page, f"mixed-{language}-{name}-{step}.png")
    assert Session.objects.get(pk=session.pk).language == language
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    browsing.assert_no_errors()
