"""Settings for But why?, driven by environment variables.

The defaults run the app on SQLite with no set-up: `make run` or
`manage.py runserver`. `DATABASE_URL=postgres://…` selects PostgreSQL.
"""

import logging
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

# The type stubs make ModelForm, ModelAdmin and their kin generic
# (forms.ModelForm[Group]); this lets Django's classes be subscripted so at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_choice(name: str, default: str, choices: list[str]) -> str:
    """One of `choices`, matched without regard to case, as the list spells it."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    for choice in choices:
        if value.casefold() == choice.casefold():
            return choice
    raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")


# PostgreSQL: how long a request waits for a pooled connection while all are
# busy, and how long it waits while the database cannot be reached (a new
# connection failed: butwhy/database.py), so that an outage fails fast.
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10)
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 2)


def database_from_url(url: str) -> dict[str, Any]:
    """Turn postgres://user:password@host:port/name or sqlite:///path into DATABASES."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql"}:
        from butwhy.database import WatchedConnection  # psycopg: PostgreSQL only

        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL must name a database: postgres://host/NAME.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # Streams must not pin a connection while they wait (see live.py):
            # each request, check and render takes one from the process's pool
            # and gives it back at once, so a process holds at most max_size,
            # however many phones, and a reconnecting room does not wait for
            # PostgreSQL to start a backend per phone.
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": True,  # a pooled connection may outlive a database restart
            "OPTIONS": {
                # A database that does not answer fails a request in this
                # long, not in the pool's timeout (butwhy/database.py).
                "connect_timeout": DATABASE_CONNECT_TIMEOUT,
                "pool": {
                    "min_size": 0,
                    "max_size": env_int("DATABASE_POOL_SIZE", 10),
                    "max_idle": 60,
                    # How long a request waits for a connection while all are busy.
                    "timeout": DATABASE_POOL_TIMEOUT,
                    # A failed connection is retried for this long, then the
                    # next request tries afresh: no backoff of minutes, so the
                    # app is back as soon as the database is.
                    "reconnect_timeout": DATABASE_CONNECT_TIMEOUT,
                    "connection_class": WatchedConnection,
                },
            },
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute/path.db, sqlite://host/absolute.db
        path = unquote(parts.path)
        return sqlite_database(Path(path) if parts.netloc else Path(path[1:]))
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgres:// or sqlite://, not {url!r}."
    )


def sqlite_database(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # BEGIN IMMEDIATE takes the write lock up front, so the per-session
            # sequence numbers are handed out in commit order (see models.py).
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file, not memory, so that a server thread in the browser tests
        # shares it; one per test run, so that runs side by side don't collide.
        "TEST": {"NAME": BASE_DIR / f".test-db-{os.getpid()}.sqlite3"},
    }


