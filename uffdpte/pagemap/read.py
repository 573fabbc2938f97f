"""Read a live process's pages: /proc/PID/maps for the VMAs, /proc/PID/pagemap in large
preads, PAGEMAP_SCAN for the categories pagemap lacks.

Memory stays bounded: the range is walked in windows of WINDOW pages (one pread of
WINDOW * 8 bytes, one scan), and each window becomes *runs* — consecutive pages that read
the same — before the next is read.  A window of identical entries (an untouched stretch)
is recognised by a bytes comparison per block, so sparse address space costs little
Python.

A running target keeps changing: each window is the kernel's reading at the moment of its
pread, and the VMAs are /proc/PID/maps as read at the start (pages of a VMA unmapped since
read as none) — a sequence of snapshots, not an atomic one.

Errors a user can cause or meet are :class:`PagemapError` with one line of text: no such
process, permission denied, the process exited mid-read, a range outside every mapping.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Callable, Iterator

from ..classify import decoder_for
from . import scan_ioctl as sc
from .entries import PFN_HIDDEN_NOTE, PFN_OPEN_REFUSED, PM_ENTRY_BYTES
from .maps import MapsFormatError, Vma, clip, gaps, parse_maps
from .reading import Context, PmReading, classify
from .running import can_see_pfns, running

#: pages per pread/scan: 65536 x 8 bytes = 512 KiB of pagemap per read
WINDOW = 1 << 16
#: entries compared at once when looking for uniform stretches (4 KiB of pagemap)
BLOCK = 512


class PagemapError(Exception):
    """A runtime failure, reported as one line and exit status 1."""


@dataclass
class Run:
    """Consecutive pages of one VMA that read the same."""

    vma: Vma
    addr: int
    reading: PmReading
    values: memoryview  # the pages' raw entries (u64)

    @property
    def pages(self) -> int:
        return len(self.values)

    @property
    def first(self) -> int:
        return self.values[0]


# --- the target process -----------------------------------------------------------------

def parse_pid(text: str) -> int:
    """``self`` or a positive decimal PID; ValueError otherwise (a usage error)."""
    if text == "self":
        return os.getpid()
    if not text.isdigit() or not text.isascii() or int(text) <= 0:
        raise ValueError(f"PID {text!r}: expected a positive number or 'self'")
    return int(text)


def _state(pid: int) -> str | None:
    """The process state letter from /proc/PID/stat, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    after = stat.rpartition(b")")[2].split()
    return after[0].decode() if after else None


def alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X", "x")


def _fail(pid: int, what: str, e: OSError) -> PagemapError:
    """The one-line message for an OSError on /proc/PID/<what>."""
    if e.errno in (errno.ENOENT, errno.ESRCH):
        if os.path.exists(f"/proc/{pid}") and not alive(pid):
            return PagemapError(f"process {pid} has exited (its memory is gone)")
        if not os.path.exists(f"/proc/{pid}"):
            return PagemapError(f"no such process: {pid}")
        return PagemapError(f"process {pid} exited while being read")
    if e.errno in (errno.EACCES, errno.EPERM):
        return PagemapError(f"permission denied reading /proc/{pid}/{what} (needs ptrace read "
                            "access: the same user and not undumpable, or CAP_SYS_PTRACE)")
    return PagemapError(f"/proc/{pid}/{what}: {e.strerror or e}")


def read_maps(pid: int) -> list[Vma]:
    try:
        with open(f"/proc/{pid}/maps") as f:
            text = f.read()
    except OSError as e:
        raise _fail(pid, "maps", e) from None
    try:
        vmas = parse_maps(text)
    except MapsFormatError as e:
        raise PagemapError(str(e)) from None
    if not vmas:
        if not alive(pid):
            raise PagemapError(f"process {pid} has exited (its memory is gone)")
        raise PagemapError(f"process {pid} has no user address space (a kernel thread)")
    return vmas


# --- a session: one process, one pagemap descriptor ---------------------------------------

