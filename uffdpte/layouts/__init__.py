"""Layout tables, one module per architecture; only the arch in use is imported."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Layout

ARCHES = ("x86_64", "arm64")


_LOADED: dict[str, "Layout"] = {}


def layout_for(arch: str) -> "Layout":
    layout = _LOADED.get(arch)
    if layout is None:
        if arch not in ARCHES:
            raise ValueError(f"unknown arch {arch!r} (known: {', '.join(ARCHES)})")
        layout = _LOADED[arch] = importlib.import_module(f".{arch}", __name__).LAYOUT
    return layout
