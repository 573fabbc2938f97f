"""JSON Lines: one object per entry, keys as documented in README (a public interface)."""

from __future__ import annotations

import json

from ..entry import Entry

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def line(e: Entry, *, alternatives: bool = True) -> str:
    return _dumps(e.to_dict(alternatives=alternatives))
