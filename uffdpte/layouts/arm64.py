"""arm64 page-table entries (level 3 descriptors and swap-format PTEs), per era.

Files: arch/arm64/include/asm/pgtable-hwdef.h (hardware bits), pgtable-prot.h (software
bits, PAGE_*), pgtable.h (swap encoding, predicates), memory.h (MAIR slots).  Verified in
Debian 6.1.192 and 6.12.117, the 6.10 pull request (Ryan Roberts' re-layout) and Debian 7.2.13.
"""

from __future__ import annotations

from .model import (ALL_LEVELS, ALWAYS, FIELD, HUGE_LEVELS, LEAF_LEVELS, OFFSET, PFN, PRESENT,
                    PROTNONE, SWAP, TABLE, TYPE, UPPER_LEVELS, Bits, Capability, Derived, Era,
                    Layout, Presence, v)

ARCH = "arm64"

_HWDEF = "arch/arm64/include/asm/pgtable-hwdef.h"
_PROT = "arch/arm64/include/asm/pgtable-prot.h"
_PGT = "arch/arm64/include/asm/pgtable.h"

P, PN, S, T = frozenset({PRESENT}), frozenset({PROTNONE}), frozenset({SWAP}), frozenset({TABLE})
PP = frozenset({PRESENT, PROTNONE})
PPT = frozenset({PRESENT, PROTNONE, TABLE})
PTE_PMD = frozenset({"pte", "pmd"})

# --- eras -------------------------------------------------------------------------------

#: Ryan Roberts' 6.10 series (v4 2024-05-03; "[GIT PULL] arm64 updates for 6.10"):
#: PTE_PROT_NONE removed, PTE_PRESENT_INVALID overlays PTE_NG (bit 11), swap type 6-10 and
#: offset 12-61, PTE_SWP_UFFD_WP bit 3, PTE_UFFD_WP bit 58.
RELAYOUT_6_10 = Era(v("6.10"), None, "Ryan Roberts, 'arm64/mm: Move PTE_PRESENT_INVALID to "
                    "overlay PTE_NG' (55564814a838), 'Remove PTE_PROT_NONE bit' (f0f5863a0fb0), "
                    "'Add uffd write-protect support' (5b32510af77b); 6.10 pull request")
BEFORE_6_10 = Era(None, v("6.10"), "PTE_PROT_NONE era (pgtable-prot.h before 6.10)")
#: David Hildenbrand, "arm64/pgtable: support __HAVE_ARCH_PTE_SWP_EXCLUSIVE" (570ef363509b)
SWP_EXCLUSIVE_5_19 = Era(v("5.19"), None, "David Hildenbrand, 'arm64/pgtable: support "
                         "__HAVE_ARCH_PTE_SWP_EXCLUSIVE' (570ef363509b)", verified=False)
#: PTE_ADDR_LOW grows to bits 49:PAGE_SHIFT with LPA2 (Ard Biesheuvel's LPA2 series)
LPA2_6_9 = Era(v("6.9"), None, f"{_PGT} __pte_to_phys/PTE_ADDR_LOW with ARM64_LPA2",
               verified=False)

# --- presence ---------------------------------------------------------------------------

_V, _PI59, _PN58, _PI11, _USER, _UXN = 1 << 0, 1 << 59, 1 << 58, 1 << 11, 1 << 6, 1 << 54
_TYPE_TABLE = (0b11, 0b11)  # PMD_TYPE_MASK, PMD_TYPE_TABLE
#: Arm ARM D8.3 (VMSAv8-64 descriptors): bits[1:0] = 01 is a block above level 3 only
_RESERVED_AT_L3 = ("bits[1:0] = 01 is reserved at level 3 (a block descriptor exists only "
                   "above level 3; PTE_TYPE_PAGE is 0b11): the MMU faults on it")
#: mm/pgtable-generic.c pmdp_invalidate -> arm64 pmd_mkinvalid (pgtable.h)
_PMDP_INVALIDATE = "pmdp_invalidate() (pmd_mkinvalid) makes this while splitting a huge PMD"


