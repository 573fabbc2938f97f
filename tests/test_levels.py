"""Every level of the walk, both arches, each granule: golden values from the kernel's
definitions (arch/x86/include/asm/pgtable.h pmd_present/pmd_leaf/pud_leaf, pfn_pmd and
pmd_mkinvalid; arch/arm64/include/asm/pgtable-hwdef.h PMD_TYPE_TABLE/SECT, pgtable.h
pmd_table/pmd_sect/pud_sect, kernel-facts §3.5, §3.7)."""

from __future__ import annotations

import pytest

from uffdpte import decode
from uffdpte.classify import decoder_for
from uffdpte.encode import Spec, encode
from uffdpte.profile import resolve

X86 = dict(arch="x86_64", kernel="6.12")
ARM = dict(arch="arm64", kernel="6.12")


def dec(value: int, level: str, **opts):
    return decode(value, level=level, alternatives=False, **opts)


def inverted_pfn(pa: int, lo: int) -> int:
    """pfn_pmd() on a non-present PMD: ~PFN within PHYSICAL_PMD_PAGE_MASK (pgtable-invert.h)."""
    field = ((1 << 52) - 1) & ~((1 << lo) - 1)
    return ~pa & field


# --- x86_64 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["pgd", "p4d"])
def test_x86_top_level_table(level):
    # an oops walk: "PGD 800000010a5d6067 P4D 800000010a5d6067" (_PAGE_TABLE | NX)
    e = dec(0x800000010A5D6067, level, **X86)
    assert (e.state, e.subtype, e.pfn) == ("present", "table", 0x10A5D6)
    assert e.flags == ("PRESENT", "RW", "USER", "ACCESSED", "DIRTY", "NX")
    assert e.problems == ()


def test_x86_pud_table_and_1g_leaf():
    t = dec(0x10A5D7067, "pud", **X86)
    assert (t.subtype, t.pfn) == ("table", 0x10A5D7)
    leaf = dec(0x80000000C00000E7, "pud", **X86)  # PSE: 1G leaf at 3G
    assert (leaf.state, leaf.subtype, leaf.pfn, leaf.phys_addr) == (
        "present", "leaf", 0xC0000, 0xC0000000)
    assert dict((n, lbl) for n, _, lbl in leaf.reading.fields)["SIZE"] == "1G"
    assert leaf.predicates["pud_leaf"] and leaf.predicates["pud_dirty"]


def test_x86_pmd_2m_leaf_and_pat_large():
    e = dec(0x80000000ABE010E7, "pmd", **X86)  # PSE + PAT_LARGE (bit 12) at 0xabe00000
    assert (e.subtype, e.pfn) == ("leaf", 0xABE00)
    assert "PAT_LARGE" in e.flags and "PSE" in e.flags and e.problems == ()


def test_x86_pmd_leaf_alignment():
    e = dec(0x80000000ABE020E7, "pmd", **X86)  # bit 13: inside the 2M leaf's offset
    assert any("below the 2M leaf's alignment" in p for p in e.problems)


def test_x86_pmd_split_pending_is_present():
    # pmdp_invalidate -> pmd_mkinvalid: P and PROTNONE cleared, PSE kept, PFN inverted
    raw = (1 << 63) | inverted_pfn(0xABE00000, 21) | 0xE6
    e = dec(raw, "pmd", **X86)
    assert (e.state, e.subtype, e.pfn) == ("present", "present_invalid", 0xABE00)
    assert e.predicates["pmd_present"] and e.problems == ()


def test_x86_pmd_prot_none_huge():
    raw = (1 << 63) | inverted_pfn(0xABE00000, 21) | 0x1A0  # PROTNONE | PSE | A
    e = dec(raw, "pmd", **X86)
    assert (e.state, e.pfn) == ("protnone", 0xABE00) and e.predicates["pmd_protnone"]


def test_x86_thp_migration_pmd():
    # same swap encoding as a PTE: write migration (6.12 type 26) of a 2M-aligned PFN
    pfn = 0x12200
    raw = (26 << 59) | ((~pfn & ((1 << 50) - 1)) << 9)
    e = dec(raw, "pmd", **X86)
    assert (e.state, e.subtype, e.pfn) == ("migration", "migration_write", pfn)
    assert e.predicates["pmd_present"] is False


def test_x86_pud_has_no_swap_entries():
    e = dec(0x07FFFFFFFFDB9600, "pud", **X86)
    assert e.state == "invalid" and "pud_none" in e.problems[0]


def test_x86_pgd_pse_is_reserved():
    e = dec(0x800000010A5D60E7, "pgd", **X86)
    assert any(p.startswith("bit 7 set") for p in e.problems)


def test_x86_noptishadow_by_version():
    raw = 0x040000010A5D6067  # bit 58 on a root entry
    assert "NOPTISHADOW" in dec(raw, "pgd", arch="x86_64", kernel="6.12.117").flags  # backport
    assert "NOPTISHADOW" in dec(raw, "pgd", arch="x86_64", kernel="6.13").flags
    assert dec(raw, "pgd", arch="x86_64", kernel="6.1").problems
    # "6.12" does not say which stable release: assumed without the backport, and said so
    e = dec(raw, "pgd", **X86)
    assert "NOPTISHADOW" not in e.flags
    assert any("stable level unknown" in n for n in e.profile.notes)


# --- arm64 ----------------------------------------------------------------------------------

