"""The console built around the tree, at a laptop's size and a phone's.

Hide, merge, move, tag and edit are done in place (no page load: a marker
set on `window` survives), each answered by a notice whose Undo works, and
the tree stays where it was scrolled: the tree pane on a laptop, the page on
a phone.
"""

import pytest
from playwright.sync_api import expect

from sessions.models import Cause
from tests.browser.test_accessibility import AXE, AXE_OPTIONS, as_user
from tests.conftest import make_cause, make_group, make_session, make_user

SIZES = {
    "laptop": {"width": 1366, "height": 768},
    "phone": {"width": 360, "height": 640},
}
LONG_WORD = "Unbroken" * 35  # 280 characters and no space to wrap at


@pytest.fixture
def room(transactional_db):
    """Thirty causes over four levels, a duplicate, a joke, one to move, one long word."""
    fran = make_user("fran")
    session = make_session(make_group("Riverside", facilitators=[fran]))
    lights = make_cause(session, "No street lights at the corner")

    def branches(numbers) -> None:
        for i in numbers:
            top = make_cause(session, f"Reason {i}: the corner is busy at school time")
            for j in range(2):
                child = make_cause(session, f"Reason {i}.{j}: parents drive their children", top)
                make_cause(session, f"Reason {i}.{j}.1: the bus does not come", child)

    branches(range(3))
    make_cause(session, LONG_WORD)
    causes = {
        "lights": lights,
        "dark": make_cause(session, "It is dark at night"),
        "joke": make_cause(session, "Aliens did it"),
        "budget": make_cause(session, "The council cut the budget"),
        "speed": make_cause(session, "Drivers speed on Main Street"),
    }
    branches(range(3, 6))
    return fran, session, causes


def fresh(cause: Cause) -> Cause:
    return Cause.objects.get(pk=cause.pk)


