"""Votes, actions and follow-ups stay inside their session (or group).

As in 0002: composite foreign keys on PostgreSQL; SQLite gets triggers after
every migrate (sessions/integrity.py). The list is frozen here, as history.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CAUSE = "facilitation_cause"
SESSION = "facilitation_session"
PARTICIPANT = "facilitation_participant"
VOTE = "facilitation_vote"
ACTION = "facilitation_action"
ACTION_LINK = "facilitation_actionlink"

# name, table, (scope column, link column), target table, target's scope column
LINKS = [
    ("session_follows_in_same_group", SESSION, ("group_id", "follows_id"), SESSION, "group_id"),
    ("vote_cause_in_same_session", VOTE, ("session_id", "cause_id"), CAUSE, "session_id"),
    ("vote_participant_in_same_session", VOTE, ("session_id", "participant_id"), PARTICIPANT, "session_id"),
    ("action_merged_into_same_session", ACTION, ("session_id", "merged_into_id"), ACTION, "session_id"),
    ("action_link_action_in_same_session", ACTION_LINK, ("session_id", "action_id"), ACTION, "session_id"),
    ("action_link_cause_in_same_session", ACTION_LINK, ("session_id", "cause_id"), CAUSE, "session_id"),
]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, (scope, link), target, target_scope in LINKS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({scope}, {link}) "
            f"REFERENCES {target} ({target_scope}, id) DEFERRABLE INITIALLY DEFERRED"
        )


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, *_rest in LINKS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")


class Migration(migrations.Migration):
    dependencies = [("facilitation", "0007_reflect_act_agree")]

    operations = [migrations.RunPython(forwards, backwards)]
