"""Compiles the policy engine's hot modules to C with mypyc (the rest of the project, and
the configuration, live in pyproject.toml).

The engine is plain, type-annotated Python; mypyc turns these five modules into C
extensions, about 25% faster per comment (bench/engine.py prints which form it ran).
Each extension is optional: without a C compiler, or with ENGINE_COMPILE=0, the install
goes on and the engine runs as plain Python, giving the same verdicts.
"""

import os

from setuptools import setup

# In dependency order: policy/engine/__init__.py loads them from source in this order when
# the compiled forms are older than their sources.
COMPILED_MODULES = ("verdict", "normalize", "terms", "detectors", "compiler")  # = policy.engine._form.HOT_MODULES


def _extensions():
    if os.environ.get("ENGINE_COMPILE", "1") == "0":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    extensions = mypycify(
        [f"policy/engine/{name}.py" for name in COMPILED_MODULES]
        + [
            # each module is checked on its own; imports from elsewhere count as Any
            "--follow-imports=skip",
            "--ignore-missing-imports",
            "--disable-error-code=annotation-unchecked",
        ],
        opt_level="3",
    )
    for extension in extensions:
        extension.optional = True  # a failed C build leaves the plain Python in place
    return extensions


setup(ext_modules=_extensions())
