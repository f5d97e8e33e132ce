"""The reply the comment page suggests (issue 11, defect 7).

A child disclosing abuse used to be offered the mental-health crisis text, pre-filled, to
post publicly. A safeguarding concern now gets its own short template that offers a private
route (and 999), repeats nothing of what they wrote, and the officer is told whether the
referral has gone; every other signpost gets its own matching template.
"""

import html
import re

import pytest
from django.urls import reverse

from moderation.decisions import services as decisions
from moderation.models import Verdict
from moderation.triage.classify import comments_classify
from policy.engine import load_default_document
from policy.engine.verdict import SIGNPOSTS
from tests.factories import ChannelFactory, CommentFactory, QueueItemFactory, VerdictFactory

pytestmark = pytest.mark.django_db

TEMPLATES = load_default_document()["reply_templates"]
DISCLOSURE = "My stepdad hits me when mum is at work and I'm scared to go home"


def _page(client, item) -> str:
    return client.get(reverse("moderation:comment", args=[item.comment_id])).content.decode()


def _prefilled(page: str) -> str:
    return html.unescape(re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)).strip()


def _selected(page: str) -> list[str]:
    select = re.search(r'<select id="reply-template".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="(\w+)"[^>]*\bselected\b', select)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if len(w) > 3}  # words, not "and" or "me"


def _safeguarding_item(**verdict):
    comment = CommentFactory(channel=ChannelFactory(platform="instagram"), text=DISCLOSURE)
    # As the engine stored it before the fix: signpost crisis, the crisis text as the reply.
    verdict = {"action": "allow", "escalation": "safeguarding", "signpost": "crisis",
               "categories": ["safeguarding"], "reply_template": TEMPLATES["crisis"], **verdict}
    return QueueItemFactory(verdict=VerdictFactory(comment=comment, **verdict))


def test_a_safeguarding_disclosure_is_offered_the_private_route_not_the_crisis_text(client_for, officer):
    item = _safeguarding_item()
    page = _page(client_for(officer), item)
    reply = _prefilled(page)
    assert reply == TEMPLATES["safeguarding"]
    assert _selected(page) == ["safeguarding"]
    assert TEMPLATES["crisis"] not in page.split('id="reply"')[1]
    # Nothing of what they wrote goes back out in public.
    assert _words(reply) & _words(DISCLOSURE) == set()
    assert "private" in reply and "999" in reply
    assert 'id="safeguarding-reply-note"' in page
    assert "Not referred to the safeguarding team yet" in page


def test_the_officer_is_told_once_the_referral_has_gone(client_for, officer):
    item = _safeguarding_item()
    decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="safeguarding", reason="disclosure")
    page = _page(client_for(officer), item)
    assert "Referred to the safeguarding team" in page.split('id="safeguarding-reply-note"')[1].split("</p>")[0]
    assert _prefilled(page) == TEMPLATES["safeguarding"]


def test_an_item_an_officer_referred_gets_the_safeguarding_reply_whatever_the_engine_said(client_for, officer):
    comment = CommentFactory(text="she says her boyfriend won't let her see anyone")
    item = QueueItemFactory(verdict=VerdictFactory(comment=comment, action="allow", signpost="complaints",
                                                   categories=["complaint"], reply_template=TEMPLATES["complaints"]))
    decisions.decision_make(item=item, user=officer, kind="escalate", escalate_to="safeguarding")
    assert _prefilled(_page(client_for(officer), item)) == TEMPLATES["safeguarding"]


@pytest.mark.parametrize("signpost", [s for s in SIGNPOSTS if s != "none"])
def test_each_signpost_gets_its_own_template(client_for, officer, signpost):
    comment = CommentFactory(text="A comment that needs a reply")
    item = QueueItemFactory(verdict=VerdictFactory(comment=comment, action="allow", signpost=signpost,
                                                   categories=["complaint"], reply_template=TEMPLATES[signpost]))
    page = _page(client_for(officer), item)
    assert _prefilled(page) == TEMPLATES[signpost]
    assert _selected(page) == [signpost]
    assert 'id="safeguarding-reply-note"' not in page


def test_no_signpost_prefills_nothing(client_for, officer):
    item = QueueItemFactory(verdict=VerdictFactory(comment=CommentFactory(text="you idiots")))
    page = _page(client_for(officer), item)
    assert _prefilled(page) == "" and _selected(page) == []


def test_the_engine_stores_the_safeguarding_template_for_a_disclosure():
    comment = CommentFactory(text=DISCLOSURE)
    comments_classify(comment_ids=[comment.pk])
    verdict = Verdict.objects.get(comment=comment)
    assert (verdict.escalation, verdict.signpost) == ("safeguarding", "crisis")
    assert verdict.reply_template == TEMPLATES["safeguarding"]


def test_the_safeguarding_template_gives_only_numbers_the_policy_publishes():
    published = set(load_default_document()["own_contacts"]["phones"])
    numbers = re.findall(r"\d[\d ]*\d|\d", TEMPLATES["safeguarding"])
    assert numbers and set(numbers) <= published
