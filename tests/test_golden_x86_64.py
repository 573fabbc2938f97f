"""Golden x86_64 vectors, each computed from the kernel's definitions and cited.

RAW = ((~offset & (2^50-1)) << 9) | (type << 59) | flags  (arch/x86/include/asm/pgtable_64.h
__swp_entry, L1TF layout; ../shared/kernel-facts.md §2.3, §2.7).  Type numbers from
include/linux/swap.h per config (§1.3).
"""

from __future__ import annotations

import pytest

X86 = dict(arch="x86_64")


def test_present_pte_from_the_mission_statement(dec):
    # 0x8000000071c00227: NX | PFN 0x71c00 | SPECIAL(9) | ACCESSED(5) | USER(2) | RW(1) | P(0)
    e = dec(0x8000000071C00227, kernel="6.12", **X86)
    assert e.state == "present"
    assert e.pfn == 0x71C00
    assert e.phys_addr == 0x71C00000
    assert e.flags == ("PRESENT", "RW", "USER", "ACCESSED", "SPECIAL", "NX")
    assert (e.write, e.dirty, e.young, e.uffd_wp, e.soft_dirty) == (True, False, True, False, False)
    assert e.predicates["pte_special"] is True
    assert e.problems == ()


@pytest.mark.parametrize("raw, swp_type, offset, flags, source", [
    # §2.7: ~0x1234 = 0x3FFFFFFFFEDCB -> << 9
    (0x07FFFFFFFFDB9600, 0, 0x1234, (), "kernel-facts §2.7 swap"),
    # §2.7: type 3 offset 1, SD(1) + uffd-wp(2) + exclusive(3)
    (0x1FFFFFFFFFFFFC0E, 3, 1, ("SWP_SOFT_DIRTY", "SWP_UFFD_WP", "SWP_EXCLUSIVE"),
     "kernel-facts §2.7 swap + SD + uffd-wp + E"),
    (0x1FFFFFFFFFFFFC00, 3, 1, (), "kernel-facts §2.7, flags stripped"),
])
def test_swap_entries(dec, raw, swp_type, offset, flags, source):
    e = dec(raw, kernel="6.12", **X86)
    assert e.state == "swap", source
    assert (e.swp_type, e.swp_offset, e.flags) == (swp_type, offset, flags)
    assert e.swp_entry == swp_type << 58 | offset
    assert e.uffd_wp == ("SWP_UFFD_WP" in flags)
    assert e.soft_dirty == ("SWP_SOFT_DIRTY" in flags)
    assert e.exclusive == ("SWP_EXCLUSIVE" in flags)


@pytest.mark.parametrize("raw, kernel, config, swp_type, subtype", [
    # write migration, PFN 0x12345, no A/D: ~0x12345 << 9 = 0x07FFFFFFFDB97400 (§2.7)
    (0xCFFFFFFFFDB97400, "6.1", "all", 25, "migration_write"),
    (0xEFFFFFFFFDB97400, "6.1", "debian", 29, "migration_write"),
    (0xD7FFFFFFFDB97400, "6.12", "all", 26, "migration_write"),
    (0xF7FFFFFFFDB97400, "6.12", "debian", 30, "migration_write"),
    (0xDFFFFFFFFDB97400, "7.2", "all", 27, "migration_write"),
    (0xF7FFFFFFFDB97400, "7.2", "all,DEVICE_PRIVATE=n", 30, "migration_write"),
    # the same raw value is the single device-exclusive type in 7.2 all-on (§1.3)
    (0xF7FFFFFFFDB97400, "7.2", "all", 30, "device_exclusive"),
])
def test_migration_write_pfn_0x12345(dec, raw, kernel, config, swp_type, subtype):
    e = dec(raw, kernel=kernel, config=config, **X86)
    assert (e.swp_type, e.subtype, e.pfn) == (swp_type, subtype, 0x12345)
    assert e.problems == ()


def test_debian_kernel_string_picks_debian_config(dec):
    # issue 2's example: 6.1.0-13-amd64 is Debian 6.1; Debian has DEVICE_PRIVATE off (§7.1)
    # Debian 6.1: swap 0-25, HWPOISON 26, MIGRATION 27/28/29, PTE_MARKER 30, SWAPIN_ERROR 31,
    # so type 30 with offset 0x12345 is a marker with bits outside PTE_MARKER_MASK (0x1).
    e = dec(0xF7FFFFFFFDB97400, kernel="6.1.0-13-amd64")
    assert e.profile.arch == "x86_64" and e.profile.preset == "debian"
    assert e.profile.source_of("arch") == "kernel string"
    assert e.profile.source_of("config") == "kernel string"
    assert (e.state, e.subtype, e.swp_type) == ("invalid", "pte_marker", 30)
    assert any("PTE_MARKER_MASK (0x1)" in p for p in e.problems)
    # a 6.1 Debian write migration entry is type 29
    m = dec(0xEFFFFFFFFDB97400, kernel="6.1.0-13-amd64")
    assert (m.state, m.subtype, m.pfn) == ("migration", "migration_write", 0x12345)


def test_migration_young_dirty(dec):
    # §2.7: 6.12 all on, offset 0xC00012345 (| 1<<34 | 1<<35): bits 43, 44 cleared
    e = dec(0xD7FFE7FFFDB97400, kernel="6.12", levels=4, **X86)
    assert (e.subtype, e.pfn, e.young, e.dirty) == ("migration_write", 0x12345, True, True)
    # 5-level: SWP_PFN_BITS 40, so A/D are offset bits 40/41 -> raw bits 49/50 (§2.6)
    e5 = dec(0xD7F9FFFFFDB97400, kernel="6.12", levels=5, **X86)
    assert (e5.subtype, e5.pfn, e5.young, e5.dirty) == ("migration_write", 0x12345, True, True)
    # with the L1TF swap-size limit the A/D bits are not cached: those offset bits are junk
    e_l1tf = dec(0xD7FFE7FFFDB97400, kernel="6.12", config="all,X86_BUG_L1TF=y", **X86)
    assert e_l1tf.state == "invalid"


