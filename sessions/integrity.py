"""Keep a cause's parent, its merge target and a session's focus inside one session.

A plain foreign key cannot say "in the same session". PostgreSQL has
composite foreign keys onto the (session, id) unique constraint (migration
0002). SQLite cannot add constraints to a table, and Django's SQLite
migrations rebuild a table to alter it, which drops its triggers: so the
SQLite triggers are dropped before every `migrate` and made again after it.
"""

from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate

CAUSE = "facilitation_cause"
SESSION = "facilitation_session"

# name, table, (session column, cause column)
LINKS = [
    ("cause_parent_in_same_session", CAUSE, ("session_id", "parent_id")),
    ("cause_merged_into_same_session", CAUSE, ("session_id", "merged_into_id")),
    ("session_focus_in_same_session", SESSION, ("id", "focus_id")),
]


def _sqlite(using: str):
    connection = connections[using]
    return connection if connection.vendor == "sqlite" else None


def drop_triggers(using: str = "default", **kwargs) -> None:
    if (connection := _sqlite(using)) is None:
        return
    with connection.cursor() as cursor:
        for name, _table, _columns in LINKS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}_insert")
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}_update")


def create_triggers(using: str = "default", **kwargs) -> None:
    if (connection := _sqlite(using)) is None:
        return
    tables = set(connection.introspection.table_names())
    if not {CAUSE, SESSION} <= tables:
        return
    with connection.cursor() as cursor:
        for name, table, (session_column, cause_column) in LINKS:
            check = (
                f"WHEN NEW.{cause_column} IS NOT NULL AND NEW.{session_column} IS NOT "
                f"(SELECT session_id FROM {CAUSE} WHERE id = NEW.{cause_column}) "
                f"BEGIN SELECT RAISE(ABORT, '{name}'); END"
            )
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name}_insert BEFORE INSERT ON {table} {check}"
            )
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name}_update "
                f"BEFORE UPDATE OF {session_column}, {cause_column} ON {table} {check}"
            )


def connect(app_config) -> None:
    pre_migrate.connect(drop_triggers, sender=app_config, dispatch_uid="butwhy_drop_triggers")
    post_migrate.connect(create_triggers, sender=app_config, dispatch_uid="butwhy_make_triggers")
