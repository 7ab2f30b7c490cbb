"""Indexes for the command center's counts of the last day, which read all items before.

The gateway page counts per agency the items queued in the last 24 hours, the open items and
the failures of the last 24 hours. It grouped every item in the user's scope, a full scan that
grows with every query ever made. The open items have the partial indexes of 0005. The
failures get a partial index of their own. The items queued lately get a BRIN index on
``created_at`` on PostgreSQL: rows are stored roughly in the order they are created, so it
narrows the count to the last pages of the table, and it costs far less to keep up than a
B-tree, because it is updated once per range of pages. SQLite has no BRIN indexes; there the
count scans, which suits the size of one court's data.
"""

from django.db import migrations, models

CREATE_BRIN = (
    "CREATE INDEX IF NOT EXISTS gw_item_created_brin ON linkage_gatewayitem USING brin (created_at)"
)
DROP_BRIN = "DROP INDEX IF EXISTS gw_item_created_brin"


def create_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_BRIN)


def drop_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_BRIN)


class Migration(migrations.Migration):
    dependencies = [("linkage", "0005_partial_queue_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="gatewayitem",
            index=models.Index(
                condition=models.Q(("state__in", ["failed", "expired"])),
                fields=["updated_at"],
                name="gw_item_failed_at",
            ),
        ),
        migrations.RunPython(create_brin, drop_brin),
    ]
