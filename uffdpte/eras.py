"""The layout eras as a changelog: at which release each table row starts or ends.

Read from the same rows decode uses, so ``uffdpte profiles`` can never disagree with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .kver import Version, version_text
from .layouts import layout_for
from .layouts.generic import GENERIC_CAPABILITIES, MARKER_BITS, SWAP_TYPES
from .layouts.model import NEVER, Era


@dataclass(frozen=True)
class Change:
    version: Version
    what: str  # "+ _PAGE_SWP_EXCLUSIVE bit 3 (swap)"
    source: str
    verified: bool
    backports: tuple[str, ...] = ()


def _rows(arch: str) -> list[tuple[str, Era]]:
    lay = layout_for(arch)
    out: list[tuple[str, Era]] = []
    for b in lay.bits:
        forms = "/".join(sorted(b.forms))
        gate = f" [{b.gate}]" if b.gate else ""
        out.append((f"{b.macro} {b.name} bits {b.bits_label()} ({forms}, {b.role}){gate}", b.era))
    for p in lay.presence:
        gate = f" [{p.gate}]" if p.gate else ""
        out.append((f"presence rule: {p.source}{gate}", p.era))
    for c in lay.capabilities + GENERIC_CAPABILITIES:
        out.append((f"capability {c.name} (needs {', '.join(c.requires) or 'nothing'})", c.era))
    for t in SWAP_TYPES:
        out.append((f"swap type {t.name} [{t.gate or 'always'}]", t.era))
    for m in MARKER_BITS:
        out.append((f"marker {m.macro} = BIT({m.bit})", m.era))
    for era, levels, bits in lay.physmem:
        out.append((f"MAX_PHYSMEM_BITS = {bits or 'PA bits'}"
                    + (f" ({levels}-level)" if levels else ""), era))
    return out


def changes(arch: str) -> list[Change]:
    """Every row's start and end, oldest first; rows that hold always are left out."""
    out: list[Change] = []
    for what, era in _rows(arch):
        ports = tuple(b.source for b in era.backports)
        if era.since is not None and era.since != NEVER:
            out.append(Change(era.since, "+ " + what, era.source, era.verified, ports))
        if era.since == NEVER:
            out.append(Change(NEVER, "+ " + what + " (backports only)", era.source, era.verified,
                              ports))
        if era.until is not None:
            out.append(Change(era.until, "- " + what, era.source, era.verified))
    out.sort(key=lambda c: (c.version, c.what))
    return out


def release_label(v: Version) -> str:
    return "backports" if v == NEVER else version_text(v)
