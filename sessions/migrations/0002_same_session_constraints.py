"""Keep a cause's parent, its merge target and a session's focus inside one session.

A plain foreign key cannot say "in the same session". PostgreSQL gets
composite foreign keys onto the (session, id) unique constraint; SQLite,
which cannot add constraints to a table, gets triggers that abort the write.
"""

from django.db import migrations

CAUSE = "facilitation_cause"
SESSION = "facilitation_session"

# name, table, (session column, cause column)
LINKS = [
    ("cause_parent_in_same_session", CAUSE, ("session_id", "parent_id")),
    ("cause_merged_into_same_session", CAUSE, ("session_id", "merged_into_id")),
    ("session_focus_in_same_session", SESSION, ("id", "focus_id")),
]


def forwards(apps, schema_editor):
    for name, table, (session_column, cause_column) in LINKS:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} "
                f"FOREIGN KEY ({session_column}, {cause_column}) "
                f"REFERENCES {CAUSE} (session_id, id) DEFERRABLE INITIALLY DEFERRED"
            )
        elif schema_editor.connection.vendor == "sqlite":
            check = (
                f"WHEN NEW.{cause_column} IS NOT NULL AND NEW.{session_column} IS NOT "
                f"(SELECT session_id FROM {CAUSE} WHERE id = NEW.{cause_column}) "
                f"BEGIN SELECT RAISE(ABORT, '{name}'); END"
            )
            schema_editor.execute(f"CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} {check}")
            schema_editor.execute(
                f"CREATE TRIGGER {name}_update BEFORE UPDATE OF {session_column}, {cause_column} "
                f"ON {table} {check}"
            )


def backwards(apps, schema_editor):
    for name, table, _columns in LINKS:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        elif schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER {name}_insert")
            schema_editor.execute(f"DROP TRIGGER {name}_update")


class Migration(migrations.Migration):
    dependencies = [("facilitation", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
