"""The shipped translations: complete, true to the code, and compiled without gettext.

English, Spanish, French, Arabic, Portuguese and Swahili are shipped complete:
a message that is untranslated, fuzzy, missing a placeholder or a tag, or a
catalogue that no longer matches the strings in the code, fails here.
"""

import gettext
import re
import shutil
from collections import Counter
from pathlib import Path

import django
import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from sessions.models import Cause, Session

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES]

# What `make messages` passes to makemessages (hidden folders such as .venv
# are skipped anyway).
IGNORED = ["tests", "bench", "staticfiles", "test-artifacts"]

# %(name)s and its kin, %s, {name}; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(
    r"%%|%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{\w*\}"
)
TAG = re.compile(r"<[^>]*>")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def placeholders(text: str) -> Counter:
    return Counter(p for p in PLACEHOLDER.findall(text) if p != "%%")


def tags(text: str) -> Counter:
    return Counter(TAG.findall(text))


def plural_rule(po: polib.POFile):
    forms = po.metadata["Plural-Forms"]
    count = int(re.search(r"nplurals\s*=\s*(\d+)", forms).group(1))
    expression = re.search(r"plural\s*=\s*(.+?);?\s*$", forms).group(1)
    return count, gettext.c2py(expression)


def forms_for_one_number(po: polib.POFile) -> set[int]:
    """The plural forms only one number uses (n == 1, say): like msgfmt, they may
    leave the number out ("one dot", not "1 dot")."""
    _count, rule = plural_rule(po)
    used = Counter(rule(n) for n in range(10_001))
    return {form for form, times in used.items() if times == 1}


def shipped(language: str) -> list[polib.POEntry]:
    return [entry for entry in catalogue(language) if not entry.obsolete]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_ships_a_catalogue_for_itself(language):
    po = catalogue(language)
    assert po.metadata["Language"] == language
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert not po.metadata_is_fuzzy


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_plural_rule_is_djangos_own_for_the_language(language):
    """Arabic has six forms (zero, one, two, few, many, other): the same rule as
    Django's own catalogue, so that its messages and ours agree."""
    ours = catalogue(language)
    django_po = Path(django.__file__).parent / "conf" / "locale" / language / "LC_MESSAGES"
    theirs = polib.pofile(str(django_po / "django.po"))
    (count, rule), (their_count, their_rule) = plural_rule(ours), plural_rule(theirs)
    assert count == their_count
    numbers = [*range(10_001), 1_000_000, 1_000_001, 2_000_000]
    assert [rule(n) for n in numbers] == [their_rule(n) for n in numbers]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_untranslated_or_fuzzy(language):
    po = catalogue(language)
    count, _rule = plural_rule(po)
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    short = [
        e.msgid
        for e in shipped(language)
        if e.msgid_plural
        and sorted(i for i, form in e.msgstr_plural.items() if form) != list(range(count))
    ]
    assert untranslated == [], f"{language}: untranslated"
    assert fuzzy == [], f"{language}: fuzzy (check them, then remove the flag)"
    assert short == [], f"{language}: plural forms missing (it has {count})"
    assert len(po) > 300


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder_and_tag(language):
    po = catalogue(language)
    alone = forms_for_one_number(po)
    wrong = []
    for entry in shipped(language):
        if not entry.msgid_plural:
            same = placeholders(entry.msgstr) == placeholders(entry.msgid)
            if not same or tags(entry.msgstr) != tags(entry.msgid):
                wrong.append((entry.msgid, entry.msgstr))
            continue
        expected = placeholders(entry.msgid_plural) | placeholders(entry.msgid)
        for index, form in entry.msgstr_plural.items():
            found = placeholders(form)
            missing = expected - found
            # A form for a single number may say it in words ("two dots").
            if index in alone:
                missing -= Counter({p: n for p, n in missing.items() if "counter" in p})
            if missing or found - expected or tags(form) != tags(entry.msgid_plural):
                wrong.append((entry.msgid, index, form))
    assert wrong == []


def test_french_puts_a_non_breaking_space_before_high_punctuation():
    breakable = [
        entry.msgstr or entry.msgstr_plural
        for entry in shipped("fr")
        if any(
            re.search(r" [?!:;»]|« ", text)
            for text in [entry.msgstr, *entry.msgstr_plural.values()]
        )
    ]
    assert breakable == []


