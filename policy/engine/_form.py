"""Which form of the engine's hot modules runs: compiled by mypyc, or the source.

Imported first by ``policy/engine/__init__.py``. When the compiled modules exist but one is
older than its source, or ENGINE_PURE=1, every hot module is loaded from its source here
(before anything imports them), so an edit always takes effect.
"""

import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
# dependency order; the same list as setup.py's COMPILED_MODULES and ./dev's engine stamp
HOT_MODULES = ("verdict", "normalize", "terms", "detectors", "compiler")


def _built_forms() -> dict[str, Path]:
    out = {}
    for name in HOT_MODULES:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = HERE / f"{name}{suffix}"
            if path.exists():
                out[name] = path
                break
    return out


def _load_sources() -> None:
    for name in HOT_MODULES:
        spec = importlib.util.spec_from_file_location(f"{__package__}.{name}", HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        setattr(sys.modules[__package__], name, module)  # as the import system would


_built = _built_forms()
_stale = [
    name for name, path in _built.items()
    if path.stat().st_mtime < (HERE / f"{name}.py").stat().st_mtime
]
_pure = os.environ.get("ENGINE_PURE") == "1"
if _stale and not _pure:
    warnings.warn(
        f"policy engine: compiled {', '.join(_stale)} older than the source; running "
        "the engine as plain Python (./dev rebuilds it)",
        RuntimeWarning,
        stacklevel=2,
    )
COMPILED = len(_built) == len(HOT_MODULES) and not _stale and not _pure
if _built and not COMPILED:
    _load_sources()  # some compiled form exists but must not be used: take every source
