"""The cross-validation report saved beside the heads (``artefacts/cv_report.json``, written
by ``build/train_heads.py``), and its lines for ``manage.py evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

from .reader import CV_REPORT_FILE, artefacts_dir

# eval set name (file stem) -> the training source the heads learnt from it
TRAINING_SOURCE = {
    "nhs_policy_dev": "nhs_dev",
    "ethos": "ethos",
    "davidson": "davidson",
    "youtube_spam": "youtube_spam",
    "examples": "examples",
}


def load_cv_report(directory: Path | None = None) -> dict | None:
    path = Path(directory or artefacts_dir()) / CV_REPORT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _figures(d: dict) -> str:
    f = d["flag"]
    out = f"F1={f['f1']:.3f} P={f['precision']:.3f} R={f['recall']:.3f} BA={f['balanced_accuracy']:.3f}"
    if d.get("escalation_accuracy") is not None:
        out += f" escalation={d['escalation_accuracy']:.3f}"
    if d.get("signpost_accuracy") is not None:
        out += f" signpost={d['signpost_accuracy']:.3f}"
    return out + f" false_removals={d['false_removals']}"


def trained_on(set_name: str, report: dict | None) -> bool:
    source = TRAINING_SOURCE.get(set_name)
    return bool(report and source in (report.get("training_rows") or {}))


def cv_lines(set_name: str, report: dict | None) -> list[str]:
    """How to read the figures just printed for ``set_name``, and the cross-validated ones."""
    if report is None:
        return ["(no cross-validation report beside the heads)"]
    source = TRAINING_SOURCE.get(set_name)
    if trained_on(set_name, report):
        lines = ["figures above: IN-SAMPLE (the heads were trained on these rows)"]
        cv = report["cv"]["combined"].get(source)
        if cv:
            lines.append(f"CROSS-VALIDATED ({report.get('folds', 5)}-fold, cv_report.json): {_figures(cv)}")
        return lines
    if set_name in report.get("held_out", {}):
        return ["figures above: HELD OUT (never trained on)"]
    return ["figures above: not in the training data"]
