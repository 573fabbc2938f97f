"""The pagemap and PAGEMAP_SCAN tables, the entry reading, maps and RANGE parsing — the
parts that need no particular kernel state (the live tests are test_pagemap_live.py)."""

from __future__ import annotations

import ctypes
import errno
import os
import re

import pytest

from uffdpte.kver import parse_kernel
from uffdpte.pagemap import entries as E
from uffdpte.pagemap import scan_ioctl as S
from uffdpte.pagemap.maps import Vma, clip, gaps, parse_line, parse_maps, parse_range
from uffdpte.pagemap.reading import Context, classify, record
from uffdpte.pagemap.running import running


# --- the bit tables restate the kernel (kernel-facts §1.1; fs/proc/task_mmu.c) -----------

def test_pagemap_bits_are_the_kernels():
    got = {b.name: b.bit for b in E.PM_BITS}
    assert got == {"PM_SOFT_DIRTY": 55, "PM_MMAP_EXCLUSIVE": 56, "PM_UFFD_WP": 57,
                   "PM_GUARD_REGION": 58, "PM_FILE": 61, "PM_SWAP": 62, "PM_PRESENT": 63}
    assert E.PM_PFRAME_MASK == (1 << 55) - 1
    # every row names where it was read: a kernel tree path or a commit id
    for row in E.PM_BITS + E.PM_FIELDS + S.CATEGORIES:
        assert _KERNEL_SOURCE.search(row.era.source), (row.name, row.era.source)
    for era in (E.PFN_HIDDEN_SINCE, E.PFN_OPEN_REFUSED, S.PAGEMAP_SCAN_ERA):
        assert _KERNEL_SOURCE.search(era.source), era.source


#: a kernel tree path (Documentation/..., fs/...c, include/...h) or a 12-hex commit id
_KERNEL_SOURCE = re.compile(r"\b(?:(?:Documentation|fs|include|mm|arch)/[\w/.-]+\.(?:c|h|rst)"
                            r"|[0-9a-f]{12})\b")


def test_page_shift_before_4_2():
    """Bits 55-60 were the page shift before 4.2 (PM_PSHIFT), flags from 4.2 on; the
    field is part of what a pre-4.2 kernel may set."""
    assert E.PM_PSHIFT.mask == 0x3F << 55
    old, new = parse_kernel("4.1"), parse_kernel("4.2")
    assert E.fields_for(old) == (E.PM_PSHIFT,) and E.fields_for(new) == ()
    assert E.known_mask(old) & E.PM_PSHIFT.mask == E.PM_PSHIFT.mask
    assert "PM_SOFT_DIRTY" not in {b.name for b in E.bits_for(old)}
    assert "PM_SOFT_DIRTY" in {b.name for b in E.bits_for(new)}


def test_table_keys_are_reading_fields():
    """The record keys the tables feed are PmReading fields (classify passes them as is)."""
    import dataclasses

    from uffdpte.pagemap.reading import PmReading
    fields = {f.name for f in dataclasses.fields(PmReading)}
    keys = {b.key for b in E.PM_BITS + S.CATEGORIES if b.key}
    assert keys == {"uffd_wp", "file_shared", "wp_allowed", "written", "zero_page", "huge"}
    assert keys <= fields


@pytest.mark.parametrize("kernel,has", [("4.19", {"PM_MMAP_EXCLUSIVE"}),
                                        ("5.13", {"PM_UFFD_WP"}),
                                        ("6.12", {"PM_UFFD_WP"}),
                                        ("6.15", {"PM_GUARD_REGION"})])
def test_bits_follow_releases(kernel, has):
    names = {b.name for b in E.bits_for(parse_kernel(kernel))}
    assert has <= names
    if parse_kernel(kernel).key < (6, 15, 0):
        assert "PM_GUARD_REGION" not in names
    if parse_kernel(kernel).key < (5, 13, 0):
        assert "PM_UFFD_WP" not in names


