"""Drop two indexes of asset records that no query reads.

Lookups by case use asset_case_party, which leads with the case; no query looks records up by
their source agency.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_party_and_flow_indexes"),
        ("inquiry", "0002_query_approval"),
        ("linkage", "0005_partial_queue_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="assetrecord",
            name="agency",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="linkage.agency",
                verbose_name="source agency",
            ),
        ),
        migrations.AlterField(
            model_name="assetrecord",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assets",
                to="cases.enforcementcase",
                verbose_name="enforcement case",
            ),
        ),
    ]
