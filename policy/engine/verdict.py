"""The value objects the engine returns: Verdict, RuleHit and the AuthorHistory it takes."""

from __future__ import annotations

from dataclasses import dataclass

# The verdict vocabulary (DESIGN.md), each value with the label the console shows: the one
# definition the engine, the rule set schema, the admin forms and moderation's model choices
# (moderation/models.py) are all derived from.
ACTION_LABELS = {"allow": "Allow", "hide": "Hide", "delete": "Delete", "block": "Block"}
ESCALATION_LABELS = {
    "none": "None",
    "safeguarding": "Safeguarding",
    "urgent": "Urgent",
    "duty_manager": "Duty manager",
}
SIGNPOST_LABELS = {
    "none": "None",
    "complaints": "Complaints process",
    "clinical": "Clinical question (NHS 111)",
    "individual_care": "Individual care (contact us privately)",
    "crisis": "Crisis support",
    "media": "Press office",
    "legal": "Legal",
}
ACTIONS = tuple(ACTION_LABELS)
ESCALATIONS = tuple(ESCALATION_LABELS)
SIGNPOSTS = tuple(SIGNPOST_LABELS)
REMOVAL_CATEGORIES = (
    "hate",
    "profanity",
    "violence",
    "threat",
    "abuse",
    "staff_targeting",
    "inappropriate_link",
    "illegal_activity",
    "personal_info",
    "advertising",
    "mean_spirited",
)
CONCERN_CATEGORIES = (
    "complaint",
    "clinical_question",
    "individual_care",
    "safeguarding",
    "crisis",
    "patient_safety",
    "reputation",
    "legal",
    "media",
)
CATEGORIES = REMOVAL_CATEGORIES + CONCERN_CATEGORIES

# Reply templates: one per signpost, and one for a safeguarding concern, which must never be
# answered in public with a signpost's text (a child disclosing abuse used to be offered the
# crisis helplines to post under their comment): it gets a private route instead.
SAFEGUARDING_TEMPLATE = "safeguarding"
REPLY_TEMPLATE_KEYS = tuple(s for s in SIGNPOSTS if s != "none") + (SAFEGUARDING_TEMPLATE,)

ACTION_RANK = {a: i for i, a in enumerate(ACTIONS)}
# When two rules disagree the more specific route wins: a crisis post needs the crisis
# signpost even when it is also a complaint; legal and media go to their own teams.
SIGNPOST_PRIORITY = ("crisis", "legal", "media", "individual_care", "complaints", "clinical")


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    """What the caller knows about the comment's author (from stored comments, not the engine).

    ``recent_violations``: removals of this author's comments within the rule set's window.
    ``recent_texts``: the author's recent comment texts, to spot repeated identical posts.
    """

    recent_violations: int = 0
    recent_texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleHit:
    id: str
    category: str
    clause: str
    spans: tuple[tuple[int, int, str], ...] = ()

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "category": self.category,
            "clause": self.clause,
            "spans": [[s, e, t] for s, e, t in self.spans],
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    action: str = "allow"
    escalation: str = "none"
    signpost: str = "none"
    categories: tuple[str, ...] = ()
    rules: tuple[RuleHit, ...] = ()
    auto_apply: bool = False
    reply_template: str | None = None
    # True when the comment was longer than the rule set's scan limit: only its head was
    # scanned, so a person should look at the rest (limits.max_scan_chars in the document).
    truncated: bool = False
    # Set by the model reader (policy.reader.combine), never by the rules: the two readers
    # disagree about a removal, so a person decides; and what the model read (categories,
    # scores, thresholds, nearest examples). None: the rules alone judged this comment.
    disputed: bool = False
    model: dict | None = None

    @property
    def flagged(self) -> bool:
        return self.action != "allow"

    def as_dict(self) -> dict:
        return {
            "action": self.action,
            "escalation": self.escalation,
            "signpost": self.signpost,
            "categories": list(self.categories),
            "rules": [r.as_dict() for r in self.rules],
            "auto_apply": self.auto_apply,
            "reply_template": self.reply_template,
            "truncated": self.truncated,
            "disputed": self.disputed,
            "model": self.model,
        }


def reply_template_key(signpost: str, escalation: str, categories: tuple[str, ...] | list[str]) -> str | None:
    """The reply template offered for a verdict: the safeguarding one for any safeguarding
    concern (whatever its signpost says), else the signpost's; None when there is none."""
    if escalation == "safeguarding" or "safeguarding" in categories:
        return SAFEGUARDING_TEMPLATE
    return None if signpost == "none" else signpost
