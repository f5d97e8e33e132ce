"""Sentence embedders: text in, L2-normalised float32 vectors out.

``Embedder`` is the whole interface the reader needs (``name``, ``dim``, ``embed``). Heads and
example vectors are only meaningful for the embedder that made them, so they carry its
``name`` and are refused under another one.

- :class:`OnnxEmbedder`: all-MiniLM-L6-v2 exported to ONNX and quantised to int8
  (``build/export_model.py``), run by ONNX Runtime on the CPU; its files are checked against
  ``artefacts/SHA256SUMS`` before anything is loaded.
- :class:`HashingEmbedder`: hashed character n-grams in pure numpy. Much weaker; it exists so
  the tests prove the reader works through the interface with any embedder.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .errors import ReaderUnavailable

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
MODEL_FILE = "minilm-l6-v2.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Comments are short: over every eval and training text (7,623), a mean of 28 tokens with
# this tokenizer, 96.6% within 64 tokens, 99.6% within 128; a longer one is read up to here.
DEFAULT_MAX_TOKENS = 128
DEFAULT_THREADS = 2  # the machine has 2 cores (READER_THREADS overrides)


@runtime_checkable
class Embedder(Protocol):
    """``embed(texts)`` -> array (len(texts), dim), float32, each row of unit length."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_checksums(path: Path) -> dict[str, str]:
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            sums[name.strip()] = digest.strip()
    return sums


def verify_files(directory: Path, names: Sequence[str]) -> dict[str, str]:
    """Check ``names`` in ``directory`` against its SHA256SUMS; returns their digests.

    Raises ReaderUnavailable for a missing file, a missing checksum or a mismatch: a changed
    artefact is never loaded.
    """
    sums_path = directory / "SHA256SUMS"
    if not sums_path.exists():
        raise ReaderUnavailable(f"no SHA256SUMS in {directory}")
    sums = read_checksums(sums_path)
    digests = {}
    for name in names:
        path = directory / name
        if not path.exists():
            raise ReaderUnavailable(f"model artefact missing: {name}")
        if name not in sums:
            raise ReaderUnavailable(f"{name} has no checksum in SHA256SUMS")
        got = sha256_file(path)
        if got != sums[name]:
            raise ReaderUnavailable(
                f"{name} has sha256 {got[:16]}..., SHA256SUMS says {sums[name][:16]}...: refusing to load it"
            )
        digests[name] = got
    return digests


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling over the attention mask and L2 norm.

    Every comment is run through the model on its own, never padded into a batch with
    others: dynamic int8 quantisation scales each run's activations by that run's largest
    value, so in a batch a comment's vector would depend on its neighbours (measured on
    1,000 eval texts: cosine down to 0.95 between batch 1 and batch 64, and 8.6% of comments
    with a head decision flipped). One run per comment makes every reading reproducible.
    Throughput comes from ``threads`` worker threads, each running single comments with one
    ONNX Runtime thread (ONNX Runtime releases the GIL; the machine has 2 cores): measured
    faster than one run with 2 intra-op threads (bench/reader.py). ``max_tokens``: longer
    comments are read up to that many tokens.
    """

    dim = 384

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        threads: int = DEFAULT_THREADS,
        verify: bool = True,
        optimisation: str = "all",
    ):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # a runtime dependency missing from this install
            raise ReaderUnavailable(f"cannot import the model runtime: {exc}") from exc
        model_path = Path(model_path or ARTEFACTS / MODEL_FILE)
        tokenizer_path = Path(tokenizer_path or ARTEFACTS / TOKENIZER_FILE)
        if verify:
            digest = verify_files(model_path.parent, [model_path.name])[model_path.name]
            verify_files(tokenizer_path.parent, [tokenizer_path.name])
        else:
            if not model_path.exists():
                raise ReaderUnavailable(f"model artefact missing: {model_path.name}")
            digest = sha256_file(model_path)
        assert max_tokens >= 8 and threads >= 1
        self.max_tokens = max_tokens
        self.threads = threads
        # The name pins what heads and example vectors depend on: the exact weights and how
        # much of a comment is read.
        self.name = f"minilm-l6-v2-onnx:{digest[:12]}:max{max_tokens}"
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = {
            "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[optimisation]
        try:
            self._session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # a corrupt file that still matched its checksum
            raise ReaderUnavailable(f"cannot load the model: {exc}") from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._type_ids = "token_type_ids" in {i.name for i in self._session.get_inputs()}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _one(self, ids: list[int]) -> np.ndarray:
        x = np.array([ids], dtype=np.int64)
        feed = {"input_ids": x, "attention_mask": np.ones_like(x)}
        if self._type_ids:
            feed["token_type_ids"] = np.zeros_like(x)
        # no padding: the mean over every token is the mean over the attention mask
        return self._session.run(None, feed)[0][0].mean(axis=0)

    def _run(self, encodings, out: np.ndarray, rows: range) -> None:
        for i in rows:
            out[i] = self._one(encodings[i].ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        if self.threads == 1 or len(texts) < 2 * self.threads:
            self._run(encodings, out, range(len(texts)))
        else:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="reader")
            # interleaved shares: each thread gets long and short comments alike
            shares = [range(k, len(texts), self.threads) for k in range(self.threads)]
            for f in [self._pool.submit(self._run, encodings, out, rows) for rows in shares]:
                f.result()
        return l2_normalise(out)


class HashingEmbedder:
    """Character 3- to 5-grams of the lower-cased text, hashed (crc32) into ``dim`` signed
    buckets, then L2-normalised. No files, no training: a stand-in with the same interface."""

    def __init__(self, dim: int = 512):
        assert dim >= 16
        self.dim = dim
        self.name = f"hashing-char3-5:{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f" {' '.join(str(text).lower().split())} "
            for n in (3, 4, 5):
                for i in range(len(padded) - n + 1):
                    h = zlib.crc32(padded[i : i + n].encode("utf-8", "surrogatepass"))
                    out[row, h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        return l2_normalise(out)
