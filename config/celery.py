"""The Celery app: worker and beat share it; configuration comes from Django settings."""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    # The sweeper is the safety net for the "database first" invariant: anything committed
    # whose doorbell message was lost (Redis restart, killed worker) is queued again.
    sender.add_periodic_task(
        float(settings.SWEEPER_INTERVAL_SECONDS),
        sender.signature("moderation.tasks.pending_sweep_task"),
        name="sweep pending work",
    )
    # Out-of-hours paging: the backup duty manager is paged when nobody acknowledges within
    # DUTY_ACK_MINUTES, and escalations whose page message was lost are paged again.
    sender.add_periodic_task(
        float(settings.ESCALATION_SWEEP_INTERVAL_SECONDS),
        sender.signature("moderation.tasks.escalation_sweep_task"),
        name="page unacknowledged escalations",
    )
    # Policy dry runs (issue 6) whose doorbell was lost, or whose worker died, are rung again.
    sender.add_periodic_task(
        float(settings.SWEEPER_INTERVAL_SECONDS),
        sender.signature("moderation.tasks.dryrun_sweep_task"),
        name="sweep lost dry runs",
    )
    # Platform polling (issue 4): claim the channels due a poll (Channel.next_poll_at) and
    # ring one poll task each. Cheap when nothing is due: one indexed query.
    sender.add_periodic_task(
        float(settings.POLL_SCHEDULER_SECONDS),
        sender.signature("moderation.tasks.channels_poll_due_task"),
        name="poll channels that are due",
    )
