"""The policy admin's view of stored comments: dry runs, per-rule decision statistics and
the rule set's audit history.

DESIGN.md: the engine never imports moderation; work that needs stored comments is driven
from where the comments live: their pages are moderation/views/dryruns.py.

A dry run judges stored comments under a candidate version and under the published one,
with the same inputs, and records what would change. The row is the job (pretix's
OutgoingMail pattern): ``dryrun_request`` creates it and rings the Celery doorbell after
commit; ``dryrun_execute`` claims it, runs, and records totals and examples on the row.

Both sides are the combined verdict (rules and the model reader, each under its own
version's examples and reader settings), so a draft's edit to "teach by example" shows up as
changed verdicts. Each chunk of comments is embedded once and read under both versions.
Without the reader (ReaderUnavailable) both sides are the rules' verdicts and
``totals["reader"]`` says so.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict, deque

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from moderation import doorbells
from moderation.models import Comment, Decision, DryRun, Verdict
from policy.engine import compile_ruleset, load_default_document
from policy.models import RuleSetVersion
from policy.reader import ReaderSettings, ReaderUnavailable, combine, get_reader

log = logging.getLogger(__name__)

# Rows fetched per round trip: measured with bench/dryrun.py, 2,000 keeps memory flat
# (~1 MB of text) and the fetch cost under 5% of the run.
CHUNK_SIZE = 2_000
# Progress is written at most this many times per run (a bar needs no more), and at least
# every PROGRESS_MIN_ROWS rows so small runs still move.
PROGRESS_STEPS = 50
PROGRESS_MIN_ROWS = 1_000
# A running row whose heartbeat is older than this lost its worker: another may take it.
# Longer than the gap between two progress writes on the slowest run we measured.
STALE_AFTER = dt.timedelta(minutes=5)
EXAMPLES_PER_KIND = 8
# A few per rule, so the per-rule table can show what each rule now catches or lets go.
EXAMPLES_PER_RULE = 3
EXAMPLE_TEXT_CHARS = 280

# Officers' decisions that say what the right outcome was (DESIGN.md vocabulary).
REMOVED_KINDS = (Decision.Kind.HIDE, Decision.Kind.DELETE, Decision.Kind.BLOCK)
KEPT_KINDS = (Decision.Kind.APPROVE,)
DIFF_KINDS = ("newly_flagged", "no_longer_flagged", "action_changed", "escalation_changed")


# -- writes ----------------------------------------------------------------------------------
def dryrun_request(*, version, actor, days: int | None) -> DryRun:
    """A pending dry run of ``version`` over the last ``days`` days (None = all), compared
    with the version published now, audited on the version; the task is enqueued after commit."""
    assert days is None or days > 0
    baseline = RuleSetVersion.objects.filter(status=RuleSetVersion.Status.PUBLISHED).first()
    with transaction.atomic():
        run = DryRun.objects.create(
            version=version, baseline=baseline, requested_by=actor, days=days
        )
        audit_record(verb="ruleset.dry_run_requested", actor=actor, target=f"ruleset:{version.number}",
                     ruleset_version=version, data={"dryrun": run.pk, "days": run.days})
        doorbells.dryrun_execute(run.pk)
    return run


def _claim(dryrun_id: int) -> bool:
    """Conditional UPDATE: exactly one worker moves a pending (or abandoned) run to running."""
    now = timezone.now()
    return bool(
        DryRun.objects.filter(pk=dryrun_id)
        .filter(
            Q(status=DryRun.Status.PENDING)
            | Q(status=DryRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        )
        .update(status=DryRun.Status.RUNNING, started_at=now, heartbeat_at=now, progress=0)
    )


def dryrun_execute(*, dryrun_id: int) -> DryRun | None:
    """Run a claimed dry run to the end. Idempotent: a finished or running row is left alone
    (a second call returns it unchanged); a missing row returns None."""
    if not _claim(dryrun_id):
        return DryRun.objects.filter(pk=dryrun_id).first()
    run = DryRun.objects.select_related("version", "baseline").get(pk=dryrun_id)
    try:
        totals, examples, total = _evaluate(run)
    except Exception as exc:  # permanent: the row says why; the admin can start another
        log.exception("dry run %s failed", dryrun_id)
        DryRun.objects.filter(pk=dryrun_id).update(
            status=DryRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        return run
    now = timezone.now()
    DryRun.objects.filter(pk=dryrun_id, status=DryRun.Status.RUNNING).update(
        status=DryRun.Status.DONE,
        progress=total,
        total=total,
        totals=totals,
        examples=examples,
        heartbeat_at=now,
        finished_at=now,
    )
    run.refresh_from_db()
    return run


# -- the computation -------------------------------------------------------------------------
def officer_outcomes(comment_filter: Q | None = None) -> dict[int, str]:
    """comment id -> "removed" | "kept": each comment's latest person's decision that says
    whether it should stay up (undone decisions and automatic ones do not count)."""
    decisions = Decision.objects.filter(
        automatic=False, kind__in=[*REMOVED_KINDS, *KEPT_KINDS], undone_by__isnull=True
    )
    if comment_filter is not None:
        decisions = decisions.filter(comment_filter)
    outcome: dict[int, str] = {}
    for comment_id, kind in (
        decisions.order_by("created_at", "id")
        .values_list("comment_id", "kind")
        .iterator(chunk_size=CHUNK_SIZE)
    ):
        outcome[comment_id] = "removed" if kind in REMOVED_KINDS else "kept"
    return outcome


def _matchers(run: DryRun):
    # Compiled once per run (a compile is ~150 ms; per comment would dominate).
    candidate = compile_ruleset(run.version.document)
    baseline_doc = run.baseline.document if run.baseline else load_default_document()
    return candidate, compile_ruleset(baseline_doc)


# A run this big is spread over every CPU (fork, one compiled pair of matchers per process):
# measured with bench/dryrun.py, below this the pool's start-up (~0.4 s) costs more than it saves.
PARALLEL_MIN_ROWS = 5_000
_worker_matchers: tuple | None = None


def _judge(candidate, baseline, row) -> tuple:
    """(before, after) for one row, each side as (action, escalation, signpost, rule ids):
    small and picklable, all the totals need (the text stays with the caller)."""
    _, text, platform, received_at = row
    out = []
    for matcher in (baseline, candidate):
        v = matcher.evaluate(text, platform=platform, received_at=received_at)
        out.append((v.action, v.escalation, v.signpost, tuple(h.id for h in v.rules)))
    return out[0], out[1]


# Comments embedded per model call in a combined run: the reader spreads a batch over its
# threads; a few hundred keeps them busy with little memory.
READER_BATCH = 256


def _reader_state():
    """(the process-wide reader or None, what the result records about it)."""
    try:
        reader = get_reader()
    except ReaderUnavailable as exc:
        return None, {"used": False, "why": str(exc)}
    return reader, {"used": True, "name": reader.name}


def _summary(v) -> tuple:
    return (v.action, v.escalation, v.signpost, tuple(h.id for h in v.rules))


def _judge_combined(sides, reader, chunk: list) -> list:
    """(before, after) for each row of ``chunk``: the comments embedded once, read under each
    side's settings, combined with that side's rules."""
    vectors = reader.embedder.embed([row[1] for row in chunk])
    judged = []
    for matcher, settings in sides:
        readings = reader.read_vectors(vectors, settings=settings)
        out = []
        for (_, text, platform, received_at), reading in zip(chunk, readings, strict=True):
            v = matcher.evaluate(text, platform=platform, received_at=received_at)
            v = combine(v, reading, matcher=matcher, settings=settings, received_at=received_at)
            out.append(_summary(v))
        judged.append(out)
    return list(zip(*judged, strict=True))


def _worker_init(candidate_doc: dict, baseline_doc: dict) -> None:
    global _worker_matchers
    _worker_matchers = (compile_ruleset(candidate_doc), compile_ruleset(baseline_doc))


def _worker_judge(rows: list) -> list:
    candidate, baseline = _worker_matchers
    return [_judge(candidate, baseline, row) for row in rows]


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _judged(run: DryRun, rows, total: int, reader=None):
    """Every row judged under both versions, in order: with ``reader``, the combined verdicts
    in batches (the reader spreads each over its own threads); else the rules', in worker
    processes for big runs."""
    import os

    import billiard

    candidate_doc = run.version.document
    baseline_doc = run.baseline.document if run.baseline else load_default_document()
    if reader is not None:
        candidate, baseline = _matchers(run)
        sides = (
            (baseline, ReaderSettings.from_document(baseline_doc)),
            (candidate, ReaderSettings.from_document(candidate_doc)),
        )
        for chunk in _chunks(rows, READER_BATCH):
            for row, judged in zip(chunk, _judge_combined(sides, reader, chunk), strict=True):
                yield (*row, *judged)
        return
    processes = os.cpu_count() or 1
    if total < PARALLEL_MIN_ROWS or processes < 2:
        candidate, baseline = _matchers(run)
        for row in rows:
            yield (*row, *_judge(candidate, baseline, row))
        return
    # billiard (Celery's multiprocessing fork), not multiprocessing: a Celery prefork worker
    # is a daemonic process and multiprocessing refuses to start children from one. Fork:
    # the children only run the pure engine, never the inherited DB connection.
    ctx = billiard.get_context("fork")
    with ctx.Pool(
        processes, initializer=_worker_init, initargs=(candidate_doc, baseline_doc)
    ) as pool:
        # The rows are read here, in this thread: Django's connection is per thread (pool.imap
        # would read them in its feeder thread, on another connection). A few chunks in
        # flight per process keep every CPU busy with bounded memory; only the verdicts come
        # back, the chunk's rows wait here.
        pending: deque = deque()

        def drain_one():
            chunk, result = pending.popleft()
            for row, judged in zip(chunk, result.get(), strict=True):
                yield (*row, *judged)

        for chunk in _chunks(rows, 500):
            pending.append((chunk, pool.apply_async(_worker_judge, (chunk,))))
            if len(pending) >= 3 * processes:
                yield from drain_one()
        while pending:
            yield from drain_one()


def _side(judged: tuple) -> dict:
    action, escalation, signpost, ids = judged
    return {"action": action, "escalation": escalation, "signpost": signpost, "rules": list(ids)}


def _evaluate(run: DryRun) -> tuple[dict, dict, int]:
    comments = Comment.objects.filter(is_own=False)
    decided_filter = Q(comment__is_own=False)
    if run.days is not None:
        since = timezone.now() - dt.timedelta(days=run.days)
        comments = comments.filter(received_at__gte=since)
        decided_filter &= Q(comment__received_at__gte=since)
    total = comments.count()
    DryRun.objects.filter(pk=run.pk).update(total=total)
    outcomes = officer_outcomes(decided_filter)
    every = max(PROGRESS_MIN_ROWS, total // PROGRESS_STEPS)
    reader, reader_state = _reader_state()

    counts: Counter = Counter()
    per_rule: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list] = {k: [] for k in DIFF_KINDS}
    by_rule: dict[str, list] = {}
    done = 0
    rows = (
        comments.order_by()
        .values_list("id", "text", "platform", "received_at")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for comment_id, text, platform, received_at, before, after in _judged(
        run, rows, total, reader
    ):
        was, now_ = before[0] != "allow", after[0] != "allow"
        counts["flagged_before"] += was
        counts["flagged_after"] += now_
        before_ids, after_ids = set(before[3]), set(after[3])
        for rid in after_ids:
            per_rule[rid]["fired_after"] += 1
        for rid in before_ids:
            per_rule[rid]["fired_before"] += 1

        kinds = []
        if now_ and not was:
            kinds.append("newly_flagged")
        elif was and not now_:
            kinds.append("no_longer_flagged")
        elif was and now_ and before[0] != after[0]:
            kinds.append("action_changed")
        if before[1] != after[1]:
            kinds.append("escalation_changed")
        officer = outcomes.get(comment_id)
        if officer is not None:
            removed = officer == "removed"
            counts["decided"] += 1
            counts["agree_before"] += was == removed
            counts["agree_after"] += now_ == removed
        for kind in kinds:
            counts[kind] += 1
            # The rules that make the difference; when the same rules fired on both sides
            # (a changed category default), the side that now decides.
            if kind == "no_longer_flagged":
                blamed = (before_ids - after_ids) or before_ids
            else:
                # A change made by a finding that went away (an example now silences the
                # model) is that finding's.
                blamed = (after_ids - before_ids) or (before_ids - after_ids) or after_ids
            for rid in blamed:
                per_rule[rid][kind] += 1
                shown = by_rule.setdefault(rid, [])
                if len(shown) < EXAMPLES_PER_RULE:
                    shown.append(
                        {
                            "comment_id": comment_id,
                            "kind": kind,
                            "text": text[:EXAMPLE_TEXT_CHARS],
                            "officer": officer,
                        }
                    )
            if len(examples[kind]) < EXAMPLES_PER_KIND:
                examples[kind].append(
                    {
                        "comment_id": comment_id,
                        "text": text[:EXAMPLE_TEXT_CHARS],
                        "cut": len(text) > EXAMPLE_TEXT_CHARS,
                        "platform": platform,
                        "received_at": received_at.isoformat(),
                        "before": _side(before),
                        "after": _side(after),
                        "officer": officer,
                    }
                )
        done += 1
        if done % every == 0:
            DryRun.objects.filter(pk=run.pk).update(progress=done, heartbeat_at=timezone.now())

    totals = {
        "comments": done,
        **{
            k: counts[k]
            for k in ("flagged_before", "flagged_after", "decided", "agree_before", "agree_after")
        },
        **{k: counts[k] for k in DIFF_KINDS},
        "rules": {rid: dict(c) for rid, c in sorted(per_rule.items())},
        "reader": reader_state,
    }
    examples["by_rule"] = by_rule
    return totals, examples, done


# -- reads -----------------------------------------------------------------------------------
def dryrun_get(dryrun_id: int) -> DryRun:
    return DryRun.objects.select_related("version", "baseline", "requested_by").get(pk=dryrun_id)


def rule_decision_stats(*, days: int | None = None) -> dict:
    """Per rule, from the current verdicts and the officers' decisions: how often it fired,
    how often a person decided such a comment, and how often they overturned it (the verdict
    removed it and the officer kept it, or the verdict allowed it and the officer removed it).
    Also the removals no rule caught (``missed``)."""
    verdicts = Verdict.objects.filter(is_current=True, comment__is_own=False)
    decided_filter = Q(comment__is_own=False)
    if days is not None:
        since = timezone.now() - dt.timedelta(days=days)
        verdicts = verdicts.filter(comment__received_at__gte=since)
        decided_filter &= Q(comment__received_at__gte=since)
    outcomes = officer_outcomes(decided_filter)
    per_rule: dict[str, Counter] = defaultdict(Counter)
    category: dict[str, str] = {}
    missed = 0
    for comment_id, action, rules in verdicts.values_list("comment_id", "action", "rules").iterator(
        chunk_size=CHUNK_SIZE
    ):
        officer = outcomes.get(comment_id)
        flagged = action != Verdict.Action.ALLOW
        if not rules and officer == "removed":
            missed += 1
        for hit in rules:
            rid = hit["id"]
            category[rid] = hit.get("category", "")
            c = per_rule[rid]
            c["fired"] += 1
            if officer is None:
                continue
            c["decided"] += 1
            if flagged and officer == "kept":
                c["overturned_kept"] += 1
            elif not flagged and officer == "removed":
                c["overturned_removed"] += 1
    rows = []
    for rid, c in per_rule.items():
        overturned = c["overturned_kept"] + c["overturned_removed"]
        rows.append(
            {
                "id": rid,
                "category": category[rid],
                "fired": c["fired"],
                "decided": c["decided"],
                "overturned_kept": c["overturned_kept"],
                "overturned_removed": c["overturned_removed"],
                "overturned": overturned,
                "overturn_pct": round(100 * overturned / c["decided"]) if c["decided"] else None,
            }
        )
    rows.sort(key=lambda r: (-(r["overturn_pct"] or 0), -r["overturned"], -r["fired"], r["id"]))
    return {"rules": rows, "missed": missed, "decided": len(outcomes)}
