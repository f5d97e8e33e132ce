"""The audit trail moves from moderation to this app: Django's state only.

The table stays ``moderation_auditevent`` (``Meta.db_table``), with its rows, indexes,
constraints, sequence and migration moderation/0002's append-only trigger: no SQL runs
(``manage.py sqlmigrate audit 0001`` prints none). moderation/0009 removes the model from
moderation's state once this one holds it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("moderation", "0006_comment_orphan_reply_idx"),
        ("policy", "0002_frozen_documents"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(auto_now_add=True)),
                        ("system_actor", models.CharField(blank=True, max_length=64)),
                        ("verb", models.CharField(max_length=64)),
                        ("target", models.CharField(blank=True, max_length=200)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("comment", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="audit_events", to="moderation.comment")),
                        ("ruleset_version", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="policy.rulesetversion")),
                    ],
                    options={
                        "db_table": "moderation_auditevent",
                        "ordering": ["-at", "-id"],
                        "indexes": [
                            models.Index(fields=["comment", "at"], name="audit_comment_idx"),
                            models.Index(fields=["verb", "-at"], name="audit_verb_idx"),
                        ],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("actor__isnull", False), models.Q(("system_actor", ""), _negated=True), _connector="OR"), name="audit_has_actor"),
                        ],
                    },
                ),
            ],
        ),
    ]
