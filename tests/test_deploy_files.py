"""What deploy/ gives a deployer, read as files. .ci/deploy-smoke runs them behind nginx."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def stream_location() -> str:
    site = (DEPLOY / "nginx/butwhy.conf").read_text()
    return re.search(r"location ~ [^{]*stream[^{]*\{(.*?)\}", site, re.S)[1]


def test_nginx_lets_the_live_streams_through_as_they_come():
    location = stream_location()
    assert "proxy_buffering off;" in location
    assert "gzip off;" in location
    timeout = int(re.search(r"proxy_read_timeout (\d+)s;", location)[1])
    assert timeout > 2 * settings.LIVE_HEARTBEAT_SECONDS
    # Every stream URL of the app matches the location.
    pattern = re.search(r"location ~ (\S+) \{", (DEPLOY / "nginx/butwhy.conf").read_text())[1]
    for url in ["/s/abc_-9/present/stream/", "/s/abc/console/stream/", "/p/abc/stream/"]:
        assert re.match(pattern, url), url


def test_nginx_speaks_tls_and_http2_and_passes_the_client_address():
    site = (DEPLOY / "nginx/butwhy.conf").read_text()
    assert "listen 443 ssl http2;" in site
    assert "return 301 https://" in site
    assert site.count("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;") == 2
    assert site.count("proxy_set_header X-Forwarded-Proto $scheme;") == 2


def test_nginx_serves_the_collected_static_files_for_a_year():
    site = (DEPLOY / "nginx/butwhy.conf").read_text()
    static = re.search(r"location /static/ \{(.*?)\}", site, re.S)[1]
    assert "alias /srv/butwhy/staticfiles/;" in static
    assert "gzip_static on;" in static
    assert "max-age=31536000, immutable" in static


def test_systemd_runs_one_app_process_per_port_and_purges_daily():
    app = (DEPLOY / "systemd/butwhy@.service").read_text()
    command = "/srv/butwhy/.venv/bin/python -m butwhy.server --host 127.0.0.1 --port %i"
    assert f"ExecStart={command}\n" in app
    assert "EnvironmentFile=/etc/butwhy/butwhy.env" in app
    assert "LimitNOFILE=" in app
    setup = (DEPLOY / "systemd/butwhy-setup.service").read_text()
    for command in ["compiletranslations", "collectstatic --noinput", "migrate --noinput"]:
        assert command in setup
    assert "manage.py purge_sessions" in (DEPLOY / "systemd/butwhy-purge.service").read_text()
    assert "OnCalendar=daily" in (DEPLOY / "systemd/butwhy-purge.timer").read_text()


def test_the_environment_template_sets_only_settings_the_app_reads():
    template = (DEPLOY / "butwhy.env").read_text()
    names = re.findall(r"^#?([A-Z_]+)=", template, re.M)
    source = (ROOT / "butwhy/settings.py").read_text()
    for name in names:
        assert f'"{name}"' in source, name
    assert "HTTPS=true" in template
    assert "TRUSTED_PROXIES=127.0.0.1" in template
    assert "SERVE_STATIC=false" in template


def test_readme_points_at_every_file_in_deploy():
    readme = (ROOT / "README.md").read_text()
    scaling = readme.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            assert str(path.relative_to(ROOT)) in scaling, path


def test_ci_runs_the_deployment_behind_nginx():
    run = (ROOT / ".ci/run").read_text()
    assert "\n.ci/deploy-smoke\n" in run
    smoke = (ROOT / ".ci/deploy-smoke").read_text()
    assert "trap cleanup EXIT" in smoke
    assert "check --deploy --fail-level WARNING" in smoke
