"""Indexes that serve the case list's order (newest filing first) with and without a court.

The case list sorts by ``filed_on DESC, id DESC`` and filters by a court subtree through a join
on the court path, so the planner cannot use ``case_court_filed`` to stop after one page. At
one million cases on PostgreSQL, the list of Guangzhou's courts read and sorted 226,000 rows
(about 700 ms for the page and 500 ms for its capped count):

- ``case_filed_id`` lets the page query walk cases newest first and stop after 50 matches
  (about 6 ms);
- ``case_court_filed_id`` contains the sort columns per court, so the capped count reads the
  index alone (about 50 ms instead of 500 ms).

They are created with SQL, like the trigram indexes, rather than declared on the model.
PostgreSQL and SQLite both create them.
"""

from django.db import migrations

INDEXES = {
    "case_filed_id": "(filed_on DESC, id DESC)",
    "case_court_filed_id": "(court_id, filed_on DESC, id DESC)",
}


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_party_name_upper_trigram")]
    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON cases_enforcementcase {columns}",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, columns in INDEXES.items()
    ]
