"""x86_64 page-table entries: one row per bit, per era, with its kernel source.

Files: arch/x86/include/asm/pgtable_types.h (bits), pgtable_64.h (swap encoding),
pgtable_64_types.h (_PAGE_SWP_EXCLUSIVE), pgtable.h (predicates), pgtable-invert.h (L1TF
PFN inversion), sparsemem.h (MAX_PHYSMEM_BITS).  Verified in Debian 6.1.192, 6.12.117 and
7.2.13 and mainline ≈6.16 (e65d9626f9bb); older eras from the commits and trees named
(research notes in the closing note of issue 2).  Where rows of one role overlap, the later
row wins (a gated or backported variant follows the plain one).
"""

from __future__ import annotations

from .model import (ALL_LEVELS, ALWAYS, FIELD, HUGE_LEVELS, IGNORED, LEAF_LEVELS, MBZ, NEVER,
                    OFFSET, PFN,
                    PRESENT, PROTNONE, SWAP, TABLE, TYPE, UPPER_LEVELS, Backport, Bits,
                    Capability, Derived, Era, Layout, Presence, v)

ARCH = "x86_64"

_TYPES_H = "arch/x86/include/asm/pgtable_types.h"
_PGT_H = "arch/x86/include/asm/pgtable.h"
_PT64_H = "arch/x86/include/asm/pgtable_64.h"

P, PN, S, T = frozenset({PRESENT}), frozenset({PROTNONE}), frozenset({SWAP}), frozenset({TABLE})
PP = frozenset({PRESENT, PROTNONE})
PPT = frozenset({PRESENT, PROTNONE, TABLE})
PTE_PMD = frozenset({"pte", "pmd"})

# --- eras -------------------------------------------------------------------------------

_L1TF_BACKPORTS = (
    Backport("CVE-2018-3620 fixed in 4.18.1", series=(4, 18), first_patch=1),
    Backport("L1TF in 4.17.15", series=(4, 17), first_patch=15),
    Backport("L1TF in 4.14.63", series=(4, 14), first_patch=63),
    Backport("L1TF in 4.9.120", series=(4, 9), first_patch=120),
    Backport("L1TF in 4.4.148 (estimated)", series=(4, 4), first_patch=148),
    Backport("RHEL 7 from 3.10.0-862.11.6.el7 (RHSA-2018:2384)", distro="rhel",
             distro_release=7, first_build=(862, 11, 6)),
    Backport("RHEL 8 kernels (4.18.0-*.el8; estimated)", distro="rhel", distro_release=8),
    Backport("RHEL 9 kernels", distro="rhel", distro_release=9),
    Backport("Ubuntu 18.04 from 4.15.0-32 (estimated)", series=(4, 15), distro="ubuntu",
             first_build=(32,)),
    Backport("Ubuntu 16.04 from 4.4.0-133", series=(4, 4), distro="ubuntu", first_build=(133,)),
    Backport("Ubuntu 14.04 from 3.13.0-155", series=(3, 13), distro="ubuntu", first_build=(155,)),
)
#: L1TF: "x86/speculation/l1tf: Change order of offset/type in swap entry", "...: Protect swap
#: entries against L1TF" and "...: Protect PROT_NONE PTEs against speculation" (Linus
#: Torvalds, merged 2018-08-14 => 4.19-rc1; 4.18 final lacks it).  Stable releases from the
#: CVE-2018-3620 tracker (nluedtke/linux_kernel_cves).
L1TF = Era(v("4.19"), None, "x86/speculation/l1tf swap-entry and PROT_NONE patches "
           "(2018-08-14); CVE-2018-3620", backports=_L1TF_BACKPORTS)
#: 00839ee3b299 as first merged (4.8-rc1): SWP_OFFSET_FIRST_BIT = 9 + 5 + 1, so type 9-13,
#: bit 14 unused, offset 15-63.  Fixed by ace7fab7a6cd before 4.8 final (probably), but RHEL 7
#: shipped it (read in 3.10.0-693.21.1.el7) until its L1TF update.
RHEL7_KNL = Era(NEVER, None, "00839ee3b299 as merged in 4.8-rc1 (offset from bit 15); RHEL 7 "
                "before 3.10.0-862.11.6 (read in 3.10.0-693.21.1.el7; older el7 builds assumed)",
                verified=False, backports=(Backport("RHEL 7", distro="rhel", distro_release=7),),
                unless=(L1TF,))
