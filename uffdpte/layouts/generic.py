"""Arch-independent tables: swp_entry_t, special swap types, PTE marker bits, capabilities.

Sources are kernel-tree paths; release boundaries follow ../shared/kernel-facts.md §1
(``verified=False`` where it says "release not verified").
"""

from __future__ import annotations

from .model import ALWAYS, Capability, Derived, Era, MarkerBit, SwapType, v

# --- swp_entry_t (include/linux/swapops.h; mainline include/linux/leafops.h) -------------

#: MAX_SWAPFILES_SHIFT (include/linux/swap.h): 5 in every version the tables cover.
MAX_SWAPFILES_SHIFT = 5
#: swp_entry_t: type << SWP_TYPE_SHIFT | offset (include/linux/swapops.h; mainline
#: leafops.h LEAF_TYPE_SHIFT).  The shift is what messages that print entry.val need.
SWP_TYPE_SHIFTS: tuple[tuple[Era, int], ...] = (
    (Era(None, v("3.5"), "include/linux/swapops.h SWP_TYPE_SHIFT = BITS_PER_LONG - MAX_SWAPFILES_SHIFT",
         verified=False), 59),
    # minus RADIX_TREE_EXCEPTIONAL_SHIFT (2): swap entries lived in the page-cache radix tree
    (Era(v("3.5"), v("4.20"), "include/linux/swapops.h SWP_TYPE_SHIFT(e) = 64 - MAX_SWAPFILES_SHIFT - "
         "RADIX_TREE_EXCEPTIONAL_SHIFT (3.5-4.19)", verified=False), 57),
    # BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT = 63 - 5 (xarray, 3159f943aafd; 5.10, 6.1, 6.12, 7.2)
    (Era(v("4.20"), None, "include/linux/swapops.h SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT "
         "(3159f943aafd, 4.20)", verified=False), 58),
)


def swp_type_shift(kv) -> tuple[int, str]:
    """SWP_TYPE_SHIFT for this kernel, and the row's source."""
    rows = [(era, shift) for era, shift in SWP_TYPE_SHIFTS if era.contains(kv)]
    era, shift = rows[-1]
    return shift, era.source


def swp_entry_fields(val: int, kv) -> tuple[int, int, int, list[str]]:
    """swp_type(), swp_offset() of a swp_entry_t value under this kernel, its SWP_TYPE_SHIFT,
    and what is wrong with it: swp_type() does not mask, so bits past the 5-bit type make a
    type no kernel has."""
    shift, source = swp_type_shift(kv)
    problems = []
    top = shift + MAX_SWAPFILES_SHIFT
    if val >> top:
        problems.append(f"bits {top}-63 set: swp_entry_t holds a {MAX_SWAPFILES_SHIFT}-bit "
                        f"type at bit {shift} ({source})")
    return val >> shift, val & ((1 << shift) - 1), shift, problems

#: A real swap device has fewer than 2^32 slots: union swap_header's last_page is 32 bits
#: (include/linux/swap.h, unchanged since 2.6), and slot 0 is the header itself.
SWAP_OFFSET_LIMIT = 1 << 32
SWAP_HEADER_SOURCE = "include/linux/swap.h union swap_header (32-bit last_page; slot 0 = header)"

# --- special swap types, in the order swap.h numbers them up from MAX_SWAPFILES -----------

_SWAP_H = "include/linux/swap.h, include/linux/swapops.h"
_SINCE_5_19 = Era(v("5.19"), None, "Peter Xu, 'mm: Introduce PTE_MARKER swap entry' (679d10331910) "
                  "and David Hildenbrand's anon-exclusive series; " + _SWAP_H, verified=False)
_DEVICE_PRIVATE = Era(v("4.14"), None, "HMM ZONE_DEVICE private memory (Jérôme Glisse); " + _SWAP_H,
                      verified=False)
_DEVICE_EXCL_PAIR = Era(v("5.14"), v("6.15"),
                        "Alistair Popple, 'mm: Device exclusive memory access' (5.14); removed by "
                        "David Hildenbrand, 'mm: use single SWP_DEVICE_EXCLUSIVE entry type' "
                        "(≈6.15)",
                        verified=False)
_DEVICE_EXCL_SINGLE = Era(v("6.15"), None,
                          "David Hildenbrand, 'mm: use single SWP_DEVICE_EXCLUSIVE entry type' "
                          "(v2 2025-02-10; 7.2 confirms)", verified=False)
