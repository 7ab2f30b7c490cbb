"""Drop four indexes that no query reads, which every write of a party or flow node paid for.

The unique index on identity documents now leads with the number, so lookups by number alone
use it and the separate index on the number goes. The B-tree index on party names served no
query: name search matches fragments through the trigram index of migration 0004. Flow nodes
are never looked up by the user who recorded them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_drop_covered_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="party",
            name="party_unique_document",
        ),
        migrations.RemoveIndex(
            model_name="party",
            name="party_document_number",
        ),
        migrations.AlterField(
            model_name="flownode",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="party",
            name="name",
            field=models.CharField(max_length=200, verbose_name="name"),
        ),
        migrations.AddConstraint(
            model_name="party",
            constraint=models.UniqueConstraint(
                condition=models.Q(("document_number", ""), _negated=True),
                fields=("document_number", "document_type"),
                name="party_unique_document",
                violation_error_message="A party with this identity document already exists.",
            ),
        ),
    ]
