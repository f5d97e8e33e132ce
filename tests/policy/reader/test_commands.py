"""`manage.py moderate` and `manage.py evaluate` with the model reader (the default)."""

import io
import json

import pytest
from django.core.management import call_command

COMMENTS = [
    {"id": "a", "text": "I've saved up my tablets and tonight's the night", "received_at": "2026-03-07T22:30:00+00:00"},
    {"id": "b", "text": "Lovely staff at the eye clinic, thank you", "received_at": "2026-03-04T11:00:00+00:00"},
]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def comments(tmp_path):
    path = tmp_path / "comments.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in COMMENTS))
    return path


def test_moderate_gives_the_combined_verdict_with_the_model_part(comments, reader):
    out, err = run("moderate", str(comments), "--ruleset", "default")
    a, b = (json.loads(line) for line in out.splitlines())
    assert err == ""
    assert a["escalation"] == "duty_manager" and a["signpost"] == "crisis"
    assert "crisis" in a["model"]["categories"] and a["disputed"] is False
    assert any(r["id"] == "model.crisis" for r in a["rules"])
    assert b["action"] == "allow" and b["model"]["categories"] == []


def test_moderate_rules_only_is_the_old_output(comments):
    out, _ = run("moderate", str(comments), "--ruleset", "default", "--rules-only")
    for line in out.splitlines():
        assert "model" not in json.loads(line) and "disputed" not in json.loads(line)


def test_moderate_falls_back_to_the_rules_with_a_warning(comments, tmp_path, monkeypatch):
    monkeypatch.setenv("READER_ARTEFACTS_DIR", str(tmp_path / "nowhere"))
    out, err = run("moderate", str(comments), "--ruleset", "default")
    assert "model reader unavailable" in err and "rules only" in err
    assert all("model" not in json.loads(line) for line in out.splitlines())
    assert len(out.splitlines()) == 2


def test_moderate_batches_answer_in_input_order(tmp_path, reader):
    path = tmp_path / "many.jsonl"
    lines = [json.dumps({"id": i, "text": f"comment number {i}"}) for i in range(10)]
    lines.insert(4, "{broken")
    path.write_text("\n".join(lines) + "\n")
    out, _ = run("moderate", str(path), "--ruleset", "default", "--batch", "3")
    got = [json.loads(line) for line in out.splitlines()]
    assert [g.get("id", "err") for g in got] == [0, 1, 2, 3, "err", 4, 5, 6, 7, 8, 9]


@pytest.fixture
def eval_dir(tmp_path):
    rows = [
        {**c, "expect": {"flag": False, "categories": [], "escalation": None, "signpost": None}}
        for c in COMMENTS
    ]
    (tmp_path / "nhs_policy_dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "mine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_evaluate_labels_in_sample_and_prints_cross_validated_figures(eval_dir, reader):
    out, _ = run("evaluate", "--ruleset", "default", "--data", str(eval_dir))
    assert out.startswith("reader: rules + model (minilm-l6-v2-onnx:")
    sections = {part.split(":")[0]: part for part in out.split("== ")[1:]}
    assert "IN-SAMPLE" in sections["nhs_policy_dev"]
    assert "CROSS-VALIDATED (5-fold" in sections["nhs_policy_dev"]
    assert "not in the training data" in sections["mine"] and "IN-SAMPLE" not in sections["mine"]
    data = json.loads(run("evaluate", "--ruleset", "default", "--data", str(eval_dir), "--json")[0])
    assert data["nhs_policy_dev"]["in_sample"] is True and data["mine"]["in_sample"] is False
    assert data["nhs_policy_dev"]["cross_validated"]["flag"]["f1"] > 0


def test_evaluate_rules_only(eval_dir):
    out, _ = run("evaluate", "--ruleset", "default", "--data", str(eval_dir), "--rules-only")
    assert out.startswith("reader: rules only") and "IN-SAMPLE" not in out
