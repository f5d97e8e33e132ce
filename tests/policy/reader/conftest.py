import numpy as np
import pytest

from policy.engine import compile_ruleset, load_default_document
from policy.reader import HashingEmbedder, Heads, Reader, get_reader
from policy.reader.heads import HEAD_NAMES


@pytest.fixture(scope="session")
def document():
    return load_default_document()


@pytest.fixture(scope="session")
def matcher(document):
    return compile_ruleset(document)


@pytest.fixture(scope="session")
def reader():
    """The real reader: the committed int8 model and heads (loaded once per test run)."""
    return get_reader()


def centroid_heads(embedder, examples: dict[str, tuple[list[str], list[str]]]) -> Heads:
    """Heads for any embedder without sklearn: w = mean(positive) - mean(negative), bias at
    the midpoint; heads without examples never fire."""
    H = len(HEAD_NAMES)
    W = np.zeros((H, embedder.dim), np.float32)
    b = np.full(H, -30.0, np.float32)
    for name, (pos, neg) in examples.items():
        p, n = embedder.embed(pos).mean(axis=0), embedder.embed(neg).mean(axis=0)
        h = HEAD_NAMES.index(name)
        W[h] = (p - n) * 20
        b[h] = -float(W[h] @ (p + n) / 2)
    return Heads(HEAD_NAMES, W, b, np.full(H, 0.5, np.float32), embedder.name)


@pytest.fixture
def hashing_reader():
    embedder = HashingEmbedder()
    heads = centroid_heads(
        embedder,
        {
            "advertising": (
                ["subscribe to my channel", "check out my channel and subscribe", "follow my channel for giveaways"],
                ["the nurses were kind", "thank you for the care", "parking at the hospital is expensive"],
            )
        },
    )
    return Reader(embedder, heads)
