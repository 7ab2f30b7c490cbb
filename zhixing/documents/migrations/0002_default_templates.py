"""Store version 1 of every document template: the default texts of DEFAULTS_V1."""

from django.db import migrations

from zhixing.documents.defaults import DEFAULTS_V1


def add_defaults(apps, schema_editor):
    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    for code, (title, body) in DEFAULTS_V1.items():
        DocumentTemplate.objects.get_or_create(
            code=code,
            version=1,
            defaults={"title": title, "body": body, "active": True, "note": ""},
        )


def remove_defaults(apps, schema_editor):
    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    DocumentTemplate.objects.filter(version=1, updated_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
