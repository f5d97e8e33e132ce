"""Input validation for the triage views, nothing else."""

from __future__ import annotations

from django import forms

from moderation.decisions import services as decisions
from moderation.models import Decision, Platform, QueueItem, Verdict
from moderation.selectors import Cursor, QueueFilters

CATEGORY_CHOICES = [(c, c.replace("_", " ")) for c in (
    "hate", "profanity", "violence", "threat", "abuse", "staff_targeting", "inappropriate_link",
    "illegal_activity", "personal_info", "advertising", "mean_spirited", "complaint", "clinical_question",
    "individual_care", "safeguarding", "crisis", "patient_safety", "reputation", "legal", "media",
)]
SLA_CHOICES = [("breached", "Breached"), ("at_risk", "At risk"), ("on_track", "On track")]


class QueueFilterForm(forms.Form):
    platform = forms.ChoiceField(choices=[("", "Any")] + Platform.choices, required=False)
    channel = forms.IntegerField(required=False, min_value=1)
    category = forms.ChoiceField(choices=[("", "Any")] + CATEGORY_CHOICES, required=False)
    action = forms.ChoiceField(choices=[("", "Any")] + Verdict.Action.choices, required=False)
    escalation = forms.ChoiceField(choices=[("", "Any")] + Verdict.Escalation.choices, required=False)
    status = forms.ChoiceField(
        choices=[("", "Any"), (QueueItem.Status.OPEN, "Open"), (QueueItem.Status.CLAIMED, "Claimed")], required=False
    )
    sla = forms.ChoiceField(choices=[("", "Any")] + SLA_CHOICES, required=False)
    mine = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)
    after = forms.CharField(required=False, max_length=80)

    def filters(self) -> QueueFilters:
        d = self.cleaned_data
        return QueueFilters(
            platform=d["platform"], channel=d["channel"], category=d["category"], action=d["action"],
            escalation=d["escalation"], status=d["status"], sla=d["sla"], mine=d["mine"], q=d["q"],
        )

    def cursor(self) -> Cursor | None:
        raw = self.cleaned_data.get("after") or ""
        return Cursor.decode(raw) if raw else None


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=[c for c in Decision.Kind.choices if c[0] != Decision.Kind.UNDO])
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    reply_text = forms.CharField(required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 4}))
    escalate_to = forms.ChoiceField(
        choices=[("", "Choose")] + [(e, Verdict.Escalation(e).label) for e in decisions.ESCALATE_TO], required=False
    )


class UndoForm(forms.Form):
    # Required of a duty manager overriding a colleague's decision (decisions.decision_undo).
    reason = forms.CharField(required=False, max_length=2000)


class IdListField(forms.Field):
    def to_python(self, value):
        if not value:
            return []
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError):
            raise forms.ValidationError("Choose items from the queue.") from None


class MultipleHiddenIds(forms.MultipleHiddenInput):
    pass


class BulkDecisionForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in decisions.BULK_KINDS])
    # Comment ids (the queue and comment pages are keyed by comment).
    items = IdListField(widget=MultipleHiddenIds, error_messages={"required": "Select at least one item."})
    reason = forms.CharField(required=False, max_length=2000)

    def clean_items(self):
        items = self.cleaned_data["items"]
        if not items:
            raise forms.ValidationError("Select at least one item.")
        if len(items) > 200:  # a page is 25 rows; 200 bounds a crafted request
            raise forms.ValidationError("Select at most 200 items at once.")
        return items