def _levels(era: Era, present_invalid_pmd: int, present_invalid: int, protnone_mask: int,
            protnone_want: int, how: str) -> tuple[Presence, ...]:
    """PTE (level 3), PMD, PUD and P4D/PGD rules of one era."""
    common = dict(none_ignores=0, valid=_V, invert_pfn=False, protnone_mask=protnone_mask,
                  protnone_want=protnone_want)
    return (
        Presence(era, present_invalid=present_invalid, source=f"{_PGT} pte_present, "
                 f"pte_protnone ({how})", page=0b11, not_page=_RESERVED_AT_L3, **common),
        # pmd_present = pte_present(pmd) [|| PMD_PRESENT_INVALID before 6.10]; pmd_table:
        # bits[1:0] == 0b11; THP migration PMDs are swap-format
        Presence(era, present_invalid=present_invalid_pmd, source=f"{_PGT} pmd_present, "
                 f"pmd_table/pmd_sect, pmd_protnone ({how})", levels=frozenset({"pmd"}),
                 table=_TYPE_TABLE, swap="thp_migration", table_bits=0b11,
                 invalidated_by=_PMDP_INVALIDATE, **common),
        # pud_present = pte_present(pud); Linux makes PUD blocks only with 4K pages
        Presence(era, present_invalid=present_invalid, source=f"{_PGT} pud_present, pud_sect "
                 f"({how})", levels=frozenset({"pud"}), table=_TYPE_TABLE, swap=False,
                 leaf_gate="pud_sect", table_bits=0b11, **common),
        Presence(era, present_invalid=0, source=f"{_PGT} p4d/pgd entries: tables only ({how})",
                 levels=frozenset({"p4d", "pgd"}), table=_TYPE_TABLE, swap=False,
                 leaf_gate="never", table_bits=0b11, **common),
    )


PRESENCE = (
    # before 6.10: pte_present = PTE_VALID | PTE_PROT_NONE; pmd_present adds bit 59 (5.10+)
    *_levels(Era(None, v("5.10"), f"{_PGT} pte_present/pmd_present before PMD_PRESENT_INVALID "
                 "(5.4 read; end estimated)", verified=False), _PN58, _PN58, _V | _PN58,
             _PN58, "5.4"),
    *_levels(Era(v("5.10"), v("6.10"), f"{_PGT} PMD_PRESENT_INVALID, pmd_mkinvalid: "
                 "b65399f6111b 'arm64/mm: Change THP helpers to comply with generic MM "
                 "semantics' (posted 2020-09-09; 5.10 estimated)", verified=False),
             _PN58 | _PI59, _PN58, _V | _PN58, _PN58, "6.1"),
    # 6.10+: PTE_PRESENT_INVALID overlays PTE_NG; pte_protnone additionally needs !USER, UXN
    *_levels(RELAYOUT_6_10, _PI11, _PI11, _V | _PI11 | _USER | _UXN, _PI11 | _UXN, "6.12"),
)

# --- MAIR slots (arch/arm64/include/asm/memory.h) ----------------------------------------

MAIR_5_14 = ((0, "MT_NORMAL"), (1, "MT_NORMAL_TAGGED"), (2, "MT_NORMAL_NC"),
             (3, "MT_DEVICE_nGnRnE"), (4, "MT_DEVICE_nGnRE"))
MAIR_5_10 = ((0, "MT_NORMAL"), (1, "MT_NORMAL_TAGGED"), (2, "MT_NORMAL_NC"), (3, "MT_NORMAL_WT"),
             (4, "MT_DEVICE_nGnRnE"), (5, "MT_DEVICE_nGnRE"), (6, "MT_DEVICE_GRE"))
MAIR_4_0 = ((0, "MT_DEVICE_nGnRnE"), (1, "MT_DEVICE_nGnRE"), (2, "MT_DEVICE_GRE"),
            (3, "MT_NORMAL_NC"), (4, "MT_NORMAL"), (5, "MT_NORMAL_WT"))
_MEMORY_H = "arch/arm64/include/asm/memory.h"
MAIR_ERAS = (
    (Era(None, v("5.10"), f"{_MEMORY_H} MT_* before MTE (4.x-5.9)"), MAIR_4_0),
    (Era(v("5.10"), v("5.14"), f"{_MEMORY_H} reordered NORMAL-first with MTE (5.10; read in "
         "Debian 5.10.262)"), MAIR_5_10),
    (Era(v("5.14"), None, f"{_MEMORY_H} after MT_NORMAL_WT and MT_DEVICE_GRE were removed "
         "(5.14; 6.1 = 6.12 = 7.2)"), MAIR_5_14),
)

