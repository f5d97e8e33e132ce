"""Try a comment under a candidate version and the published one, side by side.

Each column is the combined verdict (rules and the model reader, policy.reader.combine) under
that version's document, its examples included, so an edit to "teach by example" shows here
before it is published. Without the reader (ReaderUnavailable) the columns are the rules'
verdicts and the page says so.
"""

from __future__ import annotations

from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts import roles
from accounts.access import role_required
from accounts.htmx import page_or_partial
from policy import selectors
from policy.engine import compile_ruleset
from policy.forms import TryForm
from policy.reader import CombinedJudge, ReaderSettings, ReaderUnavailable, get_reader
from policy.views.common import highlight_segments, version_or_404


def _reader():
    """(the process-wide reader or None, why it is unavailable or None)."""
    try:
        return get_reader(), None
    except ReaderUnavailable as exc:
        return None, str(exc)


def _judge(version, matcher, reader, text: str, platform: str, received_at) -> dict:
    judge = CombinedJudge(matcher, reader, ReaderSettings.from_document(version.document))
    (verdict,) = judge.verdicts([(text, platform, received_at, None)])
    return {
        "version": version,
        "verdict": verdict,
        "segments": highlight_segments(text, verdict.rules),
    }


@require_GET
@role_required(roles.MANAGE_POLICY)
@vary_on_headers("HX-Request")
def try_comment(request):
    """A read: the form is GET so a result can be bookmarked and shared with a colleague."""
    # Bound only once a comment was given: "?version=3" alone pre-selects, it is no error.
    form = TryForm(request.GET if "text" in request.GET else None, initial={"platform": "facebook"})
    candidate = published = None
    columns = []
    reader_unavailable = None
    if form.is_valid():
        reader, reader_unavailable = _reader()
        d = form.cleaned_data
        received_at = d["received_at"] or timezone.now()
        number = d["version"]
        candidate = version_or_404(number) if number else selectors.latest_draft()
        try:
            published, published_matcher = selectors.get_published_matcher()
        except LookupError:
            published_matcher = None
        if candidate is not None and (published is None or candidate.pk != published.pk):
            # A draft changes between requests: compiled per request (~150 ms), never cached.
            columns.append(
                _judge(
                    candidate,
                    compile_ruleset(candidate.document),
                    reader,
                    d["text"],
                    d["platform"],
                    received_at,
                )
            )
        if published_matcher is not None:
            columns.append(
                _judge(
                    published, published_matcher, reader, d["text"], d["platform"], received_at
                )
            )
    context = {
        "form": form,
        "columns": columns,
        "reader_unavailable": reader_unavailable,
        "versions": selectors.versions_all(),
        "candidate": candidate,
        "default_version": (selectors.latest_draft() or None),
    }
    return page_or_partial(request, "policy/try.html", "try-result", context)
