"""Keep one lifting notice per lifting, and record release items that failed or expired.

An application may now be lifted again after border control rejected the lifting or its release
item failed, so its lifting notices become a foreign key instead of a one-to-one relation. The
steps that record an agency's answer to a lifting now name the release item they answer. The
answer steps stored before this migration lack it, and each of their applications has a single
notice, so they get that notice's item.
"""

import django.db.models.deletion
from django.db import migrations, models


def name_answered_items(apps, schema_editor):
    """Add the release item of its application's notice to each lifting answer step."""
    Step = apps.get_model("approvals", "Step")
    LiftingNotice = apps.get_model("approvals", "LiftingNotice")
    items = dict(LiftingNotice.objects.values_list("application_id", "item_id"))
    for step in Step.objects.filter(kind="lifting_answered"):
        release = (
            step.detail.get("border_control_release") if isinstance(step.detail, dict) else None
        )
        item_id = items.get(step.application_id)
        if not isinstance(release, dict) or "item_id" in release or item_id is None:
            continue
        release["item_id"] = str(item_id)
        step.save(update_fields=["detail"])


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0006_lifting_notice"),
    ]

    operations = [
        migrations.AlterField(
            model_name="liftingnotice",
            name="application",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lifting_notices",
                to="approvals.application",
                verbose_name="application",
            ),
        ),
        migrations.AlterField(
            model_name="step",
            name="kind",
            field=models.CharField(
                choices=[
                    ("drafted", "Drafted"),
                    ("head_approved", "Signed by the bureau head"),
                    ("sealed", "Sealed"),
                    ("submitted", "Submitted"),
                    ("reviewed", "Reviewed and forwarded"),
                    ("received", "Received"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("executed", "Executed"),
                    ("lifted", "Lifted"),
                    ("agency_answered", "Answered by the agency"),
                    ("lifting_answered", "Lifting answered by the agency"),
                    ("lifting_failed", "Lifting request failed"),
                    ("comment", "Comment"),
                    ("overdue", "Overdue"),
                ],
                max_length=20,
                verbose_name="step",
            ),
        ),
        migrations.RunPython(name_answered_items, migrations.RunPython.noop, elidable=True),
    ]