SH_VALUES = ((0, "non-shareable"), (1, "reserved"), (2, "outer-shareable"),
             (3, "inner-shareable"))  # 3 = PTE_SHARED

BITS: tuple[Bits, ...] = (
    Bits(0, 0, "VALID", "PTE_VALID", "valid: the MMU translates through this descriptor", P | T,
         short="V", levels=ALL_LEVELS),
    Bits(1, 1, "TABLE_BIT", "PTE_TABLE_BIT",
         "descriptor type: with VALID, 0b11 = page at level 3 (PTE_TYPE_PAGE); 0b01 is "
         "reserved at level 3", PP, short="T"),
    *(Bits(2, 4, "ATTRINDX", "PTE_ATTRINDX", "memory type: index into MAIR_EL1 (vendor "
           "kernels may add slots)", PP, era=era, role=FIELD, values=values, short="IDX",
           levels=LEAF_LEVELS)
      for era, values in MAIR_ERAS),
    Bits(6, 6, "USER", "PTE_USER", "AP[1]: EL0 accessible", PP, short="U", levels=LEAF_LEVELS),
    Bits(7, 7, "RDONLY", "PTE_RDONLY", "AP[2]: read-only (cleared by hardware DBM on write)",
         PP, short="RO", levels=LEAF_LEVELS),
    Bits(8, 9, "SHARED", "PTE_SHARED", "shareability (SH[1:0])", PP, gate="!lpa2", role=FIELD,
         values=SH_VALUES, short="SH", levels=LEAF_LEVELS),
    Bits(8, 9, "PA_HIGH", "PTE_ADDR_HIGH", "LPA2: physical address bits 51:50", PPT, era=LPA2_6_9,
         gate="lpa2", role=PFN, pa_lo=50, short="PA", levels=ALL_LEVELS),
    Bits(10, 10, "AF", "PTE_AF", "access flag: pte_young", PP, short="AF", levels=LEAF_LEVELS),
    Bits(11, 11, "NG", "PTE_NG", "not global (ASID-tagged)", P, short="nG", levels=LEAF_LEVELS),
    Bits(11, 11, "NG", "PTE_NG", "not global (ASID-tagged)", PN, era=BEFORE_6_10, short="nG",
         levels=LEAF_LEVELS),
    Bits(11, 11, "PRESENT_INVALID", "PTE_PRESENT_INVALID",
         "present but invalid (overlays PTE_NG when VALID is clear)", PN, era=RELAYOUT_6_10,
         short="PI", levels=LEAF_LEVELS),
    # Output address.  64K pages with 52-bit PA keep PA[51:48] in bits 15:12 (4.16+).
    Bits(12, 47, "PFN", "PTE_ADDR_LOW", "output address bits 47:PAGE_SHIFT", PP,
         era=Era(None, v("6.9"), f"{_PGT} PTE_ADDR_LOW = bits[47:PAGE_SHIFT] (6.1)"),
         role=PFN, lo_is_page_shift=True, short="PFN"),
    Bits(12, 49, "PFN", "PTE_ADDR_LOW", "output address bits 49:PAGE_SHIFT", PP, era=LPA2_6_9,
         role=PFN, lo_is_page_shift=True, short="PFN"),
    # Block (PMD/PUD leaf) output address: from PMD_SHIFT / PUD_SHIFT up; the bits between
    # PAGE_SHIFT and the level shift are RES0 in a block descriptor.
    Bits(21, 47, "PFN", "PMD_SECT / PUD_SECT address", "block output address bits "
         "47:level shift", PP, era=Era(None, v("6.9"), f"{_PGT} __pmd_to_phys (6.1)"), role=PFN,
         lo_is_level_shift=True, short="PFN", levels=HUGE_LEVELS),
    Bits(21, 49, "PFN", "PMD_SECT / PUD_SECT address", "block output address bits "
         "49:level shift", PP, era=LPA2_6_9, role=PFN, lo_is_level_shift=True, short="PFN",
         levels=HUGE_LEVELS),
    # Table descriptors (levels 0-2): next-level table address and the table attributes
    # Linux names (pgtable-hwdef.h *_TABLE_PXN/UXN; *_TABLE_AF with FEAT_HAFT, 6.13+).
    Bits(1, 1, "TABLE_BIT", "PMD_TABLE_BIT", "descriptor type: with VALID, 0b11 = table "
         "(PMD_TYPE_TABLE); 0b01 = block", T, short="T", levels=UPPER_LEVELS),
    Bits(12, 47, "TABLE", "PTE_ADDR_LOW", "next-level table address bits 47:PAGE_SHIFT", T,
         era=Era(None, v("6.9"), f"{_PGT} pmd_page_paddr / __pmd_to_phys (6.1)"), role=PFN,
         lo_is_page_shift=True, short="TABLE", levels=UPPER_LEVELS),
    Bits(12, 49, "TABLE", "PTE_ADDR_LOW", "next-level table address bits 49:PAGE_SHIFT", T,
         era=LPA2_6_9, role=PFN, lo_is_page_shift=True, short="TABLE", levels=UPPER_LEVELS),
    Bits(10, 10, "TABLE_AF", "PMD_TABLE_AF", "table access flag (FEAT_HAFT; ignored without it)",
         T, era=Era(v("6.13"), None, f"{_HWDEF} PGD/P4D/PUD/PMD_TABLE_AF (FEAT_HAFT; "
                    "0410c6121529, 7.2)", verified=False), short="AF", levels=UPPER_LEVELS),
    Bits(59, 59, "TABLE_PXN", "PMD_TABLE_PXN", "PXNTable: no privileged execution below", T,
         short="PXT", levels=UPPER_LEVELS),
    Bits(60, 60, "TABLE_UXN", "PMD_TABLE_UXN", "UXNTable: no user execution below", T,
         short="UXT", levels=UPPER_LEVELS),
    Bits(12, 15, "PA_HIGH", "PTE_ADDR_HIGH", "52-bit PA with 64K pages: address bits 51:48", PPT,
         era=Era(v("4.16"), None, "arm64 52-bit PA support (ARM64_PA_BITS_52, 64K pages)",
                 verified=False), gate="pa52_64k", role=PFN, pa_lo=48, short="PA",
         levels=ALL_LEVELS),
    Bits(50, 50, "GP", "PTE_GP", "BTI guarded page", PP,
         era=Era(v("5.8"), None, f"{_HWDEF} PTE_GP (BTI)",
                 verified=False), short="GP", levels=LEAF_LEVELS),
    Bits(51, 51, "WRITE", "PTE_WRITE", "writable (= PTE_DBM: hardware dirty-bit management)",
         PP, era=Era(v("4.3"), None, f"{_PROT} PTE_WRITE = PTE_DBM (4.3, estimated)",
                     verified=False), short="W", levels=LEAF_LEVELS),
    Bits(51, 51, "DBM", "PTE_DBM", "hardware dirty-bit management", PP,
         era=Era(None, v("4.3"),
                 f"{_HWDEF} PTE_DBM before PTE_WRITE moved onto it"), short="DBM",
         levels=LEAF_LEVELS),
    Bits(57, 57, "WRITE", "PTE_WRITE", "writable (software bit before 4.3)", PP,
         era=Era(None, v("4.3"),
                 f"{_PROT} PTE_WRITE = bit 57 (before 4.3)"), short="W", levels=LEAF_LEVELS),
    Bits(52, 52, "CONT", "PTE_CONT", "contiguous hint (CONT_PTES entries)", PP, short="C",
         levels=LEAF_LEVELS),
    Bits(53, 53, "PXN", "PTE_PXN", "privileged execute-never", PP, short="PXN", levels=LEAF_LEVELS),
    Bits(54, 54, "UXN", "PTE_UXN", "user execute-never", PP, short="UXN", levels=LEAF_LEVELS),
    Bits(55, 55, "DIRTY", "PTE_DIRTY", "software dirty", PP, short="D", levels=LEAF_LEVELS),
    Bits(56, 56, "SPECIAL", "PTE_SPECIAL", "special mapping: no struct page refcounting", PP,
         short="SP", levels=LEAF_LEVELS),
    Bits(57, 57, "DEVMAP", "PTE_DEVMAP", "ZONE_DEVICE mapping: pte_devmap", PP,
         era=Era(v("5.3"), v("6.17"),
                 f"{_PROT} PTE_DEVMAP (5.3, estimated); removed by Alistair Popple, "
                 "'mm: remove devmap related functions and page table bits' (≈6.17)",
                 verified=False), short="DM", levels=LEAF_LEVELS),
    Bits(58, 58, "UFFD_WP", "PTE_UFFD_WP", "userfaultfd write-protected", PP, era=RELAYOUT_6_10,
         gate="uffd_wp", short="UW", levels=LEAF_LEVELS),
    Bits(58, 58, "PROT_NONE", "PTE_PROT_NONE", "PROT_NONE / NUMA hinting (only when !VALID)",
         PN, era=BEFORE_6_10, short="PN", levels=LEAF_LEVELS),
    Bits(59, 59, "PRESENT_INVALID", "PMD_PRESENT_INVALID",
         "present but invalid: pmd_mkinvalid during a THP split (only when !VALID)", PN,
         era=Era(v("5.10"), v("6.10"), f"{_PGT} PMD_PRESENT_INVALID (5.10, estimated); "
                 "generalised by b28c74e25967 and moved to bit 11 in 6.10", verified=False),
         short="PI", levels=frozenset({"pmd"})),
    Bits(60, 62, "PO_IDX", "PTE_PO_IDX_MASK", "FEAT_S1POE protection key (pkey)", PP,
         era=Era(v("6.12"), None, f"{_HWDEF} PTE_PO_IDX_0..2 (POE)", verified=False),
         role=FIELD, short="POI", levels=LEAF_LEVELS),

    # --- swap-format entries -------------------------------------------------------------
    Bits(2, 2, "SWP_EXCLUSIVE", "PTE_SWP_EXCLUSIVE", "anon page was exclusive when swapped out",
         S, era=SWP_EXCLUSIVE_5_19, short="E"),
    Bits(3, 3, "SWP_UFFD_WP", "PTE_SWP_UFFD_WP", "userfaultfd write-protect, kept in the swap "
         "entry", S, era=RELAYOUT_6_10, gate="uffd_wp", short="F", levels=PTE_PMD),
    Bits(6, 10, "TYPE", "__SWP_TYPE_SHIFT", "swap type (bits 10:6)", S, era=RELAYOUT_6_10,
         role=TYPE, short="TYPE", levels=PTE_PMD),
    Bits(12, 61, "OFFSET", "__SWP_OFFSET_SHIFT", "swap offset (bits 61:12)", S,
         era=RELAYOUT_6_10, role=OFFSET, short="OFFSET", levels=PTE_PMD),
    Bits(3, 7, "TYPE", "__SWP_TYPE_SHIFT", "swap type (bits 7:3)", S,
         era=Era(v("5.19"), v("6.10"), SWP_EXCLUSIVE_5_19.source + "; type cut to 5 bits",
                 verified=False), role=TYPE, short="TYPE", levels=PTE_PMD),
    Bits(2, 7, "TYPE", "__SWP_TYPE_SHIFT", "swap type (bits 7:2, 6 bits; only 0-31 exist)", S,
         era=Era(None, v("5.19"), f"{_PGT} __SWP_TYPE_SHIFT 2, __SWP_TYPE_BITS 6 (4.0-5.18; "
                 "read in Debian 5.10.262)"), role=TYPE, short="TYPE", levels=PTE_PMD),
    Bits(8, 57, "OFFSET", "__SWP_OFFSET_SHIFT", "swap offset (bits 57:8)", S, era=BEFORE_6_10,
         role=OFFSET, short="OFFSET", levels=PTE_PMD),
)


