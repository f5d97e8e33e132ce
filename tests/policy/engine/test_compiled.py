"""The engine compiled by mypyc (setup.py) is the one that runs, and it judges exactly as the
plain Python source does (on every hand-written test comment and 5,000 random ones); a
compiled module older than its source is never used."""

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import policy.engine
from policy.engine import load_default_document

from . import test_generalisation as generalisation
from . import test_hate_functional as functional

ROOT = Path(__file__).resolve().parents[3]

# Prints one JSON verdict per input line, with whichever engine form the environment picks.
JUDGE = """
import json, sys
import policy.engine as engine
matcher = engine.compile_ruleset(engine.load_default_document())
print(json.dumps({"compiled": engine.COMPILED}))
for line in sys.stdin:
    row = json.loads(line)
    verdict = matcher.evaluate(row["text"], platform=row["platform"])
    print(json.dumps(verdict.as_dict(), sort_keys=True))
"""

ODD_TEXTS = [
    "",
    "\x00\x00 nul",
    "f\u200bu\u200bc\u200bk you",
    "ｆｕｃｋ ｔｈｅ ｎｈｓ",
    "hello \ud800 world",
    "z" + "\u0301" * 500,
    "call 07700 900123 or email a.person@example.com, I live at 12 Acacia Road LN1 1AA",
    "see hxxp://bad[.]example dot com",
    "x" * 5000,
]


def _judge(rows: list[dict], env: dict, cwd: Path = ROOT) -> tuple[bool, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", JUDGE],
        input="".join(json.dumps(r) + "\n" for r in rows),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=True,
    )
    first, *verdicts = out.stdout.splitlines()
    return json.loads(first)["compiled"], verdicts


@pytest.mark.skipif(
    os.environ.get("ENGINE_COMPILE") == "0" or os.environ.get("ENGINE_PURE") == "1",
    reason="the compiled engine is switched off in this environment",
)
def test_the_compiled_engine_is_the_one_running():
    # ./dev compiles it; a plain-Python engine here means the build failed or went stale
    assert policy.engine.COMPILED, "policy engine not compiled: see .venv/engine-build.log"
    assert Path(policy.engine.compiler.__file__).suffix == ".so"


def _corpus() -> list[dict]:
    """Every hand-written test comment, odd inputs, and 5,000 random comments made of the
    default rule set's own terms among ordinary words (so most rules fire somewhere)."""
    texts = [case[0] for case in generalisation.CASES]
    texts += [t for group in (functional.HATEFUL, functional.NOT_HATEFUL) for ts in group.values() for t in ts]
    texts += ODD_TEXTS
    doc = load_default_document()
    words = [t.rstrip("*") for terms in doc["term_lists"].values() for t in terms]
    words += "the you are a nurse dr she he is my son kids left alone ward 12 07700 900123 @nhs_trust www.bit.ly/x a@b.com not never said".split()
    rnd = random.Random(2026)
    texts += [" ".join(rnd.choice(words) for _ in range(rnd.randrange(1, 30))) for _ in range(5000)]
    return [{"text": t, "platform": p} for t in texts for p in ("facebook", "x")[: 1 + (len(t) % 2)]]


def test_compiled_and_plain_python_engines_give_identical_verdicts():
    rows = _corpus()
    env = {k: v for k, v in os.environ.items() if k != "ENGINE_PURE"}
    compiled, as_built = _judge(rows, env)
    pure, as_source = _judge(rows, {**env, "ENGINE_PURE": "1"})
    assert pure is False
    assert compiled is policy.engine.COMPILED
    assert len(as_built) == len(rows) > 5000
    assert as_built == as_source


@pytest.mark.skipif(not policy.engine.COMPILED, reason="needs the compiled engine")
def test_an_edited_source_is_used_instead_of_its_stale_compiled_module(tmp_path):
    # a copy of the package with its compiled modules, then one source edited afterwards
    shutil.copytree(ROOT / "policy", tmp_path / "policy", ignore=shutil.ignore_patterns("__pycache__"))
    for shared in ROOT.glob("*__mypyc*.so"):
        shutil.copy2(shared, tmp_path)
    terms = tmp_path / "policy" / "engine" / "terms.py"
    terms.write_text(terms.read_text() + "\nEDITED = True\n")
    env = {k: v for k, v in os.environ.items() if k != "ENGINE_PURE"}
    env["PYTHONPATH"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", "import policy.engine as e, policy.engine.terms as t; print(e.COMPILED, t.EDITED)"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    )
    assert out.stdout.split() == ["False", "True"]
    assert "older than the source" in out.stderr
