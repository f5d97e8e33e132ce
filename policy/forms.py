"""Input validation for the policy admin pages.

Each editing form knows which part of the rule-set document it edits: ``document_with(doc)``
returns a new document with the form's values applied, and ``add_ruleset_error(err)`` puts
the engine's RuleSetError (path + message) next to the field it is about, so an invalid
pattern says where and why.
"""

from __future__ import annotations

import copy
import re
from datetime import date

from django import forms

from policy.engine import RuleSetError
from policy.engine.schema import DOC_ESCALATIONS, PLATFORMS, RULE_KEYS, RULE_SPEED_KEYS
from policy.engine.verdict import (
    ACTIONS,
    CATEGORIES,
    REMOVAL_CATEGORIES,
    REPLY_TEMPLATE_KEYS,
    SIGNPOSTS,
)

DETECTORS = (
    "nhs_number",
    "phone",
    "email",
    "postcode",
    "street_address",
    "date_of_birth",
    "patient_condition",
    "link",
    "repeated_post",
)
WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
TEMPLATE_LABELS = {
    "complaints": "Complaints",
    "clinical": "Clinical question",
    "individual_care": "Individual care",
    "crisis": "Crisis",
    "media": "Media enquiry",
    "legal": "Legal",
    "safeguarding": "Safeguarding (any safeguarding concern: a private route, never their words)",
}
assert tuple(TEMPLATE_LABELS) == REPLY_TEMPLATE_KEYS


