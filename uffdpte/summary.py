"""Whole-dump summaries: how many entries of each state, swap type, marker and flag, and the
PFN range, without a line per value.

Values are counted by their memo key (the payload-independent shape, see
:class:`~uffdpte.classify.Classifier`) with C-level iteration (``map``, ``Counter``,
``compress``), and each distinct key is classified once at the end.  A key holds values that
read the same; the PFN inside a key grows (or, stored inverted, shrinks) with the raw value,
so the smallest and largest raw value of each key give the PFN range exactly.
"""

from __future__ import annotations

from collections import Counter
from itertools import compress, repeat
from operator import not_
from typing import Any, Iterable

from .classify import Classifier

_HEX_AND_SPACE = b"0123456789abcdefABCDEF \t\r\n"


class Summary:
    """Counts for one classifier (one profile and level)."""

    def __init__(self, clf: Classifier) -> None:
        self.clf = clf
        self.keys: Counter[int] = Counter()  # raw & ~lp, every class
        self.zero: Counter[int] = Counter()  # ... whose low payload bits are all 0
        self.ones: Counter[int] = Counter()  # ... all 1
        self.low_min: dict[int, int] = {}
        self.low_max: dict[int, int] = {}
        self.rejected = 0

    # --- counting -------------------------------------------------------------------------
    def add_chunk(self, data: bytes) -> bool:
        """Count every value of a chunk of bare hex values; False (nothing counted) when the
        chunk holds anything else, for the caller's token-by-token path."""
        if data.translate(None, _HEX_AND_SPACE):
            return False
        toks = data.split()
        if not toks:
            return True
        if max(map(len, toks)) > 16:
            return False
        self.add_ints(list(map(int, toks, repeat(16))))
        return True

    def add_ints(self, ints: list[int]) -> None:
        lp, nlp = self.clf.lp, self.clf.nlp
        his = list(map(nlp.__and__, ints))
        lows = list(map(lp.__and__, ints))
        self.keys.update(his)
        self.zero.update(compress(his, map(not_, lows)))
        self.ones.update(compress(his, map(lp.__eq__, lows)))
        mins, maxs = self.low_min, self.low_max
        for h, low in zip(his, lows):  # the one Python-level pass: the PFN range
            if low == 0 or low == lp:
                continue  # those classes' low bits are fixed: nothing to track
            m = mins.get(h)
            if m is None:
                mins[h] = maxs[h] = low
            elif low < m:
                mins[h] = low
            elif low > maxs[h]:
                maxs[h] = low

    def add(self, value: int) -> None:
        self.add_ints([value])

    # --- the result -----------------------------------------------------------------------
    def _classes(self) -> Iterable[tuple[int, int, int]]:
        """(representative raw value, class, count) per distinct shape."""
        lp = self.clf.lp
        some = lp & -lp  # the lowest low-payload bit: a "mixed" representative
        for h, n in self.keys.items():
            z, o = self.zero.get(h, 0), self.ones.get(h, 0)
            if z:
                yield h, 0, z
            if o:
                yield h | lp, 1, o
            if n - z - o:
                yield h | some, 2, n - z - o

    def to_dict(self) -> dict[str, Any]:
        clf = self.clf
        primary = clf.primary
        states: Counter[str] = Counter()
        subtypes: Counter[str] = Counter()
        types: Counter[str] = Counter()
        markers: Counter[str] = Counter()
        flags: Counter[str] = Counter()
        problems: Counter[str] = Counter()
        ambiguous = 0
        pfn_lo: int | None = None
        pfn_hi: int | None = None
        for rep, cls, n in self._classes():
            reading, alts = clf.record(rep)
            states[reading.state] += n
            if reading.subtype:
                subtypes[reading.subtype] += n
            if reading.swp_type is not None:
                types[f"{reading.swp_type} {reading.type_name or ''}".strip()] += n
            for m in reading.markers:
                markers[m] += n
            for f in reading.flags:
                flags[f] += n
            for p in reading.problems:
                problems[p] += n
            if any(not same for _, _, _, same, _, _ in alts):
                ambiguous += n
            if reading.payload in ("pa", "pfn"):
                h = rep & clf.nlp
                # mixed low bits: the smallest and largest seen; otherwise all 0 or all 1
                lows = [self.low_min[h], self.low_max[h]] if cls == 2 else [rep & clf.lp]
                for low in lows:
                    pfn = primary.numbers(h | low, reading)[1]
                    if pfn is not None:
                        pfn_lo = pfn if pfn_lo is None else min(pfn_lo, pfn)
                        pfn_hi = pfn if pfn_hi is None else max(pfn_hi, pfn)
        return {
            "values": sum(self.keys.values()),
            "rejected": self.rejected,
            "arch": primary.profile.arch,
            "kernel": primary.profile.kernel.text,
            "config": primary.profile.config_label,
            "level": primary.level,
            "states": dict(states.most_common()),
            "subtypes": dict(subtypes.most_common()),
            "swap_types": dict(sorted(types.items(), key=lambda kv: int(kv[0].split()[0]))),
            "markers": dict(markers.most_common()),
            "flags": dict(flags.most_common()),
            "pfn_min": pfn_lo,
            "pfn_max": pfn_hi,
            "ambiguous": ambiguous,
            "problems": dict(problems.most_common()),
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
