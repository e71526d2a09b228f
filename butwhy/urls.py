from django.contrib import admin
from django.urls import include, path, register_converter

from sessions.views import facilitating, organizing, participating, presenting


class PublicId:
    """What new_public_id() makes: anything else is a 404 before any query."""

    regex = "[A-Za-z0-9_-]{1,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PublicId, "pid")

session = "s/<pid:session_id>/"
cause = session + "causes/<int:cause_id>/"

urlpatterns = [
    path("", organizing.home, name="home"),
    path("accounts/login/", organizing.login, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    # Organizing
    path("groups/new/", organizing.group_create, name="group_create"),
    path("g/<pid:group_id>/", organizing.group_detail, name="group"),
    path("g/<pid:group_id>/members/", organizing.member_add, name="member_add"),
    path(
        "g/<pid:group_id>/members/<int:membership_id>/remove/",
        organizing.member_remove,
        name="member_remove",
    ),
    path("g/<pid:group_id>/delete/", organizing.group_delete, name="group_delete"),
    path("g/<pid:group_id>/sessions/new/", organizing.session_create, name="session_create"),
    # Facilitating
    path(session + "console/", facilitating.console, name="console"),
    path(session + "console/stream/", facilitating.console_stream, name="console_stream"),
    path(session + "open/", facilitating.open_session, name="open"),
    path(session + "close/", facilitating.close_session, name="close"),
    path(session + "moderation/", facilitating.set_moderation, name="moderation"),
    path(session + "causes/", facilitating.add_cause, name="add_cause"),
    path(session + "focus/", facilitating.focus_situation, name="focus_situation"),
    path(session + "undo/", facilitating.undo, name="undo"),
    path(session + "delete/", facilitating.delete_session, name="delete_session"),
    path(cause, facilitating.cause_detail, name="cause"),
    path(cause + "focus/", facilitating.focus, name="focus"),
    path(cause + "approve/", facilitating.approve, name="approve"),
    path(cause + "reject/", facilitating.reject, name="reject"),
    path(cause + "hide/", facilitating.hide, name="hide"),
    path(cause + "unhide/", facilitating.unhide, name="unhide"),
    path(cause + "edit/", facilitating.edit_cause, name="edit_cause"),
    path(cause + "merge/", facilitating.merge_cause, name="merge_cause"),
    path(cause + "move/", facilitating.move_cause, name="move_cause"),
    # Presenting
    path(session + "present/", presenting.present, name="present"),
    path(session + "present/stream/", presenting.present_stream, name="present_stream"),
    path(session + "qr.svg", presenting.qr_code, name="qr"),
    # Participating
    path("join/", participating.join, name="join"),
    path("join/<pid:code>/", participating.join_code, name="join_code"),
    path("p/<pid:session_id>/", participating.phone, name="phone"),
    path("p/<pid:session_id>/answers/", participating.answer, name="answer"),
    path(
        "p/<pid:session_id>/answers/<int:cause_id>/withdraw/",
        participating.withdraw,
        name="withdraw",
    ),
    path("p/<pid:session_id>/stream/", participating.phone_stream, name="phone_stream"),
]
