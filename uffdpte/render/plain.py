"""One greppable line per entry: ``VALUE STATE[/SUBTYPE] key=value ... | problems | alternatives``.

Fields 1 and 2 are always the value (``0x%016x``) and the state, so ``awk '$2 == "swap"'``
works; ``key=value`` pairs follow, then ``| problems: ...`` and ``| alternatives: ...``
segments when there are any.
"""

from __future__ import annotations

from ..entry import Entry


def _differs(d: tuple[dict[str, str], ...]) -> str:
    return ",".join("+".join(x.values()) for x in d)


def summary(e: Entry) -> str:
    """The state and key fields, without the value (used for alternatives too)."""
    r = e.reading
    parts = [r.state + (f"/{r.subtype}" if r.subtype else "")]
    if e.decoder.level != "pte":
        parts.append(f"level={e.decoder.level}")
    if r.swp_type is not None:
        parts.append(f"type={r.swp_type}")
        if r.payload != "pfn" or r.state == "invalid":
            off = e.swp_offset
            if off is not None:
                parts.append(f"offset={off:#x}")
    pfn = e.pfn
    if pfn is not None:
        parts.append(f"pfn={pfn:#x}")
    if r.markers:
        parts.append("markers=" + ",".join(r.markers))
    if r.flags:
        parts.append("flags=" + ",".join(r.flags))
    for name, raw, label in r.fields:
        if label is not None or raw:  # an unnamed zero (pkey 0) says nothing
            parts.append(f"{name.lower()}={label if label is not None else raw}")
    # only the predicates that hold: "uffd_wp=1" greps; absent means false or not applicable
    for key in ("write", "dirty", "young", "uffd_wp", "soft_dirty", "exclusive"):
        if getattr(r, key):
            parts.append(f"{key}=1")
    return " ".join(parts)


def line(e: Entry, *, alternatives: bool = True) -> str:
    out = [f"0x{e.value:016x}", summary(e)]
    if e.reading.problems:
        out.append("| problems: " + "; ".join(e.reading.problems))
    if alternatives:
        alts = e.alternatives
        if alts:
            good = [a for a in alts if a.wellformed]
            bad = [a for a in alts if not a.wellformed]
            segs = [f"{_differs(a.differs)}: {summary(a)}" for a in good]
            if bad:
                segs.append("invalid or doubtful under " + ",".join(_differs(a.differs) for a in bad))
            out.append("| alternatives: " + "; ".join(segs))
    return " ".join(out)
