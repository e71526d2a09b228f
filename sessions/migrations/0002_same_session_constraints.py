"""Keep a cause's parent, its merge target and a session's focus inside one session.

A plain foreign key cannot say "in the same session". PostgreSQL gets
composite foreign keys onto the (session, id) unique constraint. SQLite gets
triggers instead, made after every migrate (sessions/integrity.py), because
its migrations rebuild tables and lose their triggers.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CAUSE = "facilitation_cause"
SESSION = "facilitation_session"

# name, table, (session column, cause column)
LINKS = [
    ("cause_parent_in_same_session", CAUSE, ("session_id", "parent_id")),
    ("cause_merged_into_same_session", CAUSE, ("session_id", "merged_into_id")),
    ("session_focus_in_same_session", SESSION, ("id", "focus_id")),
]


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name, table, (session_column, cause_column) in LINKS:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} "
                f"FOREIGN KEY ({session_column}, {cause_column}) "
                f"REFERENCES {CAUSE} (session_id, id) DEFERRABLE INITIALLY DEFERRED"
            )


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name, table, _columns in LINKS:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")


class Migration(migrations.Migration):
    dependencies = [("facilitation", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