#: Dave Hansen, "x86/mm: Move swap offset/type up in PTE to work around erratum" with
#: "x86/mm: Fix swap entry comment and macro" (ace7fab7a6cd): type 9-13, offset 14-63;
#: "x86/mm: Ignore A/D bits in pte/pmd/pud_none()" (Knights Landing may set A/D on
#: non-present entries).
KNL = Era(v("4.8"), v("4.19"), f"{_PT64_H} after 00839ee3b299 + ace7fab7a6cd (4.8; the fix's "
          "release not verified)", verified=False, unless=(L1TF,))
BEFORE_KNL = Era(None, v("4.8"), f"{_PT64_H} before 00839ee3b299: type 1-5, offset from bit 9 "
                 "(SWP_OFFSET_SHIFT = _PAGE_BIT_PROTNONE + 1)", unless=(L1TF, RHEL7_KNL))
#: Mel Gorman, c46a7c817e66 "x86: define _PAGE_NUMA by reusing software bits on the PMD and
#: PTE levels" (3.16): with NUMA_BALANCING, bit 9 marks NUMA-hinting entries and the swap
#: offset starts at bit 10; removed with the _PAGE_NUMA helpers in 4.0 (estimated).
NUMA_3_16 = Era(v("3.16"), v("4.0"), "c46a7c817e66 (3.16); removed by 'mm: Remove remaining "
                "references to NUMA hinting bits and helpers' (4.0, estimated)", unless=(L1TF,))
#: eee4818baac0 "x86/mm: move _PAGE_SWP_SOFT_DIRTY from bit 7 to bit 1" (4.14; Naoya
#: Horiguchi / Zi Yan, for THP migration), also carried by the L1TF backports.
SD_BIT1 = Era(v("4.14"), None, "eee4818baac0 'x86/mm: move _PAGE_SWP_SOFT_DIRTY from bit 7 to "
              "bit 1' (4.14)", backports=_L1TF_BACKPORTS)
UFFD_WP = Era(v("5.7"), None, "Peter Xu, userfaultfd-wp series (5a281062af1d): _PAGE_UFFD_WP "
              "(SOFTW2) and _PAGE_SWP_UFFD_WP (bit 2)", verified=False)
SHSTK_6_6 = Era(v("6.6"), None, "0b02a82082c5 'x86/mm: Introduce _PAGE_SAVED_DIRTY' (x86/shstk "
                "pull for 6.6-rc1): SOFTW4 58 -> 57, SOFTW5 = 58")
FILE_BIT = Era(None, v("4.0"), "_PAGE_FILE (bit 6) until Kirill Shutemov's remap_file_pages "
               "emulation dropped nonlinear PTEs (4.0)")

# --- how none / present / PROT_NONE / swap are told apart (pgtable.h) --------------------

_P, _PROTNONE, _NUMA, _PSE = 1 << 0, 1 << 8, 1 << 9, 1 << 7
_A_D = (1 << 5) | (1 << 6)



