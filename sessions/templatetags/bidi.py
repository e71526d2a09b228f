"""Which way people's words run, for pages that mix languages."""

import unicodedata

from django import template

register = template.Library()


@register.filter
def direction(text: object) -> str:
    """ "ltr" or "rtl", found as dir="auto" finds it: from the first strong letter.

    WeasyPrint does not implement dir="auto", so the printed summary states the
    direction itself; "auto" when the text has no letter to go by.
    """
    for char in str(text):
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in {"R", "AL"}:
            return "rtl"
    return "auto"