class Session:
    """An open pagemap of one process plus what reading it needs."""

    def __init__(self, pid: int, *, use_scan: bool = True, config: str | None = None,
                 note: Callable[[str], None] = lambda s: None) -> None:
        self.pid = pid
        self._note = note
        self._noted: set[str] = set()
        self.vmas = read_maps(pid)
        self.running = running(config)
        profile = self.running.profile
        try:
            self.fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == errno.EPERM and PFN_OPEN_REFUSED.contains(profile.kernel):
                raise PagemapError(f"permission denied opening /proc/{pid}/pagemap: "
                                   f"{profile.kernel.short} refuses it to openers without "
                                   "CAP_SYS_ADMIN (4.0 and 4.1 only; 4.2+ zero the PFNs "
                                   "instead)") from None
            raise _fail(pid, "pagemap", e) from None
        self.page_shift = profile.page_shift
        if os.sysconf("SC_PAGE_SIZE") != 1 << self.page_shift:
            raise PagemapError(f"page size {os.sysconf('SC_PAGE_SIZE')} is not the profile's "
                               f"{1 << self.page_shift}")
        self.ctx = Context(profile, decoder_for(profile), can_see_pfns())
        self.scanner: sc.Scanner | None = None
        #: why there is no scanner: "not asked for", or what the kernel answered
        self.scan_reason: str | None = "not asked for (--no-scan)"
        if use_scan:
            s = sc.Scanner(self.fd, profile.kernel)
            try:
                s.probe(self.vmas[0].start)
                self.scanner, self.scan_reason = s, None
                if s.dropped:
                    self.note(f"PAGEMAP_SCAN rejects {', '.join(s.dropped)} (EINVAL): this "
                              "kernel predates it; those categories are not reported")
            except sc.ScanUnavailable as e:
                self.scan_reason = str(e)
        self._smaps_swap: dict[int, int] | None = None

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def note(self, text: str) -> None:
        if text not in self._noted:
            self._noted.add(text)
            self._note(text)

    # --- ranges -----------------------------------------------------------------------
    def pieces(self, start: int, end: int) -> list[tuple[Vma, int, int]]:
        """The mapped parts of [start, end); notes the unmapped ones; an error if none."""
        pieces = clip(self.vmas, start, end)
        if not pieces:
            raise PagemapError(f"0x{start:x}-0x{end:x} is outside every mapping of process "
                               f"{self.pid}")
        for lo, hi in gaps(pieces, start, end):
            self.note(f"0x{lo:x}-0x{hi:x} is not mapped in process {self.pid} (skipped)")
        return pieces

    def named(self, name: str) -> list[tuple[Vma, int, int]]:
        pieces = [(m, m.start, m.end) for m in self.vmas if m.name == name]
        if not pieces:
            raise PagemapError(f"process {self.pid} has no mapping named {name!r}")
        return pieces

    # --- reading ----------------------------------------------------------------------
    def _pread(self, addr: int, pages: int) -> bytes:
        want = pages * PM_ENTRY_BYTES
        off = (addr >> self.page_shift) * PM_ENTRY_BYTES
        parts, got = [], 0
        while got < want:
            try:
                b = os.pread(self.fd, want - got, off + got)
            except OSError as e:
                raise _fail(self.pid, "pagemap", e) from None
            if not b:
                break
            parts.append(b)
            got += len(b)
        data = b"".join(parts)
        if got < want and not alive(self.pid):
            # pagemap_read returns EOF once the mm is gone
            raise PagemapError(f"process {self.pid} exited while its pagemap was being read")
        return data[:got - got % PM_ENTRY_BYTES]

    def _vma_has_swap(self, vma: Vma) -> Callable[[], bool | None]:
        def has_swap() -> bool | None:
            if self._smaps_swap is None:
                self._smaps_swap = _smaps_swap(self.pid)
            kb = self._smaps_swap.get(vma.start)
            return None if kb is None else kb > 0
        return has_swap

    def runs(self, pieces: list[tuple[Vma, int, int]]) -> Iterator[Run]:
        """Every page of ``pieces`` as runs, in address order, window by window."""
        shift = self.page_shift
        for vma, lo, hi in pieces:
            cache: dict = {}
            has_swap = self._vma_has_swap(vma)
            addr = lo
            while addr < hi:
                n = min(WINDOW, (hi - addr) >> shift)
                raw = self._pread(addr, n)
                got = len(raw) // PM_ENTRY_BYTES
                if got:
                    yield from self._window(vma, addr, raw, got, cache, has_swap)
                if got < n:
                    self.note(f"{vma.label} 0x{addr + (got << shift):x}-0x{hi:x} is above "
                              "the task's address space: pagemap has no entries there "
                              "(skipped)")
                    break
                addr += n << shift

    def _window(self, vma: Vma, addr: int, raw: bytes, n: int, cache: dict,
                has_swap: Callable[[], bool | None]) -> Iterator[Run]:
        vals = memoryview(raw).cast("Q")
        segs = _segments(raw, vals, n, self.ctx.key)
        cats = self._categories(addr, n)
        shift = self.page_shift
        ctx = self.ctx
        for i0, i1, key, cat in _merge(segs, cats):
            r = cache.get((key, cat))
            if r is None:
                r = cache[(key, cat)] = classify(ctx, vals[i0], vma, cat, has_swap)
                if r.payload is None and ("PM_PRESENT" in r.flags or "PM_SWAP" in r.flags):
                    self.note(PFN_HIDDEN_NOTE)  # said once, where it matters
            yield Run(vma, addr + (i0 << shift), r, vals[i0:i1])

    def _categories(self, addr: int, n: int) -> list[tuple[int, int, int | None]]:
        """PAGEMAP_SCAN categories of the window as (i0, i1, categories or None)."""
        if self.scanner is None:
            return [(0, n, None)]
        shift = self.page_shift
        end = addr + (n << shift)
        out: list[tuple[int, int, int | None]] = []
        cur = 0
        try:
            for s, e, c in self.scanner.regions(addr, end):
                i0, i1 = (max(s, addr) - addr) >> shift, (min(e, end) - addr) >> shift
                if i0 > cur:
                    out.append((cur, i0, None))
                if out and out[-1][2] == c and out[-1][1] == i0:
                    out[-1] = (out[-1][0], i1, c)
                else:
                    out.append((i0, i1, c))
                cur = i1
        except sc.ScanFailed as e:
            if not alive(self.pid):
                raise PagemapError(f"process {self.pid} exited while its pagemap was being "
                                   "read") from None
            raise PagemapError(f"PAGEMAP_SCAN failed at 0x{addr:x}: {e.strerror}") from None
        if cur < n:
            out.append((cur, n, None))
        return out


