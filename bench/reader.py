"""Model reader speed and memory (prints, never asserts).

    EVAL_DIR=../shared/eval .venv/bin/python bench/reader.py            # defaults + options
    .venv/bin/python bench/reader.py --quick                           # defaults only

1. The model reader alone on 3,000 eval texts (interleaved from every set): comments/s
   for the shipped settings, then one option changed at a time (worker threads, max
   tokens, ONNX Runtime graph optimisation), and padded batches (not used; see
   policy/reader/embedder.py).
2. ``moderate``-style end to end (rules + model + combine, batches of 64): comments/s.
3. Peak RSS of a fresh process that loads the reader and reads the 3,000 texts.
Targets (issue #13): >= 500/s reader, >= 300/s end to end, < 600 MB. The CPU is shared:
the load average is printed beside each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policy.engine import compile_ruleset, load_default_document  # noqa: E402
from policy.engine.evaluation import default_eval_dir, eval_sets, load_rows  # noqa: E402
from policy.reader import CombinedJudge, ReaderSettings, load_reader  # noqa: E402
from policy.reader.embedder import ARTEFACTS, MODEL_FILE, TOKENIZER_FILE, OnnxEmbedder  # noqa: E402

N = 3000


def eval_rows(limit: int = N) -> list[dict]:
    sets = [load_rows(p) for p in eval_sets(default_eval_dir(ROOT)).values()]
    rows: list[dict] = []
    i = 0
    while len(rows) < limit and any(i < len(s) for s in sets):
        for s in sets:
            if i < len(s):
                rows.append(s[i])
        i += 1
    return rows[:limit]


def rate(fn, count: int, repeats: int = 2) -> float:
    fn()  # warm: first-run allocations and kernel choices
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = max(best, count / (time.perf_counter() - start))
    return best


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def reader_rate(texts, model: Path, **options) -> float:
    emb = OnnxEmbedder(model, ARTEFACTS / TOKENIZER_FILE, verify=False, **options)
    return rate(lambda: emb.embed(texts), len(texts))


def padded_batch_rate(texts, model: Path, batch: int) -> float:
    """The road not taken: padded batches sorted by length, 2 intra-op threads. Faster, but
    dynamic int8 makes a comment's vector depend on its batch (policy/reader/embedder.py)."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(ARTEFACTS / TOKENIZER_FILE))
    tok.no_padding()
    tok.enable_truncation(max_length=128)

    def run():
        enc = tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(enc[i].ids))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            width = max(len(enc[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(idx):
                ids[row, : len(enc[i].ids)] = enc[i].ids
                mask[row, : len(enc[i].ids)] = 1
            session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})

    return rate(run, len(texts))


RSS_CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from policy.reader import get_reader
texts = json.load(sys.stdin)
get_reader().read(texts)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shipped settings only")
    parser.add_argument("--model", type=Path, default=ARTEFACTS / MODEL_FILE)
    args = parser.parse_args()
    rows = eval_rows()
    texts = [r["text"] for r in rows]
    print(f"{len(texts)} eval texts, mean {sum(map(len, texts)) / len(texts):.0f} characters, {os.cpu_count()} CPUs")

    print("\n1. model reader alone (embedding; the heads add one matrix product)")
    print(f"  shipped (one run per comment, 2 worker threads, max 128 tokens, graph opt all): {reader_rate(texts, args.model):.0f}/s  ({load()})")
    if not args.quick:
        for label, options in (
            ("1 worker thread", {"threads": 1}),
            ("3 worker threads", {"threads": 3}),
            ("max 64 tokens", {"max_tokens": 64}),
            ("max 256 tokens", {"max_tokens": 256}),
            ("graph opt basic", {"optimisation": "basic"}),
        ):
            print(f"  {label:<24} {reader_rate(texts, args.model, **options):.0f}/s  ({load()})")
        for batch in (16, 64):
            r = padded_batch_rate(texts, args.model, batch)
            print(f"  padded batches of {batch:<6} {r:.0f}/s  (not used: batch-dependent vectors)  ({load()})")

    print("\n2. moderate-style end to end: rules + model + combine, batches of 64")
    doc = load_default_document()
    matcher = compile_ruleset(doc)
    reader = load_reader()
    judge = CombinedJudge(matcher, reader, ReaderSettings.from_document(doc))
    rules_only = CombinedJudge(matcher, None)
    r = rate(lambda: judge.verdicts_for_rows(rows, batch=64), len(rows))
    print(f"  rules + model: {r:.0f}/s  ({load()})")
    r = rate(lambda: rules_only.verdicts_for_rows(rows, batch=64), len(rows))
    print(f"  rules only:    {r:.0f}/s")

    print("\n3. peak RSS of a process that loads the reader and reads the 3,000 texts")
    out = subprocess.run(
        [sys.executable, "-c", RSS_CHILD.format(root=str(ROOT))],
        input=json.dumps(texts), capture_output=True, text=True, check=True,
    )
    print(f"  {int(out.stdout.split()[-1]) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
