"""DryRun.version gets a reverse name, so the policy version page reads a version's dry runs
without importing moderation. No SQL: a related name is Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("moderation", "0009_auditevent_moved_to_audit"),
        ("policy", "0002_frozen_documents"),
    ]

    operations = [
        migrations.AlterField(
            model_name="dryrun",
            name="version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="dry_runs", to="policy.rulesetversion"),
        ),
    ]