def _upper(era: Era, none_ignores: int, invert: bool, how: str) -> tuple[Presence, ...]:
    """The PMD, PUD and P4D/PGD rules of one era (pgtable.h pmd_present & co.)."""
    return (
        # pmd_present: PRESENT | PROTNONE | PSE, so a PSE PMD with P clear (pmdp_invalidate
        # during a split) is present; pmd_leaf = PSE; THP migration PMDs are swap-format.
        Presence(era, none_ignores=none_ignores, valid=_P, present_invalid=_PROTNONE | _PSE,
                 protnone_mask=_P | _PROTNONE, protnone_want=_PROTNONE, invert_pfn=invert,
                 source=f"{_PGT_H} pmd_none, pmd_present, pmd_protnone, pmd_leaf ({how})",
                 levels=frozenset({"pmd"}), table=(_PSE, 0), swap="thp_migration",
                 table_bits=_P, invalidated_by="pmdp_invalidate() (pmd_mkinvalid, "
                 "pgtable.h) makes this while splitting a huge PMD"),
        # pud_present tests PRESENT only; pud_leaf = PSE (1G)
        Presence(era, none_ignores=none_ignores, valid=_P, present_invalid=0,
                 protnone_mask=0, protnone_want=1, invert_pfn=invert,
                 source=f"{_PGT_H} pud_none, pud_present, pud_leaf ({how})",
                 levels=frozenset({"pud"}), table=(_PSE, 0), swap=False, table_bits=_P),
        # P4D and PGD entries only point to tables (bit 7 is reserved there)
        Presence(era, none_ignores=none_ignores, valid=_P, present_invalid=0,
                 protnone_mask=0, protnone_want=1, invert_pfn=invert,
                 source=f"{_PGT_H} p4d_none/p4d_present, pgd_none/pgd_present ({how})",
                 levels=frozenset({"p4d", "pgd"}), table=(0, 0), leaf_gate="never",
                 swap=False, table_bits=_P),
    )


PRESENCE = (
    Presence(BEFORE_KNL, none_ignores=0, valid=_P, present_invalid=_PROTNONE,
             protnone_mask=_P, protnone_want=0, invert_pfn=False,
             source=f"{_PGT_H} pte_present = PRESENT | PROTNONE; pte_none = !val"),
    # 3.16-3.19 with NUMA_BALANCING: pte_present also counts _PAGE_NUMA (bit 9, P=0)
    Presence(NUMA_3_16, none_ignores=0, valid=_P, present_invalid=_PROTNONE | _NUMA,
             protnone_mask=_P, protnone_want=0, invert_pfn=False, gate="numa_balancing",
             source=f"{_PGT_H} pte_present with _PAGE_NUMA (3.16-3.19)"),
    Presence(KNL, none_ignores=_A_D, valid=_P, present_invalid=_PROTNONE,
             protnone_mask=_P, protnone_want=0, invert_pfn=False,
             source=f"{_PGT_H} pte_none ignores _PAGE_KNL_ERRATUM_MASK (A|D)"),
    Presence(RHEL7_KNL, none_ignores=_A_D, valid=_P, present_invalid=_PROTNONE,
             protnone_mask=_P, protnone_want=0, invert_pfn=False,
             source=f"{_PGT_H} (RHEL 7 backport of the KNL erratum work; A/D handling assumed)"),
    Presence(L1TF, none_ignores=_A_D, valid=_P, present_invalid=_PROTNONE,
             protnone_mask=_P, protnone_want=0, invert_pfn=True,
             source=f"{_PGT_H} pte_none/pte_present/pte_protnone; pgtable-invert.h "
                    "__pte_needs_invert (6.1, 6.12, 7.2)"),
    *_upper(BEFORE_KNL, 0, False, "before 4.8"),
    *_upper(KNL, _A_D, False, "4.8-4.18"),
    *_upper(RHEL7_KNL, _A_D, False, "RHEL 7"),
    # L1TF: pmd_mkinvalid/pfn_pmd store non-present PFNs inverted too (6.12 l.808)
    *_upper(L1TF, _A_D, True, "6.1, 6.12, 7.2"),
)

# --- the bits ---------------------------------------------------------------------------

