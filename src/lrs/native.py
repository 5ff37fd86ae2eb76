"""Which of lrs's modules run as C extensions built by mypyc (setup.py, ADR 0010), and whether a build is stale."""

from __future__ import annotations

import importlib
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

# The modules setup.py compiles: the statement path of lrs.xapi.
NATIVE = tuple(f"lrs.xapi.{name}" for name in ("syntax", "validate", "ifi", "index", "definition", "prepare"))


def compiled() -> list[str]:
    """The modules of NATIVE this process imported as compiled extensions."""
    return [name for name in NATIVE if _is_extension(importlib.import_module(name).__file__)]


def source(name: str) -> Path:
    """The Python source of a module of NATIVE: beside the file it was imported from, compiled or not."""
    return Path(str(importlib.import_module(name).__file__)).parent / (name.rsplit(".", 1)[1] + ".py")


def stale() -> list[str]:
    """The compiled modules whose Python source is newer than their build: edits the running code does not hold."""
    out = []
    for name in NATIVE:
        built = importlib.import_module(name).__file__
        if built is None or not _is_extension(built):
            continue
        py = source(name)
        if py.exists() and py.stat().st_mtime > Path(built).stat().st_mtime:
            out.append(name)
    return out


def _is_extension(path: str | None) -> bool:
    return path is not None and any(path.endswith(suffix) for suffix in EXTENSION_SUFFIXES)
