"""Teaching by example: a rule set's ``examples`` section, embedded once and compared.

The section (validated by ``policy.engine.schema``)::

    examples:
      <category>:                 # any category of policy.engine.verdict.CATEGORIES
        threshold: 0.75           # cosine similarity that counts as "close" (default below)
        mean: ["a comment that is what we mean", ...]        # "what we mean"
        not_mean: ["one that shares its words, not its meaning", ...]

For a comment and a category, with ``pos`` its closest "mean" example and ``neg`` its closest
"not mean" one (cosine similarity of the embeddings):

- ``pos >= threshold`` and ``pos > neg``: the category is added (the example is shown);
- ``neg >= threshold`` and ``neg > pos``: the category's head is silenced for this comment.

An admin fixes a reading without retraining: a missed paraphrase gets a "mean" example, a
wrong one a "not mean" example. The vectors are computed once per rule-set content and
embedder, and kept for the life of the process (``compile_examples`` is cached).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass

import numpy as np

# Cosine similarity at which an example counts as close. Measured with the default rule
# set's examples on the 1,303 NHS-like training rows (train_heads.py prints the table):
# at 0.70, 5 comments gained a category (4 rightly) and 16 had a head silenced (15 rightly);
# at 0.65, 16 (14) and 26 (24); at 0.80, none and 2. An admin's example for a comment the
# model missed is usually a near paraphrase, far above this.
DEFAULT_THRESHOLD = 0.70


@dataclass(frozen=True)
class ExampleSet:
    embedder: str
    categories: tuple[str, ...]
    thresholds: np.ndarray  # (C,)
    texts: tuple[str, ...]  # (m,) every example text
    vectors: np.ndarray  # (m, dim)
    category_of: np.ndarray  # (m,) index into categories
    positive: np.ndarray  # (m,) bool: "mean" (True) or "not mean"

    @property
    def empty(self) -> bool:
        return not self.texts

    def nearest(self, vectors: np.ndarray):
        """For each comment and category: (pos sim, pos example index, neg sim, neg index);
        arrays of shape (n, C), similarity -1 and index -1 where a category has none."""
        n, c = len(vectors), len(self.categories)
        pos_sim = np.full((n, c), -1.0, dtype=np.float32)
        neg_sim = np.full((n, c), -1.0, dtype=np.float32)
        pos_idx = np.full((n, c), -1, dtype=np.int64)
        neg_idx = np.full((n, c), -1, dtype=np.int64)
        if self.empty or n == 0:
            return pos_sim, pos_idx, neg_sim, neg_idx
        sims = vectors @ self.vectors.T
        for j in range(c):
            for polarity, sim_out, idx_out in ((True, pos_sim, pos_idx), (False, neg_sim, neg_idx)):
                cols = np.flatnonzero((self.category_of == j) & (self.positive == polarity))
                if cols.size:
                    best = sims[:, cols].argmax(axis=1)
                    idx_out[:, j] = cols[best]
                    sim_out[:, j] = sims[np.arange(n), cols[best]]
        return pos_sim, pos_idx, neg_sim, neg_idx


_CACHE: dict[tuple[str, str], ExampleSet] = {}
_LOCK = threading.Lock()


def section_key(section: dict | None) -> str:
    return hashlib.sha256(json.dumps(dict(section or {}), sort_keys=True).encode()).hexdigest()


def compile_examples(section: dict | None, embedder) -> ExampleSet:
    """The embedded examples of a (validated) ``examples`` section, cached per content and
    embedder: a rule set's examples are embedded once per process."""
    key = (section_key(section), embedder.name)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    categories, thresholds, texts, cat_of, positive = [], [], [], [], []
    for cat, spec in sorted((section or {}).items()):
        spec = spec or {}
        j = len(categories)
        categories.append(cat)
        thresholds.append(float(spec.get("threshold", DEFAULT_THRESHOLD)))
        for polarity, key_name in ((True, "mean"), (False, "not_mean")):
            for text in spec.get(key_name) or ():
                texts.append(str(text))
                cat_of.append(j)
                positive.append(polarity)
    vectors = embedder.embed(texts) if texts else np.zeros((0, embedder.dim), np.float32)
    compiled = ExampleSet(
        embedder=embedder.name,
        categories=tuple(categories),
        thresholds=np.array(thresholds, dtype=np.float32),
        texts=tuple(texts),
        vectors=vectors,
        category_of=np.array(cat_of, dtype=np.int64),
        positive=np.array(positive, dtype=bool),
    )
    with _LOCK:
        if len(_CACHE) > 16:  # rule-set versions come and go; keep the recent few
            _CACHE.clear()
        _CACHE[key] = compiled
    return compiled
