"""Normalising what people type, in one place for every form."""

import unicodedata

# Control and format characters other than ordinary white space have no
# place in a cause: they break layouts and can reorder text on a projector.
_ALLOWED_CONTROL = {"\n", "\t"}
# Bidi embeddings, overrides and isolates can flip the text around them; the
# pages set each answer's direction themselves (dir="auto"). Other format
# characters stay: emoji and many scripts need zero-width joiners.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normalise(value: str, *, multiline: bool = False) -> str:
    """No control characters, white space collapsed, trimmed, then NFC.

    NFC comes last: removing a character can bring a letter and an accent
    together, and they must then be composed.
    """
    value = "".join(
        ch
        for ch in value
        if ch in _ALLOWED_CONTROL
        or (unicodedata.category(ch) not in {"Cc", "Cs", "Co"} and ch not in _BIDI_CONTROLS)
    )
    if multiline:
        lines = [" ".join(line.split()) for line in value.splitlines()]
        kept: list[str] = []
        for line in lines:
            if line or (kept and kept[-1]):
                kept.append(line)
        value = "\n".join(kept).strip()
    else:
        value = " ".join(value.split())
    return unicodedata.normalize("NFC", value)


# Letters that draw nothing although Unicode files them as letters or symbols
# (Hangul fillers, the blank Braille pattern): an answer of only these shows
# as a blank cause, like one of only format characters.
_BLANK_LETTERS = set("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp"}
# What Django puts in place of bytes that are not UTF-8.
REPLACEMENT = "\ufffd"


def is_invisible(value: str) -> bool:
    """Whether `value` would show as nothing: only spaces, format characters
    (zero-width spaces and joiners, soft hyphens…), lone marks and fillers."""
    return all(
        ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in value
    )


def is_damaged(value: str) -> bool:
    """Whether the text arrived broken: bytes that were not UTF-8 come out of
    Django's form parsing as replacement characters."""
    return REPLACEMENT in value
