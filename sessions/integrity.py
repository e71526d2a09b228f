"""Keep links between a session's rows inside that session (or group).

A cause's parent and merge target, a session's focus, a vote's cause and
participant, an action's causes and merge target: a plain foreign key cannot
say "in the same session". PostgreSQL has composite foreign keys onto
(session, id) unique constraints (migrations 0002 and 0007). SQLite cannot
add constraints to a table, and Django's SQLite migrations rebuild a table to
alter it, which drops its triggers: so the SQLite triggers are dropped before
every `migrate` and made again after it.
"""

from django.apps import AppConfig
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.signals import post_migrate, pre_migrate

CAUSE = "facilitation_cause"
SESSION = "facilitation_session"
PARTICIPANT = "facilitation_participant"
VOTE = "facilitation_vote"
ACTION = "facilitation_action"
ACTION_LINK = "facilitation_actionlink"

# name, table, (scope column, link column), target table, target's scope column
LINKS = [
    ("cause_parent_in_same_session", CAUSE, ("session_id", "parent_id"), CAUSE, "session_id"),
    (
        "cause_merged_into_same_session",
        CAUSE,
        ("session_id", "merged_into_id"),
        CAUSE,
        "session_id",
    ),
    ("session_focus_in_same_session", SESSION, ("id", "focus_id"), CAUSE, "session_id"),
    ("session_follows_in_same_group", SESSION, ("group_id", "follows_id"), SESSION, "group_id"),
    ("vote_cause_in_same_session", VOTE, ("session_id", "cause_id"), CAUSE, "session_id"),
    (
        "vote_participant_in_same_session",
        VOTE,
        ("session_id", "participant_id"),
        PARTICIPANT,
        "session_id",
    ),
    (
        "action_merged_into_same_session",
        ACTION,
        ("session_id", "merged_into_id"),
        ACTION,
        "session_id",
    ),
    (
        "action_link_action_in_same_session",
        ACTION_LINK,
        ("session_id", "action_id"),
        ACTION,
        "session_id",
    ),
    (
        "action_link_cause_in_same_session",
        ACTION_LINK,
        ("session_id", "cause_id"),
        CAUSE,
        "session_id",
    ),
]


def _sqlite(using: str) -> BaseDatabaseWrapper | None:
    connection = connections[using]
    return connection if connection.vendor == "sqlite" else None


def drop_triggers(using: str = "default", **kwargs: object) -> None:
    if (connection := _sqlite(using)) is None:
        return
    with connection.cursor() as cursor:
        for name, *_rest in LINKS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}_insert")
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}_update")


def create_triggers(using: str = "default", **kwargs: object) -> None:
    if (connection := _sqlite(using)) is None:
        return
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for name, table, (scope, link), target, target_scope in LINKS:
            if not {table, target} <= tables:
                continue
            check = (
                f"WHEN NEW.{link} IS NOT NULL AND NEW.{scope} IS NOT "
                f"(SELECT {target_scope} FROM {target} WHERE id = NEW.{link}) "
                f"BEGIN SELECT RAISE(ABORT, '{name}'); END"
            )
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name}_insert BEFORE INSERT ON {table} {check}"
            )
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name}_update "
                f"BEFORE UPDATE OF {scope}, {link} ON {table} {check}"
            )


def connect(app_config: AppConfig) -> None:
    pre_migrate.connect(drop_triggers, sender=app_config, dispatch_uid="butwhy_drop_triggers")
    post_migrate.connect(create_triggers, sender=app_config, dispatch_uid="butwhy_make_triggers")
