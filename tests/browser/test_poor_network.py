"""Old phones on poor networks: a light first page, a quick join on slow 3G,
and nothing typed is lost when the network drops."""

import gzip
import json
import time

import pytest
from playwright.sync_api import expect

from sessions.models import Cause
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_session import join_by_link
from tests.conftest import make_cause, make_group, make_session, make_user

# The budgets.
FIRST_PAGE_BYTES = 40 * 1024
SLOW_3G_JOIN_SECONDS = 6.0
# About 400 kbit/s each way and a 400 ms round trip, as DevTools takes them:
# bytes per second, milliseconds.
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
# What a first page is made of; fonts, images (the QR code, the icon) and the
# live stream are not counted.
COUNTED = {"document", "stylesheet", "script"}


@pytest.fixture
def session(transactional_db):
    fran = make_user("fran")
    session = make_session(make_group("Riverside", facilitators=[fran]))
    # A tree that is not empty, as it is when latecomers join.
    for n in range(12):
        make_cause(session, f"A reason people gave, number {n + 1}")
    return session


def test_the_phones_first_page_weighs_at_most_40_kb_compressed(browsing, session):
    joining = browsing.page("phone")
    join_by_link(joining, session.join_code, session)
    state = joining.context.storage_state()

    # A phone that opens its page with nothing cached.
    phone = browsing.page("phone", storage_state=state)
    responses = []
    phone.on("response", lambda response: responses.append(response))
    phone.goto(f"/p/{session.public_id}/")
    expect(phone.locator("#id_text")).to_be_visible()
    phone.wait_for_load_state("networkidle")

    rows = []
    for response in responses:
        if response.request.resource_type not in COUNTED:
            continue
        body = response.body()
        rows.append(
            {
                "url": response.url.removeprefix(browsing.base_url),
                "type": response.request.resource_type,
                "bytes": len(body),
                "gzip": len(gzip.compress(body, compresslevel=9)),
                "served as": response.headers.get("content-encoding", "identity"),
            }
        )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "phone-first-page-weight.json").write_text(json.dumps(rows, indent=2))
    print("\n" + "\n".join(f"{r['gzip']:>7} B gzip {r['bytes']:>7} B {r['url']}" for r in rows))

    types = {row["type"] for row in rows}
    assert types == COUNTED, f"Expected a page, its CSS and its JavaScript, got {rows}"
    # The static files travel gzipped, under hashed names a browser keeps for a year.
    static_files = [r for r in rows if r["type"] != "document"]
    assert all(r["served as"] == "gzip" for r in static_files), static_files
    total = sum(row["gzip"] for row in rows)
    assert total <= FIRST_PAGE_BYTES, (
        f"The phone's first page weighs {total / 1024:.1f} KB gzipped "
        f"(budget {FIRST_PAGE_BYTES / 1024:.0f} KB): {rows}"
    )
    browsing.assert_no_errors()


def test_a_phone_on_slow_3g_joins_and_sends_an_answer_within_6_seconds(browsing, session):
    phone = browsing.page("phone")
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)

    start = time.monotonic()
    phone.goto(f"/join/{session.join_code}/")
    phone.get_by_role("button", name="Join").click()
    phone.wait_for_url(f"**/p/{session.public_id}/")
    phone.fill("#id_text", "Cars park on the pavement")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#mine")).to_contain_text("Cars park on the pavement")
    elapsed = time.monotonic() - start
    print(f"\nJoined and sent an answer on slow 3G in {elapsed:.2f} s")

    assert Cause.objects.filter(session=session, text="Cars park on the pavement").count() == 1
    assert elapsed <= SLOW_3G_JOIN_SECONDS, (
        f"Joining and sending took {elapsed:.1f} s on slow 3G (budget {SLOW_3G_JOIN_SECONDS:.0f} s)"
    )
    browsing.assert_no_errors()


def forgive_the_failed_send(browsing) -> None:
    """htmx logs a send that failed: it was meant to."""
    assert browsing.forgive("htmx:sendError")
    browsing.forgive("htmx:afterRequest")
    browsing.forgive("ERR_INTERNET_DISCONNECTED")


def draft(page) -> str | None:
    return page.evaluate(
        "() => { for (const k of Object.keys(localStorage)) "
        "if (k.startsWith('butwhy-draft ')) return localStorage.getItem(k); return null; }"
    )


def test_an_answer_typed_offline_is_kept_and_sent_when_the_phone_is_back(
    browsing, session, screenshot
):
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    text = "The crossing light is too short for old people"

    # What is typed survives a reload.
    phone.fill("#id_text", text)
    assert draft(phone) == text
    phone.reload()
    expect(phone.locator("#id_text")).to_have_value(text)

    # The network drops; the phone sends anyway.
    phone.context.set_offline(True)
    phone.get_by_role("button", name="Send", exact=True).click()
    notice = phone.locator("#compose .not-sent")
    expect(notice).to_be_visible()
    expect(notice).to_have_text("Not sent yet: it will be sent when you are back online.")
    expect(phone.locator("#id_text")).to_have_value(text)
    assert not Cause.objects.filter(session=session, text=text).exists()
    assert draft(phone) == text
    screenshot(phone, "phone-offline-not-sent.png")

    # Back online: it is sent by itself, once, and the draft is gone.
    phone.context.set_offline(False)
    expect(phone.locator("#mine")).to_contain_text(text, timeout=10_000)
    expect(phone.locator("#id_text")).to_have_value("")
    expect(notice).to_be_hidden()
    assert Cause.objects.filter(session=session, text=text).count() == 1
    assert draft(phone) is None
    forgive_the_failed_send(browsing)
    browsing.assert_no_errors()


def test_an_answer_whose_response_was_lost_is_sent_again_and_saved_once(browsing, session):
    """The server got it but the phone never heard back: sending it again
    with the same submission key does not add it twice."""
    phone = browsing.page("phone")
    join_by_link(phone, session.join_code, session)
    text = "Buses stop right on the corner"

    def lose_the_response(route):
        route.fetch()  # the server saves the answer...
        route.abort("internetdisconnected")  # ...and the phone hears nothing

    phone.route("**/answers/", lose_the_response)
    phone.fill("#id_text", text)
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#compose .not-sent")).to_be_visible()
    assert Cause.objects.filter(session=session, text=text).count() == 1
    phone.unroute("**/answers/")

    # The network comes back: the same form goes again.
    phone.context.set_offline(True)
    phone.context.set_offline(False)
    expect(phone.locator("#mine")).to_contain_text(text, timeout=10_000)
    expect(phone.locator("#compose .not-sent")).to_be_hidden()
    assert Cause.objects.filter(session=session, text=text).count() == 1
    assert draft(phone) is None
    forgive_the_failed_send(browsing)
    browsing.assert_no_errors()
