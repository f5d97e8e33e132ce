"""Out-of-hours paging and safeguarding referrals: writes that send e-mail.

The QueueItem row is the queue (pretix's OutgoingMail pattern): lock it, skip if done, send,
record the time and an AuditEvent. A lost Celery message is found again by
``sweeps.escalation_sweep`` (beat). Mail goes through Django's mail settings with EMAIL_TIMEOUT;
a failure raises and rolls the row back, so the sweep tries again (paging is at-least-once:
a duplicate page is better than none).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import OnCallShift
from audit.services import audit_record
from moderation import doorbells
from moderation.models import QueueItem, Verdict
from moderation.queue.sla import published_calendar

log = logging.getLogger(__name__)

# Escalations that page the duty manager on call (pages_duty_manager): a duty-manager one
# always, a safeguarding one when it arrived or was referred out of hours (section 10).
PAGED = (Verdict.Escalation.DUTY_MANAGER, Verdict.Escalation.SAFEGUARDING)


def shift_on_call(at: dt.datetime) -> OnCallShift | None:
    """The shift covering ``at`` (the most recently started one if shifts overlap)."""
    return (
        OnCallShift.objects.select_related("user", "backup")
        .filter(starts_at__lte=at, ends_at__gt=at)
        .order_by("-starts_at")
        .first()
    )


def pages_duty_manager(item: QueueItem, *, received_at: dt.datetime, calendar) -> bool:
    """Whether this escalation goes to the duty manager on call.

    Duty-manager escalations always do (the engine makes them only out of hours; an officer
    choosing "duty manager" means it). A safeguarding concern does when it arrived out of
    working hours, or an officer referred it out of hours (``safeguarding_referred_at``):
    policy section 10 sends it to the safeguarding team, and out of hours nobody else is
    working the queue, so a child disclosing abuse at 02:00 must not wait for Monday. In
    working hours the officers see it at the top of the queue and refer it themselves.
    ``calendar`` is the published rule set's working calendar (sla.published_calendar).
    """
    if item.escalation == Verdict.Escalation.DUTY_MANAGER:
        return True
    if item.escalation == Verdict.Escalation.SAFEGUARDING:
        return not calendar.is_working_time(item.safeguarding_referred_at or received_at)
    return False


def _safeguarding(item: QueueItem) -> bool:
    return item.escalation == Verdict.Escalation.SAFEGUARDING


def item_url(item: QueueItem) -> str:
    return settings.CONSOLE_BASE_URL.rstrip("/") + reverse("moderation:comment", args=[item.comment_id])


def _page_body(item: QueueItem, *, backup: bool, primary=None) -> str:
    comment = item.comment
    if _safeguarding(item):
        referred = item.safeguarding_referred_at
        headline = [
            "A safeguarding concern arrived out of hours (policy section 10): it needs the duty"
            " communications manager now.",
            f"Referred to the safeguarding team at {timezone.localtime(referred):%H:%M} ({settings.SAFEGUARDING_EMAIL})."
            if referred else
            "It has not been referred to the safeguarding team yet: open it and escalate it to"
            " safeguarding (the console e-mails them the evidence and keeps the comment).",
        ]
    else:
        headline = ["An out-of-hours comment needs the duty communications manager (policy section 4)."]
    lines = [
        *headline,
        "",
        f"Categories: {', '.join(item.verdict.categories) or '-'}",
        f"Platform: {comment.get_platform_display()} ({comment.channel.name})",
        f"Received: {timezone.localtime(comment.received_at):%a %d %b %Y %H:%M}",
        "",
        "Comment (as posted):",
        comment.text[:1000],
        "",
        f"Open and acknowledge it in the console: {item_url(item)}",
    ]
    if backup:
        who = primary.label if primary else "the duty manager"
        lines[0:0] = [
            f"You are the backup on call: {who} has not acknowledged this within "
            f"{settings.DUTY_ACK_MINUTES} minutes.",
            "",
        ]
    return "\n".join(lines)


def _item_locked(item_id: int) -> QueueItem | None:
    """The queue item with what a page needs, its row locked until the transaction ends."""
    return (
        QueueItem.objects.select_for_update(of=("self",))
        .select_related("comment", "comment__channel", "verdict")
        .filter(pk=item_id)
        .first()
    )


def _what(item: QueueItem) -> str:
    return "safeguarding concern" if _safeguarding(item) else "escalation"


def escalation_page(*, item_id: int, now: dt.datetime | None = None) -> QueueItem | None:
    """Page the duty manager on call about one out-of-hours escalation, once.

    Locks the row; skips it when it does not page (``pages_duty_manager``), is already
    paged or already acknowledged. With nobody on the rota nothing is recorded, and the
    sweep tries again on its next run (and the item is on the escalations page meanwhile).
    """
    now = now or timezone.now()
    with transaction.atomic():
        item = _item_locked(item_id)
        if item is None or item.notified_at or item.acknowledged_at:
            return item
        if not pages_duty_manager(item, received_at=item.comment.received_at, calendar=published_calendar()):
            return item
        shift = shift_on_call(now)
        if shift is None or not shift.user.email:
            log.warning("escalation %s: nobody on call with an e-mail address", item_id)
            return item
        send_mail(
            subject=f"[Duty manager] Out-of-hours {_what(item)}: {', '.join(item.verdict.categories) or 'comment'}",
            message=_page_body(item, backup=False),
            from_email=None,
            recipient_list=[shift.user.email],
        )
        QueueItem.objects.filter(pk=item.pk).update(notified_at=now)
        audit_record(
            verb="escalation.notified", system_actor="pager", comment=item.comment, target=f"queueitem:{item.pk}",
            data={"to": shift.user.username, "shift": shift.pk},
        )
    item.refresh_from_db()
    return item


def escalation_page_backup(*, item_id: int, now: dt.datetime | None = None) -> QueueItem | None:
    """Page the backup when the duty manager has not acknowledged within DUTY_ACK_MINUTES."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.DUTY_ACK_MINUTES)
    with transaction.atomic():
        item = _item_locked(item_id)
        if (
            item is None
            or item.notified_at is None
            or item.notified_at > cutoff
            or item.acknowledged_at
            or item.backup_notified_at
        ):
            return item
        shift = shift_on_call(item.notified_at) or shift_on_call(now)
        backup = shift.backup if shift and shift.backup and shift.backup.email else None
        if backup is None:
            # No backup on the rota: page the same duty manager again, once.
            backup = shift.user if shift else None
        if backup is None or not backup.email:
            log.warning("escalation %s: unacknowledged and no backup to page", item_id)
            return item
        send_mail(
            subject=f"[Duty manager - BACKUP] Unacknowledged {_what(item)}: {', '.join(item.verdict.categories) or 'comment'}",
            message=_page_body(item, backup=True, primary=shift.user if shift else None),
            from_email=None,
            recipient_list=[backup.email],
        )
        QueueItem.objects.filter(pk=item.pk).update(backup_notified_at=now)
        audit_record(
            verb="escalation.backup_notified", system_actor="pager", comment=item.comment,
            target=f"queueitem:{item.pk}", data={"to": backup.username, "shift": shift.pk if shift else None},
        )
    item.refresh_from_db()
    return item


