from django.db import migrations

ROLE_CODES = [
    "case_officer",
    "clerk",
    "bureau_head",
    "commander",
    "duty_officer",
    "judicial_police",
    "administrator",
]


def add_roles(apps, schema_editor):
    Role = apps.get_model("courts", "Role")
    for code in ROLE_CODES:
        Role.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("courts", "0001_initial")]
    operations = [migrations.RunPython(add_roles, migrations.RunPython.noop)]
