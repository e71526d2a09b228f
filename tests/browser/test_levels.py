"""Levels, from one person to conditions, and the smaller part, in Chromium.

The facilitator places causes on levels from the console (a click, or L on
the chosen cause); the projector's levels view follows live with a count per
level, fits both projector sizes in light and dark (every box on the screen,
none overlapping another, each folded cause counted by a visible "+N more"),
and axe finds nothing on it or on the console's level controls. A branch
chosen as the smaller part is all that the phones' ballot and the projector's
tree show in Reflect.
"""

import random
import re

import pytest
from playwright.sync_api import expect

from sessions.models import Cause, Session
from tests.browser.test_accessibility import AXE, AXE_OPTIONS
from tests.browser.test_live_session import SIXTY, join_by_link, log_in
from tests.browser.test_projector_tree import PROJECTORS, grow_tree, inside, overlap
from tests.conftest import make_cause, make_group, make_session, make_user

LEVELS = ["person", "family", "community", "services", "laws"]

MEASURE = """() => {
  const rect = (e) => {
    const b = e.getBoundingClientRect();
    return [b.left, b.top, b.right, b.bottom];
  };
  const svg = document.querySelector("#tree .levels-view svg");
  if (!svg) { return null; }
  return {
    width: innerWidth, height: innerHeight,
    columns: [...svg.querySelectorAll("g.level-col")].map((col) => ({
      level: col.dataset.level,
      count: parseInt(col.dataset.count, 10),
      band: rect(col.querySelector(".level-band")),
      says: col.querySelector(".level-count").textContent,
      name: rect(col.querySelector(".level-name")),
      boxes: [...col.querySelectorAll("g.box")].map((g) => ({
        key: g.id.replace("lbox-", ""),
        rect: rect(g.querySelector("rect")),
        text: rect(g.querySelector("text")),
        px: parseFloat(g.querySelector("text").getAttribute("font-size")) *
          g.querySelector("text").getScreenCTM().a,
      })),
      more: col.querySelector(".more-box") ? {
        count: parseInt(col.querySelector(".more-box").dataset.more, 10),
        says: col.querySelector(".more-box text").textContent,
        rect: rect(col.querySelector(".more-box rect")),
      } : null,
    })),
    joining: rect(document.querySelector(".joining")),
  };
}"""


def problems_in(measured: dict, visible: set[str]) -> list[str]:
    width, height = measured["width"], measured["height"]
    problems, drawn, folded = [], set(), 0
    rects = []
    for column in measured["columns"]:
        level = column["level"] or "unplaced"
        if not re.fullmatch(rf"{column['count']} causes?", column["says"]):
            problems.append(f"{level} counts {column['count']} but says {column['says']!r}")
        shown = len(column["boxes"]) + (column["more"]["count"] if column["more"] else 0)
        if shown != column["count"]:
            problems.append(f"{level}: {column['count']} causes, {shown} drawn or folded")
        for box in column["boxes"]:
            where = f"{box['key']} in {level} at {[round(v) for v in box['rect']]}"
            drawn.add(box["key"])
            rects.append((box["key"], box["rect"]))
            if not inside(box["rect"], width, height):
                problems.append(f"off the screen: {where}")
            x0, y0, x1, y1 = box["rect"]
            t = box["text"]
            if not (t[0] >= x0 - 1 and t[2] <= x1 + 1 and t[1] >= y0 - 1 and t[3] <= y1 + 1):
                problems.append(f"text leaves its box: {where}")
            if box["px"] < 9:
                problems.append(f"{where} is set at {box['px']:.1f}px")
            if overlap(box["rect"], measured["joining"]):
                problems.append(f"under the joining panel: {where}")
        if column["more"]:
            more = column["more"]
            folded += more["count"]
            rects.append((f"more of {level}", more["rect"]))
            if not re.fullmatch(rf"\+{more['count']} more", more["says"]):
                problems.append(f"{level} folds {more['count']} but says {more['says']!r}")
            if not inside(more["rect"], width, height):
                problems.append(f"the +N more of {level} is off the screen")
        if not inside(column["band"], width, height):
            problems.append(f"the column {level} is off the screen")
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1 :]:
            if overlap(ra, rb):
                problems.append(f"{a} overlaps {b}")
    if drawn - visible:
        problems.append(f"drawn but not visible: {sorted(drawn - visible)}")
    if len(visible - drawn) != folded:
        problems.append(f"{len(visible - drawn)} causes not drawn, but the markers say {folded}")
    return problems


@pytest.fixture
def fran(transactional_db):
    return make_user("fran")


