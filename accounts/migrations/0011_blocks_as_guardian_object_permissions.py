"""Blocks move into django-guardian's object permissions: a block becomes
``accounts.blocked_from_profile`` held by the blocked user on the blocker's profile, in the
direct-foreign-key table ``ProfilePermission``. Existing blocks are carried over."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def blocks_to_permissions(apps, schema_editor):
    Block = apps.get_model("accounts", "Block")
    ProfilePermission = apps.get_model("accounts", "ProfilePermission")
    if not Block.objects.exists():
        return
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    user_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    blocked, _ = Permission.objects.get_or_create(
        content_type=user_type,
        codename="blocked_from_profile",
        defaults={"name": "Blocked from seeing this profile"},
    )
    ProfilePermission.objects.bulk_create(
        ProfilePermission(
            user_id=block.blocked_id,
            content_object_id=block.blocker_id,
            permission=blocked,
            created_at=block.created_at,
        )
        for block in Block.objects.iterator()
    )


def permissions_to_blocks(apps, schema_editor):
    Block = apps.get_model("accounts", "Block")
    ProfilePermission = apps.get_model("accounts", "ProfilePermission")
    Block.objects.bulk_create(
        Block(
            blocker_id=row.content_object_id,
            blocked_id=row.user_id,
            created_at=row.created_at,
        )
        for row in ProfilePermission.objects.filter(
            permission__codename="blocked_from_profile"
        ).iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_staff_search_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "ordering": ["username"],
                "permissions": [
                    ("ban_user", "Can ban and unban users"),
                    ("change_role", "Can change users' roles"),
                    ("blocked_from_profile", "Blocked from seeing this profile"),
                ],
                "verbose_name": "user",
                "verbose_name_plural": "users",
            },
        ),
        migrations.CreateModel(
            name="ProfilePermission",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "content_object",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="profile_permissions_given",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "permission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="auth.permission",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddConstraint(
            model_name="profilepermission",
            constraint=models.CheckConstraint(
                condition=models.Q(("user", models.F("content_object")), _negated=True),
                name="accounts_profile_permission_not_self",
            ),
        ),
        migrations.AlterUniqueTogether(
            name="profilepermission",
            unique_together={("user", "permission", "content_object")},
        ),
        migrations.RunPython(blocks_to_permissions, permissions_to_blocks),
        migrations.DeleteModel(
            name="Block",
        ),
    ]
