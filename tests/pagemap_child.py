"""A child process that puts its own memory into known page states for the pagemap tests.

Run as ``python tests/pagemap_child.py``.  It builds every state it can on this kernel, then
prints ONE JSON line on stdout::

    {"pid": ..., "page_size": 4096, "regions": {NAME: {"start": ADDR, "pages": N}},
     "expect": {NAME: [[first_page, n_pages, STATE, {key: value}], ...]},
     "skip": {NAME: "why the kernel could not build it"}, "features": {...}}

and waits until its stdin closes (the test reads its pages meanwhile), then exits.

Everything here talks to the kernel directly through ctypes: userfaultfd(2) with
UFFD_USER_MODE_ONLY, UFFDIO_API / UFFDIO_REGISTER / UFFDIO_WRITEPROTECT, mmap, mprotect,
madvise.  Constants are restated from the kernel's UAPI headers (include/uapi/linux/
userfaultfd.h, include/uapi/asm-generic/mman-common.h, as in 6.12 and 7.2); the struct
layouts are the headers' ``__u64`` fields in order.

Each region gets an unmapped page on both sides so that neighbouring anonymous mappings
never merge into one VMA (the tests also check the VMA each page is reported in).
"""

from __future__ import annotations

import ctypes
import errno
import json
import mmap
import os
import platform
import struct
import sys

PAGE = mmap.PAGESIZE

# --- syscall numbers: arch/x86/entry/syscalls/syscall_64.tbl (323),
#     include/uapi/asm-generic/unistd.h __NR_userfaultfd (282, arm64) ----------------------
NR_USERFAULTFD = {"x86_64": 323, "aarch64": 282, "arm64": 282}

# --- include/uapi/linux/userfaultfd.h --------------------------------------------------
UFFD_USER_MODE_ONLY = 1
UFFD_API = 0xAA
UFFD_FEATURE_WP_HUGETLBFS_SHMEM = 1 << 12
UFFD_FEATURE_WP_UNPOPULATED = 1 << 13
UFFD_FEATURE_WP_ASYNC = 1 << 15
UFFDIO_REGISTER_MODE_WP = 1 << 1
UFFDIO_WRITEPROTECT_MODE_WP = 1 << 0
_UFFDIO_REGISTER, _UFFDIO_WRITEPROTECT, _UFFDIO_API = 0x00, 0x06, 0x3F


def _iowr(type_: int, nr: int, size: int) -> int:
    """_IOWR() of include/uapi/asm-generic/ioctl.h (x86_64, arm64: dir bits 30-31 = 3)."""
    return (3 << 30) | (size << 16) | (type_ << 8) | nr


UFFDIO_API = _iowr(0xAA, _UFFDIO_API, 24)  # struct uffdio_api: api, features, ioctls
UFFDIO_REGISTER = _iowr(0xAA, _UFFDIO_REGISTER, 32)  # range.start, range.len, mode, ioctls
UFFDIO_WRITEPROTECT = _iowr(0xAA, _UFFDIO_WRITEPROTECT, 24)  # range.start, range.len, mode

# --- include/uapi/asm-generic/mman-common.h, linux/mman.h --------------------------------
PROT_NONE, PROT_READ, PROT_WRITE = 0, 1, 2
MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS = 0x01, 0x02, 0x20
MADV_HUGEPAGE = 14
MADV_PAGEOUT = 21
MADV_GUARD_INSTALL = 102  # 6.13+ (Lorenzo Stoakes, guard regions)

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]

MAP_FAILED = ctypes.c_void_p(-1).value


class KernelSays(Exception):
    """A call failed: the state cannot be built on this kernel (the reason is the text)."""


def _check(ret: int, what: str) -> int:
    if ret == -1 or ret == MAP_FAILED:
        e = ctypes.get_errno()
        raise KernelSays(f"{what}: {errno.errorcode.get(e, e)} ({os.strerror(e)})")
    return ret


