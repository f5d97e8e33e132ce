"""Reads for the moderation app: querysets with their joins set, nothing else."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from audit.models import AuditEvent
from moderation.models import Comment, Decision, QueueItem, Verdict

# Rows per queue page: about two screenfuls of rows (a row is ~62 px at the default CSS, so
# 1080p shows ~14). Rendering rows is most of the page's CPU time (bench/queue.py), and
# keyset paging makes the next page as cheap as the first.
QUEUE_PAGE_SIZE = 25


def queue_items_open() -> QuerySet[QueueItem]:
    # Ordered to match queue_open_order_idx.
    return (
        QueueItem.objects.exclude(status=QueueItem.Status.DECIDED)
        .select_related("comment", "comment__channel", "comment__author", "verdict", "claimed_by")
        .order_by("priority", "first_look_due", "id")
    )


@dataclass(frozen=True)
class QueueFilters:
    platform: str = ""
    channel: int | None = None
    category: str = ""
    action: str = ""
    escalation: str = ""
    status: str = ""
    sla: str = ""
    mine: bool = False
    q: str = ""


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the sort key of the last row shown (no OFFSET)."""

    rank: int
    priority: int
    due: dt.datetime
    pk: int

    def encode(self) -> str:
        return f"{self.rank}.{self.priority}.{int(self.due.timestamp() * 1_000_000)}.{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> Cursor | None:
        try:
            rank, priority, micros, pk = (int(p) for p in raw.split("."))
        except ValueError:
            return None
        due = dt.datetime.fromtimestamp(micros / 1_000_000, tz=dt.timezone.utc)
        return cls(rank=rank, priority=priority, due=due, pk=pk)


# Far future for rows with nothing due (claimed, no reply needed): they sort last.
NO_DUE = dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc)


def _due_expression():
    """What the queue tracks (sla.item_due): first look until claimed, then the reply."""
    return Case(
        When(status=QueueItem.Status.OPEN, then=F("first_look_due")),
        When(needs_reply=True, then=F("reply_due")),
        default=Value(NO_DUE),
        output_field=DateTimeField(),
    )


def _filtered(filters: QueueFilters, *, user, search_ids: list[int] | None = None) -> QuerySet[QueueItem]:
    qs = QueueItem.objects.exclude(status=QueueItem.Status.DECIDED)
    # platform, channel, action and categories are copies on the queue row (QueueItem):
    # no join for the common filters.
    if filters.platform:
        qs = qs.filter(platform=filters.platform)
    if filters.channel:
        qs = qs.filter(channel_id=filters.channel)
    if filters.category:
        qs = qs.filter(categories__contains=[filters.category])
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.escalation:
        qs = qs.filter(escalation=filters.escalation)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.mine:
        qs = qs.filter(claimed_by=user)
    if filters.q:
        qs = qs.filter(pk__in=queue_search_ids(filters.q) if search_ids is None else search_ids)
    return qs


def queue_search_ids(q: str) -> list[int]:
    """Open items whose comment text contains ``q`` (case-insensitive).

    The search is the one filter that must read comments (5,000 open items -> 5,000 comment
    rows), so the view runs it once and passes the ids to both queue_page and queue_counts."""
    return list(
        QueueItem.objects.exclude(status=QueueItem.Status.DECIDED)
        .filter(comment__text__icontains=q)
        .values_list("id", flat=True)
    )


