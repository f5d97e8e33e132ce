"""``manage.py moderate FILE|-``: verdicts for JSON Lines comments, one JSON line each.

By default the rules and the model reader judge together (``policy.reader``); with
``--rules-only``, or when the model cannot load (said on stderr), the rules alone.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from policy.engine import RuleSetError, compile_ruleset, load_default_document
from policy.engine.jsonl import moderate_lines


def load_document(ruleset: str | None) -> dict:
    """``default``: the bundled rule set (no database); otherwise the published one."""
    if ruleset == "default":
        return load_default_document()
    from django.db import DatabaseError

    from policy.selectors import get_published_document  # lazy: needs the database

    try:
        return get_published_document()
    except LookupError as exc:
        raise CommandError(f"no published rule set ({exc}); use --ruleset default") from exc
    except DatabaseError as exc:
        raise CommandError(
            f"cannot read the published rule set: {exc}; use --ruleset default"
        ) from exc


def compile_document(doc: dict):
    try:
        return compile_ruleset(doc)
    except RuleSetError as exc:
        raise CommandError(f"rule set is invalid: {exc}") from exc


def load_judge(doc: dict, matcher, *, rules_only: bool, stderr):
    """Rules and model together; the rules alone (with a warning) if the model cannot load."""
    from policy.reader import CombinedJudge, ReaderSettings, ReaderUnavailable, get_reader

    reader = None
    if not rules_only:
        try:
            reader = get_reader()
        except ReaderUnavailable as exc:
            stderr.write(f"warning: model reader unavailable ({exc}); judging by the rules only")
    return CombinedJudge(matcher, reader, ReaderSettings.from_document(doc))


class Command(BaseCommand):
    help = "Moderate JSON Lines comments ({id, text, platform?, received_at?, author?}); '-' reads stdin."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON Lines file, or - for standard input")
        parser.add_argument("--ruleset", default=None, help="'default' for the bundled rule set")
        parser.add_argument(
            "--rules-only", action="store_true", help="the rules' verdict, without the model reader"
        )
        parser.add_argument(
            "--batch", type=int, default=64,
            help="comments judged together (the model reads batches faster); 1 answers each line at once",
        )

    def handle(self, *args, file, ruleset, rules_only: bool, batch: int, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        doc = load_document(ruleset)
        matcher = compile_document(doc)
        judge = load_judge(doc, matcher, rules_only=rules_only, stderr=self.stderr)
        if file == "-":
            self._run(sys.stdin, matcher, judge, batch)
        else:
            try:
                fh = open(file, encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
            with fh:
                self._run(fh, matcher, judge, batch)

    def _run(self, lines, matcher, judge, batch):
        out = self.stdout
        for result in moderate_lines(lines, matcher, judge=judge, batch=batch):
            out.write(json.dumps(result, ensure_ascii=True))
