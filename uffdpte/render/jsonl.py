"""JSON Lines: one object per entry, keys as documented in README (a public interface).

A record is :func:`uffdpte.entry.record`; everything in it but the numbers is the same for
every value of one reading.  So each reading's record is encoded once with placeholders
for the value-dependent items, and a value fills them in: the same bytes ``json`` would
write (a property test compares them), at a fraction of the cost.
"""

from __future__ import annotations

import json
import re

from ..entry import Entry, Reading, record, shown_alternatives

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

#: the value-dependent items, in the order record() places them
_HOLES = ("input", "value", "pfn", "swp_offset", "swp_entry", "alternatives", "phys_addr")
_HOLE = re.compile(r'"\\u0000(' + "|".join(_HOLES) + r')\\u0000"')
#: a token that needs no JSON escaping (what the tokenizer accepts: hex, 0x, level labels)
_PLAIN_TOKEN = re.compile(r"[0-9A-Za-z:=]*")


_ALT_HOLES = ("pfn", "swp_offset", "swp_entry", "phys_addr")


def _template(decoder, r: Reading, differs: tuple) -> str:
    """The record as a %-format string whose holes are _HOLES (an alternative's:
    _ALT_HOLES), in that order."""
    holes = {k: f"\x00{k}\x00" for k in _HOLES}
    text = _dumps(record(decoder, r, differs=differs, **holes))
    parts = _HOLE.split(text)
    names = tuple(parts[1::2])
    if names != (_ALT_HOLES if differs else _HOLES):
        raise AssertionError(f"record() moved its value-dependent keys: {names}")
    return "%s".join(p.replace("%", "%%") for p in parts[0::2])


def _numbers(nums: tuple, r: Reading, decoder) -> tuple[str, str, str, str]:
    """pfn, swp_offset, swp_entry, phys_addr as JSON text."""
    off, pfn, phys = nums
    if off is None:
        if pfn is None:
            return "null", "null", "null", "null"
        return str(pfn), "null", "null", '"0x%x"' % phys
    swp_entry = '"0x%016x"' % decoder.swp_entry(r.swp_type, off)
    return ("null" if pfn is None else str(pfn)), str(off), swp_entry, "null"


def record_line(decoder, reading: Reading, alts: tuple, value: int, token: str | None,
                alternatives: bool = True, plain_token: bool = False) -> str:
    """One JSON line from a memoised record (the bulk path; no Entry needed).
    ``plain_token``: the caller knows the token needs no JSON escaping (bare hex)."""
    fmt = reading.cache.get("json")
    if fmt is None:
        fmt = reading.cache["json"] = _template(decoder, reading, ())
    if token is None:
        token, plain_token = "0x%016x" % value, True
    quoted = f'"{token}"' if plain_token or _PLAIN_TOKEN.fullmatch(token) else _dumps(token)
    mine = decoder.numbers(value, reading)
    pfn, off, swp_entry, phys = _numbers(mine, reading, decoder)
    alt_text = "[]"
    if alternatives and alts:
        items = []
        for dec, r, differs, label, nums in shown_alternatives(decoder, reading, alts, value,
                                                               mine):
            key = ("json-alt", label)
            afmt = r.cache.get(key)
            if afmt is None:
                afmt = r.cache[key] = _template(dec, r, differs)
            items.append(afmt % _numbers(nums, r, dec))
        alt_text = "[" + ", ".join(items) + "]"
    return fmt % (quoted, '"0x%016x"' % value, pfn, off, swp_entry, alt_text, phys)


def line(e: Entry, *, alternatives: bool = True) -> str:
    if e.differs:  # an alternative on its own: the generic path
        return _dumps(e.to_dict(alternatives=alternatives))
    return record_line(e.decoder, e.reading, e._alts, e.value, e.input, alternatives)
