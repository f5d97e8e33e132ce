"""The queue page and the comment page (STYLE.md: full page, htmx partial, anonymous,
wrong role, wrong method, unknown id) and the decisions posted from them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation.models import Decision, PlatformAction, QueueItem
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, UserFactory, VerdictFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _item(text="You lot are useless idiots", platform="facebook", due_in=dt.timedelta(hours=2), **verdict):
    comment = CommentFactory(channel=ChannelFactory(platform=platform), text=text)
    verdict.setdefault("rules", [{"id": "abuse.insult", "category": "abuse", "clause": "9: abusive", "spans": [[19, 26, "idiots"]]}])
    item = QueueItemFactory(verdict=VerdictFactory(comment=comment, **verdict), first_look_due=timezone.now() + due_in)
    return item


# -- queue --------------------------------------------------------------------------------

def test_queue_full_page_lists_items_with_sla_state(client_for, officer):
    breached = _item(text="breached one", due_in=-dt.timedelta(minutes=5))
    later = _item(text="later one", due_in=dt.timedelta(days=5))
    response = client_for(officer).get(reverse("moderation:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and 'id="queue-results"' in body
    assert body.index("breached one") < body.index("later one")
    assert f'id="item-{breached.comment_id}" class="qrow sla-breached"' in body
    assert f'id="item-{later.comment_id}" class="qrow sla-on_track"' in body
    assert response["Vary"].count("HX-Request") == 1


def test_queue_htmx_returns_the_results_partial(client_for, officer):
    _item()
    response = client_for(officer).get(reverse("moderation:queue"), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="queue-results"')


def test_queue_filters_counts_and_search(client_for, officer):
    _item(text="facebook rude", platform="facebook")
    _item(text="youtube spam", platform="youtube", action="hide", categories=["advertising"])
    c = client_for(officer)
    body = c.get(reverse("moderation:queue"), {"platform": "youtube"}).content.decode()
    assert "youtube spam" in body and "facebook rude" not in body
    # the count beside each platform is what clicking it shows (other filters applied)
    assert 'data-filter="platform=facebook">Facebook <span class="count">1</span>' in body
    body = c.get(reverse("moderation:queue"), {"q": "RUDE"}).content.decode()
    assert "facebook rude" in body and "youtube spam" not in body
    body = c.get(reverse("moderation:queue"), {"category": "advertising"}).content.decode()
    assert "youtube spam" in body and "facebook rude" not in body


def test_queue_assigned_to_me(client_for, officer):
    mine = _item(text="claimed by me")
    _item(text="not mine")
    QueueItem.objects.filter(pk=mine.pk).update(status="claimed", claimed_by=officer, claimed_at=timezone.now())
    body = client_for(officer).get(reverse("moderation:queue"), {"mine": "1"}).content.decode()
    assert "claimed by me" in body and "not mine" not in body


def test_queue_keyset_pagination_has_no_gaps_or_repeats(client_for, officer, monkeypatch):
    from moderation import selectors

    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    items = [_item(text=f"item number {n}", due_in=dt.timedelta(minutes=90 + n)) for n in range(5)]
    c = client_for(officer)
    seen, params, pages_seen = [], {}, []
    for _ in range(5):
        response = c.get(reverse("moderation:queue"), params)
        page = [i for i in items if f'id="item-{i.comment_id}"' in response.content.decode()]
        seen += page
        pages_seen.append(len(page))
        nxt = response.context["page"].next_cursor
        if not nxt:
            break
        params = {"after": nxt}
    assert [i.pk for i in seen] == [i.pk for i in items]
    assert len(pages_seen) == 3  # 2 + 2 + 1: the cursor really paged


def test_decided_items_leave_the_queue(client_for, officer):
    item = _item(text="already handled")
    QueueItem.objects.filter(pk=item.pk).update(status="decided", decided_at=timezone.now())
    assert "already handled" not in client_for(officer).get(reverse("moderation:queue")).content.decode()


def test_queue_wrong_role_and_method(client_for, policy_admin, officer):
    assert client_for(policy_admin).get(reverse("moderation:queue")).status_code == 403
    assert client_for(officer).post(reverse("moderation:queue")).status_code == 405


# -- comment page -------------------------------------------------------------------------

XSS = '<script>alert(1)</script> <img src=x onerror=alert(2)> you idiots'


def test_comment_page_escapes_text_and_highlights_spans(client_for, officer):
    item = _item(text=XSS, rules=[{"id": "abuse.insult", "category": "abuse", "clause": "9: abusive", "spans": [[55, 61, "idiots"]]}])
    response = client_for(officer).get(reverse("moderation:comment", args=[item.comment_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert ('&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt; you <mark>idiots</mark>') in body
    assert "9: abusive" in body and "abuse.insult" in body


def test_comment_page_shows_thread_author_history_and_suggested_reply(client_for, officer):
    channel = ChannelFactory()
    earlier = CommentFactory(channel=channel, text="an earlier comment by the same person", thread_external_id="post-1")
    comment = CommentFactory(channel=channel, author=earlier.author, text="Can I have the flu jab with a cold?",
                             thread_external_id="post-1", created_upstream=timezone.now())
    CommentFactory(channel=channel, text="a neighbour in the thread", thread_external_id="post-1", created_upstream=timezone.now())
    QueueItemFactory(verdict=VerdictFactory(comment=comment, action="allow", signpost="clinical", categories=["clinical_question"],
                                            reply_template="Please contact NHS 111."), needs_reply=True)
    body = client_for(officer).get(reverse("moderation:comment", args=[comment.pk])).content.decode()
    assert "a neighbour in the thread" in body
    assert "an earlier comment by the same person" in body
    # The reply box starts with the published rule set's template for the signpost.
    assert "contact NHS 111 (online or by phone)" in body
    assert 'id="decision-panel"' in body


def test_comment_page_offers_only_what_the_platform_supports(client_for, officer):
    item = _item(platform="x")
    body = client_for(officer).get(reverse("moderation:comment", args=[item.comment_id])).content.decode()
    assert 'name="kind" value="hide"' in body
    assert 'name="kind" value="delete"' not in body
    assert "X does not let us delete other people&#x27;s posts; hide the reply instead." in body
    # Block is offered on X, named for what it does there: a mute.
    assert 'name="kind" value="block"' in body
    assert "Hide this comment and mute its author on X?" in body and "Block (mute)" in body
    assert "X&#x27;s API blocks only on Enterprise plans, so this mutes the author instead" in body


def test_comment_page_htmx_partial_unknown_wrong_role_method(client_for, officer, policy_admin):
    item = _item()
    c = client_for(officer)
    url = reverse("moderation:comment", args=[item.comment_id])
    partial = c.get(url, **HX).content.decode()
    assert "<html" not in partial and partial.lstrip().startswith('<div id="comment-detail"')
    assert c.get(reverse("moderation:comment", args=[999999])).status_code == 404
    assert c.post(url).status_code == 405
    assert client_for(policy_admin).get(url).status_code == 403


def test_comment_page_anonymous_is_sent_to_sign_in(client):
    item = _item()
    url = reverse("moderation:comment", args=[item.comment_id])
    response = client.get(url)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('accounts:login')}?next={url}")


# -- decisions ----------------------------------------------------------------------------

def test_hide_from_the_queue_row_returns_the_decided_row_and_announces(client_for, officer):
    item = _item()
    response = client_for(officer).post(
        reverse("moderation:decide", args=[item.comment_id]), {"kind": "hide", "next": "queue"},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"item-{item.comment_id}",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<tr id="item-{item.comment_id}" class="qrow-done"')
    assert "Undo" in body
    assert response["HX-Trigger"] == '{"queue-changed": {}}'
    assert PlatformAction.objects.get().kind == "hide"


def test_decide_from_the_comment_page_returns_the_panel(client_for, officer):
    item = _item()
    response = client_for(officer).post(reverse("moderation:decide", args=[item.comment_id]),
                                        {"kind": "approve", "reason": "fair criticism"}, **HX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="decision-panel"')
    assert "Approve (no action): recorded" in body
    d = Decision.objects.get()
    assert (d.kind, d.reason, d.decided_by) == ("approve", "fair criticism", officer)


def test_decide_without_htmx_redirects(client_for, officer):
    item = _item()
    response = client_for(officer).post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "hide", "next": "queue"})
    assert (response.status_code, response["Location"]) == (302, reverse("moderation:queue"))
    response = client_for(officer).post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "note", "reason": "x"})
    assert response["Location"] == reverse("moderation:comment", args=[item.comment_id])


def test_second_officer_sees_already_decided_not_an_error(client_for, officer):
    item = _item()
    other = UserFactory(username="second")
    other.groups.set(officer.groups.all())
    client_for(officer).post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "hide"}, **HX)
    response = client_for(other).post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "approve"}, **HX)
    assert response.status_code == 200
    assert "Already decided: hide by" in response.content.decode()
    assert list(Decision.objects.values_list("kind", flat=True)) == ["hide"]


def test_unsupported_decision_shows_the_reason(client_for, officer):
    item = _item(platform="instagram")
    response = client_for(officer).post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "block"}, **HX)
    assert "Instagram&#x27;s API has no way to block" in response.content.decode()
    assert Decision.objects.count() == 0 and PlatformAction.objects.count() == 0


def test_invalid_decision_form_rerenders_with_200(client_for, officer):
    item = _item()
    response = client_for(officer).post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "launch"}, **HX)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Decision.objects.count() == 0


def test_claim_and_undo(client_for, officer):
    item = _item()
    c = client_for(officer)
    assert c.post(reverse("moderation:claim", args=[item.comment_id]), **HX).status_code == 200
    item.refresh_from_db()
    assert (item.status, item.claimed_by) == ("claimed", officer)
    c.post(reverse("moderation:decide", args=[item.comment_id]), {"kind": "hide"}, **HX)
    hide = Decision.objects.get(kind="hide")
    response = c.post(reverse("moderation:undo", args=[item.comment_id, hide.pk]), **HX)
    assert "Undo: recorded" in response.content.decode()
    assert sorted(PlatformAction.objects.values_list("kind", flat=True)) == ["hide", "unhide"]
    assert c.post(reverse("moderation:release", args=[item.comment_id]), **HX).status_code == 200
    item.refresh_from_db()
    assert item.status == "open"


def test_bulk_decision(client_for, officer):
    a, b = _item(text="first"), _item(text="second", platform="x")
    response = client_for(officer).post(reverse("moderation:bulk"), {"kind": "delete", "items": [a.comment_id, b.comment_id]}, **HX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="bulk-result"')
    assert "1 done, 1 refused" in body
    assert "queue-bulk-changed" in response["HX-Trigger"]
    assert list(PlatformAction.objects.values_list("kind", flat=True)) == ["delete"]


def test_bulk_without_selection_changes_nothing(client_for, officer):
    response = client_for(officer).post(reverse("moderation:bulk"), {"kind": "hide"}, **HX)
    assert "Select at least one item." in response.content.decode()
    assert Decision.objects.count() == 0


@pytest.mark.parametrize("name,args", [
    ("moderation:decide", [1]), ("moderation:claim", [1]), ("moderation:release", [1]), ("moderation:undo", [1, 1]),
])
def test_mutations_refuse_get_wrong_role_and_unknown_ids(client_for, officer, policy_admin, name, args):
    item = _item()
    real = [item.comment_id] + args[1:]
    assert client_for(officer).get(reverse(name, args=real)).status_code == 405
    assert client_for(policy_admin).post(reverse(name, args=real), {"kind": "hide"}).status_code == 403
    assert client_for(officer).post(reverse(name, args=[999999] + args[1:]), {"kind": "hide"}).status_code == 404


def test_bulk_refuses_get_and_wrong_role(client_for, officer, policy_admin):
    assert client_for(officer).get(reverse("moderation:bulk")).status_code == 405
    assert client_for(policy_admin).post(reverse("moderation:bulk"), {"kind": "hide"}).status_code == 403


def test_facet_counts_apply_every_other_filter(officer):
    from moderation import selectors
    from moderation.queue import sla

    _item(text="fb abuse", platform="facebook", categories=["abuse"])
    _item(text="fb ads", platform="facebook", categories=["advertising"])
    _item(text="yt abuse", platform="youtube", categories=["abuse", "profanity"])
    clock = sla.Clock.current()
    counts = selectors.queue_counts(
        filters=selectors.QueueFilters(platform="facebook", category="abuse"), user=officer,
        now=clock.now, cutoff=clock.cutoff,
    )
    # platform counts ignore the platform filter but keep category=abuse; category counts the reverse
    assert counts["platform"] == {"facebook": 1, "youtube": 1}
    assert counts["category"] == {"abuse": 1, "advertising": 1}
    assert (counts["total"], counts["action"], counts["mine"]) == (1, {"hide": 1}, 0)
    searched = selectors.queue_counts(
        filters=selectors.QueueFilters(q="ABUSE"), user=officer, now=clock.now, cutoff=clock.cutoff
    )
    assert searched["category"] == {"abuse": 2, "profanity": 1}
    assert searched["total"] == 2


def test_crisis_post_warns_that_it_is_evidence(client_for, officer):
    item = _item(text="nobody would notice if I was gone", action="allow", escalation="urgent",
                 signpost="crisis", categories=["crisis"])
    body = client_for(officer).get(reverse("moderation:comment", args=[item.comment_id])).content.decode()
    assert "Safeguarding or crisis post:</strong> it is evidence." in body
    plain = _item(text="you idiots")
    body = client_for(officer).get(reverse("moderation:comment", args=[plain.comment_id])).content.decode()
    assert 'id="evidence-note"' not in body


# -- a search that matches nothing (issue #11: it was a 500) ------------------------------

def test_search_with_no_match_shows_an_empty_queue_page_and_partial(client_for, officer):
    _item(text="facebook rude", platform="facebook")
    c = client_for(officer)
    response = c.get(reverse("moderation:queue"), {"q": "nomatchxyz"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing here needs a person with these filters." in body and "facebook rude" not in body
    # every facet says 0: clicking it would still show nothing
    assert 'data-filter="platform=facebook">Facebook <span class="count">0</span>' in body
    # the 20-second refresh asks for the partial with the same search
    response = c.get(reverse("moderation:queue"), {"q": "nomatchxyz", "platform": "facebook"}, **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="queue-results"')
    assert "Nothing here needs a person with these filters." in body


def test_facet_counts_for_a_search_with_no_match_are_all_zero(officer):
    from moderation import selectors
    from moderation.queue import sla

    _item(text="fb abuse", platform="facebook", categories=["abuse"])
    clock = sla.Clock.current()
    for search_ids in (None, []):  # the selector finds the ids itself, or the view passes none found
        counts = selectors.queue_counts(
            filters=selectors.QueueFilters(q="nomatchxyz", platform="facebook", category="abuse"), user=officer,
            now=clock.now, cutoff=clock.cutoff, search_ids=search_ids,
        )
        assert counts == {
            "platform": {}, "channel": {}, "action": {}, "escalation": {}, "status": {}, "sla": {},
            "mine": 0, "total": 0, "category": {},
        }
