"""The plan's dated actions as a calendar file (RFC 5545), written by hand.

One all-day event per agreed action that has a date, with its first step
and who does it in the description. Lines end in CRLF and fold at 75 octets
(never inside a UTF-8 character); text escapes backslash, ";", "," and new
lines. The UID is stable per action, so importing the file again updates
the events instead of doubling them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from sessions import pdf
from sessions.models import Action, Session

LINE_OCTETS = 75


def escape(value: str) -> str:
    """TEXT as RFC 5545 §3.3.11 writes it; other control characters go."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(ch for ch in value if ch >= " " or ch == "\t")


def fold(line: str) -> str:
    """One content line, folded so that no line is longer than 75 octets."""
    out: list[str] = []
    current, size, limit = "", 0, LINE_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            # A continuation line starts with a space, which counts.
            current, size, limit = " ", 1, LINE_OCTETS
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out) + "\r\n"


def _date(value: date) -> str:
    return value.strftime("%Y%m%d")


def dated_plan(session: Session) -> list[Action]:
    """The plan's actions that have a date, in plan order (one query)."""
    return list(
        session.actions.filter(agreed=True, state=Action.State.VISIBLE, due__isnull=False).order_by(
            "plan_order", "id"
        )
    )


def description(action: Action) -> str:
    parts = []
    if action.first_step:
        parts.append(_("First step: %(step)s") % {"step": action.first_step})
    if action.owner:
        who = action.owner
        if action.owner_outside:
            who = _("%(owner)s (outside the group: to approach)") % {"owner": action.owner}
        parts.append(_("Who: %(owner)s") % {"owner": who})
    return "\n".join(parts)


def calendar(session: Session, now: datetime | None = None) -> bytes:
    """The calendar of the session's dated actions; a valid empty one if none."""
    stamp = (now or timezone.now()).astimezone(timezone.get_fixed_timezone(0))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//But why?//Plan//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(session.title)}",
    ]
    for action in dated_plan(session):
        assert action.due is not None
        lines += [
            "BEGIN:VEVENT",
            f"UID:action-{action.pk}-{session.public_id}@butwhy",
            f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
            f"DTSTART;VALUE=DATE:{_date(action.due)}",
            f"DTEND;VALUE=DATE:{_date(action.due + timedelta(days=1))}",
            f"SUMMARY:{escape(action.text)}",
        ]
        text = description(action)
        if text:
            lines.append(f"DESCRIPTION:{escape(text)}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines).encode("utf-8")


def download(session: Session) -> HttpResponse:
    """The calendar as a download, its words in the session's language."""
    with translation.override(session.language):
        body = calendar(session)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, pdf.filename(session, "ics", "plan")
    )
    return response
