"""Golden arm64 vectors (4K pages, 48-bit PA unless said), from ../shared/kernel-facts.md §3.

Swap encoding (arch/arm64/include/asm/pgtable.h __swp_entry): 6.1 (5.19-6.9)
(t << 3) | (o << 8); 6.12 (6.10+) (t << 6) | (o << 12); before 5.19 (t << 2) | (o << 8).
"""

from __future__ import annotations

import pytest

A = dict(arch="arm64")


@pytest.mark.parametrize("raw, kernel, swp_type, offset, flags, source", [
    (0x0000000000123400, "6.1", 0, 0x1234, (), "§3.8 swap type 0 offset 0x1234 (6.1)"),
    (0x0000000001234000, "6.12", 0, 0x1234, (), "§3.8 swap type 0 offset 0x1234 (6.10+)"),
    (0x000000000000011C, "6.1", 3, 1, ("SWP_EXCLUSIVE",), "§3.8 type 3 offset 1 exclusive"),
    (0x00000000000010C4, "6.12", 3, 1, ("SWP_EXCLUSIVE",), "§3.8 type 3 offset 1 exclusive"),
    (0x00000000000010CC, "6.12", 3, 1, ("SWP_EXCLUSIVE", "SWP_UFFD_WP"), "§3.8 + uffd-wp"),
    # before 5.19: type bits 2-7 (Debian 5.10.262 pgtable.h)
    (0x000000000012340C, "5.10", 3, 0x1234, (), "__SWP_TYPE_SHIFT 2, offset << 8"),
])
def test_swap(dec, raw, kernel, swp_type, offset, flags, source):
    e = dec(raw, kernel=kernel, **A)
    assert (e.state, e.swp_type, e.swp_offset, e.flags) == ("swap", swp_type, offset, flags), source


def test_no_swap_uffd_wp_before_6_10(dec):
    # 6.1: bit 3 is a type bit, so 0x8 is type 1 offset 0 (Hugh's swp_type-1 value, §4)
    e = dec(0x8, kernel="6.1", **A)
    assert (e.swp_type, e.swp_offset, e.uffd_wp) == (1, 0, None)


@pytest.mark.parametrize("raw, kernel, markers", [
    (0x00000000000017C0, "6.12", ("UFFD_WP",)),  # §4: type 31 offset 1 (6.10+)
    (0x00000000000027C0, "7.2", ("POISONED",)),  # §3.8 poisoned marker
    (0x00000000000047C0, "7.2", ("GUARD",)),  # §3.8 guard marker
])
def test_markers(dec, raw, kernel, markers):
    e = dec(raw, kernel=kernel, **A)
    assert (e.state, e.swp_type, e.markers) == ("marker", 31, markers)


def test_marker_type_cannot_exist_on_arm64_6_1(dec):
    # §4: the hypothetical type-30 marker 0x1F0 is DEVICE_EXCLUSIVE_READ PFN 1 on real arm64
    # 6.1 "all on" (no PTE_MARKER: HAVE_ARCH_USERFAULTFD_WP is x86-only there)
    e = dec(0x1F0, kernel="6.1", **A)
    assert (e.state, e.subtype, e.pfn) == ("device", "device_exclusive_read", 1)