def place_all(causes: list[Cause], seed: int) -> None:
    """Levels as a room would set them: deeper causes further out, some not placed."""
    rnd = random.Random(seed)
    session = causes[0].session
    parents = session.parent_map()
    for cause in causes:
        depth, node = 0, cause.pk
        while parents.get(node) is not None:
            depth, node = depth + 1, parents[node]
        if rnd.random() < 0.15:
            continue
        level = LEVELS[min(4, max(0, depth // 2 + rnd.choice([-1, 0, 0, 1])))]
        Cause.objects.filter(pk=cause.pk).update(level=level)


@pytest.mark.layout
@pytest.mark.parametrize(("width", "height"), PROJECTORS)
def test_the_levels_view_always_fits_the_projector(browsing, fran, screenshot, width, height):
    group = make_group(facilitators=[fran])
    projector = browsing.page({"width": width, "height": height})
    log_in(projector, fran, "/")
    failures, checked = [], 0
    for size in (12, 60):
        for joining in (True, False):
            session = make_session(group, title=f"{size} causes", open=joining)
            causes = grow_tree(session, size)
            place_all(causes, size)
            session.ask_why(causes[-1])
            session.show_levels(True)
            if size == 60:
                # Everything at one level: a column far too long, which must fold.
                Cause.objects.filter(pk__in=[c.pk for c in causes[:40]]).update(level="laws")
            visible = {f"cause-{c.pk}" for c in causes}
            projector.goto(f"/s/{session.public_id}/present/")
            for theme in ("light", "dark"):
                measured = projector.evaluate(MEASURE)
                name = f"{size} causes, {'open' if joining else 'closed'}, {width}x{height}"
                name += f", {theme}"
                assert measured is not None, f"{name}: no levels view"
                failures += [f"{name}: {p}" for p in problems_in(measured, visible)]
                checked += 1
                if joining:
                    screenshot(projector, f"levels-{size}-{width}-{theme}.png")
                projector.keyboard.press("t")
            # The largest text the projector offers changes nothing in the drawing's fit.
            for _ in range(8):
                projector.keyboard.press("+")
            measured = projector.evaluate(MEASURE)
            failures += [f"{size}, largest text: {p}" for p in problems_in(measured, visible)]
            for _ in range(8):
                projector.keyboard.press("-")
    assert checked == 8
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])
    browsing.assert_no_errors()


def test_the_sixty_cause_view_folds_its_longest_column_behind_a_marker(browsing, fran):
    session = make_session(make_group(facilitators=[fran]))
    causes = grow_tree(session, 60)
    Cause.objects.filter(session=session).update(level="laws")
    session.show_levels(True)
    projector = browsing.page({"width": 1280, "height": 720})
    log_in(projector, fran, f"/s/{session.public_id}/present/")
    laws = projector.locator('#tree g.level-col[data-level="laws"]')
    expect(laws.locator(".level-count")).to_have_text("60 causes")
    more = laws.locator(".more-box")
    expect(more).to_be_visible()
    folded = int(more.get_attribute("data-more"))
    assert 0 < folded < 60
    expect(laws.locator("g.box")).to_have_count(60 - folded)
    assert len(causes) == 60
    browsing.assert_no_errors()


def test_levels_are_set_on_the_console_and_the_projector_follows(browsing, fran, screenshot):
    session = make_session(make_group(facilitators=[fran]))
    speed = make_cause(session, "He drives too fast")
    dare = make_cause(session, "His friends dare him", speed)
    budget = make_cause(session, "The council cut the road budget", dare)
    console = browsing.page({"width": 1366, "height": 768})
    log_in(console, fran, f"/s/{session.public_id}/console/")
    projector = browsing.page("projector")
    log_in(projector, fran, f"/s/{session.public_id}/present/")
    # The projector shows the causes by level, from the console.
    console.locator("#levels-view").click()
    view = projector.locator("#tree .levels-view")
    expect(view).to_be_visible()
    unplaced = view.locator('g.level-col[data-level=""]')
    expect(unplaced).to_have_attribute("data-count", "3")
    # A click puts a cause on the first level, one person.
    console.locator(f"#level-{speed.pk}").click()
    expect(console.locator("#notice")).to_contain_text("“He drives too fast”: One person.")
    expect(console.locator(f"#level-{speed.pk}")).to_have_text("One person")
    assert Cause.objects.get(pk=speed.pk).level == "person"
    person = view.locator('g.level-col[data-level="person"]')
    expect(person).to_have_attribute("data-count", "1")
    expect(person.locator(".level-count")).to_have_text("1 cause")
    expect(person.locator(f"#lbox-cause-{speed.pk}")).to_be_visible()
    # L moves the chosen cause one level out, each time.
    console.locator(f"#why-{dare.pk}").focus()
    console.keyboard.press("l")
    expect(console.locator(f"#level-{dare.pk}")).to_have_text("One person")
    console.keyboard.press("l")
    expect(console.locator(f"#level-{dare.pk}")).to_have_text("Family and friends")
    assert Cause.objects.get(pk=dare.pk).level == "family"
    expect(view.locator('g.level-col[data-level="family"]')).to_have_attribute("data-count", "1")
    expect(view.locator('g.level-col[data-level="person"]')).to_have_attribute("data-count", "1")
    names = ["One person", "Family and friends", "The community", "Services and institutions"]
    for name in [*names, "Laws, money and power"]:
        console.locator(f"#level-{budget.pk}").click()
        expect(console.locator(f"#level-{budget.pk}")).to_have_text(name)
    laws = view.locator('g.level-col[data-level="laws"]')
    expect(laws).to_have_attribute("data-count", "1")
    expect(laws.locator(f"#lbox-cause-{budget.pk}")).to_be_visible()
    # Everything placed: the "not placed yet" column is gone.
    expect(view.locator('g.level-col[data-level=""]')).to_have_count(0)
    # The shortcuts list names the key.
    assert "Move that cause one level out" in console.locator("#shortcuts").text_content()
    # Asking "But why?" about one person's cause brings the script's question.
    console.locator(f"#why-{speed.pk}").click()
    expect(console.locator("#phase .script")).to_have_text(
        "Is this about one person, or about the conditions around them? But why?"
    )
    screenshot(console, "levels-console-1366.png")
    screenshot(projector, "levels-live-1920.png")
    # And back to the tree.
    console.locator("#levels-view").click()
    expect(projector.locator("#tree svg.diagram:not(.levels-drawing)")).to_be_visible()
    expect(view).to_have_count(0)
    browsing.assert_no_errors()


def test_the_smaller_part_is_all_the_ballot_and_the_projector_show(browsing, fran, screenshot):
    session = make_session(make_group(facilitators=[fran]))
    budget = make_cause(session, "The city cut its budget", level="laws")
    lights = make_cause(session, "No money for street lights", budget)
    guard = make_cause(session, "The crossing guard was let go", budget)
    speed = make_cause(session, "Drivers speed on Main Street")
    wide = make_cause(session, "The road is wide", speed)
    console = browsing.page({"width": 1366, "height": 768})
    log_in(console, fran, f"/s/{session.public_id}/console/")
    projector = browsing.page("projector")
    log_in(projector, fran, f"/s/{session.public_id}/present/")
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    console.locator("#phase-reflect").click()
    ballot = phone.locator("#ballot")
    expect(ballot.locator("li")).to_have_count(5)
    expect(projector.locator("#tree g.box")).to_have_count(5)
    # The budget branch becomes the part the group works on.
    console.locator(f"#work-on-{budget.pk}").click()
    expect(console.locator("#levels .working-on")).to_contain_text("The city cut its budget")
    session.refresh_from_db()
    assert session.branch_id == budget.pk
    assert Cause.objects.get(pk=budget.pk).smaller_part is True
    expect(ballot.locator("li")).to_have_count(3)
    for cause in (budget, lights, guard):
        expect(ballot.locator(f'li[data-cause="{cause.pk}"]')).to_be_visible()
    expect(ballot).not_to_contain_text("Drivers speed")
    boxes = projector.locator("#tree g.box")
    expect(boxes).to_have_count(3)
    expect(projector.locator(f"#box-cause-{speed.pk}")).to_have_count(0)
    expect(projector.locator(f"#box-cause-{wide.pk}")).to_have_count(0)
    expect(projector.locator("#tree .filter-label")).to_have_text("The smaller part we work on")
    screenshot(phone, "levels-part-ballot.png")
    screenshot(projector, "levels-part-projector-1920.png")
    # A phone votes inside the part.
    ballot.locator(f'li[data-cause="{lights.pk}"] button.give').click()
    expect(ballot.locator(f'li[data-cause="{lights.pk}"] .my-dots')).to_have_text("1")
    assert session.votes.get().cause_id == lights.pk
    # Back to the whole tree.
    console.locator("#work-on-whole").click()
    expect(ballot.locator("li")).to_have_count(5)
    expect(projector.locator("#tree g.box")).to_have_count(5)
    assert Session.objects.get(pk=session.pk).branch_id is None
    browsing.assert_no_errors()


@pytest.mark.parametrize(("width", "height"), PROJECTORS)
def test_axe_finds_nothing_on_the_levels_view_or_the_level_controls(browsing, fran, width, height):
    session = make_session(make_group(facilitators=[fran]))
    causes = [make_cause(session, text) for text in SIXTY[:8]]
    for cause, level in zip(causes, [*LEVELS, "", "laws", "person"], strict=True):
        Cause.objects.filter(pk=cause.pk).update(level=level)
    session.ask_why(causes[0])
    session.show_levels(True)
    found = {}
    projector = browsing.page({"width": width, "height": height})
    log_in(projector, fran, f"/s/{session.public_id}/present/")
    expect(projector.locator("#tree .levels-view")).to_be_visible()
    for theme in ("light", "dark"):
        results = AXE.run(projector, options=AXE_OPTIONS)
        if results.violations_count:
            found[f"projector {theme}"] = results.generate_report()
        projector.keyboard.press("t")
    console = browsing.page({"width": width, "height": height})
    log_in(console, fran, f"/s/{session.public_id}/console/")
    console.locator("#phase-reflect").click()
    expect(console.locator(f"#work-on-{causes[1].pk}")).to_be_visible()
    console.locator(f"#work-on-{causes[1].pk}").click()
    expect(console.locator("#work-on-whole")).to_be_visible()
    results = AXE.run(console, options=AXE_OPTIONS)
    if results.violations_count:
        found["console"] = results.generate_report()
    assert not found, "\n\n".join(f"== {k}\n{v}" for k, v in found.items())
    browsing.assert_no_errors()