def _segments(raw: bytes, vals: memoryview, n: int, key: Callable[[int], object]
              ) -> list[tuple[int, int, object]]:
    """Split a window into stretches of equal key; a block of identical entries is one
    comparison, not BLOCK dictionary lookups."""
    segs: list[tuple[int, int, object]] = []
    cur_key: object = None
    start = 0
    i = 0
    while i < n:
        j = min(i + BLOCK, n)
        first = raw[i * 8:i * 8 + 8]
        if raw[i * 8:j * 8] == first * (j - i):
            k = key(vals[i])
            if k != cur_key:
                if i:
                    segs.append((start, i, cur_key))
                cur_key, start = k, i
        else:
            for idx in range(i, j):
                k = key(vals[idx])
                if k != cur_key:
                    if idx:
                        segs.append((start, idx, cur_key))
                    cur_key, start = k, idx
        i = j
    if n:
        segs.append((start, n, cur_key))
    return segs


def _merge(a: list[tuple[int, int, object]], b: list[tuple[int, int, int | None]]
           ) -> Iterator[tuple[int, int, object, int | None]]:
    """Intersect two partitions of [0, n) into (i0, i1, key, categories)."""
    ia = ib = 0
    pos = 0
    while ia < len(a) and ib < len(b):
        end = min(a[ia][1], b[ib][1])
        if end > pos:
            yield pos, end, a[ia][2], b[ib][2]
            pos = end
        if a[ia][1] == end:
            ia += 1
        if b[ib][1] == end:
            ib += 1


def _smaps_swap(pid: int) -> dict[int, int]:
    """VMA start -> smaps "Swap:" kB (real swap entries only: markers and migration
    entries are not counted there, fs/proc/task_mmu.c smaps_pte_entry)."""
    out: dict[int, int] = {}
    try:
        with open(f"/proc/{pid}/smaps") as f:
            cur = None
            for line in f:
                head = line.split(" ", 1)[0]
                if not head.endswith(":"):
                    cur = int(head.partition("-")[0], 16)
                elif head == "Swap:" and cur is not None:
                    out[cur] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return out


# --- grouping and counting ----------------------------------------------------------------

def ranges(runs: Iterator[Run], page_shift: int) -> Iterator[tuple[Vma, int, int, PmReading, int]]:
    """Consecutive runs of one VMA that read the same, as (vma, addr, pages, reading, first
    raw value): the ptdump view."""
    cur: list | None = None
    for r in runs:
        if (cur is not None and cur[0] is r.vma and cur[1] + (cur[2] << page_shift) == r.addr
                and (cur[3] is r.reading or cur[3] == r.reading)):
            cur[2] += r.pages
            continue
        if cur is not None:
            yield tuple(cur)  # type: ignore[misc]
        cur = [r.vma, r.addr, r.pages, r.reading, r.first]
    if cur is not None:
        yield tuple(cur)  # type: ignore[misc]


#: the --summary columns: (counts key, text header), in order
SUMMARY_COLUMNS = (("pages", "PAGES"), ("present", "PRESENT"), ("swapped", "SWAPPED"),
                   ("uffd_wp", "UFFD-WP"), ("markers", "MARKERS"), ("guard", "GUARD"),
                   ("zero_page", "ZERO"), ("huge", "HUGE"), ("written", "WRITTEN"))


class Counts:
    """Per-VMA counts for --summary.  zero_page, huge and written need PAGEMAP_SCAN and
    stay None without it; written counts PmReading.written_since_wp."""

    def __init__(self, scan: bool) -> None:
        self.c = {k: 0 for k, _ in SUMMARY_COLUMNS}
        if not scan:
            for k in ("zero_page", "huge", "written"):
                self.c[k] = None

    def add(self, r: PmReading, n: int) -> None:
        c = self.c
        c["pages"] += n
        if r.state in ("present", "protnone"):
            c["present"] += n
        elif r.state == "marker":
            c["markers"] += n
        elif r.state not in ("none", "invalid"):
            c["swapped"] += n
        if r.uffd_wp:
            c["uffd_wp"] += n
        if r.guard:
            c["guard"] += n
        if c["zero_page"] is not None and r.zero_page:
            c["zero_page"] += n
        if c["huge"] is not None and r.huge:
            c["huge"] += n
        if c["written"] is not None and r.written_since_wp:
            c["written"] += n
