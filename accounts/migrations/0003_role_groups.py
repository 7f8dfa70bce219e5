"""Create one group per role. Their permissions are (re)applied by ``manage.py sync_roles``
once roles carry permissions; until then a role is its group's name."""

from django.db import migrations

ROLES = ["user", "tester", "moderator", "admin", "superadmin"]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_sessions_audit_password_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
