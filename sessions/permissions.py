"""Who may see and do what. Every view calls one of these first.

Outsiders get 404 (they learn nothing about what exists); members who may
look but not act get 403 (PermissionDenied).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from sessions.http import AuthenticatedHttpRequest
from sessions.models import Group, Membership, Participant, Session

PARTICIPANT_COOKIE = "butwhy_p_{}"
# A phone stays joined for a meeting's day. The signature carries the time it was
# made, so an older cookie is refused here even if a browser kept it.
PARTICIPANT_COOKIE_AGE = 12 * 60 * 60


def group_for_member(request: AuthenticatedHttpRequest, public_id: str) -> tuple[Group, str]:
    membership = (
        Membership.objects.select_related("group")
        .filter(group__public_id=public_id, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404("No such group.")
    return membership.group, membership.role


def group_for_facilitator(request: AuthenticatedHttpRequest, public_id: str) -> Group:
    group, role = group_for_member(request, public_id)
    if role != Membership.Role.FACILITATOR:
        raise PermissionDenied("Only the group's facilitators can do this.")
    return group


def session_for_member(request: AuthenticatedHttpRequest, public_id: str) -> tuple[Session, str]:
    """The session and the user's role in its group; 404 for everyone else."""
    session = (
        Session.objects.select_related("group", "focus", "follows")
        .filter(public_id=public_id, group__memberships__user=request.user)
        .annotate_role(request.user)
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    return session, session.role


def session_for_facilitator(request: AuthenticatedHttpRequest, public_id: str) -> Session:
    session, role = session_for_member(request, public_id)
    if role != Membership.Role.FACILITATOR:
        raise PermissionDenied("Only the group's facilitators can do this.")
    return session


def _participant_key(request: HttpRequest, public_id: str) -> str | None:
    name = PARTICIPANT_COOKIE.format(public_id)
    return request.get_signed_cookie(name, default=None, max_age=PARTICIPANT_COOKIE_AGE) or None


def participant_for(request: HttpRequest, session: Session) -> Participant | None:
    """The participant this browser joined `session` as, if any."""
    key = _participant_key(request, session.public_id)
    if key is None:
        return None
    return Participant.objects.filter(session=session, key=key).first()


def joined_session_pk(request: HttpRequest, public_id: str) -> int | None:
    """The pk of session `public_id` if this browser joined it, else None.

    One small query: a phone's stream asks this on every reconnect.
    """
    key = _participant_key(request, public_id)
    if key is None:
        return None
    return (
        Participant.objects.filter(session__public_id=public_id, key=key)
        .values_list("session_id", flat=True)
        .first()
    )
