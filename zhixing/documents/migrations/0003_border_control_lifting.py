"""Add the kind border_control_lifting and store version 1 of its template."""

from django.db import migrations, models

from zhixing.documents.defaults import ADDED_IN_0003


def add_defaults(apps, schema_editor):
    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    for code, (title, body) in ADDED_IN_0003.items():
        DocumentTemplate.objects.get_or_create(
            code=code,
            version=1,
            defaults={"title": title, "body": body, "active": True, "note": ""},
        )


def remove_defaults(apps, schema_editor):
    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    DocumentTemplate.objects.filter(
        code__in=list(ADDED_IN_0003), version=1, updated_by__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_default_templates"),
    ]

    operations = [
        migrations.AlterField(
            model_name="documenttemplate",
            name="code",
            field=models.CharField(
                choices=[
                    ("ruling_freeze", "Enforcement ruling: freeze"),
                    ("ruling_deduct", "Enforcement ruling: deduction"),
                    ("ruling_seize", "Enforcement ruling: seizure"),
                    ("assistance_notice_query", "Assistance notice: query"),
                    ("assistance_notice_freeze", "Assistance notice: freeze"),
                    ("assistance_notice_renew_freeze", "Assistance notice: renewed freeze"),
                    ("assistance_notice_release_freeze", "Assistance notice: release of a freeze"),
                    ("assistance_notice_deduct", "Assistance notice: deduction"),
                    (
                        "assistance_notice_seize_real_estate",
                        "Assistance notice: seizure of real estate",
                    ),
                    (
                        "assistance_notice_release_real_estate",
                        "Assistance notice: release of real estate",
                    ),
                    ("assistance_notice_seize_vehicle", "Assistance notice: seizure of a vehicle"),
                    (
                        "assistance_notice_release_vehicle",
                        "Assistance notice: release of a vehicle",
                    ),
                    ("exit_restriction_decision", "Exit-restriction decision"),
                    ("border_control_request", "Border-control request"),
                    ("border_control_lifting", "Notice lifting an exit restriction"),
                    ("seizure_renewal_form", "Seizure-renewal application and approval form"),
                ],
                max_length=64,
                verbose_name="document kind",
            ),
        ),
        migrations.RunPython(add_defaults, remove_defaults),
    ]
