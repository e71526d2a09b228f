"""Headers and settings for production: CSP on every page, Django's deployment checklist."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from sessions.models import Invitation
from tests.conftest import make_cause

ROOT = Path(__file__).resolve().parent.parent

# Every page, as the persona who normally sees it.
PAGES = [
    ("anonymous", "/"),
    ("anonymous", "/accounts/login/"),
    ("anonymous", "/join/"),
    ("anonymous", "/join/{code}/"),
    ("anonymous", "/join/ZZZZZZ/"),
    ("anonymous", "/no/such/page/"),
    ("participant", "/p/{session}/"),
    ("facilitator", "/"),
    ("facilitator", "/g/{group}/"),
    ("facilitator", "/g/{group}/sessions/new/"),
    ("facilitator", "/g/{group}/invitations/"),
    ("facilitator", "/accounts/password_change/"),
    ("anonymous", "/accounts/password_reset/"),
    ("anonymous", "/accounts/signup/"),
    ("anonymous", "/accounts/reset/MQ/not-a-token/"),
    ("facilitator", "/accounts/password_change/done/"),
    ("anonymous", "{invite}"),
    ("anonymous", "/invite/nosuch/link/"),
    ("facilitator", "/s/{session}/console/"),
    ("facilitator", "/s/{session}/present/"),
    ("facilitator", "/s/{session}/causes/{cause}/"),
    ("facilitator", "/s/{session}/delete/"),
    ("facilitator", "/s/{session}/summary/"),
    ("organizer", "/s/{session}/summary/"),
    ("organizer", "/s/{session}/console/"),
    ("outsider", "/s/{session}/console/"),
]


def fill(url: str, world, cause) -> str:
    # An open invitation, so that its page and the list's QR code are checked.
    invitation = Invitation.invite(world.group, "organizer", world.facilitator_user)
    return url.format(
        invite=f"/invite/{invitation.selector}/{invitation.verifier}/",
        session=world.session.public_id,
        group=world.group.public_id,
        code=world.session.join_code,
        cause=cause.pk,
    )


@pytest.mark.parametrize(("persona", "url"), PAGES)
def test_every_page_carries_a_strict_content_security_policy(world, persona, url):
    cause = make_cause(world.session, "Checked for CSP")
    response = world.as_(persona).get(fill(url, world, cause))
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.parametrize(("persona", "url"), PAGES)
def test_no_page_needs_inline_scripts_or_styles(world, persona, url):
    cause = make_cause(world.session, "Checked for inline code")
    html = world.as_(persona).get(fill(url, world, cause)).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r"\shx-on", html)


def test_the_deployment_checklist_passes_with_the_production_settings():
    env = {
        **os.environ,
        "HTTPS": "true",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "butwhy.example.org",
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_production_settings_make_cookies_secure_and_send_hsts(world, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    response = world.anonymous.get("/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert world.anonymous.get("/").status_code == 301


def test_state_changes_need_the_csrf_token_and_htmx_sends_it_as_a_header(world):
    from django.test import Client

    from tests.conftest import join

    phone = Client(enforce_csrf_checks=True)
    join(phone, world.session)
    page = phone.get(f"/p/{world.session.public_id}/").content.decode()
    token = re.search(r'"x-csrftoken": "([^"]+)"', page)[1]
    url = f"/p/{world.session.public_id}/answers/"
    refused = phone.post(url, {"text": "Without a token", "parent": ""})
    assert refused.status_code == 403
    assert not world.session.causes.filter(text="Without a token").exists()
    accepted = phone.post(
        url,
        {"text": "With the header", "parent": ""},
        HTTP_X_CSRFTOKEN=token,
        HTTP_HX_REQUEST="true",
    )
    assert accepted.status_code == 200
    assert world.session.causes.filter(text="With the header").exists()


def test_htmx_keeps_no_history_of_session_pages(world):
    page = world.participant.get(f"/p/{world.session.public_id}/").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)[1]
    import json

    settings = json.loads(config)
    assert settings["historyEnabled"] is False
    assert settings["historyCacheSize"] == 0
    assert settings["allowEval"] is False
    assert settings["includeIndicatorStyles"] is False


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative.db", "relative.db"),
        ("sqlite:////var/lib/butwhy/db.sqlite3", "/var/lib/butwhy/db.sqlite3"),
        ("sqlite://localhost/tmp/x.db", "/tmp/x.db"),
    ],
)
def test_database_urls_name_the_sqlite_file_as_written(url, path):
    from butwhy.settings import database_from_url

    assert str(database_from_url(url)["NAME"]) == path


def test_a_postgres_database_url_is_taken_apart():
    from butwhy.settings import database_from_url

    db = database_from_url("postgres://ana:s%40cret@db.example.org:5433/butwhy")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "ana",
        "s@cret",
        "db.example.org",
        "5433",
        "butwhy",
    )
