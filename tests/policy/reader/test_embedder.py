"""The sentence model artefact, the embedder interface and the heads file."""

import datetime as dt
import shutil

import numpy as np
import pytest
import time_machine

from policy.reader import (
    Embedder,
    HashingEmbedder,
    OnnxEmbedder,
    Reader,
    ReaderUnavailable,
    get_reader,
    load_heads,
)
from policy.reader.embedder import ARTEFACTS, MODEL_FILE, TOKENIZER_FILE
from policy.reader.reader import HEADS_FILE


def test_real_model_loads_checked_and_gives_unit_vectors(reader):
    v = reader.embedder.embed(["The nurses on ward 3 were wonderful", "", "x" * 5000])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert reader.name.startswith("minilm-l6-v2-onnx:") and reader.name.endswith(":max128")
    assert isinstance(reader.embedder, Embedder)


def test_paraphrases_are_closer_than_unrelated_text(reader):
    a, b, c = reader.embedder.embed(
        [
            "I can't get through to the surgery on the phone to book an appointment",
            "The GP practice never answers its phone when I try to make an appointment",
            "Lovely sunny day for the charity fun run in the park",
        ]
    )
    assert a @ b > 0.6
    assert a @ b > a @ c + 0.3


def test_batch_order_and_padding_do_not_change_a_vector(reader):
    texts = ["short", "a much longer comment about waiting for a hip operation for a year", "mid length text"]
    alone = np.stack([reader.embedder.embed([t])[0] for t in texts])
    together = reader.embedder.embed(texts)
    assert np.allclose(alone, together, atol=1e-4)


def _copy_artefacts(tmp_path):
    for name in (MODEL_FILE, TOKENIZER_FILE, HEADS_FILE, "SHA256SUMS"):
        shutil.copyfile(ARTEFACTS / name, tmp_path / name)
    return tmp_path


def test_a_tampered_model_is_refused(tmp_path):
    d = _copy_artefacts(tmp_path)
    data = bytearray((d / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (d / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ReaderUnavailable, match="sha256"):
        OnnxEmbedder(d / MODEL_FILE, d / TOKENIZER_FILE)
    # the untouched copy loads
    shutil.copyfile(ARTEFACTS / MODEL_FILE, d / MODEL_FILE)
    assert OnnxEmbedder(d / MODEL_FILE, d / TOKENIZER_FILE).dim == 384


def test_a_file_without_checksum_is_refused(tmp_path):
    d = _copy_artefacts(tmp_path)
    lines = (d / "SHA256SUMS").read_text().splitlines()
    (d / "SHA256SUMS").write_text("\n".join(ln for ln in lines if TOKENIZER_FILE not in ln) + "\n")
    with pytest.raises(ReaderUnavailable, match="no checksum"):
        OnnxEmbedder(d / MODEL_FILE, d / TOKENIZER_FILE)


def test_get_reader_says_why_it_is_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("READER_ARTEFACTS_DIR", str(tmp_path))
    with pytest.raises(ReaderUnavailable, match="SHA256SUMS"):
        get_reader()
    with pytest.raises(ReaderUnavailable):  # remembered, not retried on every call
        get_reader()


def test_a_reader_that_could_not_load_is_tried_again_after_the_retry_interval(tmp_path, monkeypatch):
    """The sweeper retries unavailable work: a worker must pick up repaired artefacts
    without a restart, once READER_RETRY_SECONDS have passed since the failed load."""
    monkeypatch.setenv("READER_ARTEFACTS_DIR", str(tmp_path))
    start = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        with pytest.raises(ReaderUnavailable):
            get_reader()
        for f in ARTEFACTS.iterdir():
            if f.is_file():
                shutil.copy(f, tmp_path / f.name)
        with pytest.raises(ReaderUnavailable):  # within the interval: remembered
            get_reader()
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        assert isinstance(get_reader(), Reader)


def test_the_trivial_embedder_works_through_the_same_interface(hashing_reader):
    assert isinstance(hashing_reader.embedder, Embedder)
    v = hashing_reader.embedder.embed(["abc", "abc", "something else entirely"])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] == pytest.approx(1.0) and v[0] @ v[2] < 0.5
    spam, fine = hashing_reader.read(
        ["please subscribe to my channel!!", "thank you to the nurses for the kind care"]
    )
    assert spam.categories == ("advertising",) and spam.removal
    assert fine.categories == ()


def test_heads_refuse_an_embedder_they_were_not_trained_on(reader, hashing_reader, tmp_path):
    with pytest.raises(ReaderUnavailable, match="trained on embedder"):
        Reader(HashingEmbedder(dim=384), reader.heads)  # same size, other embedder
    with pytest.raises(ReaderUnavailable, match="trained on embedder"):
        Reader(reader.embedder, hashing_reader.heads)
    hashing_reader.heads.save(tmp_path / "heads.npz")
    again = load_heads(tmp_path / "heads.npz")
    assert again.embedder == hashing_reader.heads.embedder
    assert np.allclose(again.weights, hashing_reader.heads.weights)
    Reader(HashingEmbedder(), again)  # the right embedder is accepted


def test_committed_heads_match_the_committed_model(reader):
    heads = load_heads(ARTEFACTS / HEADS_FILE)
    assert heads.embedder == reader.embedder.name
    assert heads.data_sha256 and 0 < heads.clear_below < 1
