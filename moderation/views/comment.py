"""The comment view and the decisions made on it (one POST endpoint per verb)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import roles
from accounts.access import role_required
from accounts.htmx import page_or_partial
from moderation import access, selectors
from moderation.decisions import services as decisions
from moderation.decisions.actions import ActionNotSupported
from moderation.forms import DecisionForm, UndoForm
from moderation.models import Decision, Verdict
from moderation.queue import sla
from moderation.views.present import platform_actions, text_segments
from policy.engine import load_default_document
from policy.engine.verdict import REPLY_TEMPLATE_KEYS, SAFEGUARDING_TEMPLATE, reply_template_key
from policy.selectors import get_published_document

TEMPLATE_LABELS = {
    **{s.value: s.label for s in Verdict.Signpost if s != Verdict.Signpost.NONE},
    SAFEGUARDING_TEMPLATE: "Safeguarding (message us privately)",
}


def reply_templates() -> list[dict]:
    """The reply templates from the published rule set (the bundled default before one)."""
    try:
        templates = get_published_document().get("reply_templates") or {}
    except LookupError:
        templates = load_default_document().get("reply_templates") or {}
    return [
        {"key": key, "label": TEMPLATE_LABELS[key], "text": templates[key]}
        for key in REPLY_TEMPLATE_KEYS if templates.get(key)
    ]


def suggested_reply_key(item) -> str | None:
    """Which template the reply box starts with. A safeguarding concern, whether the engine
    said so or an officer referred it, gets the safeguarding template, never its signpost's
    (policy.engine.verdict.reply_template_key)."""
    verdict = item.verdict
    safeguarding = item.safeguarding_referred_at is not None or item.escalation == Verdict.Escalation.SAFEGUARDING
    escalation = Verdict.Escalation.SAFEGUARDING if safeguarding else verdict.escalation
    return reply_template_key(verdict.signpost, escalation, verdict.categories)


def _panel_context(request, item, *, error: str = "", done: Decision | None = None) -> dict:
    clock = sla.Clock.current()
    history = selectors.comment_decisions(item.comment)
    undoable = None
    closing = [d for d in history if d.kind in decisions.CLOSING or d.kind == Decision.Kind.UNDO]
    if closing and closing[-1].kind in decisions.REVERSIBLE:
        undoable = closing[-1]
    # The panel offers only the undo the service would accept (decisions.undo_right).
    undo_right = decisions.undo_right(decision=undoable, user=request.user) if undoable else None
    verdict = item.verdict
    templates = reply_templates()
    suggested = suggested_reply_key(item)
    # Unhide is offered only while our last removal stands (hide/block not undone)...
    K = Decision.Kind
    trail = [d for d in history if d.kind in (K.HIDE, K.BLOCK, K.UNHIDE, K.UNDO)]
    # ... or while the platform says it is hidden (hidden there by someone else, say).
    hidden = (bool(trail) and trail[-1].kind in (K.HIDE, K.BLOCK)) or selectors.comment_hidden_upstream(item.comment_id)
    return {
        "hidden": hidden,
        # Safeguarding and crisis posts are evidence (DESIGN.md): the panel says so by Delete.
        "evidence": decisions.is_evidence(item),
        "approve_needs_reason": decisions.approve_needs_reason(item),
        "item": item,
        "comment": item.comment,
        "verdict": verdict,
        "capabilities": platform_actions(item.comment.platform),
        "reply_templates": templates,
        # The text as the published rule set words it today (the dropdown's), which for a
        # safeguarding concern is never the signpost's: see suggested_reply_key.
        "suggested_key": suggested,
        "suggested_reply": next((t["text"] for t in templates if t["key"] == suggested), ""),
        "suggested_label": TEMPLATE_LABELS.get(suggested or "", ""),
        "history": history,
        "undoable": undoable,
        "undo_right": undo_right,
        "undo_refusal": decisions.undo_refusal(undoable) if undoable and undo_right is None else "",
        "error": error,
        "done": done,
        "first_look_state": clock.state(item.first_look_due) if item.status == "open" else None,
        "reply_state": clock.state(item.reply_due) if item.needs_reply and item.status != "decided" else None,
        "escalate_choices": [(e, Verdict.Escalation(e).label) for e in decisions.ESCALATE_TO],
        "sla_labels": sla.STATE_LABELS,
    }


@require_GET
@role_required(roles.WORK_QUEUE)
@vary_on_headers("HX-Request")
def comment(request, pk: int):
    c = access.get_comment_for_user(request, pk)
    item = selectors.queue_item_for_comment(c.pk)
    context = {
        "comment": c,
        "item": item,
        "thread": selectors.comment_thread(c),
        "author_history": selectors.author_history(c),
        "timeline": selectors.comment_timeline(c),
        "hidden_upstream": selectors.comment_hidden_upstream(c.pk),
    }
    verdict = item.verdict if item else Verdict.objects.filter(comment=c, is_current=True).first()
    context["verdict"] = verdict
    context["segments"] = text_segments(c.text, verdict.rules if verdict else [])
    if item is not None:
        context.update(_panel_context(request, item))
    return page_or_partial(request, "moderation/comment.html", "comment-detail", context)


def _respond(request, item, *, error: str = "", done: Decision | None = None, changed: bool, status: int = 200):
    """The changed fragment for htmx (the queue row or the decision panel); a redirect without."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif done is not None:
            messages.success(request, f"{done.get_kind_display()}: recorded.")
        if request.POST.get("next") == "queue":
            return redirect(reverse("moderation:queue"))
        return redirect(reverse("moderation:comment", args=[item.comment_id]))
    item.refresh_from_db()
    context = _panel_context(request, item, error=error, done=done)
    if request.htmx.target == f"item-{item.comment_id}":
        context["row_error"] = error
        template = "moderation/queue.html#queue-row-decided"
        if item.status != "decided":
            clock = sla.Clock.current()
            item.due = sla.item_due(item)
            item.sla_state = clock.state(item.due)
            item.sla_label = sla.STATE_LABELS[item.sla_state]
            item.approve_needs_reason = context["approve_needs_reason"]
            template = "moderation/queue.html#queue-row"
    else:
        template = "moderation/comment.html#decision-panel"
    response = render(request, template, context, status=status)
    if changed:
        trigger_client_event(response, "queue-changed")
    return response