def test_scan_structs_and_ioctl_number():
    # include/uapi/linux/fs.h: 12 __u64 and 3 __u64; _IOWR('f', 16, struct pm_scan_arg)
    assert ctypes.sizeof(S.PmScanArg) == 96 and ctypes.sizeof(S.PageRegion) == 24
    assert S.PAGEMAP_SCAN == 0xC0606610
    assert [c.bit for c in S.CATEGORIES] == list(range(9))
    assert S.PAGE_IS_WRITTEN == 2 and S.PAGE_IS_PFNZERO == 32 and S.PAGE_IS_GUARD == 256
    assert "PAGE_IS_GUARD" not in {c.name for c in S.Scanner(-1, parse_kernel("6.12")).categories}


def test_scan_unavailable_says_why():
    """A descriptor without PAGEMAP_SCAN answers ENOTTY, like a pre-6.7 pagemap."""
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        with pytest.raises(S.ScanUnavailable, match="ENOTTY"):
            S.Scanner(fd, parse_kernel("6.12")).probe(0x10000)
    finally:
        os.close(fd)


def test_scan_drops_categories_the_kernel_rejects(monkeypatch):
    """EINVAL for an unknown category (PAGE_IS_GUARD before 6.16): retry without it."""
    s = S.Scanner(-1, parse_kernel("7.2"))
    assert s.mask & S.PAGE_IS_GUARD

    def call(start, end, vec_len):
        if s.mask & S.PAGE_IS_GUARD:
            raise OSError(errno.EINVAL, "Invalid argument")
        return 0
    monkeypatch.setattr(s, "_call", call)
    s.probe(0x10000)
    assert s.dropped == ["PAGE_IS_GUARD"] and not s.mask & S.PAGE_IS_GUARD


# --- reading synthetic entries (values as the 6.18 kernel writes them) -------------------

ANON = Vma(0x7f0000000000, 0x7f0000010000, "rw-p", 0, "00:00", 0, "")
NONE_VMA = Vma(0x7f0000000000, 0x7f0000010000, "---p", 0, "00:00", 0, "")


def ctx(show_pfn: bool = True, kernel: str = "6.18", config: str = "all") -> Context:
    from uffdpte.classify import decoder_for
    r = running(config=config, release=kernel)
    return Context(r.profile, decoder_for(r.profile), show_pfn)


def read(value: int, vma: Vma = ANON, cats=None, show_pfn=True, has_swap=False, **kw):
    c = ctx(show_pfn, **kw)
    r = classify(c, value, vma, cats, lambda: has_swap)
    return r, record(c, r, value, vma.start, 1, vma, 1)


def test_present_with_pfn():
    r, d = read(0x810000000012DE1F, cats=S.PAGE_IS_PRESENT | S.PAGE_IS_WRITTEN)
    assert (d["state"], d["pfn"], d["exclusive"], d["uffd_wp"]) == ("present", 0x12DE1F, True,
                                                                      False)
    assert d["flags"] == ["PM_MMAP_EXCLUSIVE", "PM_PRESENT"] and d["written"] is True
    assert d["zero_page"] is False and d["huge"] is False


def test_present_pfn_hidden_is_null_not_zero():
    r, d = read(0x8100000000000000, show_pfn=False)
    assert d["pfn"] is None and d["state"] == "present"
    assert any("hidden" in n for n in d["notes"])


def test_protnone_from_the_vma():
    assert read(0x8100000000108F97, vma=NONE_VMA)[1]["state"] == "protnone"


def test_uffd_wp_marker_with_frame():
    r, d = read(0x420000000000003F)  # PM_SWAP | PM_UFFD_WP, type 31, offset 1
    assert (d["state"], d["subtype"], d["markers"], d["swp_type"], d["swp_offset"]) == \
        ("marker", "pte_marker", ["UFFD_WP"], 31, 1)
    assert d["type_name"] == "SWP_PTE_MARKER" and d["uffd_wp"] is True and d["guard"] is False
    assert d["swp_entry"] == "0x%016x" % (31 << 58 | 1) and d["pfn"] is None


