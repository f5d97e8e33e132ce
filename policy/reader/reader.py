"""The model reader: embed comments, score every head, apply the rule set's examples.

``Reader.read(texts, settings=...)`` returns one :class:`Reading` per text: the score of every
head, the categories the model finds (each with its score, threshold and nearest example),
the heads silenced by a "not what we mean" example, and whether the model reads the comment
as one that should leave public view (``removal``) or as clearly fine (``clear``).
``get_reader()`` gives the process-wide reader, loaded lazily on first use.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from policy.engine.verdict import REMOVAL_CATEGORIES

from .embedder import (
    ARTEFACTS,
    DEFAULT_THREADS,
    MODEL_FILE,
    TOKENIZER_FILE,
    Embedder,
    OnnxEmbedder,
    verify_files,
)
from .errors import ReaderUnavailable
from .examples import ExampleSet, compile_examples
from .heads import FLAG_HEAD, Heads, load_heads
from .settings import ReaderSettings

HEADS_FILE = "heads.npz"
CV_REPORT_FILE = "cv_report.json"
_REMOVAL = frozenset(REMOVAL_CATEGORIES)


@dataclass(frozen=True)
class Finding:
    """One category the model reads in a comment, and why."""

    category: str
    score: float  # the head's probability (0..1)
    threshold: float  # the head's threshold
    source: str  # "head": the score passed the threshold; "example": a close "mean" example
    example: str | None = None  # the nearest "what we mean" example of the rule set, if any
    similarity: float | None = None  # its cosine similarity to the comment
    # False for a section 9 category whose head passed its threshold while the flag head
    # stayed under the flag gate: it may escalate (a threat), it does not take a comment down
    removes: bool = True

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "score": round(self.score, 3),
            "threshold": round(self.threshold, 3),
            "source": self.source,
            "example": self.example,
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "removes": self.removes,
        }


@dataclass(frozen=True)
class Suppression:
    """A head that passed its threshold, silenced by a close "not what we mean" example."""

    category: str
    score: float
    example: str
    similarity: float

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "score": round(self.score, 3),
            "example": self.example,
            "similarity": round(self.similarity, 3),
        }


@dataclass(frozen=True)
class Reading:
    embedder: str
    scores: Mapping[str, float]  # every head, including "flag"
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[Suppression, ...] = ()
    # the flag head: "this comment should leave public view"
    flag_score: float = 0.0
    flag_threshold: float = 1.0
    clear_below: float = 0.0

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(f.category for f in self.findings)

    @property
    def removal_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.category in _REMOVAL and f.removes)

    @property
    def removal(self) -> bool:
        """The model reads a section 9 category in the comment, and its flag head agrees."""
        return bool(self.removal_findings)

    @property
    def clear(self) -> bool:
        """The model reads the comment as clearly fine (no section 9 category at all, and the
        flag head well under its threshold): it disputes a removal by the rules."""
        return (
            not any(f.category in _REMOVAL for f in self.findings)
            and self.flag_score < self.clear_below
        )

    def as_dict(self) -> dict:
        return {
            "embedder": self.embedder,
            "flag_score": round(self.flag_score, 3),
            "flag_threshold": round(self.flag_threshold, 3),
            "categories": list(self.categories),
            "findings": [f.as_dict() for f in self.findings],
            "suppressed": [s.as_dict() for s in self.suppressed],
        }


def readings_from(
    heads: Heads,
    probs: np.ndarray,
    examples: ExampleSet | None,
    nearest=None,
    *,
    thresholds: np.ndarray | None = None,
    flag_gate: float | None = None,
) -> list[Reading]:
    """Readings from head probabilities (n, H) and, where the rule set has examples, their
    nearest examples (``ExampleSet.nearest`` of the same vectors). ``thresholds`` overrides
    the heads' own, and ``flag_gate`` theirs (cross-validation scores each fold with values
    chosen without it)."""
    thresholds = heads.thresholds if thresholds is None else thresholds
    flag_i = heads.index(FLAG_HEAD)
    # a removal head counts only when the flag head agrees this much (Heads.flag_gate)
    gate = heads.flag_gate if flag_gate is None else flag_gate
    ex_index = {c: j for j, c in enumerate(examples.categories)} if examples is not None else {}
    if examples is not None and nearest is None:
        raise ValueError("examples given without their nearest similarities")
    out = []
    for i in range(len(probs)):
        p = probs[i]
        findings: list[Finding] = []
        suppressed: list[Suppression] = []
        for h, name in enumerate(heads.names):
            if name == FLAG_HEAD:
                continue
            score, threshold = float(p[h]), float(thresholds[h])
            j = ex_index.get(name)
            pos = neg = -1.0
            pos_text = neg_text = None
            ex_threshold = 2.0
            if j is not None:
                pos_sim, pos_idx, neg_sim, neg_idx = nearest
                pos, neg = float(pos_sim[i, j]), float(neg_sim[i, j])
                pos_text = examples.texts[pos_idx[i, j]] if pos_idx[i, j] >= 0 else None
                neg_text = examples.texts[neg_idx[i, j]] if neg_idx[i, j] >= 0 else None
                ex_threshold = float(examples.thresholds[j])
            if neg_text is not None and neg >= ex_threshold and neg > pos:
                if score >= threshold:
                    suppressed.append(Suppression(name, score, neg_text, neg))
                continue
            gated = name in _REMOVAL and float(p[flag_i]) < gate
            if score >= threshold:
                findings.append(
                    Finding(
                        name, score, threshold, "head", pos_text, pos if pos_text else None,
                        removes=not gated,
                    )
                )
            elif pos_text is not None and pos >= ex_threshold and pos > neg:
                findings.append(Finding(name, score, threshold, "example", pos_text, pos))
        out.append(
            Reading(
                embedder=heads.embedder,
                scores={n: round(float(p[h]), 4) for h, n in enumerate(heads.names)},
                findings=tuple(findings),
                suppressed=tuple(suppressed),
                flag_score=float(p[flag_i]),
                flag_threshold=float(thresholds[flag_i]),
                clear_below=heads.clear_below,
            )
        )
    return out


class Reader:
    """An embedder and the heads trained on it. Safe to share between threads."""

    def __init__(self, embedder: Embedder, heads: Heads):
        heads.check_embedder(embedder.name, embedder.dim)
        self.embedder = embedder
        self.heads = heads

    @property
    def name(self) -> str:
        return self.embedder.name

    def read(self, texts: Sequence[str], *, settings: ReaderSettings | None = None) -> list[Reading]:
        """One Reading per text (batched; pass many texts at once)."""
        texts = list(texts)
        if not texts:
            return []
        vectors = self.embedder.embed(texts)
        return self.read_vectors(vectors, settings=settings)

    def read_vectors(self, vectors: np.ndarray, *, settings: ReaderSettings | None = None):
        examples = None
        nearest = None
        if settings is not None and settings.examples:
            examples = compile_examples(settings.examples, self.embedder)
            nearest = examples.nearest(vectors)
        return readings_from(self.heads, self.heads.scores(vectors), examples, nearest)


_readers: dict[Path, Reader] = {}
# A failed load is remembered for READER_RETRY_SECONDS (default 60), so a worker does not
# re-hash 23 MB on every call while the model is broken, yet picks up repaired artefacts
# without a restart when the sweeper rings it again (the sweeper retries unavailable work).
_failures: dict[Path, tuple[float, ReaderUnavailable]] = {}
DEFAULT_RETRY_SECONDS = 60
_lock = threading.Lock()


def artefacts_dir() -> Path:
    """``READER_ARTEFACTS_DIR`` if set (a re-exported model, a test), else the packaged one."""
    env = os.environ.get("READER_ARTEFACTS_DIR")
    return Path(env) if env else ARTEFACTS


def load_reader(directory: Path | None = None, *, threads: int | None = None) -> Reader:
    """A new Reader from the artefacts in ``directory`` (every file sha256-checked)."""
    directory = Path(directory or artefacts_dir())
    verify_files(directory, [HEADS_FILE])
    heads = load_heads(directory / HEADS_FILE)
    threads = threads or int(os.environ.get("READER_THREADS", DEFAULT_THREADS))
    embedder = OnnxEmbedder(directory / MODEL_FILE, directory / TOKENIZER_FILE, threads=threads)
    return Reader(embedder, heads)


def get_reader() -> Reader:
    """The process-wide reader, loaded on first call (about a second) and then shared.

    Raises :class:`ReaderUnavailable` when the artefacts are missing, changed, or made for
    another embedder; that failure is remembered for ``READER_RETRY_SECONDS`` (default 60)
    and the load is then tried again.
    """
    directory = artefacts_dir()
    found = _readers.get(directory)
    if found is not None:
        return found
    with _lock:
        found = _readers.get(directory)
        if found is not None:
            return found
        retry = float(os.environ.get("READER_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        failed = _failures.get(directory)
        if failed is not None and time.time() - failed[0] < retry:
            raise failed[1]
        try:
            found = load_reader(directory)
        except ReaderUnavailable as exc:
            _failures[directory] = (time.time(), exc)
            raise
        _failures.pop(directory, None)
        _readers[directory] = found
        return found