def _with_sla(qs: QuerySet[QueueItem], *, now: dt.datetime, cutoff: dt.datetime) -> QuerySet[QueueItem]:
    return qs.annotate(due=_due_expression()).annotate(
        sla_rank=Case(
            When(due__lte=now, then=Value(0)),
            When(due__lte=cutoff, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )


SLA_RANK = {"breached": 0, "at_risk": 1, "on_track": 2}


@dataclass
class QueuePage:
    items: list[QueueItem]
    next_cursor: str = ""
    total: int = 0
    counts: dict[str, dict] = field(default_factory=dict)


def queue_page(
    *, filters: QueueFilters, user, now: dt.datetime, cutoff: dt.datetime, cursor: Cursor | None = None,
    size: int | None = None, search_ids: list[int] | None = None,
) -> QueuePage:
    """One page of the queue: breached first, then at risk, then on track; within each by
    priority (escalations first), then due time. Keyset pagination on that sort key.

    Two steps (measured by bench/queue.py): the sort key is computed and sorted over the open
    items alone (queue_open_order_idx's partial condition; joins only when a filter needs
    them), then the page's rows are loaded with their joins by id.
    """
    size = size or QUEUE_PAGE_SIZE
    qs = _with_sla(_filtered(filters, user=user, search_ids=search_ids), now=now, cutoff=cutoff)
    if filters.sla in SLA_RANK:
        qs = qs.filter(sla_rank=SLA_RANK[filters.sla])
    if cursor is not None:
        qs = qs.filter(
            Q(sla_rank__gt=cursor.rank)
            | Q(sla_rank=cursor.rank, priority__gt=cursor.priority)
            | Q(sla_rank=cursor.rank, priority=cursor.priority, due__gt=cursor.due)
            | Q(sla_rank=cursor.rank, priority=cursor.priority, due=cursor.due, pk__gt=cursor.pk)
        )
    keys = list(
        qs.order_by("sla_rank", "priority", "due", "id").values_list("id", "sla_rank", "priority", "due")[: size + 1]
    )
    page_keys = keys[:size]
    by_id = {
        item.pk: item
        for item in QueueItem.objects.filter(pk__in=[k[0] for k in page_keys]).select_related(
            "comment", "comment__channel", "comment__author", "verdict", "claimed_by"
        )
    }
    items = []
    for pk, rank, _priority, due in page_keys:
        item = by_id.get(pk)
        if item is not None:  # deleted between the two queries
            item.sla_rank, item.due = rank, due
            items.append(item)
    page = QueuePage(items=items)
    if len(keys) > size:
        pk, rank, priority, due = keys[size - 1]
        page.next_cursor = Cursor(rank=rank, priority=priority, due=due, pk=pk).encode()
    return page


# Facet dimensions counted in Python: (filter name, column) read by one query; the last
# column says whether the row passes the category filter (categories are counted in SQL).
FACETS = (
    ("platform", "platform"),
    ("channel", "channel_id"),
    ("action", "action"),
    ("escalation", "escalation"),
    ("status", "status"),
    ("sla", "sla_rank"),
    ("mine", "claimed_by_id"),
    ("category", "category_hit"),
)


class _Unnest(Func):
    function = "unnest"
    output_field = CharField()


def queue_counts(
    *, filters: QueueFilters, user, now: dt.datetime, cutoff: dt.datetime, search_ids: list[int] | None = None
) -> dict:
    """Facet counts: for each filter, how many open items each value would show, with every
    *other* filter applied (so the number beside a filter is what clicking it gives).

    One query reads the facet columns of the open items (copies on the queue row, all in
    queue_open_cover_idx: an index-only scan) and Python counts them, bucketing rows by the
    one filter they fail; one more query counts categories with unnest (parsing 5,000
    arrays in Python cost more than the query, bench/queue.py).
    """
    base = QueueItem.objects.exclude(status=QueueItem.Status.DECIDED)
    if filters.q:
        base = base.filter(pk__in=queue_search_ids(filters.q) if search_ids is None else search_ids)
    hit = Q(categories__contains=[filters.category]) if filters.category else Q(pk__isnull=False)
    qs = _with_sla(base, now=now, cutoff=cutoff).annotate(
        category_hit=ExpressionWrapper(hit, output_field=BooleanField())
    ).values_list(*(col for _, col in FACETS))
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        # A filter that can match nothing (a search with no hit is pk IN ()) has no SQL: the
        # ORM answers such a queryset with no rows, so the raw query must too.
        rows = []
    else:
        # Raw rows skip the ORM's per-value converters.
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    names = [name for name, _ in FACETS]
    wanted = [
        filters.platform or None,
        filters.channel or None,
        filters.action or None,
        filters.escalation or None,
        filters.status or None,
        SLA_RANK.get(filters.sla),
        user.pk if filters.mine else None,
        True if filters.category else None,
    ]
    active = [i for i, w in enumerate(wanted) if w is not None]
    passing: list[tuple] = []
    fails_only: dict[int, list[tuple]] = {i: [] for i in active}
    for row in rows:
        failed = [i for i in active if row[i] != wanted[i]]
        if not failed:
            passing.append(row)
        elif len(failed) == 1:
            fails_only[failed[0]].append(row)
    out: dict = {}
    for i, name in enumerate(names[:-1]):
        out[name] = dict(Counter(r[i] for r in passing + fails_only.get(i, [])))
    rank_names = {rank: name for name, rank in SLA_RANK.items()}
    out["sla"] = {rank_names[r]: n for r, n in out["sla"].items()}
    out["mine"] = out["mine"].get(user.pk, 0)
    out["total"] = len(passing)
    cat_qs = _with_sla(
        _filtered(replace(filters, category=""), user=user, search_ids=search_ids), now=now, cutoff=cutoff
    )
    if filters.sla in SLA_RANK:
        cat_qs = cat_qs.filter(sla_rank=SLA_RANK[filters.sla])
    out["category"] = {
        row["cat"]: row["n"]
        for row in cat_qs.annotate(cat=_Unnest(F("categories"))).values("cat").annotate(n=Count("id")).order_by()
    }
    return out


def queue_newest_id() -> int:
    """Highest open item id: the polling banner compares it with what the page showed."""
    return QueueItem.objects.exclude(status=QueueItem.Status.DECIDED).order_by("-id").values_list("id", flat=True).first() or 0


def queue_item_for_comment(comment_id: int) -> QueueItem | None:
    return (
        QueueItem.objects.select_related(
            "comment", "comment__channel", "comment__author", "verdict", "verdict__ruleset_version",
            "claimed_by", "acknowledged_by",
        )
        .filter(comment_id=comment_id)
        .first()
    )


def comment_with_context(comment_id: int) -> Comment | None:
    return Comment.objects.select_related("channel", "author", "parent").filter(pk=comment_id).first()


# The thread panel shows this many comments around the one being judged.
THREAD_LIMIT = 40
AUTHOR_HISTORY_LIMIT = 20


def comment_thread(comment: Comment) -> list[Comment]:
    """Comments in the same thread (comment_thread_idx), oldest first, around this one."""
    if not comment.thread_external_id:
        return [comment]
    qs = Comment.objects.filter(channel_id=comment.channel_id, thread_external_id=comment.thread_external_id)
    when = comment.created_upstream or comment.received_at
    before = list(
        qs.filter(created_upstream__lt=when).select_related("author").order_by("-created_upstream")[: THREAD_LIMIT // 2]
    )
    after = list(
        qs.filter(created_upstream__gte=when).exclude(pk=comment.pk).select_related("author")
        .order_by("created_upstream")[: THREAD_LIMIT // 2]
    )
    return list(reversed(before)) + [comment] + after


def author_history(comment: Comment) -> list[Comment]:
    """The author's earlier comments with their current verdict (comment_author_recent_idx)."""
    if comment.author_id is None:
        return []
    current = Verdict.objects.filter(comment=OuterRef("pk"), is_current=True)
    return list(
        Comment.objects.filter(author_id=comment.author_id)
        .exclude(pk=comment.pk)
        .annotate(
            flagged=Exists(current.exclude(action=Verdict.Action.ALLOW)),
            hidden=Exists(Decision.objects.filter(comment=OuterRef("pk"), kind__in=["hide", "delete", "block"])),
        )
        .select_related("channel")
        .order_by("-received_at")[:AUTHOR_HISTORY_LIMIT]
    )


def comment_decisions(comment: Comment) -> list[Decision]:
    return list(
        Decision.objects.filter(comment=comment)
        .select_related("decided_by", "ruleset_version", "undoes")
        .prefetch_related("actions")
        .order_by("created_at", "id")
    )


def comment_timeline(comment: Comment) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(comment=comment).select_related("actor").order_by("at", "id"))


def escalations_recent() -> QuerySet[QueueItem]:
    return (
        QueueItem.objects.exclude(escalation="none")
        .select_related("comment", "comment__channel", "verdict", "acknowledged_by")
        .order_by("-created_at")
    )


def escalations_for_duty_manager(*, since: dt.datetime) -> tuple[list[QueueItem], list[QueueItem]]:
    """(open, recent): unacknowledged or undecided out-of-hours escalations, and those handled
    since ``since``. Timelines are attached as ``item.timeline`` in one query."""
    base = (
        QueueItem.objects.filter(escalation__in=[Verdict.Escalation.DUTY_MANAGER, Verdict.Escalation.SAFEGUARDING])
        .select_related("comment", "comment__channel", "comment__author", "verdict", "acknowledged_by")
    )
    open_items = list(
        base.filter(Q(acknowledged_at__isnull=True) | ~Q(status=QueueItem.Status.DECIDED)).order_by("created_at")[:100]
    )
    recent = list(
        base.filter(acknowledged_at__isnull=False, status=QueueItem.Status.DECIDED, created_at__gte=since)
        .order_by("-created_at")[:100]
    )
    by_comment: dict[int, list[AuditEvent]] = {}
    events = AuditEvent.objects.filter(comment_id__in=[i.comment_id for i in open_items + recent]).select_related("actor")
    for event in events.order_by("at", "id"):
        by_comment.setdefault(event.comment_id, []).append(event)
    for item in open_items + recent:
        item.timeline = by_comment.get(item.comment_id, [])
    return open_items, recent


def audit_events_recent() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("actor", "comment", "ruleset_version").order_by("-at", "-id")


def comment_hidden_upstream(comment_id: int) -> bool | None:
    """Whether the comment is hidden on its platform, as last known: from the audit trail,
    whose latest say wins: our hide/unhide applied ("action.applied"), or the platform's
    hide/unhide webhook ("comment.hidden_upstream" / "comment.unhidden_upstream"). None
    when nothing was ever said. One indexed query (audit_comment_idx)."""
    event = (
        AuditEvent.objects.filter(comment_id=comment_id)
        .filter(Q(verb__in=["comment.hidden_upstream", "comment.unhidden_upstream"])
                | Q(verb="action.applied", data__kind__in=["hide", "unhide"]))
        .order_by("-at", "-id")
        .values_list("verb", "data")
        .first()
    )
    if event is None:
        return None
    verb, data = event
    if verb == "action.applied":
        return data.get("kind") == "hide"
    return verb == "comment.hidden_upstream"


# Verdicts the model reader has not read yet (moderation/triage/read.py).
MODEL_UNREAD = (Verdict.ModelState.PENDING, Verdict.ModelState.UNAVAILABLE)


def model_reader_health() -> dict:
    """The queue header's one-line health of the model reader: how many current verdicts
    wait for it, since when, and whether the last try found it unavailable (one query over
    ``verdict_model_unread_idx``)."""
    return Verdict.objects.filter(is_current=True, model_state__in=MODEL_UNREAD).aggregate(
        waiting=Count("pk"),
        oldest=Min("created_at"),
        unavailable=Count("pk", filter=Q(model_state=Verdict.ModelState.UNAVAILABLE)),
        unavailable_since=Min("created_at", filter=Q(model_state=Verdict.ModelState.UNAVAILABLE)),
    )
