"""Reads for the policy app, and the per-process cache of the compiled published rule set."""

from __future__ import annotations

import threading
import time

from audit.models import AuditEvent
from policy.engine import RuleSetError, compile_ruleset, load_default_document
from policy.engine.schema import DOCUMENT_KEYS, RULE_KEYS
from policy.models import RuleSetVersion

# Workers pick up a newly published version without a restart: the compiled matcher is kept
# per process and the published version id is re-read at most this often (seconds).
MATCHER_RECHECK_SECONDS = 5.0

_lock = threading.Lock()
_cache: dict = {"version_id": None, "matcher": None, "checked_at": 0.0}


def get_published_version() -> RuleSetVersion:
    """The published version; LookupError when none has been published yet."""
    version = RuleSetVersion.objects.filter(status=RuleSetVersion.Status.PUBLISHED).first()
    if version is None:
        raise LookupError(
            "No rule set has been published yet (run `manage.py load_default_ruleset`)."
        )
    return version


def get_published_document() -> dict:
    return get_published_version().document


def get_published_matcher():
    """(version, compiled matcher) for the published rule set, compiled once per version."""
    now = time.monotonic()
    with _lock:
        if _cache["matcher"] is not None and now - _cache["checked_at"] < MATCHER_RECHECK_SECONDS:
            return _cache["version"], _cache["matcher"]
    version = get_published_version()
    with _lock:
        if _cache["version_id"] != version.pk:
            _cache["matcher"] = compile_ruleset(version.document)
            _cache["version_id"] = version.pk
        _cache["version"] = version
        _cache["checked_at"] = now
        return version, _cache["matcher"]


def forget_published_matcher() -> None:
    """Drop the cached matcher (after publishing in this process, and between tests)."""
    with _lock:
        _cache.update(version_id=None, matcher=None, checked_at=0.0)


_default_matcher = None


def published_matcher():
    """(version, matcher) that judges comments now: the published rule set, or before any
    is published the bundled default (version None), compiled once per process."""
    global _default_matcher
    try:
        return get_published_matcher()
    except LookupError:
        if _default_matcher is None:
            _default_matcher = compile_ruleset(load_default_document())
        return None, _default_matcher


def published_matcher_compiled() -> bool:
    """Whether this process holds a compiled matcher already (a worker warms it once)."""
    return _cache["matcher"] is not None or _default_matcher is not None


def versions_all():
    return RuleSetVersion.objects.select_related("created_by", "published_by", "based_on").order_by(
        "-number"
    )


def get_version(number: int) -> RuleSetVersion:
    """The version with that number; RuleSetVersion.DoesNotExist otherwise (views 404)."""
    return RuleSetVersion.objects.select_related("created_by", "published_by", "based_on").get(
        number=number
    )


def ruleset_history(number: int, limit: int = 50):
    """The audit events about one rule set version, newest first (target "ruleset:<n>")."""
    return list(
        AuditEvent.objects.filter(target=f"ruleset:{number}")
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def dryruns_for_version(version: RuleSetVersion, limit: int = 5):
    """The latest dry runs of ``version``: moderation's rows (moderation/dryrun.py), read
    through their foreign key to the version, so policy never imports moderation."""
    return list(version.dry_runs.select_related("requested_by").order_by("-created_at")[:limit])


def latest_draft() -> RuleSetVersion | None:
    return (
        RuleSetVersion.objects.filter(status=RuleSetVersion.Status.DRAFT)
        .order_by("-number")
        .first()
    )


# PostgreSQL's jsonb does not keep key order, so export and diffs put keys in this order
# (the schema's, policy/engine/schema.py), then alphabetically: the same document always
# dumps to the same text and a diff shows only what changed.
_KEY_ORDER = {
    k: i
    for i, k in enumerate(
        (
            *DOCUMENT_KEYS,
            *RULE_KEYS,
            # inside working_hours, staff, links and own_contacts
            "start",
            "end",
            "weekdays",
            "tz",
            "subdivision",
            "closures",
            "first_look_minutes",
            "names",
            "handles",
            "allow",
            "deny",
            "deny_words",
            "shorteners",
            "platform",
            "phones",
            "emails",
        )
    )
}


def _ordered(value):
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (_KEY_ORDER.get(k, len(_KEY_ORDER)), str(k)))
        return {k: _ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def ruleset_dump_yaml(document: dict) -> str:
    """The document as YAML, keys in the schema's order (what export and the diff show)."""
    import yaml

    return yaml.safe_dump(
        _ordered(document), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def ruleset_document_diff(before: dict, after: dict) -> str:
    """A unified diff of the two documents' YAML: what an admin reads in the audit trail."""
    import difflib

    lines = difflib.unified_diff(
        ruleset_dump_yaml(before).splitlines(),
        ruleset_dump_yaml(after).splitlines(),
        fromfile="before",
        tofile="after",
        lineterm="",
        n=2,
    )
    return "\n".join(lines)


def _yaml_line_of(root, path: str) -> int | None:
    """1-based line of the YAML node at a RuleSetError path (``rules[3].pattern``)."""
    import re

    import yaml

    node = root
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if isinstance(node, yaml.MappingNode) and name:
            node = next((v for k, v in node.value if getattr(k, "value", None) == name), None)
        elif isinstance(node, yaml.SequenceNode) and index:
            i = int(index)
            node = node.value[i] if i < len(node.value) else None
        else:
            node = None
        if node is None:
            return None
    return node.start_mark.line + 1 if node is not None and path else None


def ruleset_parse_yaml(text: str) -> dict:
    """Parse and validate an imported document. Raises RuleSetError whose path carries the
    line number ("line 12, rules[3].pattern") so the admin can find it in their file."""
    import json
    from datetime import date

    import yaml

    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleSetError(where, f"not valid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise RuleSetError("", "a rule set document is a YAML mapping (schema: 1, rules: ...)")

    def jsonable(value):
        if isinstance(value, dict):
            return {str(k): jsonable(v) for k, v in value.items()}
        if isinstance(value, list):
            return [jsonable(v) for v in value]
        if isinstance(value, date):
            return value.isoformat()
        return value

    document = jsonable(data)
    try:
        json.dumps(document)
        compile_ruleset(document)
    except RuleSetError as err:
        line = _yaml_line_of(root, err.path)
        raise RuleSetError(f"line {line}, {err.path}" if line else err.path, err.message) from err
    except (TypeError, ValueError) as exc:
        raise RuleSetError("", f"not a rule set document: {exc}") from exc
    return document
