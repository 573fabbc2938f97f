"""Whole-dump summaries: how many entries of each state, swap type, marker and flag, and the
PFN range, without a line per value.

Values are counted by their shape (the classifier's memo key: the bits outside its low
payload mask, and whether the low payload is all 0, all 1 or mixed), and each distinct
shape is classified once.  Inside one shape the PFN grows (or, stored inverted, shrinks)
with the low payload, so the smallest and largest low payload of each shape give the PFN
range exactly.

Counting is the hot path (issue 7: at most twice a bare ``int(line, 16)`` loop), so a
chunk is keyed in bulk: its values become the 64-bit lanes of one Python int and the key of
every lane comes out of a dozen whole-int operations (SWAR), instead of a dozen Python
operations per value.  Lines of exactly 16 hex digits -- ``%016lx``, how dumps print
entries -- skip per-value parsing too (``bytes.fromhex`` on the whole chunk).
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from itertools import repeat
from typing import Any, Iterable

from .classify import Classifier

_HEX_AND_SPACE = b"0123456789abcdefABCDEF \t\r\n"
_HEX_AND_NL = b"0123456789abcdefABCDEF\n"
_LOW63 = (1 << 63) - 1
_LITTLE = sys.byteorder == "little"
#: the span of a shape whose range is not tracked: no value is below -1 or above 2^64
_UNTRACKED = [-1, 1 << 64]
#: distinct shapes kept before they are folded into the totals: a real dump has tens to
#: hundreds; random junk has one per value, and memory must stay bounded all the same
SHAPE_LIMIT = 1 << 15


class _Lanes:
    """Per-lane constants of an n-lane int, cached for the chunk sizes seen (a few)."""

    def __init__(self, lp: int) -> None:
        self.lp = lp
        self.cache: dict[int, tuple[int, int, int]] = {}

    def __call__(self, n: int) -> tuple[int, int, int]:
        c = self.cache.get(n)
        if c is None:
            if len(self.cache) > 8:
                self.cache.clear()
            rep = lambda v: int.from_bytes(v.to_bytes(8, "big") * n, "big")  # noqa: E731
            c = self.cache[n] = (rep(self.lp), rep(_LOW63), rep(1 << 63))
        return c


class Summary:
    """Counts for one classifier (one profile and level)."""

    def __init__(self, clf: Classifier) -> None:
        self.clf = clf
        lp = clf.lp
        #: counts per shape key: ``raw & ~lp`` plus two flags in lp's lowest bits, A set
        #: unless the low payload is all 0, B set unless it is all 1 (so A|B means mixed)
        self.counts: Counter[int] = Counter()
        #: shape key -> [smallest, largest] low payload seen, for mixed shapes with a PFN;
        #: every other shape maps to _UNTRACKED, which no value can move
        self.spans: dict[int, list[int]] = {}
        self.rejected = 0
        #: what folded shapes add up to (see _fold)
        self.totals: dict[str, Any] = {
            "values": 0, "ambiguous": 0, "pfn_min": None, "pfn_max": None,
            **{k: Counter() for k in ("states", "subtypes", "swap_types", "markers", "flags",
                                      "problems")}}
        a = lp & -lp
        b = (lp ^ a) & -(lp ^ a)
        self.bit_a, self.bit_b = a, b
        self.mixed = a | b
        self.shift_a, self.shift_b = 64 - a.bit_length(), 64 - b.bit_length()  # from bit 63
        # the bulk path needs two spare bits in lp and a free top bit in every lane
        self.lanes = _Lanes(lp) if b and lp < 1 << 63 else None

    # --- counting -------------------------------------------------------------------------
    def add_chunk(self, data: bytes) -> bool:
        """Count every value of a chunk of bare hex values; False (nothing counted) when the
        chunk holds anything else, for the caller's token-by-token path."""
        if data.translate(None, _HEX_AND_SPACE):
            return False
        if self.lanes is not None and self._add_fixed(data):
            return True
        toks = data.split()
        if not toks:
            return True
        if max(map(len, toks)) > 16:
            return False
        self.add_ints(list(map(int, toks, repeat(16))))
        return True

    def _add_fixed(self, data: bytes) -> bool:
        """Lines of exactly 16 hex digits (already known to be hex and whitespace)."""
        body = data[:-1] if data.endswith(b"\n") else data
        n, rest = divmod(len(body) + 1, 17)
        if rest or not n or body[16::17] != b"\n" * (n - 1) or \
                body.translate(None, _HEX_AND_NL):
            return False
        self._add_lanes(int.from_bytes(bytes.fromhex(body.decode("ascii")), "big"), n)
        return True

    def add_ints(self, ints: list[int]) -> None:
        if self.lanes is None:
            for v in ints:
                self.add(v)
            return
        lanes = array("Q", ints)
        if _LITTLE:
            lanes.byteswap()
        self._add_lanes(int.from_bytes(lanes.tobytes(), "big"), len(ints))

    def _add_lanes(self, big: int, n: int) -> None:
        """Count n values held as the 64-bit lanes of ``big`` (first value highest)."""
        lpr, low63, top = self.lanes(n)
        low = big & lpr
        nonzero = (low + low63) & top  # bit 63 of a lane: its low payload is not all 0
        notones = (lpr - low + low63) & top  # ... not all 1 (no borrow: low <= lp)
        keys = (big ^ low) | nonzero >> self.shift_a | notones >> self.shift_b
        ks = self._lanes_list(keys, n)
        chunk = Counter(ks)
        if len(self.counts) > SHAPE_LIMIT:
            self._fold()
        self.counts.update(chunk)
        spans = self.spans
        for k in chunk.keys() - spans.keys():
            spans[k] = self._span(k)
        if all(spans[k] is _UNTRACKED for k in chunk):
            return
        for k, v in zip(ks, self._lanes_list(low, n)):  # the one Python-level pass
            span = spans[k]
            if v < span[0]:
                span[0] = v
            if v > span[1]:
                span[1] = v

    @staticmethod
    def _lanes_list(big: int, n: int) -> list[int]:
        lanes = array("Q")
        lanes.frombytes(big.to_bytes(8 * n, "big"))
        if _LITTLE:
            lanes.byteswap()
        return lanes.tolist()

    def _key(self, value: int) -> int:
        lp = self.clf.lp
        low = value & lp
        return (value ^ low) | (self.bit_a if low else 0) | (self.bit_b if low != lp else 0)

    def add(self, value: int) -> None:
        k = self._key(value)
        if k not in self.counts and len(self.counts) > SHAPE_LIMIT:
            self._fold()
        self.counts[k] += 1
        span = self.spans.get(k)
        if span is None:
            span = self.spans[k] = self._span(k)
        low = value & self.clf.lp
        if low < span[0]:
            span[0] = low
        if low > span[1]:
            span[1] = low

    def _span(self, key: int) -> list[int]:
        """A new shape's span: tracked when it is mixed and its reading carries a PFN."""
        if key & self.mixed != self.mixed:
            return _UNTRACKED  # all 0 or all 1: the low payload is fixed
        if self.clf.record(self._rep(key))[0].payload not in ("pa", "pfn"):
            return _UNTRACKED
        return [1 << 64, -1]

    # --- the result -----------------------------------------------------------------------
    def _rep(self, key: int) -> int:
        """A value of this shape (for a mixed one, lp's lowest bit alone)."""
        h = key & self.clf.nlp
        if not key & self.bit_a:
            return h
        if not key & self.bit_b:
            return h | self.clf.lp
        return h | self.bit_a

    def _classes(self) -> Iterable[tuple[int, int, int]]:
        """(shape key, representative raw value, count) per distinct shape."""
        for k, n in self.counts.items():
            yield k, self._rep(k), n

    def _fold(self) -> None:
        """Move the per-shape counts into the totals (at the end, or when a stream of junk
        has so many shapes that keeping them would break constant memory)."""
        clf, t = self.clf, self.totals
        numbers = clf.primary.numbers
        for key, rep, n in self._classes():
            reading, alts = clf.record(rep)
            t["values"] += n
            t["states"][reading.state] += n
            if reading.subtype:
                t["subtypes"][reading.subtype] += n
            if reading.swp_type is not None:
                t["swap_types"][f"{reading.swp_type} {reading.type_name or ''}".strip()] += n
            for name, keys in (("markers", reading.markers), ("flags", reading.flags),
                               ("problems", reading.problems)):
                for k in keys:
                    t[name][k] += n
            if any(not same for _, _, _, same, _, _ in alts):
                t["ambiguous"] += n
            if reading.payload in ("pa", "pfn"):
                h = rep & clf.nlp
                # mixed low bits: the smallest and largest seen; otherwise all 0 or all 1
                span = self.spans[key]
                for low in [rep & clf.lp] if span is _UNTRACKED else span:
                    pfn = numbers(h | low, reading)[1]
                    if pfn is not None:
                        lo, hi = t["pfn_min"], t["pfn_max"]
                        t["pfn_min"] = pfn if lo is None else min(lo, pfn)
                        t["pfn_max"] = pfn if hi is None else max(hi, pfn)
        self.counts.clear()
        self.spans.clear()

    def to_dict(self) -> dict[str, Any]:
        self._fold()
        t = self.totals
        profile = self.clf.primary.profile
        return {
            "values": t["values"],
            "rejected": self.rejected,
            "arch": profile.arch,
            "kernel": profile.kernel.text,
            "config": profile.config_label,
            "level": self.clf.primary.level,
            "states": dict(t["states"].most_common()),
            "subtypes": dict(t["subtypes"].most_common()),
            "swap_types": dict(sorted(t["swap_types"].items(),
                                      key=lambda kv: int(kv[0].split()[0]))),
            "markers": dict(t["markers"].most_common()),
            "flags": dict(t["flags"].most_common()),
            "pfn_min": t["pfn_min"],
            "pfn_max": t["pfn_max"],
            "ambiguous": t["ambiguous"],
            "problems": dict(t["problems"].most_common()),
        }


def plain(d: dict[str, Any]) -> str:
    """A summary as aligned text (what a pipe gets)."""
    def counts(m: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in m.items()) or "-"

    rows = [
        ("values", f"{d['values']} ({d['rejected']} rejected)"),
        ("profile", f"{d['arch']} {d['kernel']} {d['config']} level={d['level']}"),
        ("states", counts(d["states"])),
        ("subtypes", counts(d["subtypes"])),
        ("swap types", counts(d["swap_types"])),
        ("markers", counts(d["markers"])),
        ("flags", counts(d["flags"])),
        ("pfn range", "-" if d["pfn_min"] is None else f"{d['pfn_min']:#x}-{d['pfn_max']:#x}"),
        ("ambiguous", f"{d['ambiguous']} values read differently under profiles not pinned"),
    ]
    rows += [("problem", f"{n} × {p}") for p, n in d["problems"].items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def show(d: dict[str, Any], as_json: bool, term: bool, colour: bool) -> Any:
    """One summary as the command prints it: a JSON object, a rich table on a terminal
    (rich is imported only then), or plain text."""
    if as_json:
        import json
        return json.dumps(d, ensure_ascii=False)
    if term:
        from .render.term import summary_table
        return summary_table(d, colour)
    return plain(d)