BITS: tuple[Bits, ...] = (
    # Hardware bits (Intel SDM vol. 3, 4/5-level paging; pgtable_types.h).  Rows name the
    # levels they apply to: PTE pages, PMD/PUD leaves (PSE set), and table entries.
    Bits(0, 0, "PRESENT", "_PAGE_PRESENT", "present: the MMU translates through this entry",
         P | T, short="P", levels=ALL_LEVELS),
    Bits(1, 1, "RW", "_PAGE_RW", "writable", PPT, short="RW", levels=ALL_LEVELS),
    Bits(2, 2, "USER", "_PAGE_USER", "user-mode accessible", PPT, short="U", levels=ALL_LEVELS),
    Bits(3, 3, "PWT", "_PAGE_PWT", "page write-through (PAT index bit 0)", PPT, short="PWT",
         levels=ALL_LEVELS),
    Bits(4, 4, "PCD", "_PAGE_PCD", "page cache disable (PAT index bit 1)", PPT, short="PCD",
         levels=ALL_LEVELS),
    Bits(5, 5, "ACCESSED", "_PAGE_ACCESSED", "accessed: pte_young", PPT, short="A",
         levels=ALL_LEVELS),
    Bits(6, 6, "DIRTY", "_PAGE_DIRTY", "dirty (hardware): pte_dirty; in table entries "
         "_KERNPG_TABLE sets it and the MMU ignores it", PPT, short="D", levels=ALL_LEVELS),
    Bits(7, 7, "PAT", "_PAGE_PAT", "PAT index bit 2 (4K PTE; _PAGE_PSE at PMD/PUD level)", PP,
         short="PAT"),
    Bits(7, 7, "PSE", "_PAGE_PSE", "page size: a 2M (PMD) or 1G (PUD) leaf; pmd_present "
         "counts it, so a PSE PMD stays present while a split clears P", PP, short="PS",
         levels=HUGE_LEVELS),
    Bits(8, 8, "GLOBAL", "_PAGE_GLOBAL", "global: kept in the TLB across CR3 switches", P,
         short="G", levels=LEAF_LEVELS),
    Bits(8, 8, "PROTNONE", "_PAGE_PROTNONE",
         "PROT_NONE or NUMA-hinting entry (aliases _PAGE_GLOBAL when P=0)", PN, short="PN",
         levels=PTE_PMD),
    Bits(9, 9, "SPECIAL", "_PAGE_SPECIAL",
         "special mapping (SOFTW1): vm_normal_page() returns no page", PP, short="SP",
         levels=LEAF_LEVELS),
    Bits(9, 9, "NUMA", "_PAGE_NUMA", "NUMA-hinting entry (P=0; 3.16-3.19)", PN, era=NUMA_3_16,
         gate="numa_balancing", short="NU"),
    Bits(10, 10, "UFFD_WP", "_PAGE_UFFD_WP", "userfaultfd write-protected (SOFTW2)", PP,
         era=UFFD_WP, gate="uffd_wp", short="UW", levels=PTE_PMD),
    Bits(11, 11, "SOFT_DIRTY", "_PAGE_SOFT_DIRTY",
         "soft-dirty (SOFTW3): written since clear_refs; on kernel mappings (6.15+) this bit "
         "is _PAGE_KERNEL_4K", PP,
         era=Era(v("3.11"), None, f"{_TYPES_H} _PAGE_BIT_SOFT_DIRTY (0f8975ec4db2, 3.11)",
                 verified=False), gate="soft_dirty", short="SD", levels=LEAF_LEVELS),
    Bits(12, 51, "PFN", "PTE_PFN_MASK", "page frame number (physical address bits 51:12)", PP,
         role=PFN, pa_lo=12, short="PFN"),
    Bits(12, 12, "PAT_LARGE", "_PAGE_PAT_LARGE", "PAT index bit 2 of a 2M/1G leaf", PP,
         short="PAT", levels=HUGE_LEVELS),
    # pmd_pfn_mask/pud_pfn_mask = PHYSICAL_PMD_PAGE_MASK / PHYSICAL_PUD_PAGE_MASK: the leaf
    # address starts at PMD_SHIFT (21) / PUD_SHIFT (30); the bits between are reserved.
    Bits(21, 51, "PFN", "PHYSICAL_PMD_PAGE_MASK", "leaf physical address (2M/1G aligned)", PP,
         role=PFN, lo_is_level_shift=True, short="PFN", levels=HUGE_LEVELS,
         era=Era(source="arch/x86/include/asm/page_types.h PHYSICAL_PMD_PAGE_MASK / "
                 f"PHYSICAL_PUD_PAGE_MASK; {_TYPES_H} pmd_pfn_mask/pud_pfn_mask (every era "
                 "covered)")),
    Bits(12, 51, "TABLE", "PTE_PFN_MASK", "physical address of the next-level table", T,
         role=PFN, pa_lo=12, short="TABLE", levels=UPPER_LEVELS),
    Bits(58, 58, "DEVMAP", "_PAGE_DEVMAP", "ZONE_DEVICE mapping: pte_devmap (SOFTW4)", PP,
         era=Era(v("4.5"), v("6.6"), f"{_TYPES_H} _PAGE_BIT_DEVMAP = SOFTW4 (69660fd797c3, 4.5)",
                 verified=False), gate="devmap", short="DM", levels=LEAF_LEVELS),
    Bits(57, 57, "DEVMAP", "_PAGE_DEVMAP", "ZONE_DEVICE mapping: pte_devmap (SOFTW4)", PP,
         era=Era(v("6.6"), v("6.17"), SHSTK_6_6.source + "; removed by Alistair Popple, 'mm: "
                 "remove devmap related functions and page table bits' (≈6.17; absent 7.2.13)",
                 verified=False), gate="devmap", short="DM", levels=LEAF_LEVELS),
    Bits(58, 58, "SAVED_DIRTY", "_PAGE_SAVED_DIRTY",
         "dirty while RW=0 (SOFTW5): pte_wrprotect/pte_mkdirty move D here; pte_dirty counts it",
         PP, era=SHSTK_6_6, short="SDY", levels=LEAF_LEVELS),
    # PTI: top-level entries that must not be copied to the user page tables (SOFTW5)
    Bits(58, 58, "NOPTISHADOW", "_PAGE_NOPTISHADOW", "PTI: not mirrored into the user copy of "
         "the top-level table (root PGD/P4D entries only)", T,
         era=Era(v("6.13"), None, f"{_TYPES_H} _PAGE_BIT_NOPTISHADOW = _PAGE_BIT_SOFTW5: "
                 "d0ceea662d45 'x86/mm: Add _PAGE_NOPTISHADOW bit to avoid "
                 "updating userspace page tables' (6.13)", verified=False,
                 backports=(Backport("6.12.y stable ([PATCH 6.12 202/466], 2024-12-12; "
                                     "estimated 6.12.5)", series=(6, 12), first_patch=5),)),
         short="NPS", levels=frozenset({"pgd", "p4d"})),
    Bits(59, 62, "PKEY", "_PAGE_PKEY_MASK", "memory protection key (pkey_mprotect)", PP,
         role=FIELD, gate="pkeys",
         era=Era(v("4.6"), None, "5c1d90f51027 'x86/mm/pkeys: Add PTE bits for storing "
                 "protection key' (4.6)", verified=False), short="PKEY", levels=LEAF_LEVELS),
    Bits(63, 63, "NX", "_PAGE_NX", "no execute", PPT, short="NX", levels=ALL_LEVELS),

    # --- swap-format entries (P=0, PROTNONE=0) ------------------------------------------
    Bits(7, 7, "SWP_SOFT_DIRTY", "_PAGE_SWP_SOFT_DIRTY", "soft-dirty, kept across swap-out "
         "(= _PAGE_PSE then)", S, era=Era(v("3.11"), v("4.14"), "_PAGE_SWP_SOFT_DIRTY = "
                                          "_PAGE_PSE (3.11-4.13)", unless=(SD_BIT1,)),
         gate="soft_dirty", short="SD", levels=PTE_PMD),
    Bits(1, 1, "SWP_SOFT_DIRTY", "_PAGE_SWP_SOFT_DIRTY", "soft-dirty, kept across swap-out",
         S, era=SD_BIT1, gate="soft_dirty", short="SD", levels=PTE_PMD),
    Bits(7, 7, "PSE", "_PAGE_PSE", "0 in swap entries: pmd_present() tests PSE, so a THP "
         "migration PMD must keep it clear", S, era=SD_BIT1, role=MBZ, short="0", levels=PTE_PMD),
    Bits(2, 2, "SWP_UFFD_WP", "_PAGE_SWP_UFFD_WP", "userfaultfd write-protect, kept in the "
         "swap entry", S, era=UFFD_WP, gate="uffd_wp", short="F", levels=PTE_PMD),
    Bits(3, 3, "SWP_EXCLUSIVE", "_PAGE_SWP_EXCLUSIVE",
         "anon page was exclusive (PageAnonExclusive) when swapped out",
         S, era=Era(v("5.19"), None, "David Hildenbrand, 'x86/pgtable: support "
                    "__HAVE_ARCH_PTE_SWP_EXCLUSIVE' (v2 2022-03-29); pgtable_64_types.h",
                    verified=False), short="E"),
    Bits(6, 6, "FILE", "_PAGE_FILE", "a nonlinear file PTE (remap_file_pages), not a swap "
         "entry", S, era=FILE_BIT, role=MBZ, short="FL"),
    Bits(4, 4, "PCD", "_PAGE_PCD", "ignored in swap entries ('X' in the pgtable_64.h diagram)",
         S, era=Era(v("4.8"), None, KNL.source,
                    verified=False), role=IGNORED, short="x", levels=PTE_PMD),
    Bits(5, 5, "ACCESSED", "_PAGE_ACCESSED",
         "ignored: a Knights Landing erratum may set A on non-present entries", S,
         era=Era(v("4.8"), None, KNL.source,
                 verified=False), role=IGNORED, short="A", levels=PTE_PMD),
    Bits(6, 6, "DIRTY", "_PAGE_DIRTY",
         "ignored: a Knights Landing erratum may set D on non-present entries", S,
         era=Era(v("4.8"), None, KNL.source,
                 verified=False), role=IGNORED, short="D", levels=PTE_PMD),
    # before 4.8: type 1-5, offset from bit 9 (bit 10 with NUMA_BALANCING in 3.16-3.19)
    Bits(1, 5, "TYPE", "__swp_type", "swap type (bits 5:1)", S, era=BEFORE_KNL, role=TYPE,
         short="TYPE", levels=PTE_PMD),
    Bits(9, 63, "OFFSET", "__swp_offset", "swap offset (bits 63:9)", S, era=BEFORE_KNL,
         role=OFFSET, short="OFFSET", levels=PTE_PMD),
    Bits(10, 63, "OFFSET", "__swp_offset", "swap offset (bits 63:10; bit 9 is _PAGE_NUMA)", S,
         era=NUMA_3_16, gate="numa_balancing", role=OFFSET, short="OFFSET", levels=PTE_PMD),
    # 4.8 (KNL erratum) to 4.18: type 9-13, offset 14-63, not inverted
    Bits(9, 13, "TYPE", "__swp_type", "swap type (SWP_TYPE_FIRST_BIT 9)", S, era=KNL,
         role=TYPE, short="TYPE", levels=PTE_PMD),
    Bits(14, 63, "OFFSET", "__swp_offset", "swap offset (SWP_OFFSET_FIRST_BIT 14)", S, era=KNL,
         role=OFFSET, short="OFFSET", levels=PTE_PMD),
    Bits(9, 13, "TYPE", "__swp_type", "swap type (SWP_TYPE_FIRST_BIT 9)", S, era=RHEL7_KNL,
         role=TYPE, short="TYPE", levels=PTE_PMD),
    Bits(14, 14, "UNUSED", "SWP_OFFSET_FIRST_BIT", "unused: 00839ee3b299's offset started one "
         "bit too high", S, era=RHEL7_KNL, role=MBZ, short="0", levels=PTE_PMD),
    Bits(15, 63, "OFFSET", "__swp_offset", "swap offset (SWP_OFFSET_FIRST_BIT 15)", S,
         era=RHEL7_KNL, role=OFFSET, short="OFFSET", levels=PTE_PMD),
    # L1TF (4.19+): type in 59-63, offset inverted in 9-58 so the entry points above RAM
    Bits(59, 63, "TYPE", "__swp_type", "swap type (SWP_TYPE_BITS = 5)", S, era=L1TF, role=TYPE,
         short="TYPE", levels=PTE_PMD),
    Bits(9, 58, "OFFSET", "__swp_offset", "swap offset, stored inverted (~offset) for L1TF",
         S, era=L1TF, role=OFFSET, inverted=True, short="~OFFSET", levels=PTE_PMD),
)


