"""The model reader: a local sentence model that reads every comment beside the rules.

The rules (``policy.engine``) are exact about words; the reader generalises to wording they
have never seen. It embeds a comment with all-MiniLM-L6-v2 (int8 ONNX, committed under
``artefacts/`` and checked by sha256 on load, nothing fetched), scores one logistic head per
category and concern, and applies the rule set's "teach by example" section. ``combine``
then gives one verdict under the safety rules in ``combine.py``'s docstring (escalations
only go up; a removal the readers disagree on is ``disputed`` and a person decides; the
model's word alone never applies itself unless the rule set enables it).

Public API (plain text in, no Django, never imports ``moderation``)::

    from policy.reader import ReaderUnavailable, ReaderSettings, combine, get_reader

    reader = get_reader()                      # process-wide, lazy; ReaderUnavailable if the
                                               # artefacts are missing/changed/mismatched
    settings = ReaderSettings.from_document(doc)   # the rule set's examples + reader section
    readings = reader.read(texts, settings=settings)   # list[Reading], one per text, batched
    verdict = combine(rules_verdict, readings[0], matcher=matcher, settings=settings,
                      received_at=received_at)      # -> Verdict (disputed, model=...)

    # or both readers over a batch at once:
    judge = CombinedJudge(matcher, reader, settings)
    verdicts = judge.verdicts([(text, platform, received_at, author), ...])

``Reading``: ``categories``, ``findings`` (category, score, threshold, source, nearest
example, similarity, ``removes``: False for a section 9 head the flag head does not back,
which may escalate but takes nothing down), ``suppressed`` (heads silenced by a "not what
we mean" example), ``removal``, ``clear``, ``scores`` (every head), ``as_dict()``.
Each comment is read alone (never padded into a batch), so a reading is reproducible;
``read`` still takes many texts at once and spreads them over the worker threads.
``Verdict.model`` is ``Reading.as_dict()`` plus ``clear`` and ``disputed_because``; model
hits appear in ``Verdict.rules`` with ids ``model.<category>``.
Threads: ``READER_THREADS`` (default 2) ONNX Runtime threads per process;
``READER_ARTEFACTS_DIR`` loads another artefact directory.
Rebuild: ``build/export_model.py`` then ``build/train_heads.py`` (README "Model reader").
"""

from .combine import combine
from .embedder import Embedder, HashingEmbedder, OnnxEmbedder
from .errors import ReaderUnavailable
from .heads import Heads, load_heads
from .judge import CombinedJudge
from .reader import Finding, Reader, Reading, Suppression, get_reader, load_reader
from .settings import ReaderSettings

__all__ = [
    "CombinedJudge",
    "Embedder",
    "Finding",
    "HashingEmbedder",
    "Heads",
    "OnnxEmbedder",
    "Reader",
    "ReaderSettings",
    "ReaderUnavailable",
    "Reading",
    "Suppression",
    "combine",
    "get_reader",
    "load_heads",
    "load_reader",
]
