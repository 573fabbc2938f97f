"""Layout tables, one module per architecture; only the arch in use is imported."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Layout

ARCHES = ("x86_64", "arm64")


def layout_for(arch: str) -> "Layout":
    if arch not in ARCHES:
        raise ValueError(f"unknown arch {arch!r} (known: {', '.join(ARCHES)})")
    return importlib.import_module(f".{arch}", __name__).LAYOUT
