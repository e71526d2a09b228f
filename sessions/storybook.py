"""The stories the app ships: short made-up situations to start a session from.

Each story is a TOML file, `sessions/stories/<language>/<key>.toml`, with a
`title`, a `situation`, a suggested first `question` and, for a success
story, `kind = "success"`. The same key in every language is the same story.
An organizer adds one by dropping files there (or in `STORIES_DIRS`), without
touching code. A file that cannot be read is reported with its path and line
(`manage.py check`, and the log) and left out; the others still load.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core import checks

from sessions import text
from sessions.models import (
    STORY_QUESTION_MAX_LENGTH,
    STORY_SITUATION_MAX_LENGTH,
    STORY_TITLE_MAX_LENGTH,
    Session,
)

logger = logging.getLogger(__name__)

SHIPPED = Path(__file__).resolve().parent / "stories"
KEY = re.compile(r"\A[a-z0-9][a-z0-9-]{0,59}\Z")
FIELDS = {
    "title": STORY_TITLE_MAX_LENGTH,
    "situation": STORY_SITUATION_MAX_LENGTH,
    "question": STORY_QUESTION_MAX_LENGTH,
}


@dataclass(frozen=True)
class Story:
    key: str
    language: str
    title: str
    situation: str
    question: str
    kind: str = Session.Kind.PROBLEM


class Malformed(ValueError):
    """A story file that cannot be used: the message names the file (and line)."""


def _where(path: Path, source: str, field: str) -> str:
    """The file, and the line where `field` is set if it is."""
    key = re.compile(rf"\A\s*{re.escape(field)}\s*=")
    for number, line in enumerate(source.splitlines(), start=1):
        if key.match(line):
            return f"{path}, line {number}"
    return str(path)


def read(path: Path, language: str) -> Story:
    """One story file, checked and normalised; Malformed says what is wrong, and where."""
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise Malformed(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        # Python 3.13's message ends with "(at line N, column M)".
        raise Malformed(f"{path}: {error}") from None
    unknown = set(data) - {*FIELDS, "kind"}
    if unknown:
        first = sorted(unknown)[0]
        raise Malformed(
            f"{_where(path, source, first)}: unknown field(s) {', '.join(sorted(unknown))}"
        )
    values: dict[str, str] = {}
    for field, limit in FIELDS.items():
        value = data.get(field)
        if value is None:
            raise Malformed(f"{path}: `{field}` is missing")
        where = _where(path, source, field)
        if not isinstance(value, str):
            raise Malformed(f"{where}: `{field}` must be a text")
        value = text.normalise(value, multiline=field == "situation")
        if not value or text.is_invisible(value):
            raise Malformed(f"{where}: `{field}` is empty")
        if len(value) > limit:
            raise Malformed(f"{where}: `{field}` is longer than {limit} characters")
        values[field] = value
    kind = data.get("kind", Session.Kind.PROBLEM)
    if kind not in Session.Kind.values:
        raise Malformed(
            f"{_where(path, source, 'kind')}: `kind` must be one of "
            f"{', '.join(Session.Kind.values)}"
        )
    return Story(key=path.stem, language=language, kind=kind, **values)


def load(directories: list[Path]) -> tuple[dict[str, dict[str, Story]], list[str]]:
    """Every story of `directories` by language and key, and the problems found.

    A later directory's story replaces an earlier one of the same key.
    """
    languages = {code for code, _name in settings.LANGUAGES}
    stories: dict[str, dict[str, Story]] = {code: {} for code in sorted(languages)}
    problems: list[str] = []
    for directory in directories:
        for path in sorted(directory.glob("*/*.toml")):
            language = path.parent.name
            if language not in languages:
                problems.append(f"{path}: {language!r} is not one of the site's languages")
                continue
            if not KEY.match(path.stem):
                problems.append(f"{path}: a story's file name is lowercase letters, digits and -")
                continue
            try:
                stories[language][path.stem] = read(path, language)
            except Malformed as error:
                problems.append(str(error))
    for problem in problems:
        logger.warning("Story left out: %s", problem)
    return stories, problems


def directories() -> list[Path]:
    return [SHIPPED, *(Path(d) for d in settings.STORIES_DIRS)]


@cache
def library() -> tuple[dict[str, dict[str, Story]], tuple[str, ...]]:
    """The stories, read once per process."""
    stories, problems = load(directories())
    return stories, tuple(problems)


def stories_in(language: str) -> list[Story]:
    """The stories of one language, by title (English's where it has none)."""
    stories = library()[0]
    found = dict(stories.get(settings.LANGUAGE_CODE, {}))
    found.update(stories.get(language, {}))
    return sorted(found.values(), key=lambda story: story.title.casefold())


def find(key: str, language: str) -> Story | None:
    stories = library()[0]
    return stories.get(language, {}).get(key) or stories.get(settings.LANGUAGE_CODE, {}).get(key)


def check_stories(app_configs: object, **kwargs: object) -> list[checks.CheckMessage]:
    """Each story file that was left out, and each story missing in a language."""
    stories, problems = library()
    found: list[checks.CheckMessage] = [
        checks.Warning(problem, id="butwhy.W001") for problem in problems
    ]
    keys = set().union(*(set(by_key) for by_key in stories.values()))
    for language, by_key in stories.items():
        for key in sorted(keys - set(by_key)):
            found.append(
                checks.Warning(
                    f"The story {key!r} has no {language!r} version: English is shown instead.",
                    id="butwhy.W002",
                )
            )
    return found
