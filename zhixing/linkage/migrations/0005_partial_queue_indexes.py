"""Index only the open gateway items for the queue's lookups, and drop unread indexes.

Batch formation, polling, the lease sweep and the expiry look for pending, sent or
acknowledged items, a few thousand at a time, while answered items grow by the million. The
partial indexes hold the open items alone, and storing an answer no longer adds entries to
them. The index on the agency alone served no query, and the one on the case is covered by
gw_item_case_party.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_party_and_flow_indexes"),
        ("courts", "0002_roles"),
        ("linkage", "0004_agency_key_help"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="gatewayitem",
            name="gw_item_agency_due",
        ),
        migrations.RemoveIndex(
            model_name="gatewayitem",
            name="gw_item_state_lease",
        ),
        migrations.RemoveIndex(
            model_name="gatewayitem",
            name="gw_item_state_deadline",
        ),
        migrations.AlterField(
            model_name="gatewayitem",
            name="agency",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="items",
                to="linkage.agency",
                verbose_name="agency",
            ),
        ),
        migrations.AlterField(
            model_name="gatewayitem",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="gateway_items",
                to="cases.enforcementcase",
                verbose_name="enforcement case",
            ),
        ),
        migrations.AddIndex(
            model_name="gatewayitem",
            index=models.Index(
                condition=models.Q(("state", "pending")),
                fields=["agency", "next_attempt_at"],
                name="gw_item_pending_due",
            ),
        ),
        migrations.AddIndex(
            model_name="gatewayitem",
            index=models.Index(
                condition=models.Q(("state__in", ["sent", "acknowledged"])),
                fields=["agency", "court"],
                name="gw_item_outstanding",
            ),
        ),
        migrations.AddIndex(
            model_name="gatewayitem",
            index=models.Index(
                condition=models.Q(("state", "sent")),
                fields=["lease_until"],
                name="gw_item_sent_lease",
            ),
        ),
        migrations.AddIndex(
            model_name="gatewayitem",
            index=models.Index(
                condition=models.Q(("state__in", ["pending", "sent", "acknowledged"])),
                fields=["deadline"],
                name="gw_item_open_deadline",
            ),
        ),
    ]
