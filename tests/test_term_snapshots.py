"""Snapshots of the terminal view: one value per state on both arches, rendered at a fixed
width and colour system, pinned byte for byte (ANSI escapes included).

The files under tests/snapshots/term/ are the rendered output: ``cat`` one in a terminal to
see the view.  UPDATE_SNAPSHOTS=1 rewrites them; review the diff before committing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from uffdpte import decode

pytest.importorskip("rich")

from uffdpte.render.term import entry_view, render_to_string  # noqa: E402

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "term"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: (arch, name, value, state, what the view must say) -- kernel 6.12, config not pinned,
#: so alternatives under other configs, geometries and schemes are part of the view.
CASES = [
    ("x86_64", "present", "8000000071c00227", "present", ["pfn 0x71c00, phys 0x71c00000"]),
    ("x86_64", "swap", "07ffffffffdb9600", "swap", ["offset 0x1234 (4660)", "~OFFSET"]),
    ("x86_64", "migration", "d7fffffffdb97400", "migration",
     ["26 = SWP_MIGRATION_WRITE", "offset 0x12345 (74565)"]),
    ("x86_64", "marker", "fffffffffffffc00", "marker",
     ["31 = SWP_PTE_MARKER", "markers UFFD_WP"]),
    # PFN 0x71c00 in a PROT_NONE entry, stored inverted (L1TF)
    ("x86_64", "protnone", "800fffff8e3ff120", "protnone",
     ["stored inverted (L1TF): pfn 0x71c00"]),
    ("x86_64", "invalid", "4", "invalid", ["swap offset ≥ 2^32", "special_pte"]),
    ("arm64", "present", "00e8000081234f43", "present", ["pfn 0x81234", "MT_NORMAL"]),
    ("arm64", "swap", "0000000001234000", "swap", ["offset 0x1234 (4660)"]),
    ("arm64", "migration", "0003000081234680", "migration",
     ["26 = SWP_MIGRATION_WRITE", "pfn 0x81234 + young, dirty"]),
    ("arm64", "marker", "00000000000017c0", "marker", ["31 = SWP_PTE_MARKER", "UFFD_WP"]),
    ("arm64", "protnone", "00e0000081234f82", "protnone", ["PRESENT_INVALID", "pfn 0x81234"]),
    ("arm64", "invalid", "3000000001234000", "invalid", ["swap offset ≥ 2^32"]),
]


def render(arch: str, value: str) -> str:
    e = decode(value, arch=arch, kernel="6.12")
    return render_to_string(entry_view(e, width=100), width=100, colour=True,
                            color_system="truecolor")


@pytest.mark.parametrize("arch,name,value,state,needles", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_terminal_view_snapshot(arch, name, value, state, needles):
    got = render(arch, value)
    text = ANSI.sub("", got)
    # the real values first: a snapshot regenerated from a wrong decode must still fail
    assert decode(value, arch=arch, kernel="6.12").state == state
    first = text.splitlines()[0]
    assert first.startswith(f"0x{int(value, 16):016x}") and state.upper() in first
    assert f"{arch} · 6.12" in first
    for needle in needles:
        assert needle in text, needle
    assert max(len(line) for line in text.splitlines()) <= 100
    path = SNAPSHOTS / f"{arch}-{name}.ansi"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path} missing: run with UPDATE_SNAPSHOTS=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    want = path.read_text(encoding="utf-8")
    if got != want:
        import difflib
        diff = "\n".join(difflib.unified_diff(ANSI.sub("", want).splitlines(),
                                              text.splitlines(), "snapshot", "now",
                                              lineterm=""))
        pytest.fail(f"{path.name} differs (UPDATE_SNAPSHOTS=1 to accept):\n"
                    + (diff or "(only colours/styles differ)"))


def test_set_must_be_zero_bits_are_red_in_the_map_and_the_table():
    # x86 6.12 swap entry with _PAGE_PSE (bit 7) set: must be 0 in a swap entry
    e = decode(0x07ffffffffdb9680, arch="x86_64", kernel="6.12", alternatives=False)
    out = render_to_string(entry_view(e, width=100), width=100)
    red = "\x1b[1;7;31m"  # bold reverse red: STYLES["bad"]
    assert e.state == "invalid"
    lines = out.splitlines()
    bits_row = next(i for i, line in enumerate(lines)
                    if ANSI.sub("", line).split()[:2] == ["31", "30"])
    value_row = lines[bits_row + 1]
    assert red + "  1" in value_row  # bit 7's "1"
    assert any(red in line and "PSE" in line for line in lines)  # its table row
    assert "must be 0" in ANSI.sub("", out)


def test_set_bits_are_highlighted_and_clear_ones_dim():
    e = decode(0x8000000071c00227, arch="x86_64", kernel="6.12", alternatives=False)
    out = render_to_string(entry_view(e, width=100), width=100)
    lines = out.splitlines()
    assert lines[2].startswith("\x1b[1;97m  1\x1b[0m\x1b[2m  0")  # bit 63 set, 62.. clear
    assert "\x1b[1;32mNX\x1b[0m" in lines[3]  # the set flag's label


def test_x86_swap_offset_is_marked_inverted():
    e = decode(0x07ffffffffdb9600, arch="x86_64", kernel="6.12", alternatives=False)
    text = ANSI.sub("", render_to_string(entry_view(e, width=100), width=100))
    assert "~OFFSET" in text.splitlines()[3]  # the map's label row
    assert "~raw: offset 0x1234 (4660)" in text
    arm = decode(0x1234000, arch="arm64", kernel="6.12", alternatives=False)
    assert "~OFFSET" not in render_to_string(entry_view(arm, width=100), width=100)
