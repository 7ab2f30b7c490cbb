"""Store version 2 of the templates that printed the label 联系电话 with an empty phone.

Only a kind whose version in use is still the unchanged version 1 that migration 0002 or 0003
stored gets version 2 (``CHANGED_IN_0004``); a text that an administrator saved stays in use.
"""

from django.db import migrations

from zhixing.documents.defaults import ADDED_IN_0003, CHANGED_IN_0004, DEFAULTS_V1

NOTE = "默认文本更新：承办人没有联系电话时，不印空的“联系电话”。"


def add_version_2(apps, schema_editor):
    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    originals = {**DEFAULTS_V1, **ADDED_IN_0003}
    for code, (title, body) in CHANGED_IN_0004.items():
        rows = list(DocumentTemplate.objects.filter(code=code))
        if len(rows) != 1:
            continue
        (current,) = rows
        unchanged = (current.title, current.body) == originals[code]
        if not (current.active and current.version == 1 and unchanged):
            continue
        current.active = False
        current.save(update_fields=["active"])
        DocumentTemplate.objects.create(
            code=code, version=2, title=title, body=body, active=True, note=NOTE
        )


def remove_version_2(apps, schema_editor):
    DocumentTemplate = apps.get_model("documents", "DocumentTemplate")
    for code, (title, body) in CHANGED_IN_0004.items():
        added = DocumentTemplate.objects.filter(
            code=code, version=2, title=title, body=body, note=NOTE, updated_by__isnull=True
        ).first()
        if added is None or DocumentTemplate.objects.filter(code=code, version__gt=2).exists():
            continue
        was_active = added.active
        added.delete()
        if was_active:
            DocumentTemplate.objects.filter(code=code, version=1).update(active=True)


class Migration(migrations.Migration):
    dependencies = [("documents", "0003_border_control_lifting")]

    operations = [migrations.RunPython(add_version_2, remove_version_2)]
