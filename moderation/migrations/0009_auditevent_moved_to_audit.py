"""AuditEvent now belongs to the audit app (audit/0001): removed from moderation's state
only. The table, its rows and migration 0002's append-only trigger stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("moderation", "0008_decision_item_status_before"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