_SWAPIN_ERROR_TYPE = Era(v("5.19"), v("6.2"),
                         "Miaohe Lin, SWP_SWAPIN_ERROR (5.19); became PTE_MARKER_SWAPIN_ERROR in "
                         "Peter Xu, 'mm: Always compile in pte markers' (6.2)", verified=False)

SWAP_TYPES: tuple[SwapType, ...] = (
    SwapType("SWP_HWPOISON", "hwpoison", "hwpoison", "memory_failure",
             Era(source="SWP_HWPOISON = MAX_SWAPFILES; " + _SWAP_H)),
    SwapType("SWP_MIGRATION_READ", "migration", "migration_read", "migration",
             Era(source=_SWAP_H), writable=False),
    SwapType("SWP_MIGRATION_READ_EXCLUSIVE", "migration", "migration_read_exclusive", "migration",
             _SINCE_5_19, writable=False),
    SwapType("SWP_MIGRATION_WRITE", "migration", "migration_write", "migration",
             Era(source=_SWAP_H), writable=True),
    SwapType("SWP_DEVICE_WRITE", "device", "device_private_write", "device_private",
             _DEVICE_PRIVATE, writable=True),
    SwapType("SWP_DEVICE_READ", "device", "device_private_read", "device_private",
             _DEVICE_PRIVATE, writable=False),
    SwapType("SWP_DEVICE_EXCLUSIVE_WRITE", "device", "device_exclusive_write", "device_private",
             _DEVICE_EXCL_PAIR, writable=True),
    SwapType("SWP_DEVICE_EXCLUSIVE_READ", "device", "device_exclusive_read", "device_private",
             _DEVICE_EXCL_PAIR, writable=False),
    # one type for both: the entry no longer says whether the PTE was writable (7.2 swap.h)
    SwapType("SWP_DEVICE_EXCLUSIVE", "device", "device_exclusive", "device_private",
             _DEVICE_EXCL_SINGLE, writable=None),
    SwapType("SWP_PTE_MARKER", "marker", "pte_marker", "pte_marker", _SINCE_5_19, has_pfn=False),
    # 5.19-6.1: the offset is page_to_pfn of the page that failed to swap in, but the entry
    # is not a "pfn swap entry" (is_pfn_swap_entry is false for it).
    SwapType("SWP_SWAPIN_ERROR", "swapin_error", "swapin_error", None, _SWAPIN_ERROR_TYPE,
             has_pfn=True),
)

# --- PTE markers: swp_entry(SWP_PTE_MARKER, bits) ----------------------------------------

MARKER_BITS: tuple[MarkerBit, ...] = (
    MarkerBit(0, "UFFD_WP", "PTE_MARKER_UFFD_WP",
              "userfaultfd write-protect on an unpopulated PTE (shmem/hugetlb, or anon with "
              "UFFD_FEATURE_WP_UNPOPULATED)", _SINCE_5_19),
    MarkerBit(1, "SWAPIN_ERROR", "PTE_MARKER_SWAPIN_ERROR",
              "swap-in failed; access raises SIGBUS",
              Era(v("6.2"), v("6.6"), "Peter Xu, 'mm: Always compile in pte markers' "
                  "(2022-10-30); include/linux/swapops.h", verified=False)),
    MarkerBit(1, "POISONED", "PTE_MARKER_POISONED",
              "poisoned: swap-in error or UFFDIO_POISON; access raises SIGBUS",
              Era(v("6.6"), None, "Axel Rasmussen, UFFDIO_POISON series (July 2023) renamed "
                  "PTE_MARKER_SWAPIN_ERROR; include/linux/swapops.h", verified=False)),
    MarkerBit(2, "GUARD", "PTE_MARKER_GUARD",
              "guard region (MADV_GUARD_INSTALL): access raises SIGSEGV",
              Era(v("6.13"), None, "Lorenzo Stoakes, 'mm: add PTE_MARKER_GUARD PTE marker' "
                  "(7c53dfbdb024); absent 6.12.117, present 7.2", verified=False)),
    MarkerBit(3, "SOFTLEAF_NONE", "PTE_MARKER_SOFTLEAF_NONE",
              "in-memory placeholder of the softleaf API; never stored in a page table",
              Era(v("6.19"), None, "Lorenzo Stoakes, leaf-entry series (v3 2025-11-10); "
                  "include/linux/leafops.h 6.19-rc4", verified=False),
              in_page_tables=False),
)
MARKER_SOURCE = "include/linux/swapops.h (mainline leafops.h): PTE_MARKER_MASK = defined bits"

# --- swap PTE flag bits each kind of entry may carry -------------------------------------