@pytest.mark.parametrize("raw, kernel, markers, source", [
    (0xFFFFFFFFFFFFF600, "7.2", ("GUARD",), "§2.7 guard marker (offset 4)"),
    (0xFFFFFFFFFFFFFA00, "6.12", ("POISONED",), "§2.7 poisoned marker (offset 2)"),
    (0xFFFFFFFFFFFFFC00, "6.12", ("UFFD_WP",), "§4 uffd-wp marker 6.2+ (type 31)"),
    (0xF7FFFFFFFFFFFC00, "6.1", ("UFFD_WP",), "§4 uffd-wp marker 6.1 (type 30)"),
])
def test_markers(dec, raw, kernel, markers, source):
    e = dec(raw, kernel=kernel, **X86)
    assert (e.state, e.markers) == ("marker", markers), source
    assert e.uffd_wp == ("UFFD_WP" in markers)


def test_marker_bit_unknown_to_an_older_kernel_is_invalid(dec):
    e = dec(0xFFFFFFFFFFFFF600, kernel="6.12", **X86)  # GUARD is 6.13+
    assert e.state == "invalid"
    assert any("PTE_MARKER_MASK (0x3)" in p for p in e.problems)


def test_swapin_error_type_6_1(dec):
    # 6.1: SWP_SWAPIN_ERROR = 31, offset = page_to_pfn (§1.3)
    e = dec(0xFFFFFFFFFFFFFC00, kernel="6.1", **X86)
    assert (e.state, e.swp_type, e.pfn) == ("swapin_error", 31, 1)


def test_swp_entry_values(dec):
    # §2.7: guard marker as swp_entry_t 0x7C00000000000004; 6.12 write migration 0x6800000000012345
    assert dec(0xFFFFFFFFFFFFF600, kernel="7.2", **X86).swp_entry == 0x7C00000000000004
    assert dec(0xD7FFFFFFFDB97400, kernel="6.12", **X86).swp_entry == 0x6800000000012345


def test_protnone_pfn_is_inverted(dec):
    # pgtable-invert.h: PROT_NONE (P=0, bit 8) PTEs hold ~PFN; PAGE_NONE = A | G (bit 5, 8)
    pfn = 0x66567
    raw = ((~pfn << 12) & ((1 << 52) - 1) & ~0xFFF) | 0x120
    e = dec(raw, kernel="6.12", **X86)
    assert (e.state, e.pfn) == ("protnone", pfn)
    assert "PROTNONE" in e.flags and e.predicates["pte_protnone"] is True


def test_pte_none_ignores_knl_erratum_bits(dec):
    e = dec(0x60, kernel="6.12", **X86)
    assert e.state == "none" and e.flags == ("ACCESSED", "DIRTY") and e.notes


@pytest.mark.parametrize("raw, kernel, state, problem", [
    # §4: 0x4 reads as type 0 offset 0x3FFFFFFFFFFFF under L1TF: no swap device that big
    (0x4, "7.2", "invalid", "2^32"),
    # §4: __swp_entry(1, 0) = 0x0FFFFFFFFFFFFE00: slot 0 is the swap header
    (0x0FFFFFFFFFFFFE00, "7.2", "swap", "header"),
    # bit 7 must be 0 in a swap entry (pmd_present tests PSE)
    (0x07FFFFFFFFDB9680, "6.12", "invalid", "_PAGE_PSE"),
])
def test_impossible_and_doubtful(dec, raw, kernel, state, problem):
    e = dec(raw, kernel=kernel, **X86)
    assert e.state == state
    assert any(problem in p for p in e.problems)


def test_saved_dirty_vs_devmap_by_era(dec):
    # bit 58: _PAGE_DEVMAP until 6.5, _PAGE_SAVED_DIRTY from 6.6 (pte_dirty counts it)
    raw = 0x0400000071C00225  # P, USER, A, PFN, bit 58; RW clear
    assert dec(raw, kernel="6.1", **X86).flags[-1] == "DEVMAP"
    e = dec(raw, kernel="6.12", **X86)
    assert "SAVED_DIRTY" in e.flags and e.dirty is True


@pytest.mark.parametrize("kernel, raw, swp_type, offset", [
    # 4.14-4.18: type 9-13, offset 14-63, not inverted (pgtable_64.h after ace7fab7a6cd)
    ("4.14.62", (3 << 9) | (0x1234 << 14), 3, 0x1234),
    # 4.0-4.7: type 1-5, offset 9-63
    ("4.4.100", (3 << 1) | (0x1234 << 9), 3, 0x1234),
    # 4.14.63 carries the L1TF backport: inverted layout
    ("4.14.63", 0x07FFFFFFFFDB9600, 0, 0x1234),
    # RHEL 7 before 862.11.6: 00839ee3b299's offset from bit 15
    ("3.10.0-693.21.1.el7.x86_64", (3 << 9) | (0x1234 << 15), 3, 0x1234),
    # RHEL 8 4.18.0-*: L1TF backported
    ("4.18.0-513.el8.x86_64", 0x07FFFFFFFFDB9600, 0, 0x1234),
])
def test_swap_layout_eras(dec, kernel, raw, swp_type, offset):
    e = dec(raw, kernel=kernel, **X86)
    assert (e.state, e.swp_type, e.swp_offset) == ("swap", swp_type, offset)