def _lines(value: str) -> list[str]:
    """One item per line; blank lines and surrounding spaces ignored, order kept. Repeats are
    kept too: dropping them would show up as a change the admin never made."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _csv(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[,\n]", value or "") if v.strip()]


def _choices(values, blank: str | None = None):
    out = [(v, v.replace("_", " ")) for v in values]
    return ([("", blank)] + out) if blank is not None else out


class DocumentForm(forms.Form):
    """Base: maps a RuleSetError path prefix to a field (``path_fields``), and saves only a
    form that arrived whole.

    Every editing form rewrites its whole part of the document, so a field missing from the
    POST would read as "cleared" (an empty POST to the links editor used to wipe the allow
    list). A browser always sends every text box, select and hidden input, an emptied one
    as an empty value, which still clears; only unticked checkboxes are left out, and
    Django's widgets know that (``value_omitted_from_data``). So an optional field whose
    widget says it was omitted means the form was not submitted whole, and nothing is saved.
    Required fields need no such check: missing, they are "required" errors already.
    """

    path_fields: dict[str, str] = {}

    def clean(self):
        data = super().clean()
        missing = [
            name
            for name, field in self.fields.items()
            if not field.required
            and not field.disabled
            and field.widget.value_omitted_from_data(self.data, self.files, self.add_prefix(name))
        ]
        if missing:
            raise forms.ValidationError(
                "Nothing was saved: the form arrived without %(fields)s (an emptied box is still"
                " sent; a missing one is not). Reload the page and save again.",
                code="incomplete",
                params={"fields": ", ".join(n.replace("_", " ") for n in missing)},
            )
        return data

    def add_ruleset_error(self, err) -> None:
        for prefix, field in self.path_fields.items():
            if (
                err.path == prefix
                or err.path.startswith(prefix + ".")
                or err.path.startswith(prefix + "[")
            ):
                self.add_error(field, f"{err.path}: {err.message}")
                return
        self.add_error(None, f"{err.path}: {err.message}" if err.path else err.message)


# -- rules ----------------------------------------------------------------------------------
class RuleForm(DocumentForm):
    id = forms.RegexField(
        regex=r"^[a-z0-9][a-z0-9_\-]{0,79}$",
        max_length=80,
        label="Rule id",
        help_text="lower case letters, digits, - and _",
        error_messages={"invalid": "Use lower-case letters, digits, - and _ (up to 80)."},
    )
    enabled = forms.BooleanField(required=False, initial=True)
    category = forms.ChoiceField(choices=_choices(CATEGORIES))
    clause = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="The policy clause the rule enforces."
    )
    trigger = forms.ChoiceField(
        choices=[
            ("terms", "Term lists"),
            ("pattern", "Pattern (regular expression)"),
            ("detector", "Built-in detector"),
            ("near", "A term, then another nearby"),
        ],
        widget=forms.RadioSelect,
        label="Matches",
    )
    terms = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Term lists"
    )
    pattern = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="Python regex over the folded, lower-case text; {list} expands a term list.",
    )
    detector = forms.ChoiceField(required=False, choices=_choices(DETECTORS, blank="—"))
    kinds = forms.CharField(
        required=False, help_text="Detector kinds, comma-separated (e.g. denied, shortener)."
    )
    near_first = forms.ChoiceField(required=False, label="A term from")
    near_then = forms.ChoiceField(required=False, label="followed by a term from")
    within = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=500,
        label="within (characters)",
        help_text="On the same line; default 60.",
    )
    context = forms.CharField(required=False, label="Only if near (regex)")
    unless = forms.CharField(required=False, label="Unless near (regex)")
    window = forms.IntegerField(
        required=False, min_value=1, help_text="Characters either side for the two above."
    )
    requires = forms.MultipleChoiceField(
        required=False,
        choices=_choices(CATEGORIES),
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text="Fires only when one of these categories also fired.",
    )
    platforms = forms.MultipleChoiceField(
        required=False,
        choices=_choices(PLATFORMS[:4]),
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked = every platform.",
    )
    action = forms.ChoiceField(required=False, choices=_choices(ACTIONS, blank="category default"))
    escalation = forms.ChoiceField(
        required=False, choices=_choices(DOC_ESCALATIONS, blank="category default")
    )
    signpost = forms.ChoiceField(
        required=False, choices=_choices(SIGNPOSTS, blank="category default")
    )
    auto_apply = forms.ChoiceField(
        required=False,
        label="Apply automatically",
        choices=[("", "category default"), ("yes", "yes"), ("no", "no (a person decides)")],
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    path_fields = {}  # set per instance: rules[i].<key> -> field
    # The rule keys this form edits (all but the speed hints); any other key is kept as it was.
    RULE_KEYS = frozenset(RULE_KEYS) - frozenset(RULE_SPEED_KEYS)

    def __init__(self, *args, document: dict, index: int | None, **kwargs):
        self.document = document
        self.index = index
        if index is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(document["rules"][index])
        super().__init__(*args, **kwargs)
        lists = sorted(document.get("term_lists") or {}) + ["staff_names", "staff_handles"]
        self.fields["terms"].choices = [(n, n) for n in lists]
        self.fields["near_first"].choices = self.fields["near_then"].choices = [("", "—")] + [
            (n, n) for n in lists
        ]
        i = len(document.get("rules") or []) if index is None else index
        self.path_fields = {f"rules[{i}].{k}": k for k in self.fields}
        self.path_fields[f"rules[{i}]"] = "trigger"
        self.path_fields[f"rules[{i}].near"] = "near_first"

    @staticmethod
    def initial_from(rule: dict) -> dict:
        trigger = next((k for k in ("terms", "pattern", "detector", "near") if k in rule), "terms")
        near = rule.get("near") or ["", ""]
        auto = rule.get("auto_apply")
        return {
            **{
                k: rule.get(k, "")
                for k in (
                    "id",
                    "category",
                    "clause",
                    "pattern",
                    "detector",
                    "context",
                    "unless",
                    "note",
                )
            },
            "enabled": rule.get("enabled", True),
            "trigger": trigger,
            "terms": rule.get("terms", []),
            "near_first": near[0],
            "near_then": near[1],
            "within": rule.get("within"),
            "kinds": ", ".join(rule.get("kinds", [])),
            "window": rule.get("window"),
            "requires": rule.get("requires", []),
            "platforms": rule.get("platforms", []),
            "action": rule.get("action", ""),
            "escalation": rule.get("escalation", ""),
            "signpost": rule.get("signpost", ""),
            "auto_apply": "" if auto is None else ("yes" if auto else "no"),
        }

    def clean(self):
        data = super().clean()
        trigger = data.get("trigger")
        if trigger == "terms" and not data.get("terms"):
            self.add_error("terms", "Tick at least one term list.")
        if trigger == "pattern" and not data.get("pattern", "").strip():
            self.add_error("pattern", "Write the pattern this rule matches.")
        if trigger == "detector" and not data.get("detector"):
            self.add_error("detector", "Choose a detector.")
        if trigger == "near" and not (data.get("near_first") and data.get("near_then")):
            self.add_error("near_first", "Choose both term lists.")
        rid = data.get("id")
        others = [
            r.get("id") for n, r in enumerate(self.document.get("rules") or []) if n != self.index
        ]
        if rid and rid in others:
            self.add_error("id", f"Another rule already has the id {rid!r}.")
        return data

    def rule(self) -> dict:
        d = self.cleaned_data
        rule: dict = {"id": d["id"], "category": d["category"], "clause": d["clause"].strip()}
        if not d["enabled"]:
            rule["enabled"] = False
        trigger = d["trigger"]
        if trigger == "terms":
            rule["terms"] = list(d["terms"])
        elif trigger == "pattern":
            rule["pattern"] = d["pattern"].strip()
        elif trigger == "near":
            rule["near"] = [d["near_first"], d["near_then"]]
            if d["within"]:
                rule["within"] = d["within"]
        else:
            rule["detector"] = d["detector"]
            if _csv(d["kinds"]):
                rule["kinds"] = _csv(d["kinds"])
        for key in ("context", "unless"):
            if d[key].strip():
                rule[key] = d[key].strip()
        if d["window"]:
            rule["window"] = d["window"]
        for key in ("requires", "platforms"):
            if d[key]:
                rule[key] = list(d[key])
        for key in ("action", "escalation", "signpost"):
            if d[key]:
                rule[key] = d[key]
        if d["auto_apply"]:
            rule["auto_apply"] = d["auto_apply"] == "yes"
        if d["note"].strip():
            rule["note"] = d["note"].strip()
        return rule

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        rules = new.setdefault("rules", [])
        if self.index is None:
            rules.append(self.rule())
            return new
        # Found again by id: ``doc`` is the locked, current document, where another admin
        # may have added or removed rules since this form was rendered.
        old_id = self.document["rules"][self.index]["id"]
        at = next((i for i, r in enumerate(rules) if r.get("id") == old_id), None)
        if at is None:
            raise RuleSetError("", f"the rule {old_id!r} was deleted by someone else meanwhile")
        # Keys this form does not edit (a newer schema's) survive the edit.
        kept = {k: v for k, v in rules[at].items() if k not in self.RULE_KEYS}
        rules[at] = {**self.rule(), **kept}
        return new


# -- term lists, staff, links, templates, working hours ---------------------------------------
class TermListForm(DocumentForm):
    name = forms.RegexField(
        regex=r"^[a-z][a-z0-9_]{0,63}$",
        max_length=64,
        error_messages={"invalid": "Lower-case letters, digits and _, starting with a letter."},
    )
    terms = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="One per line. word* matches the word's beginning; two words match the phrase.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.data.get("name") or self.initial.get("name") or ""
        self.path_fields = {f"term_lists.{name}": "terms", "term_lists": "terms"}

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        new.setdefault("term_lists", {})[self.cleaned_data["name"]] = _lines(
            self.cleaned_data["terms"]
        )
        return new


class StaffForm(DocumentForm):
    names = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text="One name per line."
    )
    handles = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One handle per line, e.g. @JaneSmithNHS.",
    )
    path_fields = {"staff.names": "names", "staff.handles": "handles"}

    @classmethod
    def initial_for(cls, doc: dict) -> dict:
        staff = doc.get("staff") or {}
        return {
            "names": "\n".join(staff.get("names") or []),
            "handles": "\n".join(staff.get("handles") or []),
        }

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        new["staff"] = {
            "names": _lines(self.cleaned_data["names"]),
            "handles": _lines(self.cleaned_data["handles"]),
        }
        return new


class LinksForm(DocumentForm):
    allow = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Domains never treated as inappropriate (a suffix: nhs.uk covers www.nhs.uk).",
    )
    deny = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Domains always inappropriate.",
    )
    deny_words = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A domain containing one of these words is inappropriate.",
    )
    shorteners = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Link shorteners (the real destination is hidden).",
    )
    KEYS = ("allow", "deny", "deny_words", "shorteners")
    path_fields = {f"links.{k}": k for k in KEYS}

    @classmethod
    def initial_for(cls, doc: dict) -> dict:
        links = doc.get("links") or {}
        return {k: "\n".join(links.get(k) or []) for k in cls.KEYS}

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        links = new.setdefault("links", {})
        for key in self.KEYS:
            links[key] = [d.lower() for d in _lines(self.cleaned_data[key])]
        return new


class TemplatesForm(DocumentForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in TEMPLATE_LABELS.items():
            self.fields[key] = forms.CharField(
                required=False, label=label, widget=forms.Textarea(attrs={"rows": 3})
            )
        self.path_fields = {f"reply_templates.{k}": k for k in TEMPLATE_LABELS}

    @classmethod
    def initial_for(cls, doc: dict) -> dict:
        return dict(doc.get("reply_templates") or {})

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        new["reply_templates"] = {
            k: self.cleaned_data[k].strip() for k in TEMPLATE_LABELS if self.cleaned_data[k].strip()
        }
        return new


class HoursForm(DocumentForm):
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, label="Working days"
    )
    closures = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Extra closure days, one YYYY-MM-DD per line (bank holidays in England are already included).",
    )
    first_look_minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, label="First look within (working minutes)"
    )
    path_fields = {
        "working_hours.start": "start",
        "working_hours.end": "end",
        "working_hours.weekdays": "weekdays",
        "working_hours.closures": "closures",
        "working_hours.first_look_minutes": "first_look_minutes",
    }

    @classmethod
    def initial_for(cls, doc: dict) -> dict:
        wh = doc.get("working_hours") or {}
        return {
            "start": wh.get("start", "09:00"),
            "end": wh.get("end", "17:00"),
            "weekdays": wh.get("weekdays", [0, 1, 2, 3, 4]),
            "closures": "\n".join(wh.get("closures") or []),
            "first_look_minutes": wh.get("first_look_minutes", 60),
        }

    def clean_closures(self):
        out = []
        for n, line in enumerate(_lines(self.cleaned_data["closures"]), 1):
            try:
                out.append(date.fromisoformat(line).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    f"Line {n}: {line!r} is not a date like 2026-12-29."
                ) from None
        return sorted(set(out))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            self.add_error("end", "The working day must end after it starts.")
        return data

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        wh = new.setdefault("working_hours", {})
        d = self.cleaned_data
        wh.update(
            start=d["start"].strftime("%H:%M"),
            end=d["end"].strftime("%H:%M"),
            weekdays=sorted(d["weekdays"]),
            closures=d["closures"],
            first_look_minutes=d["first_look_minutes"],
        )
        return new


class CategoriesForm(DocumentForm):
    """The default outcome of each category; a rule may override it."""

    OUTCOME = ("action", "escalation", "signpost", "auto_apply")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.path_fields = {}
        for cat in CATEGORIES:
            self.fields[f"{cat}__action"] = forms.ChoiceField(
                choices=_choices(ACTIONS), label=f"{cat} action"
            )
            self.fields[f"{cat}__escalation"] = forms.ChoiceField(
                choices=_choices(DOC_ESCALATIONS), label=f"{cat} escalation"
            )
            self.fields[f"{cat}__signpost"] = forms.ChoiceField(
                choices=_choices(SIGNPOSTS), label=f"{cat} signpost"
            )
            self.fields[f"{cat}__auto_apply"] = forms.BooleanField(
                required=False, label=f"{cat} applied automatically"
            )
            for key in self.OUTCOME:
                self.path_fields[f"categories.{cat}.{key}"] = f"{cat}__{key}"

    @classmethod
    def initial_for(cls, doc: dict) -> dict:
        cats = doc.get("categories") or {}
        out = {}
        for cat in CATEGORIES:
            spec = cats.get(cat) or {}
            out.update(
                {
                    f"{cat}__action": spec.get("action", "allow"),
                    f"{cat}__escalation": spec.get("escalation", "none"),
                    f"{cat}__signpost": spec.get("signpost", "none"),
                    f"{cat}__auto_apply": spec.get("auto_apply", False),
                }
            )
        return out

    def rows(self):
        """(category, its four bound fields) for the table."""
        return [(cat, [self[f"{cat}__{k}"] for k in self.OUTCOME]) for cat in CATEGORIES]

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        cats = new.setdefault("categories", {})
        d = self.cleaned_data
        defaults = {
            "action": "allow",
            "escalation": "none",
            "signpost": "none",
            "auto_apply": False,
        }
        for cat in CATEGORIES:
            spec = dict(cats.get(cat) or {})
            for key in self.OUTCOME:
                value = d[f"{cat}__{key}"]
                # Only what changed is written: the audit diff then shows the admin's edit,
                # not every default spelled out.
                if spec.get(key, defaults[key]) != value:
                    spec[key] = value
            if spec or cat in cats:
                cats[cat] = spec
        return new


class ExamplesForm(DocumentForm):
    """Teach the model reader by example: per category, what we mean and what we do not mean
    (one comment per line), the similarity that counts as close, and the score at which the
    model's word alone may hide a comment of a removal category (empty = never)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.path_fields = {}
        for cat in CATEGORIES:
            label = cat.replace("_", " ")
            self.fields[f"{cat}__mean"] = forms.CharField(
                required=False,
                label=f"{label}: what we mean",
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text="One example comment per line; a comment close to one adds the category.",
            )
            self.fields[f"{cat}__not_mean"] = forms.CharField(
                required=False,
                label=f"{label}: what we do not mean",
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text="One per line; a comment close to one silences the model for it.",
            )
            self.fields[f"{cat}__threshold"] = forms.DecimalField(
                required=False,
                label=f"{label}: how close counts",
                min_value=0.5,
                max_value=0.99,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01"}),
                help_text="Similarity 0.5 to 0.99; empty = 0.7.",
            )
            self.path_fields[f"examples.{cat}.mean"] = f"{cat}__mean"
            self.path_fields[f"examples.{cat}.not_mean"] = f"{cat}__not_mean"
            self.path_fields[f"examples.{cat}.threshold"] = f"{cat}__threshold"
            self.path_fields[f"examples.{cat}"] = f"{cat}__mean"
            if cat in REMOVAL_CATEGORIES:
                self.fields[f"{cat}__auto_hide"] = forms.DecimalField(
                    required=False,
                    label=f"{label}: the model alone hides at score",
                    min_value=0.5,
                    max_value=1,
                    decimal_places=3,
                    widget=forms.NumberInput(attrs={"step": "0.001"}),
                    help_text="Empty = never (a person decides). 0.5 to 1.",
                )
                self.path_fields[f"reader.auto_hide.{cat}"] = f"{cat}__auto_hide"

    @classmethod
    def initial_for(cls, doc: dict) -> dict:
        examples = doc.get("examples") or {}
        auto_hide = (doc.get("reader") or {}).get("auto_hide") or {}
        out = {}
        for cat in CATEGORIES:
            spec = examples.get(cat) or {}
            out[f"{cat}__mean"] = "\n".join(spec.get("mean") or [])
            out[f"{cat}__not_mean"] = "\n".join(spec.get("not_mean") or [])
            out[f"{cat}__threshold"] = spec.get("threshold")
            if cat in REMOVAL_CATEGORIES:
                out[f"{cat}__auto_hide"] = auto_hide.get(cat)
        return out

    def rows(self):
        """(category, mean, not_mean, threshold, auto_hide or None) for the page."""
        return [
            (
                cat,
                self[f"{cat}__mean"],
                self[f"{cat}__not_mean"],
                self[f"{cat}__threshold"],
                self[f"{cat}__auto_hide"] if cat in REMOVAL_CATEGORIES else None,
            )
            for cat in CATEGORIES
        ]

    def document_with(self, doc: dict) -> dict:
        new = copy.deepcopy(doc)
        d = self.cleaned_data
        old = doc.get("examples") or {}
        examples = {}
        for cat in CATEGORIES:
            spec = {
                k: v
                for k, v in (old.get(cat) or {}).items()
                if k not in ("mean", "not_mean", "threshold")
            }
            mean, not_mean = _lines(d[f"{cat}__mean"]), _lines(d[f"{cat}__not_mean"])
            if mean:
                spec["mean"] = mean
            if not_mean:
                spec["not_mean"] = not_mean
            if d[f"{cat}__threshold"] is not None:
                spec["threshold"] = float(d[f"{cat}__threshold"])
            # A threshold alone is kept, so schema.validate says the category needs an
            # example rather than the threshold vanishing unsaid.
            if mean or not_mean or "threshold" in spec:
                examples[cat] = spec
        # Nothing written that the admin did not set: the audit diff shows only their edit.
        if examples or "examples" in new:
            new["examples"] = examples
        auto_hide = {
            cat: float(d[f"{cat}__auto_hide"])
            for cat in REMOVAL_CATEGORIES
            if d[f"{cat}__auto_hide"] is not None
        }
        if auto_hide or "reader" in new:
            new["reader"] = {**(new.get("reader") or {}), "auto_hide": auto_hide}
        return new


