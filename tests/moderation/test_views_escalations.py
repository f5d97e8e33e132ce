"""The duty manager's escalations page and acknowledging an escalation."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import CommentFactory, QueueItemFactory, VerdictFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _escalation(text="Ward 4 has had no nurse on for hours tonight"):
    comment = CommentFactory(text=text)
    return QueueItemFactory(
        verdict=VerdictFactory(comment=comment, action="allow", escalation="duty_manager", categories=["patient_safety"]),
        priority=10, notified_at=timezone.now(),
    )


def test_full_page_lists_open_escalations_with_their_timeline(client_for, duty_manager):
    item = _escalation()
    from audit.services import audit_record

    audit_record(verb="escalation.notified", system_actor="pager", comment=item.comment, data={"to": "dev.duty"})
    response = client_for(duty_manager).get(reverse("moderation:escalations"))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "Ward 4 has had no nurse on for hours tonight" in body
    assert "escalation.notified · pager → dev.duty" in body
    assert "Nobody is on the rota right now." in body


def test_htmx_partial(client_for, duty_manager):
    _escalation()
    body = client_for(duty_manager).get(reverse("moderation:escalations"), **HX).content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="escalation-lists"')


def test_acknowledge_returns_the_card_and_records_who(client_for, duty_manager):
    item = _escalation()
    response = client_for(duty_manager).post(reverse("moderation:acknowledge", args=[item.comment_id]), **HX)
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article id="escalation-{item.comment_id}"')
    assert "Acknowledged</span> by Test" in body
    item.refresh_from_db()
    assert item.acknowledged_by == duty_manager
    assert AuditEvent.objects.filter(verb="escalation.acknowledged", actor=duty_manager).count() == 1
    again = client_for(duty_manager).post(reverse("moderation:acknowledge", args=[item.comment_id]), **HX)
    assert "Already acknowledged by" in again.content.decode()


def test_acknowledge_without_htmx_redirects(client_for, duty_manager):
    item = _escalation()
    response = client_for(duty_manager).post(reverse("moderation:acknowledge", args=[item.comment_id]))
    assert (response.status_code, response["Location"]) == (302, reverse("moderation:escalations"))


def test_acknowledge_refuses_get_wrong_role_unknown_and_anonymous(client, client_for, duty_manager, officer):
    item = _escalation()
    url = reverse("moderation:acknowledge", args=[item.comment_id])
    assert client.post(url).status_code == 302
    assert client_for(officer).post(url).status_code == 403
    assert client_for(duty_manager).get(url).status_code == 405
    assert client_for(duty_manager).post(reverse("moderation:acknowledge", args=[999999])).status_code == 404
    item.refresh_from_db()
    assert item.acknowledged_at is None