#: software bits live in pgtable-prot.h, hardware ones in pgtable-hwdef.h
_SOFTWARE = {"PTE_DIRTY", "PTE_SPECIAL", "PTE_WRITE"}


def _sourced(b: Bits) -> Bits:
    """Rows that hold in every era the tables cover still name the file they come from."""
    if b.era is not ALWAYS:
        return b
    where = _PROT if b.macro in _SOFTWARE else _HWDEF
    return b._replace(era=Era(source=f"{where} {b.macro} (every era covered)"))


BITS = tuple(_sourced(b) for b in BITS)

CAPABILITIES: tuple[Capability, ...] = (
    # arch/arm64/Kconfig: select HAVE_ARCH_USERFAULTFD_WP if USERFAULTFD (6.10)
    Capability("uffd_wp", ("USERFAULTFD",), RELAYOUT_6_10, "HAVE_ARCH_USERFAULTFD_WP"),
    Capability("swp_exclusive", (), SWP_EXCLUSIVE_5_19, "__HAVE_ARCH_PTE_SWP_EXCLUSIVE"),
    # Anshuman Khandual, "arm64/mm: Enable THP migration" (posted 2020-09-09 with the
    # PMD_PRESENT_INVALID change above, so the same 5.10 merge; present in 5.10.262)
    Capability("thp_migration", (), Era(v("5.10"), None, "arch/arm64/Kconfig "
                                        "ARCH_ENABLE_THP_MIGRATION ('arm64/mm: Enable THP "
                                        "migration', 5.10 estimated)", verified=False)),
    # Linux maps PUD blocks (1G) only with 4K pages (pud_sect; 16K level-1 blocks need LPA2)
    Capability("pud_sect", ("PAGE_4K",),
               Era(source=f"{_PGT} pud_sect, pud_sect_supported() (every era covered)"),
               "PUD block mappings"),
    # ARM64_LPA2 = PA_BITS_52 && !64K pages; 52-bit PA then lives partly in bits 9:8
    Capability("lpa2", ("PA_BITS_52", "!PAGE_64K"), LPA2_6_9, "ARM64_LPA2 (FEAT_LPA2 active)"),
    Capability("pa52_64k", ("PA_BITS_52", "PAGE_64K"),
               Era(v("4.16"), None, "ARM64_PA_BITS_52 (64K pages)", verified=False),
               "52-bit PA, 64K pages"),
)