def secret_key() -> str:
    """The SECRET_KEY from the environment, or one made once for this checkout."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = BASE_DIR / ".secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key()
# Any host by default, so that `make run` answers on whatever address the
# laptop has: no absolute URL is built from the Host header (network.py).
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# Where phones should go to join, e.g. http://192.168.1.20:8000. Empty: the
# address the projector page was opened with, with localhost replaced by this
# machine's LAN address.
PUBLIC_URL = env_str("PUBLIC_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "sessions.apps.FacilitationConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads request.POST: a form in another charset is a 400.
    "sessions.encoding.utf8_forms_only",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "butwhy.urls"
ASGI_APPLICATION = "butwhy.asgi.application"
WSGI_APPLICATION = "butwhy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["django_htmx.templatetags.django_htmx"],
        },
    },
]

DATABASES = {
    "default": database_from_url(os.environ["DATABASE_URL"])
    if os.environ.get("DATABASE_URL")
    else sqlite_database(BASE_DIR / "db.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Who may create an account: "invitation" (a facilitator's link, the default)
# or "open" (anyone, at /accounts/signup/: a public instance).
SIGNUP = env_choice("SIGNUP", "invitation", ["invitation", "open"])
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ar", "العربية"),
    ("pt", "Português"),
    ("sw", "Kiswahili"),
]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Compiled from the committed .po files by `manage.py compiletranslations`
# (make run, make test and make serve do it).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language pickers' choice (phones, console): kept for a year, read by
# the server only.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Hashed names and gzipped copies, made by collectstatic (butwhy/static.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "butwhy.static.CompressedManifestStorage"},
}
# The ASGI server serves our static files itself, so the app works on a
# laptop with no web server in front and no internet.
SERVE_STATIC = env_bool("SERVE_STATIC", True)

# Production behind TLS: HTTPS=true turns on Django's deployment checklist.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    if not env_str("ALLOWED_HOSTS", "").strip():
        raise ImproperlyConfigured(
            "With HTTPS=true, set ALLOWED_HOSTS to the names the site answers to "
            "(for example butwhy.example.org)."
        )
    SECURE_SSL_REDIRECT = True
    # A load balancer or systemd may ask over plain HTTP on the private side.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Says what happened, and tells the page to fetch a fresh token and resend.
CSRF_FAILURE_VIEW = "sessions.views.recovery.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline scripts or styles anywhere: htmx is configured through a meta tag
# with eval and its indicator styles off (templates/base.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Live updates (sessions/live.py): a comment on every open stream this often,
# so that a phone that vanished is noticed and proxies keep the stream open.
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 15)

# What one client may hold (butwhy/asgi.py, butwhy/server.py, sessions/live.py),
# per server process. Sized so that a room of 1,000 phones behind one address
# (a venue's Wi-Fi, a carrier's NAT) is never refused.
LIVE_STREAMS_PER_PARTICIPANT = env_int("LIVE_STREAMS_PER_PARTICIPANT", 20)
LIVE_STREAMS_PER_ADDRESS = env_int("LIVE_STREAMS_PER_ADDRESS", 2000)
# Open connections per process; past this, a friendly 503 (a stream is one).
SERVER_MAX_CONNECTIONS = env_int("SERVER_MAX_CONNECTIONS", 4000)
# A request head (the request line and headers) not complete after this long
# is cut: a half-sent head must not hold a connection for ever.
REQUEST_HEAD_TIMEOUT_SECONDS = env_int("REQUEST_HEAD_TIMEOUT_SECONDS", 10)
# The largest request body: far above the largest form (a session's situation
# of 1,000 characters is at most 12 KB form-encoded). A larger one is refused
# with 413 before it is read.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

# Rate limits (sessions/ratelimits.py), counted in the database so that every
# server process shares them. X-Forwarded-For is believed only from
# these addresses (a reverse proxy in front of the app).
RATE_LIMITS = env_bool("RATE_LIMITS", True)
TRUSTED_PROXIES = [a.strip() for a in env_str("TRUSTED_PROXIES", "").split(",") if a.strip()]
if TRUSTED_PROXIES:
    # The proxy says whether the browser used https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


SMTP = "django.core.mail.backends.smtp.EmailBackend"


def mailer_from_url(url: str) -> dict[str, Any]:
    """EMAIL_URL (smtp://, smtp+tls:// for STARTTLS, smtp+ssl://, console://) as a mailer.

    For example smtp+tls://user:password@mail.example.org:587, the user and
    password percent-encoded as in any URL.
    """
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    ports = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}
    if parts.scheme not in ports:
        raise ImproperlyConfigured(
            "EMAIL_URL must start with smtp://, smtp+tls://, smtp+ssl:// or console://, "
            f"not {url.split(':', 1)[0]!r}."
        )
    try:
        port = parts.port or ports[parts.scheme]
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number.") from None
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL must name a mail server: smtp://HOST:PORT.")
    return smtp_mailer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=parts.scheme == "smtp+tls",
        use_ssl=parts.scheme == "smtp+ssl",
    )


def smtp_mailer(**options: Any) -> dict[str, Any]:
    if options["use_tls"] and options["use_ssl"]:
        raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
    # A mail server that does not answer fails the request in this long.
    options["timeout"] = env_int("EMAIL_TIMEOUT", 10)
    return {"BACKEND": SMTP, "OPTIONS": options}


# E-mail, only for password resets: EMAIL_URL, or the usual EMAIL_HOST,
# EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS and
# EMAIL_USE_SSL, read from the environment into Django's MAILERS. Without
# either, the app sends no e-mail, and a facilitator makes a link for a new
# password instead (the login page says so).
MAILER: dict[str, Any]
if env_str("EMAIL_URL", ""):
    MAILER = mailer_from_url(env_str("EMAIL_URL", ""))
elif env_str("EMAIL_HOST", ""):
    MAILER = smtp_mailer(
        host=env_str("EMAIL_HOST", ""),
        port=env_int("EMAIL_PORT", 25),
        username=env_str("EMAIL_HOST_USER", ""),
        password=env_str("EMAIL_HOST_PASSWORD", ""),
        use_tls=env_bool("EMAIL_USE_TLS", False),
        use_ssl=env_bool("EMAIL_USE_SSL", False),
    )
else:
    MAILER = {}
# No mailer at all without e-mail: nothing can be sent by mistake, and
# Django's warning that there is no default mailer is what we mean.
MAILERS = {"default": MAILER} if MAILER else {}
EMAIL_ENABLED = bool(MAILERS)
SILENCED_SYSTEM_CHECKS = [] if EMAIL_ENABLED else ["mail.W001"]
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "butwhy@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# `manage.py purge_sessions` deletes closed sessions older than this.
SESSION_RETENTION_DAYS = env_int("SESSION_RETENTION_DAYS", 365)

# More words the word filter holds for approval, comma-separated.
WORD_FILTER_EXTRA = [w.strip() for w in env_str("WORD_FILTER_EXTRA", "").split(",") if w.strip()]

# The printed summary's paper (sessions/pdf.py); ?paper=letter|a4 chooses per download.
PAPER_SIZE = env_choice("PAPER_SIZE", "A4", ["A4", "Letter"])

# PDF rendering's own threads per server process (sessions/pdf.py), and how
# many more requests wait for one; past that a download answers 503, "being
# prepared, try again in a moment". Each render takes about a second of CPU.
PDF_WORKERS = env_int("PDF_WORKERS", 1)
PDF_QUEUE = env_int("PDF_QUEUE", 4)
if PDF_WORKERS < 1 or PDF_QUEUE < 0:
    raise ImproperlyConfigured("PDF_WORKERS must be at least 1 and PDF_QUEUE at least 0.")

# What people type is short: a cause or an idea fits on a projector line.
CAUSE_MAX_LENGTH = 280
# More directories of stories to start a session from (sessions/storybook.py),
# beside the ones the app ships: `<dir>/<language>/<key>.toml`, ":"-separated.
STORIES_DIRS = [d for d in env_str("STORIES_DIRS", "").split(":") if d.strip()]
# How many levels of "but why?" the tree may have: past it, answers, moves
# and merges that would go deeper are refused.
MAX_TREE_DEPTH = env_int("MAX_TREE_DEPTH", 12)
if MAX_TREE_DEPTH < 1:
    raise ImproperlyConfigured("MAX_TREE_DEPTH must be at least 1.")


def not_a_health_check(record: logging.LogRecord) -> bool:
    """Leave /healthz out of the log: a load balancer asks every few seconds."""
    return getattr(getattr(record, "request", None), "path", None) != "/healthz"


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "not_a_health_check": {
            "()": "django.utils.log.CallbackFilter",
            "callback": not_a_health_check,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["not_a_health_check"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
