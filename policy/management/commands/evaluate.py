"""``manage.py evaluate``: precision/recall/F1 of the engine on the labelled eval sets."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policy.engine.evaluation import default_eval_dir, eval_sets, format_report, load_rows, score
from policy.management.commands.moderate import load_matcher


class Command(BaseCommand):
    help = "Score the rule set on ../shared/eval (override with --data or EVAL_DIR)."

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

    def handle(self, *args, ruleset, data, sets, as_json: bool, **options):
        directory = Path(data) if data else default_eval_dir(Path(__file__).resolve().parents[3])
        files = eval_sets(directory)
        if not files:
            raise CommandError(f"no *.jsonl files in {directory}")
        matcher = load_matcher(ruleset)
        results = {}
        for name, path in files.items():
            if sets and name not in sets:
                continue
            s = score(load_rows(path), matcher)
            results[name] = s.as_dict()
            if not as_json:
                self.stdout.write(format_report(name, s))
                self.stdout.write("")
        if as_json:
            self.stdout.write(json.dumps(results, indent=2))
