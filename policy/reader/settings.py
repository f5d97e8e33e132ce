"""What a rule set tells the model reader (both sections validated by policy.engine.schema):

    examples: {<category>: {threshold, mean: [...], not_mean: [...]}}   # see .examples
    reader:
      auto_hide:                  # default: none. The model's word alone hides a comment
        advertising: 0.97         # automatically only for these categories, and only when
                                  # the head's score is at least this (0.5..1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class ReaderSettings:
    examples: Mapping = field(default_factory=lambda: MappingProxyType({}))
    auto_hide: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_document(cls, doc: dict | None) -> "ReaderSettings":
        doc = doc or {}
        reader = doc.get("reader") or {}
        return cls(
            examples=MappingProxyType(dict(doc.get("examples") or {})),
            auto_hide=MappingProxyType(
                {str(k): float(v) for k, v in (reader.get("auto_hide") or {}).items()}
            ),
        )
