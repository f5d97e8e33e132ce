"""Presentation helpers shared by the triage views (pure functions, no queries)."""

from __future__ import annotations

from moderation.platforms.capabilities import ACTIONS, capability


def text_segments(text: str, rules: list[dict]) -> list[tuple[str, bool]]:
    """Split ``text`` into (segment, highlighted) pairs from the verdict's matched spans.

    The template escapes every segment and wraps highlighted ones in <mark>: comment text is
    never marked safe. Spans whose offsets do not match the stored text (the engine folds
    text before matching) are located by their text instead, or skipped.
    """
    ranges: list[tuple[int, int]] = []
    lowered = text.lower()
    for rule in rules or []:
        for span in rule.get("spans") or []:
            try:
                start, end, matched = int(span[0]), int(span[1]), str(span[2])
            except (TypeError, ValueError, IndexError):
                continue
            if 0 <= start < end <= len(text) and (not matched or text[start:end].lower() == matched.lower()):
                ranges.append((start, end))
            elif matched:
                found = lowered.find(matched.lower())
                if found >= 0:
                    ranges.append((found, found + len(matched)))
    ranges.sort()
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text) or not out:
        out.append((text[pos:], False))
    return out


def platform_actions(platform: str) -> dict[str, dict]:
    """{"hide": {"supported": bool, "note": str}, ...} for the decision panel."""
    return {a: capability(platform, a)._asdict() for a in ACTIONS}
