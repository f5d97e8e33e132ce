"""Loading rule-set documents from YAML (the bundled default lives in ``policy/data``)."""

from __future__ import annotations

import copy
import json
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import RuleSetError

DEFAULT_RULESET_PATH = Path(__file__).resolve().parent.parent / "data" / "default_ruleset.yaml"


def _jsonable(value):
    """YAML may produce dates; the document is JSON-native (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def load_document(path: str | Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise RuleSetError("", f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RuleSetError("", f"{path}: a rule set document is a mapping")
    doc = _jsonable(data)
    json.dumps(doc)  # guarantee: JSON-serialisable
    return doc


@lru_cache(maxsize=1)
def _default() -> dict:
    return load_document(DEFAULT_RULESET_PATH)


def load_default_document() -> dict:
    """The bundled default rule set as a fresh, JSON-serialisable dict (safe to mutate)."""
    return copy.deepcopy(_default())
