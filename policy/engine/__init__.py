"""The policy rule engine: pure Python, no ORM and no Django on the hot path.

doc = load_default_document()          # the bundled default rule set (a plain dict)
matcher = compile_ruleset(doc)         # immutable; RuleSetError(path, message) if invalid
verdict = matcher.evaluate(text, platform="facebook", received_at=..., author=...)
"""

from .compiler import Matcher, compile_ruleset
from .errors import RuleSetError
from .loader import DEFAULT_RULESET_PATH, load_default_document, load_document
from .verdict import AuthorHistory, RuleHit, Verdict
from .working_calendar import WorkingCalendar

__all__ = [
    "AuthorHistory",
    "DEFAULT_RULESET_PATH",
    "Matcher",
    "RuleHit",
    "RuleSetError",
    "Verdict",
    "WorkingCalendar",
    "compile_ruleset",
    "load_default_document",
    "load_document",
]
