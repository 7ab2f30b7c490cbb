"""Add ReportDelivery.overdue_alerted_at, and drop escalations that never happened.

Before this migration, a delivery to the high court that was not acknowledged in time got an
``escalated_at`` although no court above it is on the platform, so nothing was sent. Those
times are cleared, so that the escalation timer alerts the high court's command center again
and sets ``overdue_alerted_at``, if the delivery is still not acknowledged.
"""

from django.db import migrations, models


def clear_escalations_of_top_courts(apps, schema_editor):
    ReportDelivery = apps.get_model("reports", "ReportDelivery")
    ReportDelivery.objects.filter(court__parent__isnull=True, escalated_at__isnull=False).update(
        escalated_at=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("courts", "0002_roles"),
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportdelivery",
            name="overdue_alerted_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="alerted again when overdue"
            ),
        ),
        # Reversing keeps the cleared times cleared: they recorded nothing that happened.
        migrations.RunPython(clear_escalations_of_top_courts, migrations.RunPython.noop),
    ]
