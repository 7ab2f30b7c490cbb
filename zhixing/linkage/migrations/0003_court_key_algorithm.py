"""Court keys per algorithm: courts sign with seal certificates or SM2 keys, not Ed25519.

The existing rows are the courts' Ed25519 key pairs and are marked as such. They stay, so
that a message signed before the upgrade can still be checked by hand, but nothing signs with
them any more. A court may now hold one key per algorithm, so the one-to-one link becomes a
foreign key with a unique (court, algorithm) pair.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0002_restrict_exit_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="courtkey",
            name="algorithm",
            field=models.CharField(
                choices=[("ed25519", "Ed25519 (no longer used)"), ("sm2", "SM2 with SM3")],
                # Every row before this migration is an Ed25519 key pair.
                default="ed25519",
                max_length=16,
                verbose_name="algorithm",
            ),
            preserve_default=False,
        ),
        migrations.RenameField(
            model_name="courtkey", old_name="public_key_pem", new_name="public_key"
        ),
        migrations.RenameField(
            model_name="courtkey", old_name="private_key_pem", new_name="private_key"
        ),
        migrations.AlterField(
            model_name="courtkey",
            name="public_key",
            field=models.TextField(verbose_name="public key"),
        ),
        migrations.AlterField(
            model_name="courtkey",
            name="private_key",
            field=models.TextField(editable=False, verbose_name="encrypted private key"),
        ),
        migrations.AlterField(
            model_name="courtkey",
            name="court",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="gateway_keys",
                to="courts.court",
                verbose_name="court",
            ),
        ),
        migrations.AddConstraint(
            model_name="courtkey",
            constraint=models.UniqueConstraint(
                fields=("court", "algorithm"),
                name="linkage_one_court_key_per_algorithm",
                violation_error_message="This court already has a key of this algorithm.",
            ),
        ),
    ]
