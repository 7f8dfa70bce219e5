"""Readable names for the second-factor models in the admin (issue 13)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0015_canonical_emails'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='emailcodedevice',
            options={'verbose_name': 'emailed sign-in codes', 'verbose_name_plural': 'emailed sign-in codes'},
        ),
        migrations.AlterModelOptions(
            name='recoverycodeset',
            options={'verbose_name': 'recovery codes', 'verbose_name_plural': 'recovery codes'},
        ),
    ]
