from django.contrib import admin
from django.urls import include, path, register_converter

from sessions.views import (
    accounts,
    facilitating,
    health,
    organizing,
    participating,
    presenting,
    recovery,
    streams,
)


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
action = session + "actions/<int:action_id>/"

urlpatterns = [
    path("", organizing.home, name="home"),
    path("accounts/login/", organizing.login, name="login"),
    # Before Django's own: without e-mail, it says what to do instead.
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    # Invitations and links for a new password (sessions/views/accounts.py).
    # Any selector and verifier reach the view, so that a link cut short gets its own page.
    path("invite/<str:selector>/<str:verifier>/", accounts.invitation, name="invitation"),
    # Before the admin's own URLs: its login has the same limits as the other.
    path("admin/login/", organizing.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    # The language pickers post here (Django's set_language): a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    # A page whose CSRF token went stale fetches a fresh one here (static/js/csrf.js).
    path("csrf/", recovery.fresh_csrf_token, name="csrf_token"),
    # For load balancers and systemd: 200 while the database answers.
    path("healthz", health.healthz, name="healthz"),
    # Organizing
    path("groups/new/", organizing.group_create, name="group_create"),
    path("g/<pid:group_id>/", organizing.group_detail, name="group"),
    path("g/<pid:group_id>/members/", organizing.member_add, name="member_add"),
    path(
        "g/<pid:group_id>/members/<int:membership_id>/remove/",
        organizing.member_remove,
        name="member_remove",
    ),
    path(
        "g/<pid:group_id>/members/<int:membership_id>/password/",
        accounts.password_link,
        name="password_link",
    ),
    path("g/<pid:group_id>/invitations/", accounts.invitations, name="invitations"),
    path("g/<pid:group_id>/invitations/new/", accounts.invitation_create, name="invitation_create"),
    path(
        "g/<pid:group_id>/invitations/<int:invitation_id>/withdraw/",
        accounts.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("g/<pid:group_id>/delete/", organizing.group_delete, name="group_delete"),
    path("g/<pid:group_id>/agreements/", organizing.group_agreements, name="group_agreements"),
    path(
        "g/<pid:group_id>/agreements/default/",
        organizing.group_agreements_default,
        name="group_agreements_default",
    ),
    path("g/<pid:group_id>/support/", organizing.support_add, name="support_add"),
    path(
        "g/<pid:group_id>/support/<int:contact_id>/remove/",
        organizing.support_remove,
        name="support_remove",
    ),
    path("g/<pid:group_id>/sessions/new/", organizing.session_create, name="session_create"),
    path(
        "g/<pid:group_id>/actions/<int:action_id>/",
        organizing.action_follow_up,
        name="action_follow_up",
    ),
    path(session + "copy/", organizing.session_copy, name="session_copy"),
    path(session + "save-story/", organizing.save_story, name="save_story"),
    # Summaries and exports
    path(session + "summary/", organizing.summary, name="summary"),
    path("s/<pid:session_id>/summary.pdf", organizing.summary_pdf, name="summary_pdf"),
    path("s/<pid:session_id>/causes.csv", organizing.causes_csv, name="causes_csv"),
    path("s/<pid:session_id>/actions.csv", organizing.actions_csv, name="actions_csv"),
    path("s/<pid:session_id>/export.json", organizing.export_json, name="export_json"),
    path("s/<pid:session_id>/plan.ics", organizing.plan_ics, name="plan_ics"),
    # Facilitating
    path(session + "console/", facilitating.console, name="console"),
    path(session + "console/stream/", streams.console_stream, name="console_stream"),
    path(session + "open/", facilitating.open_session, name="open"),
    path(session + "close/", facilitating.close_session, name="close"),
    path(session + "end/", facilitating.end_session, name="end"),
    path(session + "moderation/", facilitating.set_moderation, name="moderation"),
    path(session + "pause/", facilitating.pause, name="pause"),
    path(session + "resume/", facilitating.resume, name="resume"),
    path(session + "agreements/start/", facilitating.start_questions, name="start_questions"),
    path(session + "agreements/show/", facilitating.show_agreements, name="show_agreements"),
    path(session + "causes/", facilitating.add_cause, name="add_cause"),
    path(session + "focus/", facilitating.focus_situation, name="focus_situation"),
    path(session + "why-else/", facilitating.why_else, name="why_else"),
    path(session + "lines/<int:line_id>/approve/", facilitating.approve_line, name="approve_line"),
    path(session + "lines/<int:line_id>/reject/", facilitating.reject_line, name="reject_line"),
    path(session + "lines/<int:line_id>/hide/", facilitating.hide_line, name="hide_line"),
    path(session + "lines/<int:line_id>/unhide/", facilitating.unhide_line, name="unhide_line"),
    path(session + "undo/", facilitating.undo, name="undo"),
    path(session + "delete/", facilitating.delete_session, name="delete_session"),
    path(cause, facilitating.cause_detail, name="cause"),
    path(cause + "focus/", facilitating.focus, name="focus"),
    path(cause + "approve/", facilitating.approve, name="approve"),
    path(cause + "edit-approve/", facilitating.edit_approve, name="edit_approve"),
    path(cause + "reject/", facilitating.reject, name="reject"),
    path(cause + "hide/", facilitating.hide, name="hide"),
    path(cause + "unhide/", facilitating.unhide, name="unhide"),
    path(cause + "edit/", facilitating.edit_cause, name="edit_cause"),
    path(cause + "merge/", facilitating.merge_cause, name="merge_cause"),
    path(cause + "move/", facilitating.move_cause, name="move_cause"),
    path(cause + "tags/", facilitating.tag_cause, name="tag_cause"),
    path(cause + "matters/", facilitating.matters_most, name="matters_most"),
    path(cause + "level/", facilitating.place_cause, name="place_cause"),
    path(cause + "work-on/", facilitating.work_on, name="work_on"),
    path(session + "work-on/whole/", facilitating.work_on_whole, name="work_on_whole"),
    path(session + "levels/view/", facilitating.levels_view, name="levels_view"),
    path(session + "levels/phones/", facilitating.level_suggestions, name="level_suggestions"),
    path(session + "phase/", facilitating.set_phase, name="phase"),
    path(session + "voting/", facilitating.set_voting, name="voting"),
    path(session + "votes/reveal/", facilitating.reveal_votes, name="reveal_votes"),
    path(session + "votes/hide/", facilitating.hide_votes, name="hide_votes"),
    path(session + "board/", facilitating.set_board, name="board"),
    path(session + "review/<int:action_id>/", facilitating.review_action, name="review_action"),
    path(session + "timer/", facilitating.start_timer, name="start_timer"),
    path(session + "timer/stop/", facilitating.stop_timer, name="stop_timer"),
    path(session + "actions/", facilitating.add_action, name="add_action"),
    path(action, facilitating.action_detail, name="action"),
    path(action + "approve/", facilitating.approve_action, name="approve_action"),
    path(action + "reject/", facilitating.reject_action, name="reject_action"),
    path(action + "hide/", facilitating.hide_action, name="hide_action"),
    path(action + "unhide/", facilitating.unhide_action, name="unhide_action"),
    path(action + "edit/", facilitating.edit_action, name="edit_action"),
    path(action + "merge/", facilitating.merge_action, name="merge_action"),
    path(action + "agree/", facilitating.agree_action, name="agree_action"),
    path(action + "leave-plan/", facilitating.leave_plan, name="leave_plan"),
    path(action + "up/", facilitating.plan_up, name="plan_up"),
    path(action + "down/", facilitating.plan_down, name="plan_down"),
    # Presenting
    path(session + "present/", presenting.present, name="present"),
    path(session + "present/stream/", streams.present_stream, name="present_stream"),
    path(session + "qr.svg", presenting.qr_code, name="qr"),
    path(session + "take-home-qr.svg", presenting.take_home_qr, name="take_home_qr"),
    # Participating
    path("join/", participating.join, name="join"),
    path("join/<pid:code>/", participating.join_code, name="join_code"),
    path("p/<pid:session_id>/", participating.phone, name="phone"),
    path("p/<pid:session_id>/answers/", participating.answer, name="answer"),
    path("p/<pid:session_id>/agree/", participating.agree, name="agree"),
    path("p/<pid:session_id>/support/", participating.support, name="support"),
    path("p/<pid:session_id>/lines/", participating.closing_line, name="closing_line"),
    path("p/<pid:session_id>/home/", participating.take_home, name="take_home"),
    path("p/<pid:session_id>/plan.ics", participating.take_home_ics, name="take_home_ics"),
    path(
        "p/<pid:session_id>/answers/<int:cause_id>/withdraw/",
        participating.withdraw,
        name="withdraw",
    ),
    path("p/<pid:session_id>/stream/", streams.phone_stream, name="phone_stream"),
    path("p/<pid:session_id>/votes/", participating.vote, name="vote"),
    path("p/<pid:session_id>/actions/", participating.propose_action, name="propose_action"),
    path(
        "p/<pid:session_id>/actions/<int:action_id>/withdraw/",
        participating.withdraw_action,
        name="withdraw_action",
    ),
]

# While the database is away: 503 "try again" instead of 500.
handler500 = "sessions.views.recovery.server_error"