SECTION_FORMS = {
    "examples": ExamplesForm,
    "staff": StaffForm,
    "links": LinksForm,
    "templates": TemplatesForm,
    "hours": HoursForm,
    "categories": CategoriesForm,
}


# -- versions, import, try, dry run ------------------------------------------------------------
class NewDraftForm(forms.Form):
    based_on = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    notes = forms.CharField(required=False, max_length=500)


class PublishForm(forms.Form):
    """Publish or roll back: the change note is required and goes into the audit event."""

    note = forms.CharField(
        max_length=500,
        label="Change note",
        help_text="What changes and why; recorded in the audit trail and the Changes tab.",
        error_messages={"required": "Write a change note (what changes and why): it is recorded."},
    )


class ImportForm(forms.Form):
    file = forms.FileField(required=False, label="YAML file")
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        label="or paste YAML",
    )
    notes = forms.CharField(required=False, max_length=500)

    MAX_BYTES = 1_000_000  # the default document is ~20 kB; a megabyte is a mistake, not a rule set

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > self.MAX_BYTES:
                raise forms.ValidationError("That file is too big for a rule set (1 MB at most).")
            try:
                data["yaml"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        elif data.get("text", "").strip():
            data["yaml"] = data["text"]
        else:
            raise forms.ValidationError("Choose a YAML file or paste one.")
        return data


class TryForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000, label="Comment"
    )
    platform = forms.ChoiceField(
        choices=[
            ("facebook", "Facebook"),
            ("instagram", "Instagram"),
            ("youtube", "YouTube"),
            ("x", "X"),
        ]
    )
    received_at = forms.DateTimeField(
        required=False,
        label="Received at (UK time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Empty = now. Decides urgent (working hours) or duty manager (out of hours).",
    )
    version = forms.IntegerField(required=False, min_value=1, label="Compare version")


class DryRunForm(forms.Form):
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Last N days",
        help_text="Empty = every stored comment.",
    )