def test_guard_marker_with_and_without_frame():
    d = read(0x440000000000009F)[1]  # PM_SWAP | PM_GUARD_REGION, type 31, offset 4
    assert (d["state"], d["markers"], d["guard"], d["swp_offset"]) == ("marker", ["GUARD"],
                                                                        True, 4)
    d = read(0x4400000000000000, show_pfn=False)[1]
    assert (d["state"], d["markers"], d["guard"], d["swp_type"]) == ("marker", ["GUARD"], True,
                                                                      None)


def test_hidden_uffd_wp_swap_entry_is_a_marker_only_without_swap():
    d = read(0x4200000000000000, show_pfn=False, has_swap=False)[1]
    assert d["state"] == "marker" and d["markers"] == ["UFFD_WP"]
    d = read(0x4200000000000000, show_pfn=False, has_swap=True)[1]
    assert d["state"] == "swapped" and d["markers"] == [] and d["uffd_wp"] is True
    d = read(0x4000000000000000, show_pfn=False)[1]
    assert d["state"] == "swapped" and any("hidden" in n for n in d["notes"])


def test_real_swap_and_migration_types_by_config():
    # type 3, offset 0x1234: a real swap entry
    d = read(0x4000000000000000 | 0x1234 << 5 | 3)[1]
    assert (d["state"], d["swp_type"], d["swp_offset"], d["pfn"]) == ("swap", 3, 0x1234, None)
    # MIGRATION=y, MEMORY_FAILURE=n, DEVICE_PRIVATE=n on 6.18: MAX_SWAPFILES 28,
    # migration read/read-exclusive/write 28/29/30, marker 31 (include/linux/swap.h)
    cfg = "all,MIGRATION=y,MEMORY_FAILURE=n,DEVICE_PRIVATE=n"
    d = read(0x4000000000000000 | 0x55 << 5 | 30, config=cfg)[1]
    assert (d["state"], d["subtype"], d["pfn"]) == ("migration", "migration_write", 0x55)
    # under "all" the same type is SWP_DEVICE_EXCLUSIVE: the config matters
    d = read(0x4000000000000000 | 0x55 << 5 | 30, config="all")[1]
    assert d["subtype"] == "device_exclusive"


def test_problems_are_said():
    d = read(0x9000000000000000)[1]  # bit 60: zero in every layout
    assert any("bit 60" in p for p in d["problems"])
    d = read(0xC000000000000001)[1]
    assert d["state"] == "invalid"
    d = read(0x4000000000000000 | 8 << 5 | 31)[1]  # marker bit 3: not in page tables
    assert d["state"] == "invalid" and d["problems"]


def test_guard_bit_unknown_before_6_15():
    d = read(0x8100000000000001, kernel="6.12")[1]
    assert d["guard"] is None and d["uffd_wp"] is False
    d = read(0x8100000000000001, kernel="5.10")[1]
    assert d["uffd_wp"] is None


def test_page_shift_entry_on_el7():
    """3.10 (RHEL 7): an untouched page reads 0x0600000000000000, the page shift 12 in bits
    55-60.  Bits 57/58 are PM_PSHIFT there, not PM_UFFD_WP (5.13) or PM_GUARD_REGION."""
    r, d = read(0x0600000000000000, kernel="3.10.0-1160.el7.x86_64")
    assert d["state"] == "none" and d["markers"] == [] and d["uffd_wp"] is None
    assert d["guard"] is None and d["soft_dirty"] is None and d["flags"] == []
    assert not any("bit 57" in p or "bit 58" in p for p in d["problems"]), d["problems"]
    assert d["problems"] == [] and any("PM_PSHIFT" in n for n in d["notes"])
    # a present page of the same kernel: page shift in 55-60, no exclusive bit yet (4.2)
    d = read(0x860000000012DE1F, kernel="3.10.0-1160.el7.x86_64")[1]
    assert (d["state"], d["pfn"], d["exclusive"], d["uffd_wp"]) == ("present", 0x12DE1F, None,
                                                                      None)
    assert d["problems"] == []
    # 3.11-4.1 after a soft-dirty clear: bits 55-60 are flags, 55 soft-dirty
    d = read(0x8080000000000001, kernel="4.1", config="all,MEM_SOFT_DIRTY=y")[1]
    assert d["state"] == "present" and d["soft_dirty"] is True and d["problems"] == []
    # neither layout: said
    d = read(5 << 55, kernel="4.1")[1]
    assert any("bits 55-60 = 5" in p for p in d["problems"])


