"""The join address and QR code never come from an unchecked Host header.

`make run` accepts any Host (ALLOWED_HOSTS defaults to "*"), so that phones
reach the laptop on whatever address it has; the address the projector shows
is then PUBLIC_URL, or the address the connection really came in on.
"""

import runpy
from pathlib import Path

import pytest
import segno
from django.core.exceptions import ImproperlyConfigured

from sessions import network

SETTINGS = str(Path(__file__).resolve().parent.parent / "butwhy" / "settings.py")


def join_address(world, **meta) -> str:
    page = world.facilitator.get(f"/s/{world.session.public_id}/present/", **meta)
    assert page.status_code == 200
    return page.content.decode()


def qr_text(world, **meta) -> str:
    response = world.facilitator.get(f"/s/{world.session.public_id}/qr.svg", **meta)
    assert response.status_code == 200
    return response.content.decode()


def expected_qr(url: str) -> str:
    from io import BytesIO

    out = BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, light="#fff")
    return out.getvalue().decode()


def test_a_spoofed_host_does_not_change_the_join_address_or_the_qr_code(world, monkeypatch):
    monkeypatch.setattr(network, "lan_address", lambda: "192.168.1.20")
    meta = {"SERVER_NAME": "192.168.1.20", "SERVER_PORT": "8000"}
    spoofed = join_address(world, HTTP_HOST="evil.example", **meta)
    assert "evil.example" not in spoofed
    assert "192.168.1.20:8000/join" in spoofed
    code = world.session.join_code
    assert qr_text(world, HTTP_HOST="evil.example:666", **meta) == expected_qr(
        f"http://192.168.1.20:8000/join/{code}/"
    )


def test_the_address_is_the_one_the_connection_came_in_on(world, monkeypatch):
    monkeypatch.setattr(network, "lan_address", lambda: "192.168.1.20")
    page = join_address(world, SERVER_NAME="10.0.0.7", SERVER_PORT="8123", HTTP_HOST="10.0.0.7")
    assert "10.0.0.7:8123/join" in page


def test_an_ipv4_phone_on_a_dual_stack_server_gets_an_ipv4_address(world, monkeypatch):
    page = join_address(
        world, SERVER_NAME="::ffff:10.0.0.7", SERVER_PORT="8000", HTTP_HOST="10.0.0.7:8000"
    )
    assert "10.0.0.7:8000/join" in page


def test_a_projector_opened_as_localhost_shows_the_lan_address(world, monkeypatch):
    monkeypatch.setattr(network, "lan_address", lambda: "192.168.1.20")
    page = join_address(world, SERVER_NAME="127.0.0.1", SERVER_PORT="8000", HTTP_HOST="localhost")
    assert "192.168.1.20:8000/join" in page


def test_with_no_network_at_all_the_address_is_still_this_machine(world, monkeypatch):
    monkeypatch.setattr(network, "lan_address", lambda: None)
    page = join_address(
        world, SERVER_NAME="127.0.0.1", SERVER_PORT="8000", HTTP_HOST="evil.example"
    )
    assert "evil.example" not in page
    assert "127.0.0.1:8000/join" in page


def test_public_url_wins(world, settings):
    settings.PUBLIC_URL = "https://butwhy.example.org"
    page = join_address(world, HTTP_HOST="evil.example")
    assert "butwhy.example.org/join" in page
    assert "evil.example" not in page


def test_a_host_checked_against_named_allowed_hosts_is_believed(world, settings):
    settings.ALLOWED_HOSTS = ["butwhy.example.org"]
    page = join_address(world, HTTP_HOST="butwhy.example.org")
    assert "butwhy.example.org/join" in page
    refused = world.facilitator.get(
        f"/s/{world.session.public_id}/present/", HTTP_HOST="evil.example"
    )
    assert refused.status_code == 400


def test_production_settings_need_allowed_hosts(monkeypatch):
    monkeypatch.setenv("HTTPS", "true")
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        runpy.run_path(SETTINGS)
    monkeypatch.setenv("ALLOWED_HOSTS", " ")
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        runpy.run_path(SETTINGS)
    monkeypatch.setenv("ALLOWED_HOSTS", "butwhy.example.org")
    assert runpy.run_path(SETTINGS)["ALLOWED_HOSTS"] == ["butwhy.example.org"]


def test_make_run_settings_accept_any_host(monkeypatch):
    monkeypatch.delenv("HTTPS", raising=False)
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert runpy.run_path(SETTINGS)["ALLOWED_HOSTS"] == ["*"]
