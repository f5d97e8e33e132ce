"""``manage.py moderate FILE|-``: verdicts for JSON Lines comments, one JSON line each."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from policy.engine import RuleSetError, compile_ruleset, load_default_document
from policy.engine.jsonl import moderate_lines


def load_matcher(ruleset: str | None):
    """``default``: the bundled rule set (no database); otherwise the published one."""
    if ruleset == "default":
        doc = load_default_document()
    else:
        from django.db import DatabaseError

        from policy.selectors import get_published_document  # lazy: needs the database

        try:
            doc = get_published_document()
        except LookupError as exc:
            raise CommandError(f"no published rule set ({exc}); use --ruleset default") from exc
        except DatabaseError as exc:
            raise CommandError(
                f"cannot read the published rule set: {exc}; use --ruleset default"
            ) from exc
    try:
        return compile_ruleset(doc)
    except RuleSetError as exc:
        raise CommandError(f"rule set is invalid: {exc}") from exc


class Command(BaseCommand):
    help = "Moderate JSON Lines comments ({id, text, platform?, received_at?, author?}); '-' reads stdin."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON Lines file, or - for standard input")
        parser.add_argument("--ruleset", default=None, help="'default' for the bundled rule set")

    def handle(self, *args, file, ruleset, **options):
        matcher = load_matcher(ruleset)
        if file == "-":
            self._run(sys.stdin, matcher)
        else:
            try:
                fh = open(file, encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
            with fh:
                self._run(fh, matcher)

    def _run(self, lines, matcher):
        out = self.stdout
        for result in moderate_lines(lines, matcher):
            out.write(json.dumps(result, ensure_ascii=True))
