# Two commands set everything up: `make run` and `make test` (see README.md).
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# What a server needs and nothing else: `pip install -e .`, no dev group.
RUNTIME_STAMP := $(VENV)/.runtime-stamp
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

WORKERS ?= 2

.PHONY: run test lint serve translations messages static tools

$(RUNTIME_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The tests and linters on top (make test, make lint).
$(STAMP): $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@

# The translations are committed as .po files and compiled here with polib, a
# small pure-Python runtime dependency: no GNU gettext and no dev tool needed on
# the server (manage.py makemessages, for maintainers, needs gettext).
translations: $(RUNTIME_STAMP)
	$(BIN)/python manage.py compiletranslations -v0

# Static files with hashed names and gzipped copies (butwhy/static.py).
static: $(RUNTIME_STAMP)
	$(BIN)/python manage.py collectstatic --noinput -v0

# Maintainers, after changing a message in the code (needs GNU gettext's
# xgettext): update the .po files, translate what they mark, commit them.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l en -l es -l fr -l ar -l pt -l sw --no-obsolete \
		--add-location=file --ignore=tests --ignore=bench --ignore=staticfiles \
		--ignore=test-artifacts

# butwhy/server.py: uvicorn, with its proxy headers, connection limits and
# timeouts taken from the settings (README, "Privacy and security").
run: translations static
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py demo --port $(PORT)
	exec $(BIN)/python -m butwhy.server --host 0.0.0.0 --port $(PORT)

# Production: several server processes sharing one PostgreSQL (DATABASE_URL).
serve: translations static
	@test -n "$(DATABASE_URL)" || { echo "make serve needs DATABASE_URL=postgres://..."; exit 1; }
	$(BIN)/python manage.py migrate --noinput -v0
	exec $(BIN)/python -m butwhy.server --host 0.0.0.0 --port $(PORT) --workers $(WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run -v0

# What the tests need from the system: Debian's Chromium (for the browser tests),
# GNU gettext (to check the catalogues against the code) and HarfBuzz's subset
# library (WeasyPrint warns without it, and the tests turn warnings into errors). As root on Debian
# they are installed here; otherwise the command says how.
tools:
	@if [ ! -x "$(CHROMIUM)" ] || ! command -v xgettext >/dev/null \
		|| ! /sbin/ldconfig -p | grep -q libharfbuzz-subset; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Chromium, GNU gettext and HarfBuzz with apt-get"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq chromium gettext libharfbuzz-subset0 >/dev/null; \
		fi; \
	fi
	@test -x "$(CHROMIUM)" || { echo "The browser tests need Chromium at $(CHROMIUM)."; \
		echo "Install it with: apt-get install -y chromium   (or set CHROMIUM=/path/to/chromium)"; exit 1; }
	@command -v xgettext >/dev/null || { echo "The translation tests need GNU gettext's xgettext."; \
		echo "Install it with: apt-get install -y gettext"; exit 1; }

test: tools lint translations
	$(BIN)/python -m pytest
