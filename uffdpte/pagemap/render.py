"""Text and JSON for the live view: page lines, ptdump-style ranges, per-VMA summaries.

Page lines are decode's plain shape (field 1 the address, field 2 the state, then
``key=value``); range lines follow arch/x86/mm/dump_pagetables.c (``start-end size
attributes``, a ``---[ name ]---`` line per VMA); summaries are one row per VMA.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

import click

from .entries import PM_PFRAME_MASK, split_frame
from .maps import Vma
from .read import SUMMARY_COLUMNS
from .reading import PmReading

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

_COLOURS = {"present": "green", "protnone": "cyan", "marker": "magenta", "swap": "yellow",
            "swapped": "yellow", "migration": "yellow", "device": "yellow",
            "hwpoison": "red", "invalid": "red"}

#: predicates shown when true, in this order, as (key in page lines, word in range lines,
#: PmReading attribute): "written" only where async uffd-wp makes it mean "written since
#: protected" (PmReading.written_since_wp; elsewhere the kernel says written for all)
_WORDS = (("uffd_wp", "uffd-wp", "uffd_wp"), ("soft_dirty", "soft-dirty", "soft_dirty"),
          ("exclusive", "exclusive", "exclusive"), ("file_shared", "file/shared", "file_shared"),
          ("guard", "guard", "guard"), ("zero_page", "zero-page", "zero_page"),
          ("huge", "huge", "huge"), ("written", "written", "written_since_wp"),
          ("wp_allowed", "wp-allowed", "wp_allowed"))


def json_line(d: dict[str, Any]) -> str:
    return _dumps(d)


def _state_text(r: PmReading) -> str:
    if r.state == "marker" and r.markers:
        return f"marker/{','.join(r.markers)}"
    return r.state + (f"/{r.subtype}" if r.subtype else "")


def _shown(r: PmReading) -> list[tuple[str, str]]:
    """(key, word) of the predicates true for ``r``."""
    return [(key, word) for key, word, attr in _WORDS if getattr(r, attr)]


def _scan(r: PmReading, scan: bool) -> list[str]:
    """``scan=`` with the PAGE_IS_* names (without the prefix), when asked and known."""
    if not scan or r.scan is None:
        return []
    return ["scan=" + (",".join(n.removeprefix("PAGE_IS_") for n in r.scan) or "-")]


def _payload(r: PmReading, value: int) -> list[str]:
    if r.payload == "pfn":
        return [f"pfn=0x{value & PM_PFRAME_MASK:x}"]
    if r.payload in ("swap", "pfn_swap"):
        off = split_frame(value)[1]
        parts = [f"type={r.swp_type}"]
        parts.append(f"pfn=0x{off:x}" if r.payload == "pfn_swap" else f"offset=0x{off:x}")
        return parts
    # a zeroed frame (no CAP_SYS_ADMIN) is said, never printed as 0
    if r.state in ("present", "protnone"):
        return ["pfn=hidden"]
    if "PM_SWAP" in r.flags and r.swp_type is None:
        return ["type=hidden"]
    return []


def page_lines(r: PmReading, values: Sequence[int], addr: int, page_shift: int, vma: Vma, *,
               scan: bool) -> Iterator[str]:
    """The page line of each page of a run: what its pages share (the state, predicates,
    scan, problems, VMA; the payload where it has no number) is formatted once per run."""
    state = _state_text(r)
    tail = [f"{k}=1" for k, _ in _shown(r)] + _scan(r, scan)
    if r.problems:
        tail.append("problems=" + repr("; ".join(r.problems)))
    tail.append(f"vma={vma.label}")
    if r.payload is None:  # no number: everything after the value is the run's
        tail[:0] = _payload(r, 0)
        rest = " ".join(tail)
        for i, value in enumerate(values):
            yield f"0x{addr + (i << page_shift):016x} {state} value=0x{value:016x} {rest}"
        return
    rest = " ".join(tail)
    for i, value in enumerate(values):
        yield (f"0x{addr + (i << page_shift):016x} {state} value=0x{value:016x} "
               f"{' '.join(_payload(r, value))} {rest}")


def page_line(r: PmReading, value: int, addr: int, vma: Vma, *, scan: bool) -> str:
    return next(page_lines(r, (value,), addr, 0, vma, scan=scan))


def size_text(nbytes: int) -> str:
    for unit, shift in (("G", 30), ("M", 20)):
        if nbytes >= 1 << shift and not nbytes % (1 << shift):
            return f"{nbytes >> shift}{unit}"
    return f"{nbytes >> 10}K"


def vma_header(vma: Vma, colour: bool) -> str:
    text = f"---[ {vma.start:x}-{vma.end:x} {vma.perms} {vma.label} ]---"
    return click.style(text, bold=True) if colour else text


def range_line(r: PmReading, value: int, addr: int, pages: int, page_shift: int, *,
               scan: bool, colour: bool) -> str:
    end = addr + (pages << page_shift)
    state = _state_text(r)
    words = [w for _, w in _shown(r)] + _scan(r, scan)
    # one page: its numbers; a range: only what all its pages share (the swap type)
    if pages == 1:
        extra = _payload(r, value)
    else:
        extra = [f"type={r.swp_type}"] if r.swp_type is not None else []
    if r.problems:
        words.append("problems: " + "; ".join(r.problems))
    rest = " ".join(extra + words)
    state_col = f"{state:<20}" if rest else state
    if colour:
        state_col = click.style(state_col, fg=_COLOURS.get(r.state), dim=r.state == "none")
    return (f"0x{addr:016x}-0x{end:016x} {size_text(pages << page_shift):>7} {state_col} "
            + rest).rstrip()


def summary_row(vma: Vma | None, counts: dict[str, Any]) -> str:
    cells = ["-" if counts[k] is None else str(counts[k]) for k, _ in SUMMARY_COLUMNS]
    where = f"{vma.start:x}-{vma.end:x}" if vma else "total"
    perms = vma.perms if vma else ""
    name = vma.label if vma else ""
    return (f"{where:<33} {perms:<5} " + " ".join(f"{c:>7}" for c in cells) + f"  {name}").rstrip()


def summary_header() -> str:
    return (f"{'VMA':<33} {'PERMS':<5} " + " ".join(f"{h:>7}" for _, h in SUMMARY_COLUMNS)
            + "  NAME")


def summary_record(vma: Vma, counts: dict[str, Any], pid: int, kernel: str,
                   scan: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"pid": pid, "vma": vma.to_dict(), "kernel": kernel, "scan": scan}
    d.update(counts)
    return d
