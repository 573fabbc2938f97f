"""The /proc/PID/pagemap entry: one little-endian u64 per virtual page, as data.

Every row names the kernel macro, the bits, what the kernel means by it, the releases it
holds for and where that was read.  Sources: Documentation/admin-guide/mm/pagemap.rst and
fs/proc/task_mmu.c (``#define PM_*`` above pagemap_read) in Debian linux-source 6.12.117
and 7.2.13; release boundaries older than 6.12 are the ones pagemap.rst states ("since
5.13" ...), the rest follow ../shared/kernel-facts.md §1.1.  Layouts before 4.2 (bits 55-60
as the page shift) were read in torvalds/linux fs/proc/task_mmu.c at 0f8975ec4db2 (3.11:
soft-dirty), 541c237c0923 (3.11: the "v2" switch on the first soft-dirty clear) and
deb945441b94 (4.2: "pagemap: switch to the new format and do some cleanup", which removes
PM_PSHIFT).
"""

from __future__ import annotations

from .._record import record
from ..kver import KernelVersion
from ..layouts.generic import MAX_SWAPFILES_SHIFT
from ..layouts.model import Era, v

_RST = "Documentation/admin-guide/mm/pagemap.rst"
_TASK_MMU = "fs/proc/task_mmu.c #define PM_* (6.12, 7.2)"

#: pagemap entries are u64 (pagemap_entry_t, fs/proc/task_mmu.c: PM_ENTRY_BYTES)
PM_ENTRY_BYTES = 8
#: PM_PFRAME_BITS: bits 0-54 hold the PFN, or the swap type and offset
PM_PFRAME_BITS = 55
PM_PFRAME_MASK = (1 << PM_PFRAME_BITS) - 1
#: swapped entries: frame = swp_type | swp_offset << MAX_SWAPFILES_SHIFT (pte_to_pagemap_entry)
_SWP_TYPE_MASK = (1 << MAX_SWAPFILES_SHIFT) - 1


@record
class PmBit:
    """One bit (or field) of a pagemap entry, or one PAGEMAP_SCAN category bit
    (scan_ioctl.CATEGORIES): the same row shape for both."""

    bit: int  # the lowest bit
    name: str  # the kernel's macro
    meaning: str
    era: Era
    #: the record key the bit feeds as it is, whatever the entry's state ("" where its
    #: meaning depends on the state: reading.classify reads those itself)
    key: str = ""
    width: int = 1  # > 1: a field (PM_PSHIFT), not a flag

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.bit


#: pagemap came in with 2.6.25 (Matt Mackall, "maps4: add /proc/pid/pagemap interface";
#: pagemap.rst "as of 2.6.25"): PM_PRESENT, PM_SWAP and the page shift date from it
_SINCE_PAGEMAP = (f"{_TASK_MMU}; fs/proc/task_mmu.c since 2.6.25 (\"maps4: add "
                  f"/proc/pid/pagemap interface\"; {_RST} 'as of 2.6.25')")
#: deb945441b94 "pagemap: switch to the new format and do some cleanup" (Konstantin
#: Khlebnikov, 4.2) removed the page shift; pagemap.rst: 'Before Linux 3.11 pagemap bits
#: 55-60 were used for "page-shift" ... Since Linux 4.2 they are used for flags
#: unconditionally.'
_FLAGS_SINCE_4_2 = (f"{_RST} 'Since Linux 4.2 they are used for flags unconditionally'; "
                    "fs/proc/task_mmu.c deb945441b94")

#: Fields (not flags) of the entry's upper bits.  Before 4.2 bits 55-60 held the page shift
#: (PAGE_SHIFT in every entry, none included: 12 on 4K pages sets bits 57 and 58).  3.11-4.1
#: turn them into flags (55 soft-dirty, 56-60 zero) once any task's soft-dirty bits are
#: cleared (541c237c0923 "pagemap: prepare to reuse constant bits with page-shift":
#: pm->v2 = soft_dirty_cleared, PM_STATUS2(v2, x)), a switch for the whole system.
PM_PSHIFT = PmBit(55, "PM_PSHIFT", "page shift (page size = 1 << page shift): PAGE_SHIFT; "
                  "3.11-4.1 after the first clear of soft-dirty bits, flags (55 soft-dirty, "
                  "56-60 zero)",
                  Era(None, v("4.2"), "fs/proc/task_mmu.c __PM_PSHIFT, PM_PSHIFT_BITS 6 "
                      f"(0f8975ec4db2, 541c237c0923); {_RST} 'Before Linux 3.11 pagemap bits "
                      "55-60 were used for \"page-shift\"'; removed by deb945441b94 (4.2)"),
                  width=6)
PM_FIELDS: tuple[PmBit, ...] = (PM_PSHIFT,)

