"""The plain functions behind `manage.py moderate` and `manage.py evaluate`."""

import json

from policy.engine.evaluation import score
from policy.engine.jsonl import moderate_lines


def test_moderate_lines_outputs_one_line_per_input(matcher):
    lines = [
        json.dumps({"id": 1, "text": "absolute sh1t service", "platform": "x"}),
        "",
        "{not json",
        json.dumps({"id": 2}),
        json.dumps(["a list"]),
        json.dumps({"id": 3, "text": "hi", "received_at": "2026-03-03T10:00:00"}),
        json.dumps(
            {"id": 4, "text": "I know where she lives", "received_at": "2026-03-03T22:40:00Z"}
        ),
        json.dumps({"id": 5, "text": "hi", "author": {"recent_texts": [1, 2]}}),
    ]
    out = list(moderate_lines(lines, matcher))
    assert [o.get("id") for o in out] == [1, None, 2, None, 3, 4, 5]
    assert out[0]["action"] == "hide" and out[0]["rules"][0]["spans"] == [[9, 13, "sh1t"]]
    assert set(out[0]) >= {"id", "action", "escalation", "signpost", "categories", "rules"}
    assert out[1] == {"line": 3, "error": out[1]["error"]} and "invalid JSON" in out[1]["error"]
    assert out[2]["line"] == 4 and "text" in out[2]["error"]
    assert out[3]["line"] == 5
    assert out[4]["line"] == 6 and "time zone" in out[4]["error"]
    assert out[5]["escalation"] == "duty_manager"
    assert out[6]["line"] == 8 and "recent_texts" in out[6]["error"]
    for o in out:
        json.dumps(o)


def test_score_counts_flags_routes_and_false_removals(matcher):
    rows = [
        {
            "id": "a",
            "text": "absolute sh1t service",
            "expect": {"flag": True, "categories": ["profanity"]},
        },
        {
            "id": "b",
            "text": "Lovely staff, thank you",
            "expect": {"flag": False, "categories": [], "escalation": "none", "signpost": "none"},
        },
        {"id": "c", "text": "f*ck off", "expect": {"flag": False, "categories": []}},
        {"id": "d", "text": "Hello there", "expect": {"flag": True, "categories": ["advertising"]}},
        {
            "id": "e",
            "text": "whatever",
            "expect": {"flag": None, "categories": None, "escalation": None},
        },
        {
            "id": "f",
            "text": "I want to make a formal complaint",
            "expect": {"flag": False, "signpost": "complaints", "escalation": "urgent"},
        },
    ]
    s = score(rows, matcher)
    assert (s.flag.tp, s.flag.fp, s.flag.fn, s.flag.tn) == (1, 1, 1, 2)
    assert [fr["id"] for fr in s.false_removals] == ["c"]
    assert s.escalation_total == 2 and s.escalation_correct == 1
    assert s.signpost_total == 2 and s.signpost_correct == 2
    assert s.categories["profanity"].tp == 1 and s.categories["profanity"].fp == 1
    assert abs(s.flag.f1 - 0.5) < 1e-9