def _sourced(b: Bits) -> Bits:
    """Rows that hold in every era the tables cover still name the file they come from."""
    if b.era is not ALWAYS:
        return b
    return b._replace(era=Era(source=f"{_TYPES_H} {b.macro} (every era covered)"))


BITS = tuple(_sourced(b) for b in BITS)

CAPABILITIES: tuple[Capability, ...] = (
    # arch/x86/Kconfig: select HAVE_ARCH_USERFAULTFD_WP if X86_64 && USERFAULTFD
    Capability("uffd_wp", ("USERFAULTFD",), UFFD_WP, "HAVE_ARCH_USERFAULTFD_WP"),
    # mm/Kconfig MEM_SOFT_DIRTY depends on CHECKPOINT_RESTORE && HAVE_ARCH_SOFT_DIRTY
    Capability("soft_dirty", ("MEM_SOFT_DIRTY",),
               Era(v("3.11"), None, "mm/Kconfig MEM_SOFT_DIRTY; arch/x86/Kconfig "
                   "HAVE_ARCH_SOFT_DIRTY", verified=False)),
    Capability("pkeys", ("X86_INTEL_MEMORY_PROTECTION_KEYS",),
               Era(v("4.6"), None, "arch/x86/Kconfig X86_INTEL_MEMORY_PROTECTION_KEYS",
                   verified=False)),
    Capability("swp_exclusive", (), Era(v("5.19"), None, f"{_PGT_H} "
                                        "__HAVE_ARCH_PTE_SWP_EXCLUSIVE", verified=False)),
    # arch/x86/Kconfig: select ARCH_ENABLE_THP_MIGRATION if X86_64 && TRANSPARENT_HUGEPAGE
    # (Zi Yan, "mm: page migration enhancement for thp", 4.14): swap-format PMDs
    Capability("thp_migration", (), Era(v("4.14"), None, "arch/x86/Kconfig "
                                        "ARCH_ENABLE_THP_MIGRATION (x86_64, 4.14)",
                                        verified=False)),
    # X86_64 selects ARCH_HAS_PTE_DEVMAP until the devmap removal
    Capability("devmap", (), Era(v("4.5"), v("6.17"), "arch/x86/Kconfig ARCH_HAS_PTE_DEVMAP",
                                 verified=False)),
)

