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