def region(pages: int, flags: int = MAP_PRIVATE | MAP_ANONYMOUS, align: int = PAGE) -> int:
    """mmap ``pages`` RW pages with an unmapped page on each side (no VMA merging)."""
    total = pages * PAGE + 2 * PAGE + align
    base = _check(libc.mmap(None, total, PROT_READ | PROT_WRITE, flags, -1, 0), "mmap")
    start = (base + PAGE + align - 1) // align * align
    if start - base:
        _check(libc.munmap(base, start - base), "munmap")
    end = start + pages * PAGE
    _check(libc.munmap(end, base + total - end), "munmap")  # at least 2 pages: see total
    return start


def touch(addr: int, pages: int, byte: int = 0x5A) -> None:
    for i in range(pages):
        ctypes.memset(addr + i * PAGE, byte, 1)


def read_only_touch(addr: int, pages: int) -> None:
    for i in range(pages):
        ctypes.c_char.from_address(addr + i * PAGE).value  # a read fault: the zero page


#: include/uapi/linux/userfaultfd.h: USERFAULTFD_IOC_NEW = _IO(USERFAULTFD_IOC 0xAA, 0x00)
USERFAULTFD_IOC_NEW = 0xAA << 8


def _sysctl(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as e:
        return f"unreadable ({e.strerror})"


def uffd_open() -> int:
    """userfaultfd(2) with UFFD_USER_MODE_ONLY (allowed whatever vm.unprivileged_userfaultfd
    says, 5.11+); where the syscall is refused (seccomp, old kernels), /dev/userfaultfd."""
    flags = os.O_CLOEXEC | os.O_NONBLOCK | UFFD_USER_MODE_ONLY
    nr = NR_USERFAULTFD.get(platform.machine())
    why = f"userfaultfd syscall number unknown for {platform.machine()}"
    if nr is not None:
        fd = libc.syscall(nr, flags)
        if fd >= 0:
            return fd
        e = ctypes.get_errno()
        why = (f"userfaultfd(UFFD_USER_MODE_ONLY): {errno.errorcode.get(e, e)} "
               f"({os.strerror(e)}); vm.unprivileged_userfaultfd = "
               f"{_sysctl('/proc/sys/vm/unprivileged_userfaultfd')}")
    try:
        dev = os.open("/dev/userfaultfd", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        raise KernelSays(f"{why}; /dev/userfaultfd: {e.strerror}") from None
    try:
        fd = libc.ioctl(dev, USERFAULTFD_IOC_NEW, ctypes.c_void_p(flags))
    finally:
        os.close(dev)
    return _check(fd, f"{why}; /dev/userfaultfd USERFAULTFD_IOC_NEW")


def uffd_api(fd: int, features: int) -> int:
    buf = ctypes.create_string_buffer(struct.pack("QQQ", UFFD_API, features, 0), 24)
    _check(libc.ioctl(fd, UFFDIO_API, buf), f"UFFDIO_API(features={features:#x})")
    return struct.unpack("QQQ", buf.raw)[1]


def uffd_features() -> int:
    """What this kernel offers: UFFDIO_API with no features asked returns them all (a
    context accepts one UFFDIO_API call, so the probe uses its own descriptor)."""
    fd = uffd_open()
    try:
        return uffd_api(fd, 0)
    finally:
        os.close(fd)


def uffd_register_wp(fd: int, addr: int, length: int) -> None:
    buf = ctypes.create_string_buffer(struct.pack("QQQQ", addr, length,
                                                  UFFDIO_REGISTER_MODE_WP, 0), 32)
    _check(libc.ioctl(fd, UFFDIO_REGISTER, buf), "UFFDIO_REGISTER(MODE_WP)")


def uffd_writeprotect(fd: int, addr: int, length: int) -> None:
    buf = ctypes.create_string_buffer(struct.pack("QQQ", addr, length,
                                                  UFFDIO_WRITEPROTECT_MODE_WP), 24)
    _check(libc.ioctl(fd, UFFDIO_WRITEPROTECT, buf), "UFFDIO_WRITEPROTECT(MODE_WP)")


def smaps_field(addr: int, field: str) -> int | None:
    """The kB value of ``field`` for the VMA starting at ``addr``, from our own smaps."""
    want = f"{addr:x}-"
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(" ", 1)[0]
            if not head.endswith(":"):  # a VMA header line: "start-end perms ..."
                inside = head.startswith(want)
            elif inside and head == field + ":":
                return int(line.split()[1])
    return None


def sees_swap_types() -> bool:
    """Whether a reader with this process's credentials (the tests read with the same) sees
    the frame of swapped entries: CAP_SYS_ADMIN in the initial user namespace
    (fs/proc/task_mmu.c pagemap_read: show_pfn).  Without it the swap type is zeroed and
    a swap entry reads as "swapped", not "swap"."""
    with open("/proc/self/status") as f:
        eff = next((int(line.split()[1], 16) for line in f if line.startswith("CapEff:")), 0)
    if not eff >> 21 & 1:  # CAP_SYS_ADMIN, include/uapi/linux/capability.h
        return False
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split()[:3] == ["0", "0", "4294967295"]
    except OSError:
        return True


def build() -> dict:
    out: dict = {"pid": os.getpid(), "page_size": PAGE, "regions": {}, "expect": {},
                 "skip": {}, "features": {}}
    regions, expect, skip = out["regions"], out["expect"], out["skip"]
    keep: list[int] = []  # uffd descriptors stay open while the test reads

    def add(name: str, start: int, pages: int, states: list) -> None:
        regions[name] = {"start": start, "pages": pages}
        expect[name] = states

    # present anonymous pages (written: a private page of our own, mapped once)
    a = region(8)
    touch(a, 8)
    add("anon_present", a, 8, [[0, 8, "present", {"exclusive": True, "file_shared": False,
                                                  "uffd_wp": False}]])

    # a never-touched range
    a = region(8)
    add("anon_untouched", a, 8, [[0, 8, "none", {}]])

    # read faults on private anonymous memory map the shared zero page
    a = region(4)
    read_only_touch(a, 4)
    add("anon_zero", a, 4, [[0, 4, "present", {"zero_page": True, "exclusive": False}]])

    # MAP_SHARED anonymous memory is shmem: its pages are not anon folios (PM_FILE)
    a = region(8, MAP_SHARED | MAP_ANONYMOUS)
    touch(a, 4)
    add("shared", a, 8, [[0, 4, "present", {"file_shared": True}], [4, 4, "none", {}]])

    # PROT_NONE: written pages stay mapped as PROT_NONE PTEs (pte_present), the rest none
    a = region(8)
    touch(a, 4)
    _check(libc.mprotect(a, 8 * PAGE, PROT_NONE), "mprotect(PROT_NONE)")
    add("protnone", a, 8, [[0, 4, "protnone", {}], [4, 4, "none", {}]])

    # guard regions: installing zaps what was there and leaves GUARD markers
    a = region(8)
    touch(a, 4)
    if libc.madvise(a + 2 * PAGE, 4 * PAGE, MADV_GUARD_INSTALL) == 0:
        add("guard", a, 8, [[0, 2, "present", {}], [2, 4, "marker", {"guard": True,
                                                                     "markers": ["GUARD"]}],
                            [6, 2, "none", {}]])
    else:
        e = ctypes.get_errno()
        skip["guard"] = (f"madvise(MADV_GUARD_INSTALL) failed with {errno.errorcode.get(e, e)}: "
                         "this kernel has no guard regions (6.13+)")

    # userfaultfd write-protect
    try:
        feats = uffd_features()
    except KernelSays as e:
        feats = None
        for name in ("uffd_wp", "uffd_wp_unpopulated", "uffd_async"):
            skip[name] = f"{e}; userfaultfd unavailable"
    out["features"]["uffd"] = feats
    if feats is not None:
        # (1) synchronous WP: present pages gain uffd-wp; with WP_UNPOPULATED the
        # unpopulated ones become uffd-wp PTE markers.  Nothing writes to this range.
        want = feats & UFFD_FEATURE_WP_UNPOPULATED
        try:
            fd = uffd_open()
            keep.append(fd)
            uffd_api(fd, want)
            a = region(16)
            touch(a, 8)
            uffd_register_wp(fd, a, 16 * PAGE)
            uffd_writeprotect(fd, a, 16 * PAGE)
            regions["uffd_wp"] = {"start": a, "pages": 8}
            expect["uffd_wp"] = [[0, 8, "present", {"uffd_wp": True}]]
            if want:
                regions["uffd_wp_unpopulated"] = {"start": a + 8 * PAGE, "pages": 8}
                expect["uffd_wp_unpopulated"] = [[0, 8, "marker", {"uffd_wp": True,
                                                                   "markers": ["UFFD_WP"]}]]
            else:
                skip["uffd_wp_unpopulated"] = ("UFFD_FEATURE_WP_UNPOPULATED not offered by "
                                               "this kernel (6.4+)")
        except KernelSays as e:
            skip["uffd_wp"] = skip["uffd_wp_unpopulated"] = str(e)

        # (2) asynchronous WP: a write resolves the fault in the kernel and clears uffd-wp,
        # which PAGEMAP_SCAN reports as PAGE_IS_WRITTEN.
        if feats & UFFD_FEATURE_WP_ASYNC:
            try:
                fd = uffd_open()
                keep.append(fd)
                uffd_api(fd, UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)
                a = region(16)
                touch(a, 8)
                uffd_register_wp(fd, a, 16 * PAGE)
                uffd_writeprotect(fd, a, 16 * PAGE)
                touch(a, 4, 0x77)                 # present, protected, then written
                touch(a + 8 * PAGE, 4, 0x77)      # a marker, then written
                add("uffd_async", a, 16, [
                    [0, 4, "present", {"uffd_wp": False, "written": True, "wp_allowed": True}],
                    [4, 4, "present", {"uffd_wp": True, "written": False, "wp_allowed": True}],
                    [8, 4, "present", {"uffd_wp": False, "written": True, "wp_allowed": True}],
                    [12, 4, "marker", {"uffd_wp": True, "written": False, "wp_allowed": True,
                                       "markers": ["UFFD_WP"]}],
                ])
            except KernelSays as e:
                skip["uffd_async"] = str(e)
        else:
            skip["uffd_async"] = "UFFD_FEATURE_WP_ASYNC not offered by this kernel (6.7+)"

    # transparent huge pages, where THP hands us one (not guaranteed: fragmentation, policy)
    huge = 2 << 20
    try:
        a = region(huge // PAGE, align=huge)
        libc.madvise(a, huge, MADV_HUGEPAGE)
        touch(a, 1)
        if (smaps_field(a, "AnonHugePages") or 0) >= huge // 1024:
            add("thp", a, huge // PAGE, [[0, huge // PAGE, "present", {"huge": True}]])
        else:
            skip["thp"] = ("the kernel did not back a MADV_HUGEPAGE range with a THP "
                           "(transparent_hugepage disabled or no free 2 MiB page)")
    except KernelSays as e:
        skip["thp"] = str(e)

    # real swap entries need a swap device and a page the kernel agrees to page out
    try:
        with open("/proc/swaps") as f:
            has_swap = len(f.read().strip().splitlines()) > 1
    except OSError:
        has_swap = False
    if not has_swap:
        skip["swapped"] = "no swap device is active (/proc/swaps is empty)"
    else:
        a = region(4)
        touch(a, 4)
        if (libc.madvise(a, 4 * PAGE, MADV_PAGEOUT) == 0
                and (smaps_field(a, "Swap") or 0) >= 4 * PAGE // 1024):
            add("swapped", a, 4, [[0, 4, "swap" if sees_swap_types() else "swapped", {}]])
        else:
            skip["swapped"] = "MADV_PAGEOUT did not swap the pages out"

    out["keep"] = keep
    return out


def main() -> None:
    out = build()
    keep = out.pop("keep")
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # hold every state until the test is done
    for fd in keep:
        os.close(fd)


if __name__ == "__main__":
    main()