#: MAX_PHYSMEM_BITS (arch/x86/include/asm/sparsemem.h): 46, or 52 with 5-level paging
#: (X86_5LEVEL from 4.14; decided at boot, pgtable_l5_enabled(), from 4.17).
PHYSMEM = (
    (Era(source="arch/x86/include/asm/sparsemem.h: 46 with 4-level paging"), 4, 46),
    (Era(v("4.14"), None, "arch/x86/include/asm/sparsemem.h: 52 with 5-level paging "
         "(X86_5LEVEL, 4.14)", verified=False), 5, 52),
)

DERIVED = (
    Derived("write", "pte_write", (("RW",),), f"{_PGT_H} pte_write"),
    # 6.6+: pte_dirty tests _PAGE_DIRTY | _PAGE_SAVED_DIRTY (6.12 l.155); before, bit 58 is
    # DEVMAP and no SAVED_DIRTY row exists, so the second term never holds.
    Derived("dirty", "pte_dirty", (("DIRTY",), ("SAVED_DIRTY",)), f"{_PGT_H} pte_dirty"),
    Derived("young", "pte_young", (("ACCESSED",),), f"{_PGT_H} pte_young"),
    Derived("uffd_wp", "pte_uffd_wp", (("UFFD_WP",),), f"{_PGT_H} pte_uffd_wp", gate="uffd_wp"),
    Derived("soft_dirty", "pte_soft_dirty", (("SOFT_DIRTY",),), f"{_PGT_H} pte_soft_dirty",
            gate="soft_dirty"),
    Derived("special", "pte_special", (("SPECIAL",),), f"{_PGT_H} pte_special"),
)

LAYOUT = Layout(ARCH, PRESENCE, BITS, CAPABILITIES, PHYSMEM, DERIVED, oldest=v("3.10"),
                oldest_why="the tables start at 3.10 (RHEL 7's base)")
