"""The dry run over stored comments (moderation/dryrun.py) and per-rule decision statistics."""

import datetime as dt

import pytest
from django.utils import timezone

from moderation import dryrun, sweeps
from moderation.models import Decision, DryRun, Verdict
from policy.models import RuleSetVersion
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(draft, officer):
    """Draft v2 adds "shambles" to the insults list. Four stored comments, two decided."""
    doc = draft.document
    doc["term_lists"]["insults"].append("shambles")
    RuleSetVersion.objects.filter(pk=draft.pk).update(document=doc)
    now = timezone.now()
    comments = {
        "shambles": CommentFactory(
            text="You lot are a shambles", received_at=now - dt.timedelta(days=1)
        ),
        "old_shambles": CommentFactory(
            text="What a shambles this is", received_at=now - dt.timedelta(days=40)
        ),
        "idiots": CommentFactory(text="You are all idiots", received_at=now - dt.timedelta(days=2)),
        "praise": CommentFactory(
            text="Great to see the new clinic open.", received_at=now - dt.timedelta(days=3)
        ),
    }
    Decision.objects.create(comment=comments["shambles"], kind="hide", decided_by=officer)
    Decision.objects.create(comment=comments["praise"], kind="approve", decided_by=officer)
    return comments


def test_dry_run_counts_the_difference_and_agreement(history, draft, published):
    run = DryRun.objects.create(version=draft, baseline=published, days=None)
    run = dryrun.dryrun_execute(dryrun_id=run.pk)
    t = run.totals
    assert (run.status, run.progress, run.total) == ("done", 4, 4)
    assert {
        k: t[k]
        for k in (
            "comments",
            "flagged_before",
            "flagged_after",
            "newly_flagged",
            "no_longer_flagged",
            "action_changed",
            "escalation_changed",
            "decided",
            "agree_before",
            "agree_after",
        )
    } == {
        "comments": 4,
        "flagged_before": 1,
        "flagged_after": 3,
        "newly_flagged": 2,
        "no_longer_flagged": 0,
        "action_changed": 0,
        "escalation_changed": 0,
        "decided": 2,
        "agree_before": 1,
        "agree_after": 2,
    }
    assert t["rules"]["abuse-directed-insult"] == {
        "fired_after": 3,
        "fired_before": 1,
        "newly_flagged": 2,
    }
    examples = run.examples["newly_flagged"]
    assert sorted(e["text"] for e in examples) == [
        "What a shambles this is",
        "You lot are a shambles",
    ]
    shambles = next(e for e in examples if e["comment_id"] == history["shambles"].pk)
    assert shambles["before"] == {
        "action": "allow",
        "escalation": "none",
        "signpost": "none",
        "rules": [],
    }
    assert shambles["after"]["action"] == "hide" and shambles["after"]["rules"] == [
        "abuse-directed-insult"
    ]
    assert shambles["officer"] == "removed"
    assert sorted(
        (e["kind"], e["text"]) for e in run.examples["by_rule"]["abuse-directed-insult"]
    ) == [
        ("newly_flagged", "What a shambles this is"),
        ("newly_flagged", "You lot are a shambles"),
    ]


def test_dry_run_last_n_days_only(history, draft, published):
    run = DryRun.objects.create(version=draft, baseline=published, days=30)
    run = dryrun.dryrun_execute(dryrun_id=run.pk)
    assert (run.totals["comments"], run.totals["newly_flagged"]) == (3, 1)


def test_dry_run_task_twice_is_idempotent(history, draft, published):
    from moderation.tasks import dryrun_execute_task

    run = DryRun.objects.create(version=draft, baseline=published)
    dryrun_execute_task(dryrun_id=run.pk)
    run.refresh_from_db()
    first = (run.status, run.totals, run.examples, run.finished_at)
    dryrun_execute_task(dryrun_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.totals, run.examples, run.finished_at) == first
    assert first[0] == "done"


def test_missing_dry_run_is_a_no_op():
    assert dryrun.dryrun_execute(dryrun_id=123456) is None


