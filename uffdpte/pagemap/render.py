"""Text and JSON for the live view: page lines, ptdump-style ranges, per-VMA summaries.

Page lines are decode's plain shape (field 1 the address, field 2 the state, then
``key=value``); range lines follow arch/x86/mm/dump_pagetables.c (``start-end size
attributes``, a ``---[ name ]---`` line per VMA); summaries are one row per VMA.
"""

from __future__ import annotations

import json
from typing import Any

import click

from .maps import Vma
from .read import SUMMARY_KEYS
from .reading import PmReading

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

_COLOURS = {"present": "green", "protnone": "cyan", "marker": "magenta", "swap": "yellow",
            "swapped": "yellow", "migration": "yellow", "device": "yellow",
            "hwpoison": "red", "invalid": "red"}

#: predicates shown as words/keys when true, in this order (written only where async uffd-wp
#: makes it mean "written since protected": elsewhere the kernel says written for all)
_WORDS = (("uffd_wp", "uffd-wp"), ("soft_dirty", "soft-dirty"), ("exclusive", "exclusive"),
          ("file_shared", "file/shared"), ("guard", "guard"), ("zero_page", "zero-page"),
          ("huge", "huge"), ("written", "written"), ("wp_allowed", "wp-allowed"))


def json_line(d: dict[str, Any]) -> str:
    return _dumps(d)


def _state_text(r: PmReading) -> str:
    if r.state == "marker" and r.markers:
        return f"marker/{','.join(r.markers)}"
    return r.state + (f"/{r.subtype}" if r.subtype else "")


def _predicates(r: PmReading) -> list[str]:
    out = []
    for key, _ in _WORDS:
        if key == "written" and not r.wp_allowed:
            continue
        if getattr(r, key):
            out.append(key)
    return out


def _payload(r: PmReading, value: int) -> list[str]:
    from .entries import PM_PFRAME_MASK, PM_SWAP_TYPE_BITS
    frame = value & PM_PFRAME_MASK
    if r.payload == "pfn":
        return [f"pfn=0x{frame:x}"]
    if r.payload in ("swap", "pfn_swap"):
        off = frame >> PM_SWAP_TYPE_BITS
        parts = [f"type={r.swp_type}"]
        parts.append(f"pfn=0x{off:x}" if r.payload == "pfn_swap" else f"offset=0x{off:x}")
        return parts
    # a zeroed frame (no CAP_SYS_ADMIN) is said, never printed as 0
    if r.state in ("present", "protnone"):
        return ["pfn=hidden"]
    if "PM_SWAP" in r.flags and r.swp_type is None:
        return ["type=hidden"]
    return []


def page_line(r: PmReading, value: int, addr: int, vma: Vma, *, scan: bool) -> str:
    parts = [f"0x{addr:016x}", _state_text(r), f"value=0x{value:016x}"]
    parts += _payload(r, value)
    parts += [f"{k}=1" for k in _predicates(r)]
    if scan and r.scan is not None:
        parts.append("scan=" + (",".join(n.removeprefix("PAGE_IS_") for n in r.scan) or "-"))
    if r.problems:
        parts.append("problems=" + repr("; ".join(r.problems)))
    parts.append(f"vma={vma.label}")
    return " ".join(parts)


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
    words = [w for k, w in _WORDS if getattr(r, k) and (k != "written" or r.wp_allowed)]
    # one page: its numbers; a range: only what all its pages share (the swap type)
    if pages == 1:
        extra = _payload(r, value)
    else:
        extra = [f"type={r.swp_type}"] if r.swp_type is not None else []
    if scan and r.scan is not None:
        words.append("scan=" + (",".join(n.removeprefix("PAGE_IS_") for n in r.scan) or "-"))
    if r.problems:
        words.append("problems: " + "; ".join(r.problems))
    rest = " ".join(extra + words)
    state_col = f"{state:<20}" if rest else state
    if colour:
        state_col = click.style(state_col, fg=_COLOURS.get(r.state), dim=r.state == "none")
    return (f"0x{addr:016x}-0x{end:016x} {size_text(pages << page_shift):>7} {state_col} "
            + rest).rstrip()


SUMMARY_HEADER = ("VMA", "PERMS", "PAGES", "PRESENT", "SWAPPED", "UFFD-WP", "MARKERS",
                  "GUARD", "ZERO", "HUGE", "WRITTEN", "NAME")


def summary_row(vma: Vma | None, counts: dict[str, Any]) -> str:
    cells = ["-" if counts[k] is None else str(counts[k]) for k in SUMMARY_KEYS]
    where = f"{vma.start:x}-{vma.end:x}" if vma else "total"
    perms = vma.perms if vma else ""
    name = vma.label if vma else ""
    return (f"{where:<33} {perms:<5} " + " ".join(f"{c:>7}" for c in cells) + f"  {name}").rstrip()


def summary_header() -> str:
    h = SUMMARY_HEADER
    return (f"{h[0]:<33} {h[1]:<5} " + " ".join(f"{c:>7}" for c in h[2:11]) + f"  {h[11]}")


def summary_record(vma: Vma, counts: dict[str, Any], pid: int, kernel: str,
                   scan: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"pid": pid, "vma": vma.to_dict(), "kernel": kernel, "scan": scan}
    d.update(counts)
    return d
