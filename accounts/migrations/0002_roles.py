"""Create the three roles as groups with their permissions.

The permissions are created here rather than left to post_migrate, so the groups exist with
their permissions straight after `migrate`, in tests and in production alike.
"""

from django.db import migrations

# Frozen copies: a migration must not import live code that may change later.
PERMISSIONS = {
    "work_queue": "Can work the moderation queue",
    "handle_escalations": "Can acknowledge and handle out-of-hours escalations",
    "manage_policy": "Can edit, test, publish and roll back moderation rules",
    "manage_rota": "Can edit the duty manager on-call rota",
    "view_audit": "Can read the audit trail",
}
ROLE_PERMISSIONS = {
    "Comms officer": ["work_queue"],
    "Duty manager": ["work_queue", "handle_escalations", "manage_rota", "view_audit"],
    "Policy admin": ["manage_policy", "manage_rota", "view_audit"],
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    ct, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    perms = {}
    for codename, name in PERMISSIONS.items():
        perms[codename], _ = Permission.objects.get_or_create(
            content_type=ct, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[c] for c in codenames])


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
