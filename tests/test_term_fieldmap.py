"""The field map is generated from the layout rows, for every profile the tables produce:
it covers the 64 bits once, names every row under its own bits, never runs past the width,
and marks set must-be-zero bits."""

from __future__ import annotations

import pytest

from profiles_under_test import all_profiles
from uffdpte import decode
from uffdpte.classify import decoder_for
from uffdpte.render.fieldmap import (ASCII, PRESENCE, UNDEFINED, UNICODE, FieldMap, field_rows,
                                     must_be_zero, spans)

X86 = dict(arch="x86_64", kernel="6.12", alternatives=False)
ARM = dict(arch="arm64", kernel="6.12", alternatives=False)


def _label_columns(fmap: FieldMap, width: int) -> None:
    """Every label sits under the columns of the bits it names, and no line is too wide."""
    import re
    n = fmap.bits_per_line(width)
    lines = ["".join(t for t, _ in line) for line in fmap.lines(width, ASCII)]
    assert all(len(line) <= width for line in lines)
    chunks = "\n".join(lines).split("\n\n")
    assert len(chunks) == 64 // n
    owner = {b: s for s in fmap.spans for b in range(s.lo, s.hi + 1)}
    for top, chunk in zip(range(63, -1, -n), chunks):
        rows = chunk.split("\n")
        assert rows[0].split() == [str(b) for b in range(top, top - n, -1)]
        for line in rows[1 + (fmap.value is not None):]:
            for m in re.finditer(r"\S+", line):
                bits = {top - col // 3 for col in range(m.start(), m.end())}
                spans_under = {id(owner[b]) for b in bits}
                assert len(spans_under) == 1, (line, m.group())
                span = owner[bits.pop()]
                word = m.group().strip("[-].")
                assert word in span.label or (not word and span.role in (UNDEFINED,) + (
                    "pfn", "offset", "type", "field")), (m.group(), span)


def test_spans_cover_every_bit_once_for_every_profile():
    seen = set()
    for p in all_profiles():
        d = decoder_for(p)
        for form in d.forms:
            key = (p.arch, tuple((r.lo, r.hi, r.short, r.role) for r in d.forms[form].rows),
                   d.valid, d.present_invalid)
            if key in seen:
                continue
            seen.add(key)
            ss = spans(d, form)
            bits = [b for s in ss for b in range(s.hi, s.lo - 1, -1)]
            assert bits == list(range(63, -1, -1)), (p.label(), form)
            owned = {id(s.row) for s in ss if s.row is not None and s.role != PRESENCE}
            for r in d.forms[form].rows:
                # every row is drawn, unless a narrower row of the form owns all its bits
                assert id(r) in owned or all(
                    any(s.lo <= b <= s.hi and s.row is not None and s.row.width < r.width
                        for s in ss) for b in range(r.lo, r.hi + 1)), (p.label(), form, r.name)
            for s in ss:
                if s.row is not None and s.role != PRESENCE:
                    assert s.label == (s.row.short or s.row.name)
            fmap = FieldMap(d, form)
            for width in (100, 60, 200):
                _label_columns(fmap, width)
    assert len(seen) > 20


@pytest.mark.parametrize("width", [100, 64, 52, 30])
def test_labels_stay_under_their_bits(width):
    fmap = FieldMap.of(decode(0x8000000071c00227, **X86))
    n = fmap.bits_per_line(width)
    for line in fmap.lines(width, UNICODE):
        assert sum(len(t) for t, _ in line) <= max(width, n * 3)
    # x86 present, bits 11..0 at 32 bits per line: PAT and PCD move down a line rather than
    # run into G and A; every other flag stays on the first label line
    text = FieldMap.of(decode(0x8000000071c00227, **X86)).text(100)
    first, second = text.splitlines()[-2:]
    assert first.endswith("SD UW SP  G     D  A   PWT  U RW  P")
    assert second.rstrip().endswith("PAT      PCD")
    col = first.index(" G ") + 1  # bit 8's label under bit 8's number
    numbers = text.splitlines()[-4]
    assert numbers[col - 1:col + 1] == " 8"


def test_x86_swap_map_marks_the_inverted_offset_and_the_presence_bits():
    e = decode(0x07ffffffffdb9600, **X86)
    fmap = FieldMap.of(e)
    by_name = {s.row.name: s for s in fmap.spans if s.row is not None}
    assert by_name["OFFSET"].label == "~OFFSET" and (by_name["OFFSET"].lo,
                                                     by_name["OFFSET"].hi) == (9, 58)
    assert by_name["TYPE"].label == "TYPE" and (by_name["TYPE"].lo, by_name["TYPE"].hi) == (59, 63)
    presence = {s.lo: s.label for s in fmap.spans if s.role == PRESENCE}
    assert presence == {8: "PN", 0: "P"}  # _PAGE_PROTNONE, not _PAGE_GLOBAL
    for name, short in (("SWP_EXCLUSIVE", "E"), ("SWP_UFFD_WP", "F"), ("SWP_SOFT_DIRTY", "SD")):
        assert by_name[name].label == short
    rows = {r.name: r for r in field_rows(e, fmap)}
    assert rows["~OFFSET"].raw == hex(((0x07ffffffffdb9600 >> 9) & ((1 << 50) - 1)))
    assert rows["~OFFSET"].decoded == "~raw: offset 0x1234 (4660)"
    assert rows["TYPE"].decoded == "0 = swap device 0"


def test_arm64_swap_map_presence_bits_are_valid_and_present_invalid():
    fmap = FieldMap.of(decode(0x1234000, **ARM))
    assert {s.lo: s.label for s in fmap.spans if s.role == PRESENCE} == {11: "PI", 0: "V"}
    assert [(s.lo, s.hi) for s in fmap.spans if s.role == UNDEFINED] == [(62, 63), (4, 5),
                                                                          (1, 1)]


def test_set_must_be_zero_bits_are_bad():
    # _PAGE_PSE in an x86 swap entry (an MBZ row), and bit 52 of a present entry (no row)
    swap = decode(0x07ffffffffdb9680, **X86)
    fmap = FieldMap.of(swap)
    assert fmap.bad == 1 << 7 and swap.state == "invalid"
    assert [(r.name, r.style, r.decoded) for r in field_rows(swap, fmap)
            if r.style == "bad"] == [("PSE", "bad", "must be 0")]
    present = decode(0x8010000071c00227, **X86)
    fmap = FieldMap.of(present)
    assert fmap.bad == 1 << 52
    assert [(r.name, r.bits) for r in field_rows(present, fmap) if r.style == "bad"] == [
        ("bits 56:52", "56:52")]
    assert any(k == "bad" for line in fmap.lines(100) for _, k in line)
    # a clean value has none
    assert FieldMap.of(decode(0x8000000071c00227, **X86)).bad == 0
    d = decoder_for(present.profile)
    assert must_be_zero(d, "present") >> 52 & 0x1f == 0x1f


def test_decoded_values_of_each_kind():
    mig = decode(0x0003000081234680, **ARM)
    rows = {r.name: r for r in field_rows(mig, FieldMap.of(mig))}
    assert rows["TYPE"].decoded == "26 = SWP_MIGRATION_WRITE"
    assert rows["OFFSET"].decoded == ("offset 0x3000081234 (206158959156), pfn 0x81234 + "
                                      "young, dirty")
    pn = decode(0x800fffff8e3ff120, **X86)
    rows = {r.name: r for r in field_rows(pn, FieldMap.of(pn))}
    assert rows["PFN"].raw == "0xfffff8e3ff"
    assert rows["PFN"].decoded == "stored inverted (L1TF): pfn 0x71c00, phys 0x71c00000"
    present = decode(0x00e8000081234f43, **ARM)
    rows = {r.name: r for r in field_rows(present, FieldMap.of(present))}
    assert rows["ATTRINDX"].decoded == "MT_NORMAL" and rows["SHARED"].decoded == "inner-shareable"
    assert "NG" in rows and "RDONLY" not in rows  # set flags listed, clear ones not
    lpa2 = decode(0x00e8000081234343, arch="arm64", kernel="6.12", pa_bits=52,
                  alternatives=False)
    rows = {r.name: r for r in field_rows(lpa2, FieldMap.of(lpa2))}
    assert rows["PA_HIGH"].decoded == "PA[51:50] = 0x3"
    assert rows["PFN"].decoded == "pfn 0xc000081234, phys 0xc000081234000"
    marker = decode(0x17c0, **ARM)
    rows = {r.name: r for r in field_rows(marker, FieldMap.of(marker))}
    assert rows["OFFSET"].decoded == "offset 0x1 (1), markers UFFD_WP"


def test_table_entry_address_reads_as_pfn_and_phys():
    # the table form's address row (TABLE) is the address itself, not an extension like
    # arm64's PA_HIGH: it decodes to the next-level table's pfn and physical address
    for value, opts in ((0x123456067, X86), (0x123456003, ARM)):
        e = decode(value, level="pmd", **opts)
        assert e.reading.form == "table"
        rows = {r.name: r for r in field_rows(e, FieldMap.of(e))}
        assert rows["TABLE"].decoded == "pfn 0x123456, phys 0x123456000"


def test_every_style_key_the_map_draws_has_a_colour():
    from uffdpte.render.fieldmap import STYLE_KEYS
    from uffdpte.render.term import STYLES
    assert set(STYLE_KEYS) == set(STYLES)
    drawn = {key for value, opts in ((0x07ffffffffdb9680, X86), (0x8010000071c00227, X86),
                                     (0x00e8000081234f43, ARM), (0x0003000081234680, ARM),
                                     (0x800fffff8e3ff120, X86))
             for fmap in (FieldMap.of(decode(value, **opts)),)
             for line in fmap.lines(100) for _, key in line}
    drawn |= {key for line in FieldMap(decoder_for(decode(0, **X86).profile), "present")
              .lines(100) for _, key in line}
    assert drawn <= set(STYLE_KEYS)


def test_ascii_map_is_plain_text():
    for value, opts in ((0x07ffffffffdb9600, X86), (0x00e8000081234f43, ARM)):
        text = FieldMap.of(decode(value, **opts)).text(100, ASCII)
        assert text.isascii() and "\x1b" not in text


def test_an_empty_entry_has_no_map():
    assert FieldMap.of(decode(0, **X86)) is None
    # x86 A/D on an otherwise empty entry: pte_none ignores them; the swap rows name them
    fmap = FieldMap.of(decode(0x60, **X86))
    assert fmap is not None and fmap.form == "swap" and fmap.bad == 0


def test_any_value_under_any_profile_renders_within_the_width():
    """Robustness: the view is drawn for whatever the engine reads (a sample of profiles,
    random values and the edge values), never wider than asked."""
    import random

    from uffdpte.classify import classifier_for
    from uffdpte.render.term import entry_view, render_to_string

    rng = random.Random(6)
    profiles = all_profiles()
    sample = [profiles[i] for i in sorted(rng.sample(range(len(profiles)), 40))]
    edges = [0, 1, 0x60, 0x4, (1 << 64) - 1, 1 << 63, 0x100, 0x800]
    for p in sample:
        clf = classifier_for(p, "pte", True)
        for value in edges + [rng.getrandbits(64) for _ in range(4)]:
            e = clf.decode(value)
            for width, compact in ((100, False), (60, True)):
                out = render_to_string(entry_view(e, width=width, compact=compact),
                                       width=width, colour=False)
                assert max(len(line) for line in out.splitlines()) <= width, (p.label(), value)
                assert out.startswith(f"0x{value:016x}")