def test_arm64_pmd_table():
    e = dec(0x00000000812F6003, "pmd", **ARM)  # PMD_TYPE_TABLE, next table at 0x812f6000
    assert (e.subtype, e.pfn, e.flags) == ("table", 0x812F6, ("VALID", "TABLE_BIT"))


def test_arm64_table_attributes():
    raw = 0x18000000812F6003  # PXNTable (59), UXNTable (60)
    assert dec(raw, "pud", **ARM).flags[-2:] == ("TABLE_PXN", "TABLE_UXN")
    af = 0x00000000812F6403  # *_TABLE_AF (FEAT_HAFT) is 6.13+
    assert "TABLE_AF" in dec(af, "pmd", arch="arm64", kernel="7.2").flags
    assert dec(af, "pmd", **ARM).problems


@pytest.mark.parametrize("page_size, level, size, pfn", [
    ("4k", "pmd", "2M", 0x80000),  # PMD_SHIFT 21
    ("4k", "pud", "1G", 0x80000),  # PUD_SHIFT 30
    ("16k", "pmd", "32M", 0x20000),  # PMD_SHIFT 25
    ("64k", "pmd", "512M", 0x8000),  # PMD_SHIFT 29
])
def test_arm64_blocks_per_granule(page_size, level, size, pfn):
    e = dec(0x00E8000080000F41, level, page_size=page_size, **ARM)  # block at 0x80000000
    assert (e.state, e.subtype, e.pfn) == ("present", "leaf", pfn)
    assert dict((n, lbl) for n, _, lbl in e.reading.fields)["SIZE"] == size
    assert e.problems == ()


@pytest.mark.parametrize("page_size", ["16k", "64k"])
def test_arm64_no_pud_blocks_without_4k(page_size):
    e = dec(0x00E8000000000F41, "pud", page_size=page_size, **ARM)
    assert any("Linux maps none here" in p for p in e.problems)


def test_arm64_block_alignment():
    e = dec(0x00E8000080201F41, "pmd", **ARM)  # 0x80201000: not 2M aligned
    assert any("below the 2M leaf's alignment" in p for p in e.problems)


def test_arm64_pgd_block_is_bad():
    e = dec(0x00E8000080000F41, "pgd", **ARM)
    assert e.subtype == "leaf" and "pgd_bad" in e.problems[0]


@pytest.mark.parametrize("kernel, raw", [
    ("6.1", (1 << 59) | 0x00E8000080000F40),  # PMD_PRESENT_INVALID (bit 59) before 6.10
    ("6.12", (1 << 11) | 0x00E8000080000740),  # PTE_PRESENT_INVALID (bit 11) from 6.10
])
def test_arm64_pmd_present_invalid(kernel, raw):
    e = dec(raw, "pmd", arch="arm64", kernel=kernel)
    assert (e.state, e.subtype, e.pfn) == ("present", "present_invalid", 0x80000)
    assert e.predicates["pmd_present"] and e.problems == ()


def test_arm64_pmd_prot_none():
    e = dec(0x0060000080000F80, "pmd", **ARM)  # PAGE_NONE at PMD level (6.10+)
    assert (e.state, e.pfn) == ("protnone", 0x80000)


def test_arm64_thp_migration_pmd():
    raw = (26 << 6) | (0x80000 << 12)  # 6.12 write migration of the 2M page at PFN 0x80000
    e = dec(raw, "pmd", **ARM)
    assert (e.state, e.subtype, e.pfn) == ("migration", "migration_write", 0x80000)


@pytest.mark.parametrize("page_size, level, span, size", [
    ("4k", "pte", 16, "64K"), ("16k", "pte", 128, "2M"), ("64k", "pte", 32, "2M"),
    ("4k", "pmd", 16, "32M"), ("16k", "pmd", 32, "1G"), ("64k", "pmd", 32, "16G"),
])
def test_arm64_contiguous_spans(page_size, level, span, size):
    raw = 0x00F8000000000F43 if level == "pte" else 0x00F8000000000F41  # PTE_CONT set
    e = dec(raw, level, page_size=page_size, **ARM)
    assert any(f"one of {span} entries mapping {size}" in n for n in e.notes)


# --- encode at every level --------------------------------------------------------------------

@pytest.mark.parametrize("opts, level, spec, raw", [
    (X86, "pmd", Spec("present", "leaf", pfn=0xABE00,
                      flags=("RW", "USER", "ACCESSED", "DIRTY", "NX")), 0x80000000ABE000E7),
    (X86, "pud", Spec("present", "table", pfn=0x10A5D7,
                      flags=("RW", "USER", "ACCESSED", "DIRTY")), 0x10A5D7067),
    (ARM, "pmd", Spec("present", "table", pfn=0x812F6), 0x00000000812F6003),
    (ARM, "pmd", Spec("present", "leaf", pfn=0x80000,
                      flags=("USER", "AF", "NG", "WRITE", "PXN", "UXN", "DIRTY"),
                      fields={"SHARED": 3}), 0x00E8000080000F41),
])
def test_encode_levels(opts, level, spec, raw):
    assert encode(spec, decoder_for(resolve(**opts), level)) == raw


def test_encode_refuses_a_misaligned_leaf():
    from uffdpte.encode import EncodeError
    with pytest.raises(EncodeError, match="aligned"):
        encode(Spec("present", "leaf", pfn=0xABE01), decoder_for(resolve(**X86), "pmd"))
