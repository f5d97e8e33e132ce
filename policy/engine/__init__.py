"""The policy rule engine: plain Python, no ORM and no Django on the hot path.

doc = load_default_document()          # the bundled default rule set (a plain dict)
matcher = compile_ruleset(doc)         # immutable; RuleSetError(path, message) if invalid
verdict = matcher.evaluate(text, platform="facebook", received_at=..., author=...)

The hot modules (setup.py's COMPILED_MODULES) are normally compiled to C by mypyc when the
project is installed. A compiled module older than its source (an edit since the last
build), or ENGINE_PURE=1, makes this package load all of them from source instead, so an
edit always takes effect: ``COMPILED`` says which form is running.
"""

from ._form import COMPILED  # first: picks compiled or source modules for the imports below
from .compiler import Matcher, compile_ruleset
from .errors import RuleSetError
from .loader import DEFAULT_RULESET_PATH, load_default_document, load_document
from .verdict import AuthorHistory, RuleHit, Verdict
from .working_calendar import WorkingCalendar

__all__ = [
    "COMPILED",
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