#: Which _PAGE_SWP_* / PTE_SWP_* flags the kernel writes into each kind of swap-format entry.
#: Migration and device entries copy soft-dirty and uffd-wp from the PTE they replace
#: (mm/rmap.c try_to_migrate_one, 6.12 l.2225-2239; mm/migrate_device.c); hwpoison,
#: markers and swapin-error entries are built bare (make_hwpoison_entry,
#: make_pte_marker_entry, make_swapin_error_entry, then swp_entry_to_pte).
SWAP_FLAGS_ALLOWED: dict[str, frozenset[str]] = {
    "swap": frozenset({"SWP_SOFT_DIRTY", "SWP_UFFD_WP", "SWP_EXCLUSIVE"}),
    "migration": frozenset({"SWP_SOFT_DIRTY", "SWP_UFFD_WP"}),
    "device": frozenset({"SWP_SOFT_DIRTY", "SWP_UFFD_WP"}),
    "hwpoison": frozenset(),
    "marker": frozenset(),
    "swapin_error": frozenset(),
}

#: Predicates of swap-format entries, the same names on both arches (_PAGE_SWP_* on x86,
#: PTE_SWP_* on arm64); None where the profile has no such bit.
SWAP_DERIVED: tuple[Derived, ...] = (
    Derived("uffd_wp", "pte_swp_uffd_wp", (("SWP_UFFD_WP",),), "pte_swp_uffd_wp", gate="uffd_wp"),
    Derived("soft_dirty", "pte_swp_soft_dirty", (("SWP_SOFT_DIRTY",),), "pte_swp_soft_dirty",
            gate="soft_dirty"),
    Derived("exclusive", "pte_swp_exclusive", (("SWP_EXCLUSIVE",),), "pte_swp_exclusive",
            gate="swp_exclusive"),
)

# --- capabilities every arch shares ------------------------------------------------------

#: A capability holds when one of its rows' eras contains the kernel and all of that row's
#: requirements hold.  Upper-case requirements are config symbols (or profile facts such as
#: PAGE_64K); lower-case ones are capabilities listed earlier; "!X" negates.
GENERIC_CAPABILITIES: tuple[Capability, ...] = (
    Capability("migration", ("MIGRATION",), ALWAYS, "CONFIG_MIGRATION: migration swap types"),
    Capability("memory_failure", ("MEMORY_FAILURE",), ALWAYS,
               "CONFIG_MEMORY_FAILURE: SWP_HWPOISON"),
    Capability("device_private", ("DEVICE_PRIVATE",), _DEVICE_PRIVATE,
               "CONFIG_DEVICE_PRIVATE: device-private and device-exclusive swap types"),
    Capability("numa_balancing", ("NUMA_BALANCING",), ALWAYS,
               "CONFIG_NUMA_BALANCING: pte_protnone is real (generic fallback returns 0)"),
    # 5.19-6.1: CONFIG_PTE_MARKER is a hidden bool selected only by PTE_MARKER_UFFD_WP, which
    # depends on HAVE_ARCH_USERFAULTFD_WP (mm/Kconfig); 6.2 made markers unconditional.
    Capability("pte_marker", ("PTE_MARKER", "uffd_wp"),
               Era(v("5.19"), v("6.2"), "mm/Kconfig PTE_MARKER / PTE_MARKER_UFFD_WP (5.19-6.1)",
                   verified=False),
               "SWP_PTE_MARKER reserved"),
    Capability("pte_marker", (),
               Era(v("6.2"), None, "Peter Xu, 'mm: Always compile in pte markers' (6.2)",
                   verified=False), "SWP_PTE_MARKER reserved"),
    # Peter Xu, "mm: Remember a/d bits for migration entries" (6.1): migration entries keep
    # A/D in the two offset bits above SWP_PFN_BITS when arch_max_swapfile_size() is large
    # enough (mm/swapfile.c swapfile_init).  On x86 CPUs with the L1TF bug and mitigation on,
    # arch_max_swapfile_size is 2^(x86_cache_bits - 10), too small at 44 cache bits.
    Capability("migration_ad", ("migration", "!X86_BUG_L1TF"),
               Era(v("6.1"), None, "include/linux/swapops.h SWP_MIG_YOUNG_BIT/DIRTY_BIT; "
                   "mm/swapfile.c swapfile_init; arch/x86/mm/init.c arch_max_swapfile_size")),
    # Before 6.1 migration/device/hwpoison entries held the PFN as the whole offset.
    Capability("swp_pfn_mask", (),
               Era(v("6.1"), None, "include/linux/swapops.h swp_offset_pfn(): "
                   "swp_offset & SWP_PFN_MASK (6.1+)")),
)