class Console:
    """The console page, and where its tree is scrolled."""

    def __init__(self, page, size: str):
        self.page = page
        self.size = size

    def scroll_to(self, cause: Cause) -> None:
        """Bring the cause into view by scrolling the tree (not by a click)."""
        self.page.locator(f"#cause-{cause.pk}").evaluate(
            "element => element.scrollIntoView({block: 'center'})"
        )

    def scrolled(self) -> int:
        if self.size == "laptop":
            return self.page.evaluate("document.getElementById('tree-pane').scrollTop")
        return self.page.evaluate("window.scrollY")

    def open_panel(self, cause: Cause):
        self.page.locator(f"#more-{cause.pk}").click()
        dialog = self.page.locator("#cause-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator("#cause-panel-title")).to_contain_text(cause.text)
        return dialog

    def notice(self, text: str) -> None:
        expect(self.page.locator("#notice")).to_contain_text(text)
        expect(self.page.locator("#notice")).to_be_in_viewport()

    def undo(self) -> None:
        self.page.locator("#notice-undo").click()
        expect(self.page.locator("#notice")).to_contain_text("Undone:")


@pytest.mark.parametrize("size", list(SIZES))
def test_moderation_is_done_in_place_with_a_notice_and_undo(
    browsing, live_server_url, room, screenshot, size
):
    fran, session, causes = room
    context = browsing.context(SIZES[size])
    as_user(context, fran, live_server_url)
    page = context.new_page()
    page.goto(f"/s/{session.public_id}/console/")
    page.evaluate("window.stillHere = 'the same page'")
    console = Console(page, size)
    if size == "laptop":
        # Two panes: the tree beside the work, scrolling on its own.
        pane = page.locator("#tree-pane").bounding_box()
        work = page.locator(".console-work").bounding_box()
        assert pane["x"] > work["x"] + work["width"] - 1
        tree_pane = "document.getElementById('tree-pane')"
        assert page.evaluate(f"{tree_pane}.scrollHeight > {tree_pane}.clientHeight + 300")
    else:
        # One column; the tree is one tap away.
        page.get_by_role("link", name="Go to the tree").click()
        expect(page.locator("#tree-title")).to_be_in_viewport()
    # A 280-character word wraps instead of widening the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"console-tree-{size}.png")

    # Hide, then Undo.
    joke = causes["joke"]
    console.scroll_to(joke)
    where = console.scrolled()
    assert where > 0
    page.locator(f"#hide-{joke.pk}").click()
    console.notice("Hidden: “Aliens did it”.")
    assert fresh(joke).state == Cause.State.HIDDEN
    expect(page.locator(f"#cause-{joke.pk}")).to_have_count(0)
    screenshot(page, f"console-tree-notice-{size}.png")
    assert console.scrolled() == where
    console.undo()
    assert fresh(joke).state == Cause.State.VISIBLE
    expect(page.locator(f"#cause-{joke.pk}")).to_be_visible()
    assert console.scrolled() == where

    # Edit the wording in the dialog, then Undo.
    budget = causes["budget"]
    console.scroll_to(budget)
    where = console.scrolled()
    dialog = console.open_panel(budget)
    screenshot(page, f"console-tree-dialog-{size}.png")
    dialog.locator("#edit-text").fill("The council cut the lighting budget")
    dialog.locator("#edit-save").click()
    expect(dialog).to_be_hidden()
    console.notice("Reworded: “The council cut the lighting budget”.")
    assert fresh(budget).text == "The council cut the lighting budget"
    assert console.scrolled() == where
    console.undo()
    assert fresh(budget).text == "The council cut the budget"
    expect(page.locator(f"#cause-{budget.pk}")).to_contain_text("The council cut the budget")

    # Tags, then Undo.
    dialog = console.open_panel(budget)
    dialog.get_by_label("Yes", exact=True).check()
    dialog.locator("#tags-save").click()
    expect(dialog).to_be_hidden()
    console.notice("Tags changed on “The council cut the budget”.")
    assert fresh(budget).can_change == "yes"
    expect(page.locator(f"#cause-{budget.pk}")).to_contain_text("Can change")
    assert console.scrolled() == where
    console.undo()
    assert fresh(budget).can_change == ""

    # Move under another cause, then Undo.
    lights = causes["lights"]
    dialog = console.open_panel(budget)
    dialog.locator("#move-target").select_option(str(lights.pk))
    dialog.locator("#move-save").click()
    expect(dialog).to_be_hidden()
    console.notice("Moved “The council cut the budget” under “No street lights at the corner”.")
    assert fresh(budget).parent_id == lights.pk
    expect(page.locator(f"#cause-{lights.pk} + .branch #cause-{budget.pk}")).to_be_visible()
    assert console.scrolled() == where
    console.undo()
    assert fresh(budget).parent_id is None

    # Merge a duplicate: nothing is chosen until the facilitator says which stays.
    dark = causes["dark"]
    console.scroll_to(dark)
    where = console.scrolled()
    dialog = console.open_panel(dark)
    expect(dialog.locator("#merge-target")).to_have_value("")
    expect(dialog.locator("#keep-this")).not_to_be_checked()
    expect(dialog.locator("#keep-other")).not_to_be_checked()
    dialog.locator("#merge-target").select_option(str(lights.pk))
    dialog.locator("#keep-other").check()
    dialog.locator("#merge-save").click()
    expect(dialog).to_be_hidden()
    console.notice("Merged “It is dark at night” into “No street lights at the corner”.")
    assert fresh(dark).merged_into_id == lights.pk
    expect(page.locator(f"#cause-{lights.pk} .said")).to_have_text("said 2 times")
    assert console.scrolled() == where
    console.undo()
    assert fresh(dark).state == Cause.State.VISIBLE
    expect(page.locator(f"#cause-{lights.pk} .said")).to_have_count(0)
    assert console.scrolled() == where

    assert page.evaluate("window.stillHere") == "the same page"
    browsing.assert_no_errors()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_tree_pane_stays_put_when_answers_arrive_live(browsing, live_server_url, room, size):
    fran, session, causes = room
    context = browsing.context(SIZES[size])
    as_user(context, fran, live_server_url)
    page = context.new_page()
    page.goto(f"/s/{session.public_id}/console/")
    console = Console(page, size)
    console.scroll_to(causes["joke"])
    where = console.scrolled()
    # A phone's answer (and a hide made elsewhere) arrive through the live stream.
    make_cause(session, "Someone answered from a phone", causes["lights"])
    expect(page.locator("#ctree")).to_contain_text("Someone answered from a phone")
    assert console.scrolled() == where
    causes["speed"].hide()
    expect(page.locator(f"#cause-{causes['speed'].pk}")).to_have_count(0)
    assert console.scrolled() == where
    browsing.assert_no_errors()


def test_the_new_shortcuts_reach_hide_merge_move_and_matters_most(browsing, live_server_url, room):
    fran, session, causes = room
    session.set_phase("reflect")
    context = browsing.context(SIZES["laptop"])
    as_user(context, fran, live_server_url)
    page = context.new_page()
    page.goto(f"/s/{session.public_id}/console/")
    keys = page.keyboard

    # "?" opens the list where the facilitator can see it.
    keys.press("?")
    expect(page.locator("#shortcuts dl")).to_be_in_viewport()
    expect(page.locator("#shortcuts")).to_contain_text("Merge that cause with a duplicate")
    keys.press("?")

    lights = causes["lights"]
    keys.press("j")  # the first cause: "No street lights at the corner"
    expect(page.locator(f"#why-{lights.pk}")).to_be_focused()
    keys.press("m")
    console = Console(page, "laptop")
    console.notice("Marked as mattering most: “No street lights at the corner”.")
    assert fresh(lights).matters_most

    page.locator(f"#why-{lights.pk}").focus()
    keys.press("d")
    expect(page.locator("#merge-target")).to_be_focused()
    keys.press("Escape")
    expect(page.locator("#cause-dialog")).to_be_hidden()
    expect(page.locator(f"#more-{lights.pk}")).to_be_focused()

    keys.press("v")
    expect(page.locator("#move-target")).to_be_focused()
    keys.press("Escape")

    keys.press("h")
    console.notice("Hidden: “No street lights at the corner”.")
    assert fresh(lights).state == Cause.State.HIDDEN
    # The keyboard goes on from the cause that took its place.
    expect(page.locator("#ctree .cause:focus-within")).to_contain_text("Reason 0:")
    keys.press("u")
    console.notice("Undone: hiding “No street lights at the corner”.")
    assert fresh(lights).state == Cause.State.VISIBLE
    browsing.assert_no_errors()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_consoles_tree_dialog_and_notice_pass_axe(
    browsing, live_server_url, room, screenshot, size
):
    fran, session, causes = room
    session.set_phase("reflect")
    dark, lights = causes["dark"], causes["lights"]
    dark.merge_into(lights)
    context = browsing.context(SIZES[size])
    as_user(context, fran, live_server_url)
    page = context.new_page()
    page.goto(f"/s/{session.public_id}/console/")
    found = {}

    def audit(state: str) -> None:
        results = AXE.run(page, options=AXE_OPTIONS)
        if results.violations_count:
            found[state] = results.generate_report()

    expect(page.locator(f"#cause-{lights.pk} .said")).to_have_text("said 2 times")
    audit("tree with a merged cause")
    page.locator(f"#hide-{causes['joke'].pk}").click()
    expect(page.locator("#notice-undo")).to_be_visible()
    audit("notice")
    Console(page, size).open_panel(causes["budget"])
    audit("dialog")
    page.locator("#merge-save").click()  # nothing chosen: the browser asks first
    expect(page.locator("#cause-dialog")).to_be_visible()
    screenshot(page, f"console-tree-dialog-reflect-{size}.png")
    assert not found, "\n\n".join(f"== {state}\n{report}" for state, report in found.items())
    browsing.assert_no_errors()


def test_the_two_panes_mirror_right_to_left(browsing, live_server_url, room, screenshot):
    fran, session, causes = room
    context = browsing.context(SIZES["laptop"])
    as_user(context, fran, live_server_url)
    context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server_url}])
    page = context.new_page()
    page.goto(f"/s/{session.public_id}/console/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    pane = page.locator("#tree-pane").bounding_box()
    work = page.locator(".console-work").bounding_box()
    assert pane["x"] + pane["width"] <= work["x"] + 1
    page.locator(f"#hide-{causes['joke'].pk}").click()
    expect(page.locator("#notice-undo")).to_be_visible()
    notice = page.locator("#notice").bounding_box()
    assert notice["x"] < work["x"]  # under the tree, on the left
    screenshot(page, "console-tree-rtl-laptop.png")
    browsing.assert_no_errors()
