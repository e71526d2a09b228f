"""Join codes: short, easy to read aloud from a projector and type on a phone.

The alphabet leaves out the characters people confuse (0/O, 1/I/L), so
31 symbols and 6 characters give about 887 million codes. Only open sessions
hold a code, so collisions stay rare and are retried.
"""

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6

_NOT_IN_ALPHABET = re.compile(f"[^{ALPHABET}]")


def new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str) -> str:
    """What someone typed, as a code: case and spaces or dashes don't matter."""
    return re.sub(r"[\s\-_.]", "", typed).upper()


def looks_valid(code: str) -> bool:
    return len(code) == LENGTH and not _NOT_IN_ALPHABET.search(code)


def spaced(code: str) -> str:
    """ABCDEF -> ABC DEF: easier to read from the back of a room."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"
