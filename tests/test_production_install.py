"""A production install: what `pip install .` and `make serve` put on a server.

The full install (a fresh virtual environment, `pip install .`, check --deploy,
the server and its pages in every language) is .ci/production-install, a CI
step: it needs pip's cache or an index, and two minutes.
"""

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dry_run(target: str, tmp_path) -> str:
    """What `make TARGET` would run from scratch in a virtual environment at tmp_path."""
    return subprocess.run(
        ["make", "-n", "-B", target, f"VENV={tmp_path / 'venv'}", "DATABASE_URL=postgres://h/db"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_make_serve_installs_the_runtime_dependencies_only(tmp_path):
    commands = dry_run("serve", tmp_path)
    assert "pip install --quiet -e .\n" in commands
    assert "--group dev" not in commands
    assert "compiletranslations" in commands


def test_make_test_installs_the_dev_group_too(tmp_path):
    assert "pip install --quiet -e . --group dev" in dry_run("lint", tmp_path)


def test_what_compiles_the_translations_is_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = [d.split(">")[0].split("[")[0] for d in project["project"]["dependencies"]]
    dev = [d.split(">")[0] for d in project["dependency-groups"]["dev"]]
    assert "polib" in runtime
    assert "polib" not in dev
    # Nothing the tests or linters need is installed on a server.
    assert not {"pytest", "playwright", "mypy", "ruff", "hypothesis"} & set(runtime)
    command = (ROOT / "sessions/management/commands/compiletranslations.py").read_text()
    assert "import polib" in command


def test_ci_runs_the_production_install():
    assert ".ci/production-install" in (ROOT / ".ci/run").read_text()


def test_ci_leaves_out_only_the_layout_matrices_and_only_on_postgresql():
    """README, "PostgreSQL": the SQLite suite runs everything, the PostgreSQL
    suite everything but the tests marked layout."""
    run = (ROOT / ".ci/run").read_text()
    assert run.count("PYTEST_ADDOPTS") == 1
    postgres = next(line for line in run.splitlines() if "PYTEST_ADDOPTS" in line)
    assert 'DATABASE_URL="$PG_URL" PYTEST_ADDOPTS="-m \'not layout\'" make test' in postgres
    sqlite = next(line for line in run.splitlines() if line.startswith("make test "))
    assert "PYTEST_ADDOPTS" not in sqlite and "-m" not in sqlite
