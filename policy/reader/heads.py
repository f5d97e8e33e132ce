"""Per-category heads: one logistic regression per category and concern, over embeddings.

A heads file (``artefacts/heads.npz``, written by ``build/train_heads.py``) holds, for H
heads over an embedding of ``dim`` numbers:

- ``names``      (H,) str      the category of each head (policy.engine.verdict.CATEGORIES),
                               plus ``flag``: "should leave public view", trained on every row;
- ``weights``    (H, dim) f32  and ``bias`` (H,) f32: score = sigmoid(x . w + b);
- ``thresholds`` (H,) f32      chosen on out-of-fold predictions (never on scored rows);
- ``flag_gate`` f32            a head's removal category counts only when the flag head scores
                               at least this (chosen in CV: the best mean F1 over the sources);
- ``clear_below`` f32          a flag-head score under which the model reads the comment as
                               clearly fine, and disputes a removal by the rules (0: never);
- ``embedder``   str           the ``Embedder.name`` the heads were trained on;
- ``data_sha256`` str          the hash of the training rows (see the CV report).

Scoring is a matrix product in numpy; nothing here imports sklearn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policy.engine.verdict import CATEGORIES

from .errors import ReaderUnavailable

FLAG_HEAD = "flag"
HEAD_NAMES = (FLAG_HEAD,) + CATEGORIES


@dataclass(frozen=True)
class Heads:
    names: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray
    thresholds: np.ndarray
    embedder: str
    data_sha256: str = ""
    clear_below: float = 0.0
    flag_gate: float = 0.0

    def __post_init__(self):
        h = len(self.names)
        assert self.weights.shape[0] == h and self.bias.shape == (h,)
        assert self.thresholds.shape == (h,)
        unknown = set(self.names) - set(HEAD_NAMES)
        if unknown:
            raise ReaderUnavailable(f"heads for unknown categories: {sorted(unknown)}")

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def index(self, name: str) -> int:
        return self.names.index(name)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """(n, dim) embeddings -> (n, H) probabilities."""
        z = vectors @ self.weights.T + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def check_embedder(self, name: str, dim: int) -> None:
        if name != self.embedder or dim != self.dim:
            raise ReaderUnavailable(
                f"heads were trained on embedder {self.embedder!r} (dim {self.dim}), "
                f"not {name!r} (dim {dim}): retrain them (policy/reader/build/train_heads.py)"
            )

    def save(self, path: Path) -> None:
        # np.savez writes a zip whose entries carry the current time; fixed arrays and names
        # still give the same content on every run
        np.savez(
            path,
            names=np.array(self.names),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32),
            clear_below=np.float32(self.clear_below),
            flag_gate=np.float32(self.flag_gate),
            embedder=np.array(self.embedder),
            data_sha256=np.array(self.data_sha256),
        )


def load_heads(path: Path) -> Heads:
    try:
        with np.load(path, allow_pickle=False) as data:
            return Heads(
                names=tuple(str(n) for n in data["names"]),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                thresholds=data["thresholds"].astype(np.float32),
                embedder=str(data["embedder"]),
                data_sha256=str(data["data_sha256"]),
                clear_below=float(data["clear_below"]),
                flag_gate=float(data["flag_gate"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ReaderUnavailable(f"cannot read heads file {path.name}: {exc}") from exc