def test_abandoned_running_dry_run_is_taken_over(history, draft, published):
    stale = timezone.now() - dryrun.STALE_AFTER - dt.timedelta(seconds=1)
    run = DryRun.objects.create(
        version=draft, baseline=published, status="running", heartbeat_at=stale
    )
    assert dryrun.dryrun_execute(dryrun_id=run.pk).status == "done"
    fresh = DryRun.objects.create(
        version=draft, baseline=published, status="running", heartbeat_at=timezone.now()
    )
    assert dryrun.dryrun_execute(dryrun_id=fresh.pk).status == "running"


def test_parallel_path_gives_the_same_totals(history, draft, published, monkeypatch):
    serial = dryrun.dryrun_execute(
        dryrun_id=DryRun.objects.create(version=draft, baseline=published).pk
    )
    monkeypatch.setattr(dryrun, "PARALLEL_MIN_ROWS", 1)
    parallel = dryrun.dryrun_execute(
        dryrun_id=DryRun.objects.create(version=draft, baseline=published).pk
    )
    assert parallel.totals == serial.totals
    assert parallel.examples["newly_flagged"] and parallel.examples == serial.examples


def test_rule_decision_stats_counts_overturns(db, published, officer):
    def judged(text, action, rules, kind=None):
        c = CommentFactory(text=text)
        Verdict.objects.create(
            comment=c,
            comment_revision=1,
            ruleset_version=published,
            action=action,
            escalation="none",
            signpost="none",
            rules=[{"id": r, "category": "abuse", "clause": "x", "spans": []} for r in rules],
        )
        if kind:
            Decision.objects.create(comment=c, kind=kind, decided_by=officer)
        return c

    judged("a", "hide", ["abuse-directed-insult"], "approve")  # overturned: officer kept it
    judged("b", "hide", ["abuse-directed-insult"], "hide")  # agreed
    judged("c", "hide", ["abuse-directed-insult"])  # not decided
    judged("d", "allow", ["complaint-words"], "delete")  # overturned: officer removed it
    judged("e", "allow", [], "hide")  # missed by every rule
    c = judged("f", "hide", ["abuse-directed-insult"], "hide")
    Decision.objects.create(comment=c, kind="approve", decided_by=officer)  # latest decision wins
    stats = dryrun.rule_decision_stats()
    assert (stats["decided"], stats["missed"]) == (5, 1)
    rows = {r["id"]: r for r in stats["rules"]}
    assert rows["abuse-directed-insult"] == {
        "id": "abuse-directed-insult",
        "category": "abuse",
        "fired": 4,
        "decided": 3,
        "overturned_kept": 2,
        "overturned_removed": 0,
        "overturned": 2,
        "overturn_pct": 67,
    }
    assert (
        rows["complaint-words"]["overturned_removed"],
        rows["complaint-words"]["overturn_pct"],
    ) == (1, 100)
    assert [r["id"] for r in stats["rules"]] == ["complaint-words", "abuse-directed-insult"]


def test_sweep_rings_again_only_for_lost_runs(draft, published, broker):
    now = timezone.now()
    lost = DryRun.objects.create(version=draft, baseline=published)
    DryRun.objects.filter(pk=lost.pk).update(created_at=now - dt.timedelta(minutes=5))
    fresh = DryRun.objects.create(version=draft, baseline=published)
    died = DryRun.objects.create(
        version=draft,
        baseline=published,
        status="running",
        heartbeat_at=now - dryrun.STALE_AFTER - dt.timedelta(seconds=1),
    )
    DryRun.objects.create(version=draft, baseline=published, status="running", heartbeat_at=now)
    DryRun.objects.create(version=draft, baseline=published, status="done", finished_at=now)
    assert sweeps.dryrun_sweep(grace=dt.timedelta(seconds=60), batch=10, now=now) == 2
    assert broker.messages() == [
        ("moderation.tasks.dryrun_execute_task", {"dryrun_id": lost.pk}),
        ("moderation.tasks.dryrun_execute_task", {"dryrun_id": died.pk}),
    ]
    assert fresh.pk not in [m[1]["dryrun_id"] for m in broker.messages()]