class AlreadyAcknowledged(Exception):
    pass


def escalation_acknowledge(*, item: QueueItem, user) -> QueueItem:
    """The duty manager takes the escalation. Conditional UPDATE: the first one wins."""
    now = timezone.now()
    with transaction.atomic():
        won = QueueItem.objects.filter(pk=item.pk, acknowledged_at__isnull=True).exclude(escalation="none").update(
            acknowledged_at=now, acknowledged_by=user
        )
        if not won:
            item.refresh_from_db()
            who = item.acknowledged_by.label if item.acknowledged_by else "someone"
            raise AlreadyAcknowledged(f"Already acknowledged by {who}.")
        audit_record(verb="escalation.acknowledged", actor=user, comment=item.comment, target=f"queueitem:{item.pk}")
    item.refresh_from_db()
    return item


def _evidence(item: QueueItem, *, user, reason: str) -> str:
    comment = item.comment
    author = comment.author
    rules = "; ".join(f"{r['id']} ({r.get('clause', '')})" for r in item.verdict.rules) or "-"
    local = timezone.localtime
    return "\n".join([
        "Safeguarding concern raised from the social media moderation console (policy section 10).",
        "",
        f"Raised by: {user.label} ({user.email or user.username})" if user else "Raised by: automatic rule",
        f"Reason: {reason or '-'}",
        "",
        f"Platform: {comment.get_platform_display()} - {comment.channel.name}",
        f"Author: {author.display_name or '-'} (@{author.handle or '-'}, platform id {author.external_id})"
        if author else "Author: unknown",
        f"Link to the original: {comment.permalink or 'not provided by the platform'}",
        f"Posted: {local(comment.created_upstream):%a %d %b %Y %H:%M %Z}" if comment.created_upstream else "Posted: unknown",
        f"Received: {local(comment.received_at):%a %d %b %Y %H:%M %Z}",
        f"Rules that fired: {rules}",
        "",
        "The comment, exactly as posted:",
        "-----",
        comment.text,
        "-----",
        "",
        "The comment is kept as evidence in the console and will not be deleted.",
        f"Console record: {item_url(item)}",
    ])


def safeguarding_refer(*, item: QueueItem, user, reason: str = "") -> bool:
    """Send the evidence to SAFEGUARDING_EMAIL once; record safeguarding_referred_at.

    Runs inside the caller's transaction; the conditional UPDATE makes a second referral a
    no-op (returns False). The comment itself is kept: decisions refuse to delete it. A
    referral made out of hours also rings the duty manager's pager after commit.
    """
    now = timezone.now()
    won = QueueItem.objects.filter(pk=item.pk, safeguarding_referred_at__isnull=True).update(
        safeguarding_referred_at=now, escalation=Verdict.Escalation.SAFEGUARDING
    )
    if not won:
        return False
    item.escalation = Verdict.Escalation.SAFEGUARDING
    comment = item.comment
    send_mail(
        subject=f"Safeguarding concern from social media ({comment.get_platform_display()})",
        message=_evidence(item, user=user, reason=reason),
        from_email=None,
        recipient_list=[settings.SAFEGUARDING_EMAIL],
    )
    audit_record(
        verb="safeguarding.referred", actor=user, comment=comment, target=f"queueitem:{item.pk}",
        data={"to": settings.SAFEGUARDING_EMAIL, "reason": reason},
    )
    item.safeguarding_referred_at = now
    if pages_duty_manager(item, received_at=comment.received_at, calendar=published_calendar()):
        doorbells.queueitem_page(item.pk)  # out of hours: the duty manager too
    return True
