"""A found value, decoded: the annotation line, the ``--only`` line, the JSON record.

The annotation is greppable like ``decode``'s plain line: ``uffdpte: LEVEL VALUE STATE
key=value ...`` (so ``grep 'uffdpte: pte'`` and ``awk '$4 == "swap"'`` work), then
``| ...`` segments: problems, alternatives, the swp_entry_t it came from, the cross-check,
notes, and the profile with where its kernel came from.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..render.plain import line as plain_line

if TYPE_CHECKING:
    from ..entry import Entry
    from .engine import Finding

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

INDENT = "    "


def crosscheck_of(f: "Finding", e: "Entry") -> dict[str, Any] | None:
    """Compare what the text printed next to the value with what the decode says."""
    cc = f.crosscheck
    if cc is None:
        return None
    kind = cc["kind"]
    out: dict[str, Any] = {"kind": kind, "line": cc["line"], "column": cc["column"]}
    if kind == "dump_page":
        printed, decoded, what = cc["pfn"], e.pfn, "pfn"
    elif kind == "crash_physical":
        printed, decoded, what = cc["phys"], e.phys_addr, "physical address"
    else:  # crash_swap_offset: crash prints the offset in decimal
        printed, decoded, what = cc["offset"], e.swp_offset, "swap offset"
    out["printed"] = printed if kind == "crash_swap_offset" else "%#x" % printed
    out["decoded"] = None if decoded is None else (
        decoded if kind == "crash_swap_offset" else "%#x" % decoded)
    if decoded is None:
        out["agrees"] = None
        out["reason"] = f"the decoded entry ({e.state}) has no {what}"
    else:
        out["agrees"] = decoded == printed
    return out


def _cc_text(cc: dict[str, Any]) -> str:
    label = {"dump_page": "dump_page pfn:", "crash_physical": "crash PHYSICAL ",
             "crash_swap_offset": "crash OFFSET "}[cc["kind"]]
    where = f"line {cc['line']}"
    if cc["agrees"] is None:
        return f"crosscheck: {label}{cc['printed']} ({where}): {cc['reason']}"
    if cc["agrees"]:
        return f"crosscheck: {label}{cc['printed']} ({where}) agrees"
    return f"crosscheck: {label}{cc['printed']} ({where}) DISAGREES: decoded {cc['decoded']}"


def text_line(f: "Finding", e: "Entry", alternatives: bool) -> str:
    """The decode part shared by the annotation and --only: LEVEL VALUE STATE ... | ..."""
    body = plain_line(e, alternatives=alternatives)
    if f.swp is not None:
        s = f.swp
        head = (f"swp_entry_t 0x{s.val:016x} type={s.type} offset={s.offset:#x} -> pte "
                + body)
        if s.problems:
            head += " | swp_entry_t: " + "; ".join(s.problems)
    else:
        head = f"{e.level} {body}"
    segs = [head]
    cc = f.checked
    if cc is not None:
        segs.append(_cc_text(cc))
    if f.notes:
        segs.append("note: " + "; ".join(f.notes))
    segs.append(f"profile: {e.profile.label()} (kernel: {f.choice.source})")
    return " | ".join(segs)


def annotation(f: "Finding", e: "Entry", alternatives: bool) -> str:
    return f"{INDENT}uffdpte: {text_line(f, e, alternatives)}"


def only_line(f: "Finding", e: "Entry", alternatives: bool, source: str) -> str:
    return f"{source}:{f.line}:{f.column}: {text_line(f, e, alternatives)}"


def record(f: "Finding", e: "Entry", alternatives: bool, source: str) -> str:
    d = e.to_dict(alternatives=alternatives)
    d["input"] = f.token
    if f.swp is not None:
        s = f.swp
        d["swp_entry_t"] = {"val": "0x%016x" % s.val, "type": s.type, "offset": s.offset,
                            "type_shift": s.shift, "problems": list(s.problems)}
        if s.problems:
            d["state"] = "invalid"
            d["problems"] = list(s.problems) + d["problems"]
    d.update({
        "source": source,
        "line": f.line,
        "column": f.column,
        "level": e.level,
        "message": f.pattern.message,
        "pattern": f.pattern.id,
        "encoding": f.pattern.encoding,
        "profile_source": f.choice.source,
        "profile_sources": dict(f.choice.sources),
        "profile": e.profile.label(),
        "crosscheck": f.checked,
        "scan_notes": list(f.notes),
        "profile_notes": list(f.choice.profile.notes),  # (the decoder's copy has none)
        "format": f.pattern.source,
    })
    return _dumps(d)


def undecoded(f: "Finding", why: str, mode: str, source: str) -> str:
    """A value the scan found but could not decode (no profile fits): said, not dropped."""
    if mode == "json":
        return _dumps({"input": f.token, "value": "0x%016x" % f.value, "level": f.level,
                       "state": None, "error": f"not decoded: {why}", "source": source,
                       "line": f.line, "column": f.column, "message": f.pattern.message})
    text = f"{f.level} {f.token}: not decoded: {why}"
    if mode == "only":
        return f"{source}:{f.line}:{f.column}: {text}"
    return f"{INDENT}uffdpte: {text}"
