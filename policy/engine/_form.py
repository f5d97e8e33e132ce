"""Which form of the engine's hot modules runs: compiled by mypyc, or the source.

Imported first by ``policy/engine/__init__.py``. When the compiled modules exist but one is
older than its source, or ENGINE_PURE=1, every hot module is loaded from its source here
(before anything imports them), so an edit always takes effect.
"""

import importlib.machinery as _machinery
import importlib.util as _importlib_util
import os as _os
import sys as _sys
import warnings as _warnings
from pathlib import Path as _Path

_HERE = _Path(__file__).resolve().parent
# dependency order; the same list as setup.py's COMPILED_MODULES and ./dev's engine stamp
HOT_MODULES = ("verdict", "normalize", "terms", "detectors", "compiler")


def _built_forms() -> dict[str, _Path]:
    out = {}
    for name in HOT_MODULES:
        for suffix in _machinery.EXTENSION_SUFFIXES:
            path = _HERE / f"{name}{suffix}"
            if path.exists():
                out[name] = path
                break
    return out


def _load_sources() -> None:
    for name in HOT_MODULES:
        spec = _importlib_util.spec_from_file_location(f"{__package__}.{name}", _HERE / f"{name}.py")
        module = _importlib_util.module_from_spec(spec)
        _sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        setattr(_sys.modules[__package__], name, module)  # as the import system would


_built = _built_forms()
if _built:
    _stale = [
        name for name, path in _built.items()
        if path.stat().st_mtime < (_HERE / f"{name}.py").stat().st_mtime
    ]
    if _os.environ.get("ENGINE_PURE") == "1" or _stale or len(_built) < len(HOT_MODULES):
        if _stale and _os.environ.get("ENGINE_PURE") != "1":
            _warnings.warn(
                f"policy engine: compiled {', '.join(_stale)} older than the source; running "
                "the engine as plain Python (./dev rebuilds it)",
                RuntimeWarning,
                stacklevel=2,
            )
        _load_sources()
        COMPILED = False
    else:
        COMPILED = True
else:
    COMPILED = False
