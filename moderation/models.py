"""The data flow of DESIGN.md, database first.

Channel -> Comment (+ Author) -> Verdict -> QueueItem -> Decision -> PlatformAction, with an
AuditEvent (audit/models.py) for every step. PostgreSQL is the source of truth: invariants live in constraints,
and every task re-reads its row by id. Every index says which query needs it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from policy.engine.verdict import ACTION_LABELS, ESCALATION_LABELS, SIGNPOST_LABELS


def _choices(name: str, labels: dict[str, str]) -> type[models.TextChoices]:
    """TextChoices from the engine's vocabulary (policy/engine/verdict.py): ``ALLOW = "allow",
    "Allow"`` and so on, so the stored values and the engine's cannot drift apart."""
    return models.TextChoices(name, [(value.upper(), (value, label)) for value, label in labels.items()])


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    YOUTUBE = "youtube", "YouTube"
    X = "x", "X"


class Channel(models.Model):
    """A connected account: a Facebook Page, an Instagram professional account, a YouTube
    channel or an X account."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
        BACKING_OFF = "backing_off", "Backing off (rate limited)"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    account_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    # Fernet token (see moderation/crypto.py); never logged, rendered or put in an error.
    credentials_encrypted = models.BinaryField(default=bytes, editable=False)
    poll_cursor = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    state_reason = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    poll_interval_seconds = models.PositiveIntegerField(default=60)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    backoff_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "account_id"], name="channel_unique_account"),
        ]
        indexes = [
            # Beat's "which channels are due a poll": enabled AND state active AND next_poll_at <= now.
            models.Index(fields=["next_poll_at"], condition=Q(enabled=True), name="channel_due_poll_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"


class Author(models.Model):
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField(max_length=128)
    handle = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    strikes = models.PositiveIntegerField(default=0)
    blocked = models.BooleanField(default=False)
    blocked_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="author_unique_external"),
            models.CheckConstraint(
                condition=Q(blocked=False) | Q(blocked_at__isnull=False), name="author_blocked_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.handle or self.display_name or self.external_id


class Comment(models.Model):
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField(max_length=200)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="comments", null=True, blank=True)
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    # Kept even when the parent row is not (yet) stored, so a late parent can be linked.
    parent_external_id = models.CharField(max_length=200, blank=True)
    # The post/video/conversation the comment belongs to: the thread shown around it.
    thread_external_id = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    # True when NUL bytes or lone surrogates were replaced to make the text storable
    # (moderation/text.py); the raw delivery keeps the original bytes.
    text_altered = models.BooleanField(default=False)
    created_upstream = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    permalink = models.URLField(max_length=1000, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    edited_upstream_at = models.DateTimeField(null=True, blank=True)
    # The platform's own time for the text held here: when it was written or last edited,
    # as the copy that brought it said (IncomingComment.source_version_at). A copy older
    # than this is never applied (services.comment_upsert compares them in its UPDATE), so a
    # late or repeated webhook, or a slow poll, cannot roll an edit back. NULL: not known
    # (an unversioned copy); then the next copy with a different text applies.
    source_version_at = models.DateTimeField(null=True, blank=True)
    deleted_upstream_at = models.DateTimeField(null=True, blank=True)
    # Our own page's replies are stored for the thread view but never moderated.
    is_own = models.BooleanField(default=False)
    # Bumped on every text change; a verdict records which revision it judged, so a
    # classify task for an old revision can tell it is stale.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="comment_unique_external"),
        ]
        indexes = [
            # Author history panel: WHERE author_id = ? ORDER BY received_at DESC.
            models.Index(fields=["author", "-received_at"], name="comment_author_recent_idx"),
            # Thread view: WHERE channel_id = ? AND thread_external_id = ? ORDER BY created_upstream.
            models.Index(fields=["channel", "thread_external_id", "created_upstream"], name="comment_thread_idx"),
            # Dry run over history "last N days": WHERE received_at >= ?.
            models.Index(fields=["received_at"], name="comment_received_idx"),
            # Linking replies that arrived before their parent, when it arrives (the upserts in
            # ingest/store.py): WHERE platform = ? AND parent_external_id = ? AND
            # parent_id IS NULL. Only unlinked replies are in it, so it stays small; without
            # it every batch scanned the whole table (bench/ingest.py).
            models.Index(
                fields=["platform", "parent_external_id"],
                condition=Q(parent__isnull=True) & ~Q(parent_external_id=""),
                name="comment_orphan_reply_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"


class ModelState(models.TextChoices):
    """Where a verdict stands with the model reader (moderation/triage/read.py)."""

    PENDING = "pending", "Waiting for the model reader"
    READ = "read", "Read by the model"
    UNAVAILABLE = "unavailable", "Not yet read by the model (reader unavailable)"
    # Stored before the model reader joined the pipeline (migration 0011): never swept.
    BEFORE = "before", "Judged before the model reader joined the pipeline"


class Verdict(models.Model):
    """The engine's judgement of one revision of a comment under one rule set version."""

    ModelState = ModelState

    Action = _choices("Action", ACTION_LABELS)
    Escalation = _choices("Escalation", ESCALATION_LABELS)
    Signpost = _choices("Signpost", SIGNPOST_LABELS)

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="verdicts")
    comment_revision = models.PositiveIntegerField()
    ruleset_version = models.ForeignKey(
        "policy.RuleSetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=8, choices=Action.choices)
    escalation = models.CharField(max_length=16, choices=Escalation.choices)
    signpost = models.CharField(max_length=16, choices=Signpost.choices)
    categories = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    # [{"id", "category", "clause", "spans": [[start, end, text], ...]}, ...]
    rules = models.JSONField(default=list, blank=True)
    auto_apply = models.BooleanField(default=False)
    reply_template = models.TextField(blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The model reader (policy/reader) reads each verdict's comment after the rules' fast
    # path, in its own Celery queue (moderation/triage/read.py). Until it has, the fields
    # above are the rules' verdict; once it has, they are the combined verdict and
    # ``rules_only`` keeps what the rules alone said, so a person sees both readers.
    model_state = models.CharField(max_length=12, choices=ModelState.choices, default=ModelState.PENDING)
    disputed = models.BooleanField(default=False)
    # Verdict.model of policy.reader.combine: the whole reading (findings, scores, examples).
    model = models.JSONField(null=True, blank=True)
    # The rules' own action, escalation, signpost, categories and auto_apply, kept when the
    # model's reading changed the row (null: unread, or the model changed nothing).
    rules_only = models.JSONField(null=True, blank=True)
    model_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One current verdict per comment; re-classification flips the old one off first.
            models.UniqueConstraint(fields=["comment"], condition=Q(is_current=True), name="verdict_one_current"),
            # Classifying the same revision under the same version twice is a no-op.
            models.UniqueConstraint(
                fields=["comment", "comment_revision", "ruleset_version"],
                name="verdict_unique_judgement",
                # The bundled default (no stored version) is NULL; it must collide too.
                nulls_distinct=False,
            ),
        ]
        indexes = [
            # The model task's claim and the sweeper / queue header health line: WHERE
            # is_current AND model_state IN (pending, unavailable) ORDER BY created_at.
            models.Index(
                fields=["created_at"],
                condition=Q(is_current=True, model_state__in=["pending", "unavailable"]),
                name="verdict_model_unread_idx",
            ),
        ]

    @property
    def flagged(self) -> bool:
        return self.action != self.Action.ALLOW


class QueueItem(models.Model):
    """What needs a person: a flagged comment, an escalation, or a comment needing a reply."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "Claimed"
        DECIDED = "decided", "Decided"

    # Queue order (``priority``, lower first): escalations, then removals, then replies, then
    # the rest (queue/items.py sets it; an escalating decision raises it).
    PRIORITY_ESCALATION = 10
    PRIORITY_REMOVAL = 20
    PRIORITY_REPLY = 30
    PRIORITY_OTHER = 40

    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="queue_item")
    verdict = models.ForeignKey(Verdict, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # Lower sorts first: escalations, then removals, then replies (set by the service).
    priority = models.PositiveSmallIntegerField(default=50)
    needs_reply = models.BooleanField(default=False)
    escalation = models.CharField(max_length=16, choices=Verdict.Escalation.choices, default="none")
    first_look_due = models.DateTimeField()
    reply_due = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Out-of-hours escalation paging (duty manager, then backup).
    notified_at = models.DateTimeField(null=True, blank=True)
    backup_notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    safeguarding_referred_at = models.DateTimeField(null=True, blank=True)
    # Copied from the comment and the current verdict by queue/items.py, so the
    # queue's filters and facet counts read open queue rows only: joining comments and
    # verdicts (a million rows) for every page cost ~70 ms of the queue page (bench/queue.py).
    platform = models.CharField(max_length=16, choices=Platform.choices, blank=True, default="")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=8, choices=Verdict.Action.choices, blank=True, default="")
    categories = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(claimed_by__isnull=False, claimed_at__isnull=False),
                name="queue_claimed_has_owner",
            ),
            models.CheckConstraint(
                condition=~Q(status="decided") | Q(decided_at__isnull=False), name="queue_decided_has_time"
            ),
        ]
        indexes = [
            # The officers' queue: WHERE status IN (open, claimed) ORDER BY priority, first_look_due, id.
            models.Index(
                fields=["priority", "first_look_due", "id"],
                condition=~Q(status="decided"),
                name="queue_open_order_idx",
            ),
            # The triage console's queue page (moderation/selectors.py), both of its queries
            # over open items, read from the index alone (bench/queue.py: 1M comments):
            #   queue_page:   SELECT id, <sla rank>, priority, <due> WHERE status <> 'decided'
            #                 ORDER BY <sla rank>, priority, <due>, id LIMIT 51
            #                 (<due> = CASE status/needs_reply -> first_look_due/reply_due)
            #   queue_counts: SELECT platform, channel_id, action, escalation, status,
            #                 categories, <sla rank>, claimed_by_id WHERE status <> 'decided'
            #   queue_search_ids: ... JOIN comment ON comment.id = comment_id (the search)
            models.Index(
                fields=["priority", "first_look_due", "id"],
                include=["status", "needs_reply", "reply_due", "platform", "channel", "action", "escalation",
                         "categories", "claimed_by", "comment"],
                condition=~Q(status="decided"),
                name="queue_open_cover_idx",
            ),
            # Duty manager's view and the re-notify sweep: unacknowledged escalations.
            models.Index(
                fields=["notified_at"],
                condition=Q(acknowledged_at__isnull=True) & ~Q(escalation="none"),
                name="queue_unacked_escalation_idx",
            ),
        ]


class Decision(models.Model):
    """A person's (or an automatic rule's) decision on a comment. Append-only."""

    class Kind(models.TextChoices):
        APPROVE = "approve", "Approve (no action)"
        HIDE = "hide", "Hide"
        UNHIDE = "unhide", "Unhide"
        DELETE = "delete", "Delete"
        BLOCK = "block", "Block author"
        ESCALATE = "escalate", "Escalate"
        REPLY = "reply", "Reply"
        NOTE = "note", "Note"
        UNDO = "undo", "Undo"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Null for automatic decisions (a rule marked "apply automatically").
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    automatic = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    reply_text = models.TextField(blank=True)
    escalate_to = models.CharField(max_length=16, choices=Verdict.Escalation.choices, blank=True)
    verdict = models.ForeignKey(Verdict, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    ruleset_version = models.ForeignKey(
        "policy.RuleSetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undoes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="undone_by")
    # The queue item's status when this decision closed it (open, or claimed by the decider),
    # so that undo puts the item back exactly as it was. Blank: it closed nothing (or was
    # recorded before this was kept).
    item_status_before = models.CharField(max_length=8, choices=QueueItem.Status.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(automatic=True) | Q(decided_by__isnull=False), name="decision_has_actor"
            ),
            models.CheckConstraint(
                condition=~Q(kind="reply") | ~Q(reply_text=""), name="decision_reply_has_text"
            ),
        ]
        indexes = [
            # Comment view history and per-rule overturn statistics: WHERE comment_id = ? ORDER BY created_at.
            models.Index(fields=["comment", "created_at"], name="decision_comment_idx"),
        ]


class PlatformAction(models.Model):
    """One call to a platform. The row is the queue; the Celery message is the doorbell."""

    class Kind(models.TextChoices):
        HIDE = "hide", "Hide"
        UNHIDE = "unhide", "Unhide"
        DELETE = "delete", "Delete"
        BLOCK = "block", "Block author"
        REPLY = "reply", "Reply"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        IN_FLIGHT = "in_flight", "In flight"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="platform_actions")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    payload = models.JSONField(default=dict, blank=True)  # e.g. {"message": "..."} for replies
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    response = models.JSONField(default=dict, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A decision produces each kind of call at most once: a retried task can never
            # create a second "delete" for the same decision.
            models.UniqueConstraint(fields=["decision", "kind"], name="action_once_per_decision"),
            models.CheckConstraint(
                condition=~Q(status__in=["applied", "failed"]) | Q(finished_at__isnull=False),
                name="action_finished_has_time",
            ),
        ]
        indexes = [
            # The sweeper: WHERE status IN (requested, in_flight) ORDER BY requested_at.
            models.Index(
                fields=["requested_at"],
                condition=Q(status__in=["requested", "in_flight"]),
                name="action_pending_idx",
            ),
        ]


class WebhookDelivery(models.Model):
    """A platform's push, stored verbatim before it is acknowledged, then processed by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    # sha256 of the raw body: a duplicate delivery hits this constraint and changes nothing.
    body_sha256 = models.CharField(max_length=64)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "body_sha256"], name="delivery_unique_body"),
        ]
        indexes = [
            # The sweeper: WHERE status = pending ORDER BY received_at.
            models.Index(fields=["received_at"], condition=Q(status="pending"), name="delivery_pending_idx"),
        ]


class DryRun(models.Model):
    """A policy admin's trial of a rule set version over stored comments (moderation/dryrun.py).

    The row is the job: the Celery message only rings the bell. ``progress`` and
    ``heartbeat_at`` are written every few thousand comments so the page's progress bar can
    poll it and a run whose worker died can be taken over.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # The version page lists its latest runs through this (policy.selectors.dryruns_for_version).
    version = models.ForeignKey("policy.RuleSetVersion", on_delete=models.CASCADE, related_name="dry_runs")
    # The published version it was compared with (null when none was published).
    baseline = models.ForeignKey(
        "policy.RuleSetVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # None = every stored comment; otherwise the last N days by received_at.
    days = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict, blank=True)
    examples = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["done", "failed"]) | Q(finished_at__isnull=False),
                name="dryrun_finished_has_time",
            ),
        ]
        indexes = [
            # The version page's "latest dry runs of this version": WHERE version_id = ? ORDER BY created_at DESC.
            models.Index(fields=["version", "-created_at"], name="dryrun_version_recent_idx"),
        ]
