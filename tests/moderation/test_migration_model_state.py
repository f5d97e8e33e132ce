"""Migration 0011: verdicts stored before the model reader joined the pipeline are marked
"before" (never swept through the model, never paging about old comments); new ones wait
as pending."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from moderation import sweeps
from moderation.models import Verdict
from tests.factories import VerdictFactory

BEFORE = [("moderation", "0010_dryrun_version_related_name")]


@pytest.mark.django_db(transaction=True)
def test_verdicts_stored_before_the_reader_are_marked_before_and_not_swept():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    channel = old.get_model("moderation", "Channel").objects.create(platform="facebook", account_id="p", name="p")
    comment = old.get_model("moderation", "Comment").objects.create(
        platform="facebook", external_id="c1", channel=channel, text="old", received_at=timezone.now())
    old_verdict = old.get_model("moderation", "Verdict").objects.create(
        comment=comment, comment_revision=1, action="allow", escalation="none", signpost="none")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Verdict.objects.get(pk=old_verdict.pk).model_state == "before"
    assert VerdictFactory().model_state == "pending"
    counts = sweeps.pending_sweep(now=timezone.now() + dt.timedelta(hours=1), grace=dt.timedelta(seconds=60),
                                  batch=100)
    assert counts["unread"] == 1  # the new verdict only
