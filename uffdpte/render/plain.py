"""One greppable line per entry: ``VALUE STATE[/SUBTYPE] key=value ... | problems | alternatives``.

Fields 1 and 2 are always the value (``0x%016x``) and the state, so ``awk '$2 == "swap"'``
works; ``key=value`` pairs follow, then ``| problems: ...`` and ``| alternatives: ...``
segments when there are any.

Everything but the numbers is the same for every value of one reading, so it is built once
per :class:`~uffdpte.entry.Reading` and kept on it: a stream of a million entries formats
two or three numbers per line.
"""

from __future__ import annotations

from ..entry import Entry, Reading, shown_alternatives

_BOOLS = ("write", "dirty", "young", "uffd_wp", "soft_dirty", "exclusive")


def _template(r: Reading, level: str) -> tuple[str, bool, bool, str, str]:
    """(head, show offset, show pfn, tail, problems segment) of one reading."""
    head = [r.state + (f"/{r.subtype}" if r.subtype else "")]
    if level != "pte":
        head.append(f"level={level}")
    show_offset = False
    if r.swp_type is not None:
        head.append(f"type={r.swp_type}")
        show_offset = r.payload != "pfn" or r.state == "invalid"
    tail = []
    if r.markers:
        tail.append("markers=" + ",".join(r.markers))
    if r.flags:
        tail.append("flags=" + ",".join(r.flags))
    for name, raw, label in r.fields:
        if label is not None or raw:  # an unnamed zero (pkey 0) says nothing
            tail.append(f"{name.lower()}={label if label is not None else raw}")
    # only the predicates that hold: "uffd_wp=1" greps; absent means false or not applicable
    tail.extend(f"{key}=1" for key in _BOOLS if getattr(r, key))
    problems = (" | problems: " + "; ".join(r.problems)) if r.problems else ""
    return (" ".join(head), show_offset, r.payload in ("pa", "pfn"),
            (" " + " ".join(tail)) if tail else "", problems)


def _summary(decoder, r: Reading, numbers: tuple) -> str:
    tpl = r.cache.get("plain")
    if tpl is None:
        tpl = r.cache["plain"] = _template(r, decoder.level)
    head, show_offset, show_pfn, tail, _ = tpl
    mid = ""
    if show_offset and numbers[0] is not None:
        mid = f" offset={numbers[0]:#x}"
    if show_pfn and numbers[1] is not None:
        mid += f" pfn={numbers[1]:#x}"
    return head + mid + tail


def summary(e: Entry, *, problems: bool = False) -> str:
    """The state and key fields, without the value; with ``problems``, the line's
    ``| problems: ...`` segment after them."""
    text = _summary(e.decoder, e.reading, e.decoder.numbers(e.value, e.reading))
    return text + e.reading.cache["plain"][4] if problems else text


def record_line(decoder, reading: Reading, alts: tuple, value: int,
                alternatives: bool = True) -> str:
    """The line for one value from its memoised record (no Entry needed: the bulk path)."""
    nums = decoder.numbers(value, reading)
    text = f"0x{value:016x} {_summary(decoder, reading, nums)}{reading.cache['plain'][4]}"
    if alternatives and alts:
        segs, bad = [], []
        for dec, r, _, label, nums in shown_alternatives(decoder, reading, alts, value, nums):
            if r.wellformed:
                segs.append(f"{label}: {_summary(dec, r, nums)}")
            else:
                bad.append(label)
        if bad:
            segs.append("invalid or doubtful under " + ",".join(bad))
        if segs:
            text += " | alternatives: " + "; ".join(segs)
    return text


def line(e: Entry, *, alternatives: bool = True) -> str:
    return record_line(e.decoder, e.reading, e._alts, e.value, alternatives)