@pytest.mark.parametrize("raw, kernel, pa_bits, state, pfn, flags, dirty, source", [
    # Note A: anon private RW, dirty+young: PAGE_READONLY | PA, then mkdirty, mkwrite
    (0x00E8000081234F43, "6.1", None, "present", 0x81234,
     ("VALID", "TABLE_BIT", "USER", "AF", "NG", "WRITE", "PXN", "UXN", "DIRTY"), True, "§3.8 A"),
    (0x00E8000081234F43, "6.12", None, "present", 0x81234,
     ("VALID", "TABLE_BIT", "USER", "AF", "NG", "WRITE", "PXN", "UXN", "DIRTY"), True, "§3.8 A"),
    # LPA2 active: PTE_SHARED stripped, bits 9:8 are PA[51:50] (here 0)
    (0x00E8000081234C43, "6.12", 52, "present", 0x81234,
     ("VALID", "TABLE_BIT", "USER", "AF", "NG", "WRITE", "PXN", "UXN", "DIRTY"), True, "§3.8 A"),
    # shared writable, dirtied by hardware DBM: RDONLY cleared, no PTE_DIRTY
    (0x0068000081234F43, "6.12", None, "present", 0x81234,
     ("VALID", "TABLE_BIT", "USER", "AF", "NG", "WRITE", "PXN", "UXN"), True, "§3.8 DBM"),
    # PROT_NONE: fresh pfn_pte(pfn, PAGE_NONE)
    (0x0460000081234F82, "6.1", None, "protnone", 0x81234,
     ("TABLE_BIT", "RDONLY", "AF", "NG", "PXN", "UXN", "PROT_NONE"), False, "§3.8 PAGE_NONE 6.1"),
    (0x0060000081234F82, "6.12", None, "protnone", 0x81234,
     ("TABLE_BIT", "RDONLY", "AF", "PRESENT_INVALID", "PXN", "UXN"), False, "§3.8 PAGE_NONE 6.12"),
    # PROT_NONE by mprotect of the dirty anon PTE (note B): DIRTY survives pte_modify
    (0x04E0000081234F82, "6.1", None, "protnone", 0x81234,
     ("TABLE_BIT", "RDONLY", "AF", "NG", "PXN", "UXN", "DIRTY", "PROT_NONE"), True, "§3.8 B"),
    (0x00E0000081234F82, "6.12", None, "protnone", 0x81234,
     ("TABLE_BIT", "RDONLY", "AF", "PRESENT_INVALID", "PXN", "UXN", "DIRTY"), True, "§3.8 B"),
])
def test_present_and_protnone(dec, raw, kernel, pa_bits, state, pfn, flags, dirty, source):
    e = dec(raw, kernel=kernel, pa_bits=pa_bits, **A)
    assert (e.state, e.pfn, e.flags, e.dirty) == (state, pfn, flags, dirty), source
    assert e.problems == ()
    assert dict((n, label) for n, _, label in e.fields)["ATTRINDX"] == "MT_NORMAL"


def test_lpa2_high_address_bits(dec):
    # LPA2: PA[51:50] in PTE bits 9:8 (PTE_ADDR_HIGH 0x3 << 8, shift 42)
    e = dec(0x00E8000081234F43, kernel="6.12", pa_bits=52, **A)
    assert e.phys_addr == 0x000C000081234000 and e.pfn == 0xC000081234


def test_52bit_pa_with_64k_pages(dec):
    # 64K pages, 52-bit PA: PA[51:48] in PTE bits 15:12 (PTE_ADDR_HIGH 0xf << 12, shift 36)
    raw = 0x00E8000081230F43 | (0x5 << 12)
    e = dec(raw, kernel="6.1", page_size="64k", pa_bits=52, **A)
    assert e.phys_addr == (0x5 << 48) | 0x81230000
    assert e.pfn == e.phys_addr >> 16


@pytest.mark.parametrize("raw, kernel, swp_type, source", [
    # migration WRITE, PFN 0x81234, young+dirty: offset = PFN | 1<<36 | 1<<37 (§3.8)
    (0x00003000081234D0, "6.1", 26, "§3.8 6.1 type 26"),
    (0x0003000081234680, "6.12", 26, "§3.8 6.12 type 26"),
    (0x00030000812346C0, "7.2", 27, "§3.8 mainline single DEVICE_EXCLUSIVE: type 27"),
])
def test_migration_write_young_dirty(dec, raw, kernel, swp_type, source):
    e = dec(raw, kernel=kernel, **A)
    assert (e.subtype, e.swp_type, e.pfn, e.young, e.dirty) == (
        "migration_write", swp_type, 0x81234, True, True), source


@pytest.mark.parametrize("page_size, bits", [("4k", 36), ("16k", 34), ("64k", 32)])
def test_migration_ad_bits_follow_the_page_size(dec, page_size, bits):
    # §3.7: SWP_PFN_BITS = 48 - PAGE_SHIFT; young/dirty at offset bits SWP_PFN_BITS, +1
    offset = 0x1234 | (1 << bits)
    raw = (26 << 6) | (offset << 12)
    e = dec(raw, kernel="6.12", page_size=page_size, **A)
    assert (e.subtype, e.pfn, e.young, e.dirty) == ("migration_write", 0x1234, True, False)


def test_level3_reserved_descriptor(dec):
    e = dec(0x00E8000081234F41, kernel="6.12", **A)  # bits[1:0] = 01
    assert e.state == "present" and any("reserved at level 3" in p for p in e.problems)


@pytest.mark.parametrize("kernel, idx, name", [
    ("5.4", 4, "MT_NORMAL"), ("5.10", 3, "MT_NORMAL_WT"), ("6.1", 3, "MT_DEVICE_nGnRnE"),
])
def test_mair_index_names_by_era(dec, kernel, idx, name):
    e = dec(0x00E8000081234F43 & ~0x1C | idx << 2, kernel=kernel, **A)
    assert dict((n, label) for n, _, label in e.fields)["ATTRINDX"] == name
