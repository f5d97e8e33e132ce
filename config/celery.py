"""The Celery app: worker and beat share it; configuration comes from Django settings."""

import logging
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The model reader runs in its own queue (DESIGN.md data flow), so a backlog of readings or
# a slow model never delays the rules' fast path, ingest, paging or platform actions; a
# worker consumes it with `-Q celery,reader` (./dev run, docker-compose.yml's worker).
app.conf.task_routes = {"moderation.tasks.comments_read_task": {"queue": "reader"}}

log = logging.getLogger(__name__)


def _matcher_warm() -> None:
    """Compile the published rule set (seconds of CPU) and judge one text, so the lazy parts
    are built too. Never stops a worker from starting: on failure the first comment pays."""
    try:
        from django.utils import timezone

        from policy.selectors import published_matcher

        published_matcher()[1].evaluate("warm up", platform="facebook", received_at=timezone.now())
    except Exception:  # noqa: BLE001 - e.g. the database is not migrated yet
        log.warning("could not warm the rule set matcher; the first comment will compile it", exc_info=True)


@worker_init.connect
def matcher_warm_before_fork(**kwargs):
    # In the main process, before the pool forks: every prefork child inherits the compiled
    # matcher (one compile per worker, not one per child, and none in front of a comment).
    # Close the connection it used so no child inherits a live socket.
    from django.db import connections

    _matcher_warm()
    connections.close_all()


@worker_process_init.connect
def matcher_warm_in_child(**kwargs):
    # Inherited from the main process, this finds the matcher compiled and costs nothing;
    # otherwise (a pool that does not fork from a warmed parent) it compiles here, before
    # the child takes its first task.
    from policy.selectors import published_matcher_compiled

    if not published_matcher_compiled():
        _matcher_warm()


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
