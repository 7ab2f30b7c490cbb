"""Move parties' addresses and phones to their links with cases.

A party's contact details were stored once, as the first court to file a case about the
person typed them, and shown to every court that later filed a case naming the same
document. They are copied to the party's first link, which is the case they were typed for.
"""

from django.db import migrations, models


def copy_to_first_links(apps, schema_editor):
    Party = apps.get_model("cases", "Party")
    CaseParty = apps.get_model("cases", "CaseParty")
    with_contact = Party.objects.exclude(address="", phone="").values_list("pk", "address", "phone")
    for pk, address, phone in with_contact.iterator():
        first = CaseParty.objects.filter(party_id=pk).order_by("pk").first()
        if first is not None:
            CaseParty.objects.filter(pk=first.pk).update(address=address, phone=phone)


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_import_job_language")]

    operations = [
        migrations.AddField(
            model_name="caseparty",
            name="address",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=300, verbose_name="address"
            ),
        ),
        migrations.AddField(
            model_name="caseparty",
            name="phone",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=30, verbose_name="phone"
            ),
        ),
        migrations.RunPython(copy_to_first_links, migrations.RunPython.noop),
        migrations.RemoveField(model_name="party", name="address"),
        migrations.RemoveField(model_name="party", name="phone"),
    ]
