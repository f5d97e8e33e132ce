"""Approving an escalated item needs a reason (issue 11, defect 8).

Approve on a safeguarding or crisis row took one keypress and no reason: it closes the item
and leaves the comment up. For an escalated item (safeguarding, crisis, urgent, duty manager)
the service now refuses an approval without a reason, whichever way it arrives (the page, a
crafted POST, a bulk decision), and the pages offer a reason form instead of a one-click
Approve.
"""

import re

import pytest
from django.urls import reverse

from moderation.decisions import services as decisions
from audit.models import AuditEvent
from moderation.models import Decision, PlatformAction, QueueItem
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, VerdictFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
ESCALATED = {
    "safeguarding": dict(action="allow", escalation="safeguarding", categories=["safeguarding"]),
    "crisis": dict(action="allow", escalation="none", signpost="crisis", categories=["crisis"]),
    "urgent": dict(action="allow", escalation="urgent", categories=["patient_safety"]),
    "duty_manager": dict(action="allow", escalation="duty_manager", categories=["reputation"]),
}


def _item(text="Something worth a second look", **verdict):
    comment = CommentFactory(channel=ChannelFactory(platform="facebook"), text=text)
    return QueueItemFactory(verdict=VerdictFactory(comment=comment, **verdict))


def _nothing_changed(item):
    item.refresh_from_db()
    assert (item.status, item.decided_at) == ("open", None)
    assert (Decision.objects.count(), PlatformAction.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize("kind", list(ESCALATED))
def test_approving_an_escalated_item_without_a_reason_is_refused(officer, kind):
    item = _item(**ESCALATED[kind])
    assert decisions.approve_needs_reason(item)
    with pytest.raises(decisions.DecisionError, match="approving it needs a reason"):
        decisions.decision_make(item=item, user=officer, kind="approve", reason="  ")
    _nothing_changed(item)


@pytest.mark.parametrize("kind", list(ESCALATED))
def test_with_a_reason_it_is_approved_and_the_reason_recorded(officer, kind):
    item = _item(**ESCALATED[kind])
    decisions.decision_make(item=item, user=officer, kind="approve", reason="Spoke to the ward: resolved")
    item.refresh_from_db()
    assert item.status == "decided"
    assert Decision.objects.get().reason == "Spoke to the ward: resolved"
    assert AuditEvent.objects.get(verb="decision.approve").data["reason"] == "Spoke to the ward: resolved"


def test_an_item_escalated_by_an_officer_counts_too(officer):
    item = _item(action="hide", categories=["abuse"])
    decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="duty_manager")
    item.refresh_from_db()
    with pytest.raises(decisions.DecisionError, match="approving it needs a reason"):
        decisions.decision_make(item=item, user=officer, kind="approve")


def test_a_plain_item_is_still_approved_in_one_click(officer):
    item = _item(action="hide", categories=["abuse"])
    assert not decisions.approve_needs_reason(item)
    decisions.decision_make(item=item, user=officer, kind="approve")
    item.refresh_from_db()
    assert item.status == "decided"


def test_bulk_approve_refuses_escalated_items_without_a_reason(officer):
    plain, urgent = _item(action="hide", categories=["abuse"]), _item(**ESCALATED["urgent"])
    result = decisions.decisions_bulk(items=[plain, urgent], user=officer, kind="approve")
    assert result.done == [plain.pk]
    assert "approving it needs a reason" in result.refused[urgent.pk]
    assert QueueItem.objects.get(pk=urgent.pk).status == "open"


def test_a_crafted_post_is_refused_and_nothing_changes(client_for, officer):
    item = _item(**ESCALATED["safeguarding"])
    response = client_for(officer).post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "approve"}, **HX)
    assert response.status_code == 200
    assert "approving it needs a reason" in response.content.decode()
    _nothing_changed(item)


def test_the_queue_row_opens_the_reason_form_instead_of_approving(client_for, officer):
    escalated, plain = _item(text="escalated one", **ESCALATED["crisis"]), _item(text="plain one", action="hide")
    body = client_for(officer).get(reverse("moderation:queue")).content.decode()
    row = body.split(f'id="item-{escalated.comment_id}"')[1].split("</tr>")[0]
    assert 'value="approve"' not in row
    link = re.search(r'<a [^>]*data-key="a"[^>]*>', row).group(0)
    assert f'href="{reverse("moderation:comment", args=[escalated.comment_id])}#approve"' in link
    plain_row = body.split(f'id="item-{plain.comment_id}"')[1].split("</tr>")[0]
    assert 'name="kind" value="approve"' in plain_row


def test_the_comment_page_has_a_reason_form_for_approve(client_for, officer):
    item = _item(**ESCALATED["urgent"])
    body = client_for(officer).get(reverse("moderation:comment", args=[item.comment_id])).content.decode()
    approve = body.split('<details id="approve-form"')[1].split("</details>")[0]
    assert 'name="kind" value="approve"' in approve
    reason = re.search(r'<textarea [^>]*name="reason"[^>]*>', approve).group(0)
    assert "required" in reason
    main = body.split('<form class="actions"')[1].split("</form>")[0]
    assert 'value="approve"' not in main  # no one-click Approve beside Hide