@require_POST
@role_required(roles.WORK_QUEUE)
def decide(request, pk: int):
    item = access.get_queue_item_for_user(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        error = "; ".join(e for errs in form.errors.values() for e in errs)
        return _respond(request, item, error=error, changed=False)
    try:
        outcome = decisions.decision_make(
            item=item, user=request.user, kind=form.cleaned_data["kind"], reason=form.cleaned_data["reason"],
            reply_text=form.cleaned_data["reply_text"], escalate_to=form.cleaned_data["escalate_to"],
        )
    except (decisions.DecisionError, ActionNotSupported) as exc:
        return _respond(request, item, error=str(exc), changed=isinstance(exc, decisions.AlreadyDecided))
    return _respond(request, outcome.item, done=outcome.decision, changed=True)


@require_POST
@role_required(roles.WORK_QUEUE)
def claim(request, pk: int):
    item = access.get_queue_item_for_user(request, pk)
    try:
        item = decisions.item_claim(item=item, user=request.user)
    except decisions.DecisionError as exc:
        return _respond(request, item, error=str(exc), changed=True)
    return _respond(request, item, changed=True)


@require_POST
@role_required(roles.WORK_QUEUE)
def release(request, pk: int):
    item = access.get_queue_item_for_user(request, pk)
    try:
        item = decisions.item_release(item=item, user=request.user)
    except decisions.DecisionError as exc:
        return _respond(request, item, error=str(exc), changed=False)
    return _respond(request, item, changed=True)


@require_POST
@role_required(roles.WORK_QUEUE)
def undo(request, pk: int, decision_pk: int):
    item = access.get_queue_item_for_user(request, pk)
    decision = access.get_decision_for_user(request, item, decision_pk)
    form = UndoForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        outcome = decisions.decision_undo(item=item, decision=decision, user=request.user, reason=reason)
    except decisions.UndoRefused as exc:
        # Someone else's decision: 403, with the fragment saying whose it is for htmx.
        if not request.htmx:
            raise PermissionDenied(str(exc)) from None
        return _respond(request, item, error=str(exc), changed=False, status=403)
    except (decisions.DecisionError, ActionNotSupported) as exc:
        return _respond(request, item, error=str(exc), changed=False)
    return _respond(request, outcome.item, done=outcome.decision, changed=True)