def test_the_technique_keeps_its_name_in_every_language():
    names = {"en": "But why?", "es": "¿Pero por qué?", "fr": "Mais pourquoi\u00a0?"}
    names["ar"] = "ولكن لماذا؟"
    names["pt"] = "Mas por quê?"
    names["sw"] = "Lakini kwa nini?"
    for language, name in names.items():
        entry = catalogue(language).find("But why?")
        assert entry.msgstr == name


def test_the_catalogues_hold_exactly_the_messages_of_the_code(tmp_path, monkeypatch):
    """makemessages (GNU gettext's xgettext) on the code now finds the same messages.

    After changing a message in the code: `make messages`, translate what it
    marks, and commit the .po files.
    """
    if shutil.which("xgettext") is None:
        pytest.fail(
            "xgettext is missing, so the catalogues cannot be checked against the code. "
            "Install GNU gettext: apt-get install -y gettext",
            pytrace=False,
        )
    # makemessages writes next to the code it reads: let it read a copy.
    code = tmp_path / "code"
    skip = shutil.ignore_patterns(".*", "__pycache__", "locale", "static", "*.sqlite3*", *IGNORED)
    shutil.copytree(settings.BASE_DIR, code, ignore=skip)
    fresh = code / "locale"
    fresh.mkdir()
    monkeypatch.chdir(code)
    with override_settings(LOCALE_PATHS=[fresh]):
        call_command("makemessages", locale=["en"], ignore_patterns=IGNORED, verbosity=0)

    def messages(po):
        return {(e.msgctxt, e.msgid, e.msgid_plural) for e in po if not e.obsolete}

    in_code = messages(polib.pofile(str(fresh / "en" / "LC_MESSAGES" / "django.po")))
    for language in LANGUAGES:
        in_catalogue = messages(catalogue(language))
        assert sorted(in_code - in_catalogue, key=str) == [], f"{language}: not in the catalogue"
        assert sorted(in_catalogue - in_code, key=str) == [], f"{language}: no longer in the code"


def test_compiletranslations_needs_no_gettext_and_leaves_fuzzy_messages_out(tmp_path, monkeypatch):
    folder = tmp_path / "locale" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Plural-Forms": "nplurals=2; plural=(n > 1);",
    }
    po.append(polib.POEntry(msgid="Send", msgstr="Envoyer"))
    po.append(polib.POEntry(msgid="Undo", msgstr="Annuler", flags=["fuzzy"]))
    po.append(
        polib.POEntry(
            msgid="%(counter)s dot",
            msgid_plural="%(counter)s dots",
            msgstr_plural={0: "%(counter)s point", 1: "%(counter)s points"},
        )
    )
    po.save(str(folder / "django.po"))
    # No msgfmt anywhere on the PATH.
    monkeypatch.setenv("PATH", str(tmp_path))
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command("compiletranslations", verbosity=0)
    with (folder / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    assert compiled.gettext("Send") == "Envoyer"
    assert compiled.gettext("Undo") == "Undo"
    assert compiled.ngettext("%(counter)s dot", "%(counter)s dots", 2) == "%(counter)s points"


@pytest.mark.parametrize(
    ("language", "but_why", "phase", "state"),
    [
        ("en", "But why?", "Why?", "On the board"),
        ("es", "¿Pero por qué?", "¿Por qué?", "En el tablero"),
        ("fr", "Mais pourquoi\u00a0?", "Pourquoi\u00a0?", "Au tableau"),
        ("ar", "ولكن لماذا؟", "لماذا؟", "على اللوحة"),
        ("pt", "Mas por quê?", "Por quê?", "No quadro"),
        ("sw", "Lakini kwa nini?", "Kwa nini?", "Kwenye ubao"),
    ],
)
def test_the_app_speaks_the_compiled_catalogues(language, but_why, phase, state):
    """Fails when the .mo files are missing or stale: `make translations` compiles them."""
    with translation.override(language):
        assert translation.gettext("But why?") == but_why
        assert str(Session.Phase.WHY.label) == phase
        assert str(Cause.State.VISIBLE.label) == state
