"""The PAGEMAP_SCAN ioctl on an open /proc/PID/pagemap (6.7+), read-only use.

Struct layouts, the ioctl number and the category bits are data restated from
include/uapi/linux/fs.h (Debian linux-source 6.12.117 and 7.2.13; the only difference is
PAGE_IS_GUARD, in 7.2 only) and Documentation/admin-guide/mm/pagemap.rst.  The scan passes
no PM_SCAN_* flag (PM_SCAN_WP_MATCHING write-protects, PM_SCAN_CHECK_WPASYNC fails on
non-WP VMAs): uffdpte looks, it never write-protects.

Unavailable is a normal answer: ENOTTY (no such ioctl: before 6.7, or pagemap without
PAGEMAP_SCAN) and EINVAL (a category this kernel does not know) are turned into a reason
the caller prints, and the view falls back to pagemap alone.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
from typing import Iterator

from ..kver import KernelVersion
from ..layouts.model import Era, v
from .entries import PmBit

_FS_H = "include/uapi/linux/fs.h"
#: 52526ca7fdb9 "fs/proc/task_mmu: implement IOCTL to get and optionally clear info about
#: PTEs" (Muhammad Usama Anjum; linux-next 2023-08-21, v6.7-rc1 by the Fixes: records
#: citing it; 6.6.y has it only as a distro backport); present in 6.12 and 7.2 fs.h.
#: The v6.7 tag itself was not read: "verified" stays False.
PAGEMAP_SCAN_ERA = Era(v("6.7"), None, f"{_FS_H} PAGEMAP_SCAN (6.12, 7.2); fs/proc/task_mmu.c "
                       "52526ca7fdb9, merged for 6.7", verified=False)

# --- struct layouts (include/uapi/linux/fs.h), every field __u64, in order ---------------
PM_SCAN_ARG_FIELDS: tuple[str, ...] = (
    "size", "flags", "start", "end", "walk_end", "vec", "vec_len", "max_pages",
    "category_inverted", "category_mask", "category_anyof_mask", "return_mask")
PAGE_REGION_FIELDS: tuple[str, ...] = ("start", "end", "categories")


def _struct(name: str, fields: tuple[str, ...]) -> type[ctypes.Structure]:
    return type(name, (ctypes.Structure,), {"_fields_": [(f, ctypes.c_uint64) for f in fields]})


PmScanArg = _struct("pm_scan_arg", PM_SCAN_ARG_FIELDS)
PageRegion = _struct("page_region", PAGE_REGION_FIELDS)

# --- the ioctl number: _IOWR(PROCFS_IOCTL_MAGIC 'f', 16, struct pm_scan_arg) -------------
#: include/uapi/asm-generic/ioctl.h (x86_64, arm64): nr bits 0-7, type 8-15, size 16-29,
#: direction 30-31 with _IOC_WRITE = 1, _IOC_READ = 2
_IOC_NRSHIFT, _IOC_TYPESHIFT, _IOC_SIZESHIFT, _IOC_DIRSHIFT = 0, 8, 16, 30
_IOC_WRITE, _IOC_READ = 1, 2
PROCFS_IOCTL_MAGIC = ord("f")
PAGEMAP_SCAN_NR = 16


def _iowr(type_: int, nr: int, size: int) -> int:
    return (((_IOC_READ | _IOC_WRITE) << _IOC_DIRSHIFT) | (size << _IOC_SIZESHIFT)
            | (type_ << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT))


PAGEMAP_SCAN = _iowr(PROCFS_IOCTL_MAGIC, PAGEMAP_SCAN_NR, ctypes.sizeof(PmScanArg))

_DOC = "Documentation/admin-guide/mm/pagemap.rst"
#: The category bits, as entries.PmBit rows: ``key`` names the pagemap record key a
#: category feeds as it is ("" = only the "scan" list).
CATEGORIES: tuple[PmBit, ...] = (
    PmBit(0, "PAGE_IS_WPALLOWED", "the VMA has async uffd-wp (UFFD_FEATURE_WP_ASYNC with "
          "markers)", PAGEMAP_SCAN_ERA, key="wp_allowed"),
    PmBit(1, "PAGE_IS_WRITTEN", "not uffd-wp protected: written since it was write-protected, "
          "or never protected (any page outside async-WP VMAs reads as written)",
          PAGEMAP_SCAN_ERA, key="written"),
    PmBit(2, "PAGE_IS_FILE", "file backed (folio not anonymous)", PAGEMAP_SCAN_ERA),
    PmBit(3, "PAGE_IS_PRESENT", "present in memory", PAGEMAP_SCAN_ERA),
    PmBit(4, "PAGE_IS_SWAPPED", "a swap-format pte (markers included)", PAGEMAP_SCAN_ERA),
    PmBit(5, "PAGE_IS_PFNZERO", "maps the zero page (is_zero_pfn)", PAGEMAP_SCAN_ERA,
          key="zero_page"),
    PmBit(6, "PAGE_IS_HUGE", "PMD-mapped THP or hugetlb", PAGEMAP_SCAN_ERA, key="huge"),
    PmBit(7, "PAGE_IS_SOFT_DIRTY", "soft-dirty", PAGEMAP_SCAN_ERA),
    # a516403787e0 "fs/proc: extend the PAGEMAP_SCAN ioctl to report guard regions" (Andrei
    # Vagin): committed to the mm tree 2025-05-12, after 6.15-rc1 (2025-04-06), so not in
    # 6.15 (which has PM_GUARD_REGION only); it is among the 6.16-rc1 changes the tools/
    # uapi header sync of 2025-06-09 picks up.  The v6.16 tag was not read.
    PmBit(8, "PAGE_IS_GUARD", "part of a guard region",
          Era(v("6.16"), None, f"{_FS_H} 7.2 (absent in 6.12); {_DOC} 7.2; fs/proc/task_mmu.c "
              "a516403787e0 (6.16)", verified=False)),
)
BY_NAME = {c.name: c for c in CATEGORIES}
PAGE_IS_WRITTEN = BY_NAME["PAGE_IS_WRITTEN"].mask
PAGE_IS_PRESENT = BY_NAME["PAGE_IS_PRESENT"].mask
PAGE_IS_PFNZERO = BY_NAME["PAGE_IS_PFNZERO"].mask
PAGE_IS_GUARD = BY_NAME["PAGE_IS_GUARD"].mask
#: (record key, mask) of the categories that feed a record key as they are
KEYED: tuple[tuple[str, int], ...] = tuple((c.key, c.mask) for c in CATEGORIES if c.key)


def category_names(mask: int) -> tuple[str, ...]:
    return tuple(c.name for c in CATEGORIES if mask & c.mask)


class ScanUnavailable(Exception):
    """PAGEMAP_SCAN cannot be used here; str() says why ("the kernel has no such ...")."""


class ScanFailed(OSError):
    """The ioctl failed mid-scan (the process exited, ...): an error, not a fallback."""


#: regions fetched per ioctl: 4096 x 24 bytes = 96 KiB, whatever the range
VEC_LEN = 4096


class Scanner:
    """PAGEMAP_SCAN over one pagemap descriptor, asking for every category it can.

    ``probe()`` settles which categories the kernel accepts: those the tables date to this
    kernel first, then, on EINVAL, dropping the newest one by one."""

    def __init__(self, fd: int, kv: KernelVersion) -> None:
        self.fd = fd
        self.kv = kv
        self.categories = tuple(c for c in CATEGORIES if c.era.contains(kv)) or CATEGORIES
        self.dropped: list[str] = []
        self._vec = (PageRegion * VEC_LEN)()
        self._arg = PmScanArg()

    @property
    def mask(self) -> int:
        return sum(c.mask for c in self.categories)

    def _call(self, start: int, end: int, vec_len: int) -> int:
        a = self._arg
        a.size = ctypes.sizeof(PmScanArg)
        a.flags = 0
        a.start, a.end, a.walk_end = start, end, 0
        a.vec = ctypes.addressof(self._vec) if vec_len else 0
        a.vec_len = vec_len
        a.max_pages = 0
        a.category_inverted = a.category_mask = a.category_anyof_mask = 0
        a.return_mask = self.mask
        return fcntl.ioctl(self.fd, PAGEMAP_SCAN, a)

    def probe(self, addr: int) -> None:
        """Raise ScanUnavailable with the reason, or return with the categories settled.
        An empty walk (start == end, no vector) exercises only the argument checks."""
        while True:
            try:
                self._call(addr, addr, 0)
                return
            except OSError as e:
                if e.errno == errno.ENOTTY:
                    raise ScanUnavailable("the kernel has no such ioctl (ENOTTY; it came in "
                                          "6.7)") from None
                if e.errno == errno.EINVAL and len(self.categories) > 1:
                    newest = max(self.categories, key=lambda c: c.era.since or (0, 0, 0))
                    self.dropped.append(newest.name)
                    self.categories = tuple(c for c in self.categories if c is not newest)
                    continue
                if e.errno == errno.EINVAL:
                    raise ScanUnavailable("the kernel rejects it (EINVAL)") from None
                raise ScanUnavailable(f"{errno.errorcode.get(e.errno, e.errno)} "
                                      f"({os.strerror(e.errno or 0)})") from None

    def regions(self, start: int, end: int) -> Iterator[tuple[int, int, int]]:
        """(start, end, categories) for [start, end) in address order; pages in no region
        were not reported (VM_PFNMAP VMAs, or no VMA)."""
        cur = start
        while cur < end:
            try:
                n = self._call(cur, end, VEC_LEN)
            except OSError as e:
                raise ScanFailed(e.errno, os.strerror(e.errno or 0)) from None
            vec = self._vec
            for i in range(n):
                r = vec[i]
                yield r.start, r.end, r.categories
            # walk_end == end: the walk is complete; less means the vector filled up
            walk_end = self._arg.walk_end
            if walk_end >= end:
                return
            if walk_end <= cur:  # no progress: never loop forever on a kernel surprise
                raise ScanFailed(errno.EIO, f"PAGEMAP_SCAN made no progress at {cur:#x}")
            cur = walk_end
