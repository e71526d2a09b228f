"""`make run`'s set-up: demo data on an empty database, and how to join from a phone."""

import io

import pytest
import segno
from django.core.management import call_command

from sessions.models import Cause, Session
from tests.conftest import make_session


@pytest.fixture
def run_demo(db, settings, tmp_path):
    settings.BASE_DIR = tmp_path  # where the demo login is kept
    settings.PUBLIC_URL = "http://10.1.2.3:8123"

    def run() -> str:
        out = io.StringIO()
        call_command("demo", port=8123, stdout=out)
        return out.getvalue()

    return run


def test_it_prints_the_login_the_join_address_and_a_qr_code_to_scan(run_demo, tmp_path):
    printed = run_demo()
    password = (tmp_path / ".demo-login").read_text()
    assert f"facilitator / {password}" in printed
    assert "http://10.1.2.3:8123/join/" in printed
    drawing = io.StringIO()
    segno.make("http://10.1.2.3:8123/join/", error="m").terminal(
        out=drawing, compact=True, border=2
    )
    assert drawing.getvalue() in printed
    session = Session.objects.get()
    assert session.is_open and session.spaced_join_code in printed
    assert Cause.objects.filter(session=session).exists()


def test_a_second_start_keeps_the_data_and_the_login(run_demo):
    first = run_demo()
    second = run_demo()
    assert Session.objects.count() == 1
    login = [line for line in first.splitlines() if "Demo login" in line]
    assert login and login[0] in second


def test_the_demo_session_keeps_its_join_code_across_restarts(run_demo):
    first = run_demo()
    code = Session.objects.get().join_code
    assert code
    # Someone opens another session meanwhile: the demo's code is still the one printed.
    demo = Session.objects.get()
    make_session(demo.group, title="Later")
    second = run_demo()
    demo.refresh_from_db()
    assert demo.join_code == code
    printed = [line for line in second.splitlines() if "Demo session code" in line]
    assert printed == [f"  Demo session code       {demo.spaced_join_code}"]
    assert printed[0] in first


def test_a_closed_demo_session_stays_closed(run_demo):
    run_demo()
    Session.objects.get().close_for_joining()
    printed = run_demo()
    assert not Session.objects.get().is_open
    assert "Demo session code" not in printed
