"""Imports run one way: the live channel knows no domain model, and no module
of sessions/ needs another to be imported first."""

import ast
import os
import random
import subprocess
import sys
from pathlib import Path

SESSIONS = Path(__file__).resolve().parent.parent / "sessions"


def modules() -> list[str]:
    found = []
    for path in sorted(SESSIONS.rglob("*.py")):
        parts = path.relative_to(SESSIONS.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append(".".join(parts))
    return found


def test_the_live_channel_imports_nothing_from_sessions():
    tree = ast.parse((SESSIONS / "live.py").read_text())
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
    assert imported
    assert not [name for name in imported if name.split(".")[0] == "sessions"]


def test_the_modules_of_sessions_import_in_any_order():
    """In a fresh interpreter, after Django's setup (which loads the app's
    config, models and admin), every other module in a random order: a
    circle shows up as an ImportError on some run."""
    names = modules()
    assert "sessions.live" in names and "sessions.views.streams" in names
    order = random.sample(names, len(names))
    script = (
        "import importlib, sys, django\n"
        "django.setup()\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *order],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "butwhy.settings"},
        cwd=SESSIONS.parent,
    )
    assert result.returncode == 0, f"In this order: {order}\n{result.stderr}"