#: MAX_PHYSMEM_BITS = the profile's PA width (asm/sparsemem.h: CONFIG_ARM64_PA_BITS in 6.1;
#: PHYS_MASK_SHIFT, 52 only with LPA2 active, in 6.12).
PHYSMEM = ((ALWAYS, None, None),)

#: Contiguous hint spans: CONT_PTES / CONT_PMDS per page size (pgtable-hwdef.h;
#: ARM64_CONT_PTE_SHIFT 4/7/5, ARM64_CONT_PMD_SHIFT 4/5/5 for 4K/16K/64K; read in 5.10, 6.1,
#: 6.12 and 7.2, the same in each).
CONT_SPANS = {("pte", 4096): 16, ("pte", 16384): 128, ("pte", 65536): 32,
              ("pmd", 4096): 16, ("pmd", 16384): 32, ("pmd", 65536): 32}

DERIVED = (
    Derived("write", "pte_write", (("WRITE",),), f"{_PGT} pte_write (PTE_WRITE = PTE_DBM)"),
    # pte_dirty = pte_sw_dirty || pte_hw_dirty; pte_hw_dirty = PTE_DBM && !PTE_RDONLY
    Derived("dirty", "pte_dirty", (("DIRTY",), ("WRITE", "!RDONLY")), f"{_PGT} pte_dirty"),
    Derived("young", "pte_young", (("AF",),), f"{_PGT} pte_young"),
    Derived("uffd_wp", "pte_uffd_wp", (("UFFD_WP",),), f"{_PGT} pte_uffd_wp (6.10+)",
            gate="uffd_wp"),
    Derived("special", "pte_special", (("SPECIAL",),), f"{_PGT} pte_special"),
)

LAYOUT = Layout(ARCH, PRESENCE, BITS, CAPABILITIES, PHYSMEM, DERIVED,
                cont_spans=tuple(CONT_SPANS.items()), oldest=v("4.0"),
                oldest_why="3.x arm64 kept PTE_FILE and moved PTE_PROT_NONE (bits 1, 2): "
                           "not modelled")
