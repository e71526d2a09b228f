"""What a phone just sent shows where its owner is looking, with its state."""

import pytest
from playwright.sync_api import expect

from sessions.models import Action, Participant
from tests.browser.test_live_session import join_by_link
from tests.conftest import make_cause, make_group, make_session


@pytest.mark.parametrize("moderation", ["show", "hold"])
def test_a_sent_idea_and_its_state_show_where_the_phone_is_looking(
    browsing, transactional_db, screenshot, moderation
):
    session = make_session(make_group(), moderation=moderation)
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    me = Participant.objects.get(session=session)
    # A long "why?" round first: the phone's own answers fill more than a screen.
    for n in range(8):
        session.add_cause(f"My earlier answer number {n}, about the dark street", author=me)
    for text in ("Cars drive too fast", "No crossing near the school"):
        make_cause(session, text, matters_most=True)
    session.set_phase("act")
    phone.goto(f"/p/{session.public_id}/")
    phone.get_by_label("Cars drive too fast").check()
    phone.fill("#id_action_text", "Ask the council for a crossing")
    phone.get_by_role("button", name="Send the idea").click()
    expect(phone.locator("#id_action_text")).to_have_value("")
    action = Action.objects.get(session=session)
    sent = phone.locator(f'#mine li[data-cause="a{action.pk}"]')
    expect(sent).to_contain_text("Ask the council for a crossing")
    state = "On the board" if moderation == "show" else "Waiting for approval"
    expect(sent.locator(".state:visible")).to_have_text(state)
    expect(sent).to_be_in_viewport(ratio=1)
    screenshot(phone, f"phone-sent-idea-{moderation}-360.png")
    browsing.assert_no_errors()
