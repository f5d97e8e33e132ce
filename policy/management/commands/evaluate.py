"""``manage.py evaluate``: precision/recall/F1 on the labelled eval sets, by default of the
rules and the model reader together (``--rules-only``: the rules alone). Beside each set's
figures it says whether the heads were trained on it (in-sample) and prints the
cross-validated figures saved with the heads (``policy/reader/artefacts/cv_report.json``)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policy.engine.evaluation import (
    default_eval_dir,
    eval_sets,
    format_report,
    load_rows,
    score_verdicts,
)
from policy.management.commands.moderate import compile_document, load_document, load_judge


class Command(BaseCommand):
    help = "Score the rule set (and the model reader) on ../shared/eval (override with --data or EVAL_DIR)."

    def add_arguments(self, parser):
        parser.add_argument("--ruleset", default=None, help="'default' for the bundled rule set")
        parser.add_argument(
            "--data", default=None, help="directory with *.jsonl and public/*.jsonl"
        )
        parser.add_argument(
            "--set", action="append", dest="sets", help="only this set (repeatable)"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object instead"
        )
        parser.add_argument(
            "--rules-only", action="store_true", help="the rules alone, without the model reader"
        )

    def handle(self, *args, ruleset, data, sets, as_json: bool, rules_only: bool, **options):
        from policy.reader.report import cv_lines, load_cv_report, trained_on

        directory = Path(data) if data else default_eval_dir(Path(__file__).resolve().parents[3])
        files = eval_sets(directory)
        if not files:
            raise CommandError(f"no *.jsonl files in {directory}")
        doc = load_document(ruleset)
        matcher = compile_document(doc)
        judge = load_judge(doc, matcher, rules_only=rules_only, stderr=self.stderr)
        report = load_cv_report() if judge.reader is not None else None
        if not as_json:
            if judge.reader is None:
                self.stdout.write("reader: rules only")
            else:
                self.stdout.write(f"reader: rules + model ({judge.reader.name})")
            self.stdout.write("")
        results = {}
        for name, path in files.items():
            if sets and name not in sets:
                continue
            rows = load_rows(path)
            s = score_verdicts(rows, judge.verdicts_for_rows(rows))
            results[name] = s.as_dict()
            if judge.reader is not None:
                results[name]["in_sample"] = trained_on(name, report)
                results[name]["cross_validated"] = _cv(name, report)
            if not as_json:
                self.stdout.write(format_report(name, s))
                if judge.reader is not None:
                    for line in cv_lines(name, report):
                        self.stdout.write(line)
                self.stdout.write("")
        if as_json:
            self.stdout.write(json.dumps(results, indent=2))


def _cv(name: str, report: dict | None):
    from policy.reader.report import TRAINING_SOURCE

    if not report:
        return None
    return report["cv"]["combined"].get(TRAINING_SOURCE.get(name, ""))
