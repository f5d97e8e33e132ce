"""Object access for the moderation views: 404 for what does not exist.

Every officer works every channel (one comms team), so there is no per-object scope yet;
the role itself is checked by accounts.access.role_required on each view.
"""

from django.http import Http404

from moderation import selectors
from moderation.models import Comment, Decision, QueueItem


def get_comment_for_user(request, pk: int) -> Comment:
    comment = selectors.comment_with_context(pk)
    if comment is None:
        raise Http404("No such comment.")
    return comment


def get_queue_item_for_user(request, comment_pk: int) -> QueueItem:
    """The queue item of a comment; 404 when the comment never needed a person."""
    item = selectors.queue_item_for_comment(comment_pk)
    if item is None:
        raise Http404("This comment is not in the queue.")
    return item


def get_decision_for_user(request, item: QueueItem, decision_pk: int) -> Decision:
    decision = Decision.objects.filter(pk=decision_pk, comment_id=item.comment_id).first()
    if decision is None:
        raise Http404("No such decision on this comment.")
    return decision