def test_hugetlb_uffd_wp_without_pm_swap():
    d = read(0x0200000000000000)[1]
    assert d["state"] == "marker" and d["markers"] == ["UFFD_WP"]


# --- maps and RANGE ---------------------------------------------------------------------

def test_maps_lines():
    m = parse_line("7f13e5bbb000-7f13e5bc3000 rw-s 00000000 00:01 1234   /dev/zero (deleted)\n")
    assert (m.start, m.end, m.perms, m.inode, m.name, m.shared) == (
        0x7F13E5BBB000, 0x7F13E5BC3000, "rw-s", 1234, "/dev/zero (deleted)", True)
    m = parse_line("7f13e5bbb000-7f13e5bc3000 ---p 00000000 00:00 0 \n")
    assert m.name == "" and m.prot_none and m.label == "[anon]"
    vmas = parse_maps("1000-3000 r--p 0 00:00 0\n5000-6000 rw-p 0 00:00 0 [heap]\n")
    pieces = clip(vmas, 0x2000, 0x5800)
    assert [(lo, hi) for _, lo, hi in pieces] == [(0x2000, 0x3000), (0x5000, 0x5800)]
    assert gaps(pieces, 0x2000, 0x5800) == [(0x3000, 0x5000)]


@pytest.mark.parametrize("text,want", [
    ("0x7f0000000000-0x7f0000100000", (0x7F0000000000, 0x7F0000100000)),
    ("7f0000000000-7f0000001000", (0x7F0000000000, 0x7F0000001000)),
    ("0x7f0000000000+64K", (0x7F0000000000, 0x7F0000010000)),
    ("0x7f0000000000+0x2000", (0x7F0000000000, 0x7F0000002000)),
    ("0x7f0000000010", (0x7F0000000000, 0x7F0000001000)),
    ("[stack]", "[stack]"),
])
def test_ranges(text, want):
    assert parse_range(text, 4096) == want


@pytest.mark.parametrize("text", ["zz", "0x-0x10", "0x10-0x10", "0x10+", "0x10+1x", "-1"])
def test_bad_ranges(text):
    with pytest.raises(ValueError):
        parse_range(text, 4096)


def test_running_profile_names_its_config():
    from uffdpte.classify import decoder_for
    r = running(config="all,DEVICE_PRIVATE=n", release="6.18.44")
    assert r.profile.kernel.short == "6.18.44" and "--config" in r.assumption
    types = decoder_for(r.profile).types
    # HWPOISON, MIGRATION_READ, _READ_EXCLUSIVE, _WRITE, PTE_MARKER: 27-31
    assert types[31].name == "SWP_PTE_MARKER" and min(types) == 27
    # a release with a local suffix is dated by its leading version (parse_kernel reads it)
    assert running(config="all", release="6.18.44-weird+build").profile.kernel.key[:2] == (6, 18)
    # one parse_kernel rejects is an error, never a silently assumed version
    from uffdpte.profile import ProfileError
    with pytest.raises(ProfileError, match="not understood"):
        running(config="all", release="weird")


def test_eperm_on_4_1_says_why(monkeypatch):
    """4.0 and 4.1 refuse pagemap to openers without CAP_SYS_ADMIN (EPERM): the message
    says so there, and stays the generic one elsewhere."""
    from uffdpte.pagemap import read as R
    real_open = os.open

    def refuse(path, *a, **kw):
        if path.endswith("/pagemap"):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real_open(path, *a, **kw)
    monkeypatch.setattr(R.os, "open", refuse)
    for release, needle in (("4.1.52", "4.0 and 4.1 only"), ("6.12", "needs ptrace")):
        monkeypatch.setattr(R, "running", lambda config, r=release: running("all", r))
        with pytest.raises(R.PagemapError, match=needle):
            R.Session(os.getpid(), use_scan=False)
