"""/proc/PID/maps: the VMAs, their permissions and names.

Line format (fs/proc/task_mmu.c show_map_vma, unchanged 6.1-7.2)::

    start-end perms offset major:minor inode   name

``start``/``end`` are hex without ``0x``; ``perms`` is ``rwxp``/``rwxs``; the name is a
path (may contain spaces, may end in `` (deleted)``), ``[heap]``, ``[stack]``, ``[vdso]``,
``[anon:NAME]`` (CONFIG_ANON_VMA_NAME) or empty for anonymous memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Vma:
    start: int
    end: int  # exclusive
    perms: str
    offset: int
    dev: str
    inode: int
    name: str

    @property
    def shared(self) -> bool:
        return self.perms[3:4] == "s"

    @property
    def prot_none(self) -> bool:
        """No access at all: every present pte in it is a PROT_NONE pte (PAGE_NONE)."""
        return self.perms[:3] == "---"

    @property
    def label(self) -> str:
        """A short name for output: the mapping's name, else what kind of memory it is."""
        if self.name:
            return self.name
        return "[anon shared]" if self.shared else "[anon]"

    def to_dict(self) -> dict[str, Any]:
        return {"start": "0x%x" % self.start, "end": "0x%x" % self.end, "perms": self.perms,
                "offset": "0x%x" % self.offset, "dev": self.dev, "inode": self.inode,
                "name": self.name}

    def __str__(self) -> str:
        return f"{self.start:x}-{self.end:x} {self.perms} {self.label}"


class MapsFormatError(ValueError):
    pass


def parse_line(line: str) -> Vma:
    # split the five fixed fields; the rest (after the padding) is the name
    parts = line.rstrip("\n").split(None, 5)
    if len(parts) < 5 or "-" not in parts[0]:
        raise MapsFormatError(f"unexpected /proc/PID/maps line: {line.rstrip()!r}")
    lo, _, hi = parts[0].partition("-")
    try:
        return Vma(start=int(lo, 16), end=int(hi, 16), perms=parts[1], offset=int(parts[2], 16),
                   dev=parts[3], inode=int(parts[4]), name=parts[5] if len(parts) > 5 else "")
    except ValueError:
        raise MapsFormatError(f"unexpected /proc/PID/maps line: {line.rstrip()!r}") from None


def parse_maps(text: str) -> list[Vma]:
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def clip(vmas: list[Vma], start: int, end: int) -> list[tuple[Vma, int, int]]:
    """The parts of [start, end) that lie in a VMA: (vma, lo, hi), in address order."""
    out = []
    for m in vmas:
        lo, hi = max(m.start, start), min(m.end, end)
        if lo < hi:
            out.append((m, lo, hi))
    return out


def gaps(pieces: list[tuple[Vma, int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) no VMA covers."""
    out, cur = [], start
    for _, lo, hi in pieces:
        if lo > cur:
            out.append((cur, lo))
        cur = max(cur, hi)
    if cur < end:
        out.append((cur, end))
    return out


# --- the RANGE argument ---------------------------------------------------------------------

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _hex(text: str, what: str) -> int:
    t = text.strip()
    body = t[2:] if t[:2].lower() == "0x" else t
    if not body or not all(c in "0123456789abcdefABCDEF" for c in body):
        raise ValueError(f"{what} {text!r}: expected a hex address")
    return int(body, 16)


def _size(text: str) -> int:
    t = text.strip()
    if t[:2].lower() == "0x":
        return _hex(t, "size")
    unit = t[-1:].lower() if t[-1:].lower() in "kmg" else ""
    num = t[:-1] if unit else t
    if not num.isdigit() or not num.isascii():
        raise ValueError(f"size {text!r}: expected 0xHEX, or decimal bytes with K, M or G")
    return int(num) * _UNITS[unit]


def parse_range(text: str, page_size: int) -> tuple[int, int] | str:
    """``START-END`` (hex, END exclusive), ``START+SIZE``, ``ADDR`` (one page), or a mapping
    name (``[heap]``, ``[stack]``, a path).  Returns page-aligned (start, end) or the name.
    ValueError says what is wrong."""
    t = text.strip()
    if t.startswith(("[", "/")):
        return t
    if "+" in t:
        a, _, b = t.partition("+")
        start = _hex(a, "start")
        end = start + _size(b)
    elif "-" in t:
        a, _, b = t.partition("-")
        start, end = _hex(a, "start"), _hex(b, "end")
    else:
        start = _hex(t, "address")
        end = start + 1
    if end <= start:
        raise ValueError(f"range {text!r} is empty (the end is exclusive)")
    if end > 1 << 64:
        raise ValueError(f"range {text!r} goes beyond 64 bits")
    mask = page_size - 1
    return start & ~mask, (end + mask) & ~mask
