"""Out-of-hours paging: the duty manager at once, the backup when nobody acknowledges."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from accounts.models import OnCallShift
from moderation import tasks
from moderation.decisions import notify
from moderation.triage.classify import comments_classify
from audit.models import AuditEvent
from moderation.models import QueueItem, Verdict
from tests.factories import CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SATURDAY_NIGHT = dt.datetime(2026, 11, 28, 2, 0, tzinfo=LONDON)


@pytest.fixture
def rota(db):
    dm = UserFactory(username="dm.primary", email="primary@example.nhs.uk")
    backup = UserFactory(username="dm.backup", email="backup@example.nhs.uk")
    OnCallShift.objects.create(
        user=dm, backup=backup,
        starts_at=dt.datetime(2026, 11, 27, 17, 0, tzinfo=LONDON), ends_at=dt.datetime(2026, 11, 30, 9, 0, tzinfo=LONDON),
    )
    return dm, backup


def _escalation(**kw):
    comment = CommentFactory(text="Ward 4 has had no nurse for hours and a patient has fallen", received_at=SATURDAY_NIGHT)
    verdict = VerdictFactory(comment=comment, action="allow", escalation="duty_manager", categories=["patient_safety"])
    return QueueItemFactory(verdict=verdict, priority=10, **kw)


def test_page_goes_to_the_duty_manager_on_call_with_an_absolute_link(rota, settings):
    settings.CONSOLE_BASE_URL = "https://console.example.nhs.uk"
    item = _escalation()
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        tasks.queueitem_page_task(item_id=item.pk)
        tasks.queueitem_page_task(item_id=item.pk)  # idempotent: one page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["primary@example.nhs.uk"]
    assert message.subject == "[Duty manager] Out-of-hours escalation: patient_safety"
    assert f"https://console.example.nhs.uk/comments/{item.comment_id}/" in message.body
    assert "a patient has fallen" in message.body
    item.refresh_from_db()
    assert item.notified_at == SATURDAY_NIGHT
    assert AuditEvent.objects.get(verb="escalation.notified").data["to"] == "dm.primary"


def test_classify_pages_after_commit_for_an_out_of_hours_escalation(rota, django_capture_on_commit_callbacks, broker):
    comment = CommentFactory(received_at=SATURDAY_NIGHT,
                             text="I'm coming to the Quayside office tomorrow and I'll smash every window.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comments_classify(comment_ids=[comment.pk])
    item = QueueItem.objects.get(comment=comment)
    assert item.escalation == "duty_manager"
    assert broker.messages() == []
    for cb in callbacks:
        cb()
    assert broker.messages() == [("moderation.tasks.queueitem_page_task", {"item_id": item.pk})]


def test_backup_is_paged_when_not_acknowledged_in_time(rota, settings):
    settings.DUTY_ACK_MINUTES = 15
    item = _escalation()
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        notify.escalation_page(item_id=item.pk)
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=14), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 0}
    assert len(mail.outbox) == 1
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=15), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 1}
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 0}  # once
    assert [m.to for m in mail.outbox] == [["primary@example.nhs.uk"], ["backup@example.nhs.uk"]]
    assert "has not acknowledged this within 15 minutes" in mail.outbox[1].body
    item.refresh_from_db()
    assert item.backup_notified_at == SATURDAY_NIGHT + dt.timedelta(minutes=15)


def test_acknowledged_escalation_does_not_page_the_backup(rota, settings):
    settings.DUTY_ACK_MINUTES = 15
    dm, _ = rota
    item = _escalation()
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        notify.escalation_page(item_id=item.pk)
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=5), tick=False):
        notify.escalation_acknowledge(item=item, user=dm)
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=30), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 0}
    assert len(mail.outbox) == 1
    with pytest.raises(notify.AlreadyAcknowledged, match="Already acknowledged by"):
        notify.escalation_acknowledge(item=item, user=dm)


def test_sweep_pages_an_escalation_whose_doorbell_was_lost(rota):
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        item = _escalation()
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=1), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 1, "backup": 0}
    item.refresh_from_db()
    assert item.notified_at is not None and mail.outbox[0].to == ["primary@example.nhs.uk"]


def test_nobody_on_call_records_nothing_and_the_sweep_retries():
    item = _escalation()
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        notify.escalation_page(item_id=item.pk)
    item.refresh_from_db()
    assert (item.notified_at, len(mail.outbox)) == (None, 0)


def test_working_hours_items_are_not_paged(rota):
    comment = CommentFactory()
    item = QueueItemFactory(verdict=VerdictFactory(comment=comment, escalation="urgent"))
    notify.escalation_page(item_id=item.pk)
    assert len(mail.outbox) == 0
    assert QueueItem.objects.get(pk=item.pk).notified_at is None


def test_rota_lookup_uses_the_shift_covering_the_instant(rota):
    dm, _ = rota
    assert notify.shift_on_call(dt.datetime(2026, 11, 28, 12, 0, tzinfo=LONDON)).user == dm
    assert notify.shift_on_call(dt.datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)) is None  # ends_at is exclusive
    assert notify.shift_on_call(dt.datetime(2026, 11, 27, 16, 59, tzinfo=LONDON)) is None


# -- safeguarding out of hours (issue 11, defect 6) -------------------------------------------
# Policy section 10: a safeguarding concern goes to the safeguarding team; out of hours the
# duty manager on call is paged too, with the same acknowledgement and backup.
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 11, 0, tzinfo=LONDON)
DISCLOSURE = "My stepdad hits me when mum is at work and I'm scared to go home"


def _classify(received_at, callbacks, broker):
    comment = CommentFactory(text=DISCLOSURE, received_at=received_at)
    with time_machine.travel(received_at, tick=False), callbacks(execute=True):
        comments_classify(comment_ids=[comment.pk])
    verdict = Verdict.objects.get(comment=comment)
    assert (verdict.escalation, verdict.categories[0]) == ("safeguarding", "safeguarding")
    return QueueItem.objects.get(comment=comment)


def test_out_of_hours_safeguarding_pages_the_duty_manager_then_the_backup(
    rota, settings, django_capture_on_commit_callbacks, broker
):
    settings.DUTY_ACK_MINUTES = 15
    settings.SAFEGUARDING_EMAIL = "safeguarding@example.nhs.uk"
    dm, _ = rota
    item = _classify(SATURDAY_NIGHT, django_capture_on_commit_callbacks, broker)
    assert broker.messages() == [("moderation.tasks.queueitem_page_task", {"item_id": item.pk})]
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        tasks.queueitem_page_task(item_id=item.pk)
        tasks.queueitem_page_task(item_id=item.pk)  # idempotent: one page
    assert [m.to for m in mail.outbox] == [["primary@example.nhs.uk"]]
    page = mail.outbox[0]
    assert page.subject == "[Duty manager] Out-of-hours safeguarding concern: safeguarding"
    assert "A safeguarding concern arrived out of hours (policy section 10)" in page.body
    assert "not been referred to the safeguarding team yet" in page.body
    assert DISCLOSURE in page.body
    assert AuditEvent.objects.get(verb="escalation.notified").data["to"] == "dm.primary"

    # Nobody acknowledges: the backup is paged after DUTY_ACK_MINUTES, once.
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=14), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 0}
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=15), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 1}
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 0}
    assert [m.to for m in mail.outbox][1:] == [["backup@example.nhs.uk"]]
    assert mail.outbox[1].subject.startswith("[Duty manager - BACKUP] Unacknowledged safeguarding concern")

    # The duty manager acknowledges and refers it: the safeguarding e-mail goes as before.
    from moderation.decisions import services as decisions

    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=20), tick=False):
        notify.escalation_acknowledge(item=item, user=dm)
        with django_capture_on_commit_callbacks(execute=True):
            decisions.decision_make(item=item, user=dm, kind="escalate", escalate_to="safeguarding",
                                    reason="child disclosing abuse")
    assert [m.to for m in mail.outbox][2:] == [["safeguarding@example.nhs.uk"]]
    assert DISCLOSURE in mail.outbox[2].body
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=40), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 0}
    assert len(mail.outbox) == 3


def test_safeguarding_in_working_hours_pages_nobody_and_the_referral_still_goes(
    rota, settings, officer, django_capture_on_commit_callbacks, broker
):
    settings.SAFEGUARDING_EMAIL = "safeguarding@example.nhs.uk"
    item = _classify(TUESDAY_MORNING, django_capture_on_commit_callbacks, broker)
    assert broker.messages() == []
    with time_machine.travel(TUESDAY_MORNING + dt.timedelta(minutes=30), tick=False):
        tasks.queueitem_page_task(item_id=item.pk)
        assert tasks.escalation_sweep_task() == {"paged": 0, "backup": 0}
        from moderation.decisions import services as decisions

        with django_capture_on_commit_callbacks(execute=True):
            decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="safeguarding",
                                    reason="child disclosing abuse")
    assert broker.messages() == []
    assert [m.to for m in mail.outbox] == [["safeguarding@example.nhs.uk"]]
    item.refresh_from_db()
    assert (item.notified_at, item.safeguarding_referred_at is not None) == (None, True)


def test_a_referral_made_out_of_hours_pages_the_duty_manager(
    rota, settings, officer, django_capture_on_commit_callbacks, broker
):
    """Arrived on Friday afternoon, referred by an officer working late: page as well."""
    settings.SAFEGUARDING_EMAIL = "safeguarding@example.nhs.uk"
    friday = dt.datetime(2026, 11, 27, 16, 30, tzinfo=LONDON)
    comment = CommentFactory(text="a 40 year old bloke keeps messaging my 13 year old", received_at=friday)
    item = QueueItemFactory(verdict=VerdictFactory(comment=comment, action="allow", categories=["complaint"]))
    from moderation.decisions import services as decisions

    with time_machine.travel(friday + dt.timedelta(hours=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="safeguarding")
        assert broker.messages() == [("moderation.tasks.queueitem_page_task", {"item_id": item.pk})]
        tasks.queueitem_page_task(item_id=item.pk)
    assert [m.to for m in mail.outbox] == [["safeguarding@example.nhs.uk"], ["primary@example.nhs.uk"]]
    assert "Referred to the safeguarding team at 17:30" in mail.outbox[1].body


def test_the_sweep_pages_a_lost_out_of_hours_safeguarding_doorbell(rota):
    comment = CommentFactory(text=DISCLOSURE, received_at=SATURDAY_NIGHT)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        item = QueueItemFactory(verdict=VerdictFactory(comment=comment, action="allow", escalation="safeguarding",
                                                       categories=["safeguarding"]))
        in_hours = QueueItemFactory(verdict=VerdictFactory(
            comment=CommentFactory(text=DISCLOSURE, received_at=TUESDAY_MORNING - dt.timedelta(days=4)),
            action="allow", escalation="safeguarding", categories=["safeguarding"]))
    with time_machine.travel(SATURDAY_NIGHT + dt.timedelta(minutes=1), tick=False):
        assert tasks.escalation_sweep_task() == {"paged": 1, "backup": 0}
    item.refresh_from_db()
    in_hours.refresh_from_db()
    assert (item.notified_at is not None, in_hours.notified_at) == (True, None)


def test_the_batch_classify_path_pages_an_out_of_hours_safeguarding_concern_too(
    rota, django_capture_on_commit_callbacks, broker
):
    night = CommentFactory(text=DISCLOSURE, received_at=SATURDAY_NIGHT)
    day = CommentFactory(text=DISCLOSURE, received_at=TUESDAY_MORNING)
    with time_machine.travel(SATURDAY_NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert comments_classify(comment_ids=[night.pk, day.pk])["needs_person"] == 2
    paged = QueueItem.objects.get(comment=night)
    assert broker.messages() == [("moderation.tasks.queueitem_page_task", {"item_id": paged.pk})]
