"""Build hook: the xAPI modules every stored statement runs through, compiled to C by mypyc (ADR 0010).

They stay ordinary Python source that `make typecheck` holds to mypy strict; at install time mypyc turns them into C
extension modules, which validate and prepare a statement in about 60% of the CPU the interpreter takes. With
LRS_PURE_PYTHON=1, or where mypyc or a C compiler is missing, the same modules are installed and run as Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, str(Path(__file__).parent / "src"))
from lrs.native import NATIVE  # the list of modules, kept with the code that reports on them

COMPILED = ["src/" + name.replace(".", "/") + ".py" for name in NATIVE]


def _warn(message: str) -> None:
    print(f"lrs: {message}; the xAPI modules are installed as Python", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext that leaves the Python modules in place when the C compiler fails."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any compiler failure: the modules run as Python
            _warn(f"compiling with mypyc failed ({exc})")


def _extensions() -> list[Any]:
    if os.environ.get("LRS_PURE_PYTHON", "").lower() in ("1", "true", "yes"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        _warn(f"mypyc is not installed ({exc})")
        return []
    # Not the project's mypy settings: the build environment holds mypyc but none of the project's dependencies,
    # whose types the compiled modules do not need (`make typecheck` checks them all, strict).
    return mypycify(["--config-file=", "--ignore-missing-imports", *COMPILED], group_name="lrs_xapi")


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
