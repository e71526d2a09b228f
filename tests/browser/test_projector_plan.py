"""The projector's plan screens (Act, Agree, Review) fit the screen like the
tree does, nothing cut off silently, and every text meets WCAG AA contrast on
both themes. Screenshots at the sizes a room uses."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from sessions.models import Action, Session
from tests.browser.test_live_session import log_in
from tests.conftest import make_agreed_action, make_cause, make_group, make_session, make_user

PROJECTORS = [(1920, 1080), (1280, 720)]
CONTRAST = {"runOnly": {"type": "rule", "values": ["color-contrast"]}}

# Whether the plan screen holds all it shows: nothing runs past its place or
# the screen, and what is folded says how much under a visible "+N".
FITS = """() => {
  const plan = document.getElementById('plan');
  const place = plan.getBoundingClientRect();
  const bottom = Math.min(place.bottom, window.innerHeight) + 1;
  const cut = [...plan.querySelectorAll('li, p, h3')]
    .filter(el => el.offsetParent !== null && el.getBoundingClientRect().bottom > bottom)
    .map(el => el.textContent.trim().slice(0, 40));
  const shown = [...plan.querySelectorAll('.ideas li:not(.folded, .muted)')]
    .filter(li => !li.hidden).length;
  const folded = [...plan.querySelectorAll('.ideas .folded')]
    .filter(li => !li.hidden)
    .reduce((sum, li) => sum + parseInt(li.dataset.count, 10), 0);
  return {cut, shown, folded, scrolls: plan.scrollHeight > plan.clientHeight + 1};
}"""


@pytest.fixture
def rooms(transactional_db):
    fran = make_user("fran")
    group = make_group(facilitators=[fran])
    earlier = make_session(group, title="Last spring", open=False)
    statuses = ["not_started", "started", "done", "dropped", "started", "not_started"]
    for n, status in enumerate(statuses):
        make_agreed_action(
            earlier,
            f"Action {n}: ask the council to fix the traffic light at the corner",
            owner="The neighbourhood committee",
            due=datetime.date(2026, 3, n + 1),
            status=status,
            notes=f"Notes {n}: we wrote to them twice and called once; they promised an answer.",
        )
    review = make_session(group, follows=earlier, title="Review")
    review.set_phase("review")
    agree = make_session(group, title="Agree")
    causes = [
        make_cause(agree, f"Cause {n} of the trouble at the corner", matters_most=True)
        for n in range(4)
    ]
    for n in range(4):
        action = agree.add_action(
            f"Plan {n}: talk to the school about a crossing guard", [causes[n].pk]
        )
        action.agree(
            owner="Amina and Jo", owner_outside=False, first_step="Call the head teacher", due=None
        )
    for n in range(18):
        agree.add_action(
            f"Other idea {n}: paint the crossing, put up signs, slow the cars", [causes[n % 4].pk]
        )
    agree.set_phase("agree")
    act = make_session(group, title="Act")
    targets = [
        make_cause(act, f"Target {n}: the corner is dark", matters_most=True) for n in range(4)
    ]
    for n in range(20):
        act.add_action(
            f"Idea {n}: ask the neighbours to keep their porch lights on", [targets[n % 4].pk]
        )
    act.set_phase("act")
    return fran, {"review": review, "agree": agree, "act": act}


@pytest.mark.layout
@pytest.mark.parametrize(("width", "height"), PROJECTORS)
def test_the_plan_screens_fit_and_read_well_on_both_themes(
    browsing, rooms, screenshot, width, height
):
    fran, sessions = rooms
    projector = browsing.page({"width": width, "height": height})
    log_in(projector, fran, "/")
    problems = {}
    for name, session in sessions.items():
        projector.goto(f"/s/{session.public_id}/present/")
        projector.wait_for_load_state("load")
        for theme in ("light", "dark"):
            if theme == "dark":
                projector.keyboard.press("t")
            projector.wait_for_timeout(150)
            fit = projector.evaluate(FITS)
            total = Action.objects.filter(session=session, agreed=False, state="visible").count()
            if name == "review":
                total = 0
            if fit["cut"] or fit["scrolls"] or (total and fit["shown"] + fit["folded"] != total):
                problems[f"{name} {width}x{height} {theme}: fit"] = fit
            contrast = Axe().run(projector, options=CONTRAST)
            if contrast.violations_count:
                problems[f"{name} {width}x{height} {theme}: contrast"] = contrast.generate_report()
            # What axe could not decide is no pass either, but for the drawing's SVG
            # words, which it cannot read (their colours are fixed in _diagram.html).
            unsure = [
                n["target"]
                for r in contrast.response["incomplete"]
                for n in r["nodes"]
                if not n["target"][0].startswith(("tspan", "text"))
            ]
            if unsure:
                problems[f"{name} {width}x{height} {theme}: contrast undecided"] = unsure
            screenshot(projector, f"projector-plan-{name}-{width}-{theme}.png")
            if theme == "dark":
                projector.keyboard.press("t")
    assert Session.objects.count() == 4
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    browsing.assert_no_errors()


def test_the_review_step_updates_status_and_notes_from_the_console_live(
    browsing, rooms, screenshot
):
    fran, sessions = rooms
    session = sessions["review"]
    first = session.earlier_plan().first()
    console = browsing.page({"width": 1366, "height": 768})
    log_in(console, fran, f"/s/{session.public_id}/console/")
    projector = browsing.page({"width": 1920, "height": 1080})
    log_in(projector, fran, f"/s/{session.public_id}/present/")
    console.locator(f"#review-{first.pk} summary").click()
    form = console.locator(f"#review-{first.pk} form")
    form.get_by_label("Status").select_option("done")
    form.get_by_label("Notes").fill("The lights went up in June.")
    form.get_by_role("button", name="Save status and notes").click()
    badge = projector.locator(".plan-list li").first.locator(".status-badge")
    expect(badge).to_have_text("Done")
    expect(badge).to_have_class("status-badge status-done")
    expect(projector.locator(".plan-list li").first).to_contain_text("The lights went up in June.")
    expect(console.locator(f"#review-{first.pk} .status-badge")).to_have_text("Done")
    first.refresh_from_db()
    assert (first.status, first.notes) == ("done", "The lights went up in June.")
    console.locator("#acts").scroll_into_view_if_needed()
    console.locator(f"#review-{session.earlier_plan()[1].pk} summary").click()
    screenshot(console, "review-console-1366.png")
    screenshot(projector, "review-projector-1920.png")
    browsing.assert_no_errors()
