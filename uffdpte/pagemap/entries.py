"""The /proc/PID/pagemap entry: one little-endian u64 per virtual page, as data.

Every row names the kernel macro, the bits, what the kernel means by it, the releases it
holds for and where that was read.  Sources: Documentation/admin-guide/mm/pagemap.rst and
fs/proc/task_mmu.c (``#define PM_*`` above pagemap_read) in Debian linux-source 6.12.117
and 7.2.13; release boundaries older than 6.12 are the ones pagemap.rst states ("since
5.13" ...), the rest follow ../shared/kernel-facts.md §1.1.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..kver import KernelVersion
from ..layouts.model import Era, v

_RST = "Documentation/admin-guide/mm/pagemap.rst"
_TASK_MMU = "fs/proc/task_mmu.c #define PM_* (6.12, 7.2)"

#: pagemap entries are u64 (pagemap_entry_t, fs/proc/task_mmu.c: PM_ENTRY_BYTES)
PM_ENTRY_BYTES = 8
#: PM_PFRAME_BITS: bits 0-54 hold the PFN, or the swap type and offset
PM_PFRAME_BITS = 55
PM_PFRAME_MASK = (1 << PM_PFRAME_BITS) - 1
#: swapped entries: frame = swp_type | swp_offset << MAX_SWAPFILES_SHIFT (pte_to_pagemap_entry)
PM_SWAP_TYPE_BITS = 5
PM_SWAP_TYPE_MASK = (1 << PM_SWAP_TYPE_BITS) - 1


@dataclass(frozen=True)
class PmBit:
    """One flag bit of a pagemap entry."""

    bit: int
    name: str  # the kernel's macro
    key: str  # the record key it feeds (None-free: "" when it feeds only "flags")
    meaning: str
    era: Era

    @property
    def mask(self) -> int:
        return 1 << self.bit


PM_BITS: tuple[PmBit, ...] = (
    # Before 3.11 bits 55-60 held the page shift ("PM_PSHIFT"); the soft-dirty rework
    # (Cyrill Gorcunov, 3.11) turned 55 into soft-dirty.
    PmBit(55, "PM_SOFT_DIRTY", "soft_dirty",
          "pte is soft-dirty (Documentation/admin-guide/mm/soft-dirty.rst); also set for "
          "every page of a VMA with VM_SOFTDIRTY",
          Era(v("3.11"), None, f"{_RST}; {_TASK_MMU}", verified=False)),
    PmBit(56, "PM_MMAP_EXCLUSIVE", "exclusive",
          "page exclusively mapped (present pages only; for large folios: certainly mapped "
          "only by this process, 7.2 text)", Era(v("4.2"), None, f"{_RST} 'since 4.2'")),
    PmBit(57, "PM_UFFD_WP", "uffd_wp",
          "pte is uffd-wp write-protected: a present pte, a swap pte with the swap uffd-wp "
          "bit, or a PTE_MARKER_UFFD_WP marker", Era(v("5.13"), None, f"{_RST} 'since 5.13'")),
    PmBit(58, "PM_GUARD_REGION", "guard",
          "pte is a guard region marker (MADV_GUARD_INSTALL)",
          Era(v("6.15"), None, f"{_RST} 7.2 'since 6.15'; absent in 6.12")),
    PmBit(61, "PM_FILE", "file_shared",
          "page is a file page or shared-anon (its folio is not anonymous: shmem included)",
          Era(v("3.5"), None, f"{_RST} 'since 3.5'")),
    PmBit(62, "PM_SWAP", "",
          "page swapped: any non-present swap-format pte (swap, migration, device, hwpoison "
          "entries and PTE markers alike)", Era(None, None, _RST)),
    PmBit(63, "PM_PRESENT", "", "page present (pte_present: PROT_NONE ptes included)",
          Era(None, None, _RST)),
)
BY_NAME = {b.name: b for b in PM_BITS}
PM_SOFT_DIRTY = BY_NAME["PM_SOFT_DIRTY"].mask
PM_MMAP_EXCLUSIVE = BY_NAME["PM_MMAP_EXCLUSIVE"].mask
PM_UFFD_WP = BY_NAME["PM_UFFD_WP"].mask
PM_GUARD_REGION = BY_NAME["PM_GUARD_REGION"].mask
PM_FILE = BY_NAME["PM_FILE"].mask
PM_SWAP = BY_NAME["PM_SWAP"].mask
PM_PRESENT = BY_NAME["PM_PRESENT"].mask

#: PFN visibility: a capability rule, not a bit.  4.0-4.1 refused the open (EPERM).
PFN_HIDDEN_SINCE = Era(v("4.2"), None,
                       f"{_RST}: 'Starting from 4.2 the PFN field is zeroed if the user does "
                       "not have CAP_SYS_ADMIN'; fs/proc/task_mmu.c pagemap_read: show_pfn = "
                       "file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN)")
PFN_HIDDEN_NOTE = ("PFNs hidden: /proc/PID/pagemap zeroes bits 0-54 for openers without "
                   "CAP_SYS_ADMIN in the initial user namespace (since 4.2), so pfn and the "
                   "swap type/offset are null, not zero")


def bits_for(kv: KernelVersion) -> tuple[PmBit, ...]:
    """The flag bits this kernel defines."""
    return tuple(b for b in PM_BITS if b.era.contains(kv))


def known_mask(kv: KernelVersion) -> int:
    """Every bit this kernel may set: the frame field and its flag bits."""
    m = PM_PFRAME_MASK
    for b in bits_for(kv):
        m |= b.mask
    return m


def flag_names(value: int, bits: tuple[PmBit, ...]) -> tuple[str, ...]:
    return tuple(b.name for b in bits if value & b.mask)


def split_frame(value: int) -> tuple[int, int]:
    """A swapped entry's frame as pagemap encodes it: (swp_type, swp_offset)."""
    frame = value & PM_PFRAME_MASK
    return frame & PM_SWAP_TYPE_MASK, frame >> PM_SWAP_TYPE_BITS


__all__ = ["PmBit", "PM_BITS", "PM_PFRAME_MASK", "PM_PFRAME_BITS", "PM_ENTRY_BYTES",
           "PM_SOFT_DIRTY", "PM_MMAP_EXCLUSIVE", "PM_UFFD_WP", "PM_GUARD_REGION", "PM_FILE",
           "PM_SWAP", "PM_PRESENT", "bits_for", "known_mask", "flag_names", "split_frame",
           "PFN_HIDDEN_NOTE", "PFN_HIDDEN_SINCE"]
