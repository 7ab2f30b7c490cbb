"""Trigram index on UPPER(name), the expression Django's ``icontains`` searches on PostgreSQL.

``search.filter_cases`` looks parties up with ``name__icontains``, which PostgreSQL runs as
``UPPER(name::text) LIKE UPPER('%…%')``. The index of 0002 is on ``name`` itself, so the planner
could not use it and scanned the whole party table (about 100 ms at 200,000 cases). This index
is on the expression the query uses. It replaces the index of 0002, which no query used and
which slowed every insert. SQLite has neither index.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS party_name_upper_trgm ON cases_party "
    "USING gin ((UPPER(name::text)) gin_trgm_ops)"
)
DROP = "DROP INDEX IF EXISTS party_name_upper_trgm"
CREATE_OLD = (
    "CREATE INDEX IF NOT EXISTS party_name_trgm ON cases_party USING gin (name gin_trgm_ops)"
)
DROP_OLD = "DROP INDEX IF EXISTS party_name_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute(DROP_OLD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_OLD)
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_import_job")]
    operations = [migrations.RunPython(forwards, backwards)]
