"""Passwords and accounts: change, reset by e-mail where there is e-mail, open sign-up."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from butwhy.settings import mailer_from_url
from tests.conftest import logged_in

User = get_user_model()
NEW_PASSWORD = "river-lantern-93"
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


# Changing one's password


def test_every_user_changes_their_password_and_is_logged_out_elsewhere(world):
    fran = world.facilitator_user
    elsewhere = logged_in(fran)
    response = world.facilitator.post(
        "/accounts/password_change/",
        {
            "old_password": "fran-password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_change/done/"
    fran.refresh_from_db()
    assert fran.check_password(NEW_PASSWORD)
    # This browser stays logged in; every other one is logged out.
    assert world.facilitator.get(f"/g/{world.group.public_id}/").status_code == 200
    stale = elsewhere.get(f"/g/{world.group.public_id}/")
    assert stale.status_code == 302
    assert stale["Location"].startswith("/accounts/login/")
    done = world.facilitator.get("/accounts/password_change/done/").content.decode()
    assert "Every other device that was logged in as you has been logged out." in done


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("wrong-password", NEW_PASSWORD, "Your old password was entered incorrectly."),
        ("fran-password", "1234567", "This password is too short."),
    ],
)
def test_a_wrong_old_password_or_a_weak_new_one_is_refused(world, old, new, message):
    response = world.facilitator.post(
        "/accounts/password_change/",
        {"old_password": old, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    world.facilitator_user.refresh_from_db()
    assert world.facilitator_user.check_password("fran-password")


def test_the_password_page_looks_like_the_rest_of_the_app(world):
    page = world.facilitator.get("/accounts/password_change/").content.decode()
    assert "css/pages" in page
    assert "Change your password" in page
    assert "Django administration" not in page


def test_the_top_bar_links_to_the_password_page(world):
    page = world.facilitator.get("/").content.decode()
    assert 'href="/accounts/password_change/"' in page


# Without e-mail (the default)


def test_without_email_the_login_page_says_to_ask_a_facilitator(world):
    page = Client().get("/accounts/login/").content.decode()
    assert "Ask a facilitator of your group for a new link" in page
    assert "/accounts/password_reset/" not in page


def test_without_email_the_reset_page_sends_nothing_and_says_what_to_do(world):
    world.facilitator_user.email = "fran@example.org"
    world.facilitator_user.save()
    response = Client().post("/accounts/password_reset/", {"email": "fran@example.org"})
    assert response.status_code == 200
    assert "This site sends no e-mail." in response.content.decode()
    assert mail.outbox == []


# With e-mail


@pytest.fixture
def email(settings):
    settings.MAILERS = LOCMEM
    settings.EMAIL_ENABLED = True
    settings.PUBLIC_URL = "https://butwhy.example.org"
    return settings


def test_with_email_a_reset_link_arrives_and_sets_a_new_password(world, email):
    fran = world.facilitator_user
    fran.email = "fran@example.org"
    fran.save()
    assert "/accounts/password_reset/" in Client().get("/accounts/login/").content.decode()
    response = Client().post("/accounts/password_reset/", {"email": "FRAN@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["fran@example.org"]
    assert message.subject == "A new password for But why?"
    link = re.search(r"https://butwhy\.example\.org(/accounts/reset/\S+/)", message.body)[1]

    browser = Client()
    form = browser.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    response = browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    fran.refresh_from_db()
    assert fran.check_password(NEW_PASSWORD)
    # The link works once.
    again = Client().get(link, follow=True).content.decode()
    assert "This link does not work" in again


def test_with_email_an_unknown_address_gets_the_same_answer_and_no_mail(world, email):
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_a_mail_server_that_refuses_gets_the_usual_answer_not_an_error(world, settings):
    settings.EMAIL_ENABLED = True
    # Nothing listens on port 9 of this machine: the connection is refused.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    world.facilitator_user.email = "fran@example.org"
    world.facilitator_user.save()
    response = Client().post("/accounts/password_reset/", {"email": "fran@example.org"})
    # The same as for any address (it tells nobody who has an account); Django logs it.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"


def test_reset_emails_are_limited_per_address(world, email, settings):
    settings.RATE_LIMITS = True
    client = Client()
    for _ in range(10):
        assert (
            client.post("/accounts/password_reset/", {"email": "a@example.org"}).status_code == 302
        )
    response = client.post("/accounts/password_reset/", {"email": "a@example.org"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("smtp://mail.example.org", {"host": "mail.example.org", "port": 25, "use_tls": False}),
        (
            "smtp+tls://ana%40example.org:s%2Fcret@mail.example.org:2525",
            {"port": 2525, "username": "ana@example.org", "password": "s/cret", "use_tls": True},
        ),
        ("smtp+ssl://mail.example.org", {"port": 465, "use_ssl": True, "use_tls": False}),
    ],
)
def test_email_url_becomes_a_mailer(url, options):
    mailer = mailer_from_url(url)
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert options.items() <= mailer["OPTIONS"].items()


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.org", "smtp://", "smtp://mail.example.org:port", "mail.example.org"],
)
def test_a_bad_email_url_stops_the_start_with_a_message(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        mailer_from_url(url)


# Open sign-up


def test_by_default_accounts_are_by_invitation_only(world):
    response = Client().post(
        "/accounts/signup/",
        {"username": "nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 404
    assert "Accounts here are by invitation" in response.content.decode()
    assert not User.objects.filter(username="nina").exists()
    assert "/accounts/signup/" not in Client().get("/accounts/login/").content.decode()


def test_with_open_signup_anyone_makes_an_account_and_then_a_group(world, settings):
    settings.SIGNUP = "open"
    assert "/accounts/signup/" in Client().get("/accounts/login/").content.decode()
    browser = Client()
    assert browser.get("/accounts/signup/").status_code == 200
    response = browser.post(
        "/accounts/signup/",
        {"username": "nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    nina = User.objects.get(username="nina")
    assert nina.check_password(NEW_PASSWORD)
    assert not nina.is_staff
    response = browser.post("/groups/new/", {"name": "Night buses"})
    assert response.status_code == 302
    assert nina.butwhy_memberships.get().group.name == "Night buses"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("fran", NEW_PASSWORD, "A user with that username already exists."),
        ("nina", "12345678", "This password is entirely numeric."),
        ("", NEW_PASSWORD, "This field is required."),
    ],
)
def test_open_signup_refuses_taken_names_and_weak_passwords(
    world, settings, username, password, message
):
    settings.SIGNUP = "open"
    before = User.objects.count()
    response = Client().post(
        "/accounts/signup/", {"username": username, "password1": password, "password2": password}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_open_signup_asks_for_an_email_only_where_the_site_sends_email(world, settings):
    settings.SIGNUP = "open"
    assert 'name="email"' not in Client().get("/accounts/signup/").content.decode()
    settings.EMAIL_ENABLED = True
    assert 'name="email"' in Client().get("/accounts/signup/").content.decode()


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SIGNUP": "everyone"}, "SIGNUP must be one of invitation, open, not 'everyone'."),
        ({"EMAIL_URL": "gmail://me"}, "EMAIL_URL must start with smtp://"),
        (
            {"EMAIL_HOST": "mail.example.org", "EMAIL_USE_TLS": "yes", "EMAIL_USE_SSL": "yes"},
            "Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.",
        ),
        ({"EMAIL_HOST": "mail.example.org", "EMAIL_PORT": "smtp"}, "EMAIL_PORT must be a whole"),
    ],
)
def test_bad_account_settings_stop_the_start_with_a_message(environment, message):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
