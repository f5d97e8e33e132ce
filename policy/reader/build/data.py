"""Training rows for the heads, their labels, and a disk cache of their embeddings.

Sources (rows in the format of ``../shared/eval/nhs_policy_dev.jsonl``):

| source | file | labels it gives |
|---|---|---|
| ``examples`` | ``policy/reader/data/examples.jsonl`` | every head (categories are complete) |
| ``nhs_dev`` | ``../shared/eval/nhs_policy_dev.jsonl`` | every head |
| ``ethos`` | ``public/ethos.jsonl`` | flag, hate; a kept-up row is no removal category |
| ``davidson`` | ``public/davidson.jsonl`` | flag, hate vs profanity (its annotators chose one) |
| ``youtube_spam`` | ``public/youtube_spam.jsonl`` | flag, advertising |

Public rows say nothing about the NHS concerns (none of them is a crisis or a complaint to
an NHS body), so they count as negatives for the concern heads: they teach those heads what
ordinary internet comments look like. ``probe.jsonl`` is never read here.
A label is 1, 0, or -1 (unknown: the row does not train that head).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policy.engine.evaluation import default_eval_dir, load_rows
from policy.engine.verdict import CONCERN_CATEGORIES, REMOVAL_CATEGORIES

from ..heads import FLAG_HEAD, HEAD_NAMES

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "policy" / "reader" / "data"
CACHE = ROOT / ".cache" / "reader"
PUBLIC = ("ethos", "davidson", "youtube_spam")
# Each source's weight in training, so that 4,848 Davidson tweets do not drown 77 NHS
# cases: measured in CV (README "Model reader").
SOURCE_WEIGHTS = {"examples": 1.0, "nhs_dev": 2.0, "ethos": 1.0, "davidson": 0.25, "youtube_spam": 0.5}


@dataclass
class Dataset:
    rows: list[dict]
    sources: np.ndarray  # (n,) str
    labels: np.ndarray  # (n, H) int8: 1, 0 or -1 (unknown)

    @property
    def texts(self) -> list[str]:
        return [r["text"] for r in self.rows]

    def sha256(self) -> str:
        h = hashlib.sha256()
        for r, s in zip(self.rows, self.sources, strict=True):
            h.update(json.dumps([str(s), r["text"], r.get("expect")], sort_keys=True).encode())
        return h.hexdigest()


def row_labels(row: dict, source: str) -> np.ndarray:
    expect = row.get("expect") or {}
    flag = expect.get("flag")
    cats = set(expect.get("categories") or ())
    y = np.full(len(HEAD_NAMES), -1, dtype=np.int8)
    y[HEAD_NAMES.index(FLAG_HEAD)] = -1 if flag is None else int(bool(flag))
    if source in ("examples", "nhs_dev"):
        for i, name in enumerate(HEAD_NAMES[1:], start=1):
            y[i] = int(name in cats)
        return y
    for c in CONCERN_CATEGORIES:
        y[HEAD_NAMES.index(c)] = 0
    if flag is False:
        for c in REMOVAL_CATEGORIES:
            y[HEAD_NAMES.index(c)] = 0
    for c in cats:
        y[HEAD_NAMES.index(c)] = 1
    if source == "davidson" and flag:
        # the annotators chose between hate speech and merely offensive language
        y[HEAD_NAMES.index("hate")] = int("hate" in cats)
    return y


def load_training(eval_dir: Path | None = None, *, examples: Path | None = None) -> Dataset:
    eval_dir = eval_dir or default_eval_dir(ROOT)
    files = {
        "examples": examples or DATA / "examples.jsonl",
        "nhs_dev": eval_dir / "nhs_policy_dev.jsonl",
        **{name: eval_dir / "public" / f"{name}.jsonl" for name in PUBLIC},
    }
    rows, sources, labels = [], [], []
    for source, path in files.items():
        if not path.exists():
            raise SystemExit(f"missing training file {path}")
        for row in load_rows(path):
            rows.append(row)
            sources.append(source)
            labels.append(row_labels(row, source))
    return Dataset(rows, np.array(sources), np.stack(labels))


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def cached_embeddings(embedder, texts: list[str]) -> np.ndarray:
    """Embeddings of ``texts``, from ``.cache/reader/emb-<embedder>.npz`` where known.

    Keyed by the embedder's name (which pins its weights) and each text's sha1, so a rerun
    of the CV embeds nothing and a changed model starts a new cache.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in embedder.name)
    path = CACHE / f"emb-{safe}.npz"
    known: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as data:
            known = dict(zip(data["keys"], data["vectors"], strict=True))
    keys = [text_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        print(f"embedding {len(missing)} texts with {embedder.name} ...", flush=True)
        vectors = embedder.embed([t for _, t in missing])
        known.update({k: v for (k, _), v in zip(missing, vectors, strict=True)})
        np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys]).astype(np.float32)