PM_BITS: tuple[PmBit, ...] = (
    PmBit(55, "PM_SOFT_DIRTY",
          "pte is soft-dirty (Documentation/admin-guide/mm/soft-dirty.rst); also set for "
          "every page of a VMA with VM_SOFTDIRTY (3.11-4.1: only once soft-dirty bits were "
          "cleared, PM_PSHIFT otherwise)",
          Era(v("4.2"), None, f"{_FLAGS_SINCE_4_2}; {_TASK_MMU}")),
    PmBit(56, "PM_MMAP_EXCLUSIVE",
          "page exclusively mapped (present pages only; for large folios: certainly mapped "
          "only by this process, 7.2 text)", Era(v("4.2"), None, f"{_RST} 'since 4.2'")),
    PmBit(57, "PM_UFFD_WP",
          "pte is uffd-wp write-protected: a present pte, a swap pte with the swap uffd-wp "
          "bit, or a PTE_MARKER_UFFD_WP marker", Era(v("5.13"), None, f"{_RST} 'since 5.13'"),
          key="uffd_wp"),
    PmBit(58, "PM_GUARD_REGION",
          "pte is a guard region marker (MADV_GUARD_INSTALL)",
          Era(v("6.15"), None, f"{_RST} 7.2 'since 6.15'; absent in 6.12")),
    PmBit(61, "PM_FILE",
          "page is a file page or shared-anon (its folio is not anonymous: shmem included)",
          Era(v("3.5"), None, f"{_RST} 'since 3.5'"), key="file_shared"),
    PmBit(62, "PM_SWAP",
          "page swapped: any non-present swap-format pte (swap, migration, device, hwpoison "
          "entries and PTE markers alike)", Era(None, None, _SINCE_PAGEMAP)),
    PmBit(63, "PM_PRESENT", "page present (pte_present: PROT_NONE ptes included)",
          Era(None, None, _SINCE_PAGEMAP)),
)
BY_NAME = {b.name: b for b in PM_BITS}
PM_SWAP = BY_NAME["PM_SWAP"].mask
PM_PRESENT = BY_NAME["PM_PRESENT"].mask

#: PFN visibility: a capability rule, not a bit.
PFN_HIDDEN_SINCE = Era(v("4.2"), None,
                       f"{_RST}: 'Starting from 4.2 the PFN field is zeroed if the user does "
                       "not have CAP_SYS_ADMIN'; fs/proc/task_mmu.c pagemap_read: show_pfn = "
                       "file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN)")
#: Before that, from 4.0, pagemap_open refused such openers: "In 4.0 and 4.1 opens by
#: unprivileged fail with -EPERM" (pagemap.rst; pagemap_open's capable(CAP_SYS_ADMIN)
#: check, read in torvalds/linux fs/proc/task_mmu.c at deb945441b94)
PFN_OPEN_REFUSED = Era(v("4.0"), PFN_HIDDEN_SINCE.since,
                       f"{_RST} 'In 4.0 and 4.1 opens by unprivileged fail with -EPERM'; "
                       "fs/proc/task_mmu.c pagemap_open (deb945441b94)")
PFN_HIDDEN_NOTE = ("PFNs hidden: /proc/PID/pagemap zeroes bits 0-54 for openers without "
                   "CAP_SYS_ADMIN in the initial user namespace (since 4.2), so pfn and the "
                   "swap type/offset are null, not zero")


def bits_for(kv: KernelVersion) -> tuple[PmBit, ...]:
    """The flag bits this kernel defines."""
    return tuple(b for b in PM_BITS if b.era.contains(kv))


def fields_for(kv: KernelVersion) -> tuple[PmBit, ...]:
    """The fields of the upper bits this kernel defines (PM_PSHIFT before 4.2)."""
    return tuple(f for f in PM_FIELDS if f.era.contains(kv))


def known_mask(kv: KernelVersion) -> int:
    """Every bit this kernel may set: the frame field, its flag bits and fields."""
    m = PM_PFRAME_MASK
    for b in bits_for(kv) + fields_for(kv):
        m |= b.mask
    return m


def flag_names(value: int, bits: tuple[PmBit, ...]) -> tuple[str, ...]:
    return tuple(b.name for b in bits if value & b.mask)


def split_frame(value: int) -> tuple[int, int]:
    """A swapped entry's frame as pagemap encodes it: (swp_type, swp_offset)."""
    frame = value & PM_PFRAME_MASK
    return frame & _SWP_TYPE_MASK, frame >> MAX_SWAPFILES_SHIFT


__all__ = ["PmBit", "PM_BITS", "PM_FIELDS", "PM_PSHIFT", "PM_PFRAME_MASK", "PM_PFRAME_BITS",
           "PM_ENTRY_BYTES", "PM_SWAP", "PM_PRESENT", "bits_for",
           "fields_for", "known_mask", "flag_names", "split_frame", "PFN_HIDDEN_NOTE",
           "PFN_HIDDEN_SINCE", "PFN_OPEN_REFUSED"]
