"""Hold answers with insults or personal details for the facilitator's approval.

Nothing is ever dropped: a match only means the answer waits in the
console's queue, as it would with "hold answers for approval".
"""

import re
import unicodedata

# Short lists of common insults, per language; deployers can extend them
# with WORD_FILTER_EXTRA (comma-separated) in the environment.
WORDS = {
    "en": ["fuck", "fucking", "shit", "bitch", "asshole", "bastard", "cunt", "slut", "whore"],
    "es": ["mierda", "puta", "puto", "cabron", "pendejo", "cono", "joder", "gilipollas"],
    "fr": ["merde", "putain", "connard", "connasse", "salope", "encule", "pute", "batard"],
    "ar": ["عاهرة", "شرموطة", "منيوك", "خرا", "كس"],
}

# Personal details: e-mail addresses and phone numbers (7 or more digits,
# with spaces, dots or dashes between them).
PERSONAL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|(?:\+?\d[\s.\-]?){7,}")


def _plain(text: str) -> str:
    """Casefolded, without accents: "Cabrón" matches "cabron"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def matches(text: str, language: str, extra: list[str] | None = None) -> bool:
    if PERSONAL.search(text):
        return True
    words = {_plain(w) for w in [*WORDS.get(language, []), *WORDS["en"], *(extra or [])]}
    plain = _plain(text)
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", plain) for word in words if word)
