"""Drop the tables of waffle's own flag model, which ``WAFFLE_FLAG_MODEL = "flags.Flag"``
swaps out: nothing reads them, and ``waffle_flag_users`` kept a foreign key to
``accounts_user`` that Django no longer knows of (a swapped model has no tables in its
eyes). On PostgreSQL that key made every flush of the database refuse to truncate the
users (every ``transaction=True`` test's teardown failed: "cannot truncate a table
referenced in a foreign key constraint").

Waffle's 0001 creates them without the ``swappable`` option that would have skipped them;
its later migrations alter only switches and samples and the flag's ``everyone`` column.
"""

from django.db import migrations

TABLES = ("waffle_flag_users", "waffle_flag_groups", "waffle_flag")


class Migration(migrations.Migration):
    dependencies = [
        ("flags", "0001_feature_flags"),
        ("waffle", "0004_update_everyone_nullbooleanfield"),
    ]

    operations = [
        migrations.RunSQL(
            [f"DROP TABLE IF EXISTS {table}" for table in TABLES],
            reverse_sql=migrations.RunSQL.noop,
        )
    ]
