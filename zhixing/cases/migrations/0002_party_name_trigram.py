"""Trigram index on party names for fuzzy name search on PostgreSQL.

pg_trgm's GIN index serves ``ILIKE '%...%'`` and similarity queries. SQLite has no such index;
its search falls back to a plain ``LIKE`` scan, which is fine at the size of one court.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS party_name_trgm ON cases_party USING gin (name gin_trgm_ops)"
DROP = "DROP INDEX IF EXISTS party_name_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
