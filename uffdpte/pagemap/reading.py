"""Read one pagemap entry the way the kernel wrote it, in decode's result model.

pte_to_pagemap_entry (fs/proc/task_mmu.c, 6.12 and 7.2) writes PM_PRESENT for any
pte_present pte (PROT_NONE included), PM_SWAP for every other non-none pte (real swap,
migration, device, hwpoison entries and PTE markers), and for those the frame
``swp_type | swp_offset << 5`` (the PFN for PFN-carrying entries, the marker bits for
markers).  The swap type is named with the running kernel's profile (classify.Decoder:
``types``, ``max_swapfiles``, ``marker_bits``) and PAGEMAP_SCAN categories add what pagemap
does not say (written, zero page, huge).

A :class:`PmReading` holds what does not depend on the PFN or swap offset, so the pages of
a range share one; :func:`record` adds the per-page numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..classify import Decoder
from ..entry import contract
from ..profile import Profile
from . import scan_ioctl as sc
from .entries import (PM_BITS, PM_PFRAME_BITS, PM_PFRAME_MASK, PM_PRESENT, PM_PSHIFT, PM_SWAP,
                      bits_for, fields_for, flag_names, known_mask, split_frame)
from .maps import Vma

#: pagemap records add these keys to decode's RECORD_KEYS (a public interface, README)
PAGEMAP_KEYS = ("pid", "address", "end", "pages", "vma", "file_shared", "guard", "zero_page",
                "huge", "written", "wp_allowed", "scan", "type_name", "notes", "config")

#: state of a PM_SWAP entry whose type is hidden (no CAP_SYS_ADMIN) and cannot be inferred
SWAPPED_UNKNOWN = "swapped"


@dataclass(frozen=True)
class PmReading:
    state: str
    subtype: str | None
    swp_type: int | None
    type_name: str | None
    markers: tuple[str, ...]
    flags: tuple[str, ...]
    uffd_wp: bool | None
    soft_dirty: bool | None
    exclusive: bool | None
    file_shared: bool | None
    guard: bool | None
    zero_page: bool | None
    huge: bool | None
    written: bool | None
    wp_allowed: bool | None
    scan: tuple[str, ...] | None
    #: "pfn": the frame is the PFN; "swap": type|offset<<5; "pfn_swap": the offset is a PFN;
    #: None: no number (none, hidden)
    payload: str | None
    problems: tuple[str, ...]
    notes: tuple[str, ...]

    # pagemap does not export the pte's permission or A/D bits: meaningless here, not false
    write = dirty = young = None

    @property
    def level(self) -> str:
        """PAGE_IS_HUGE pages are PMD-mapped (a PUD-mapped hugetlb page reads the same)."""
        return "pmd" if self.huge else "pte"

    @property
    def written_since_wp(self) -> bool:
        """PAGE_IS_WRITTEN where it means "written since write-protected": in VMAs with
        async uffd-wp (PAGE_IS_WPALLOWED).  Elsewhere the kernel says written for every
        page, so --written, the summary's WRITTEN and the text's "written" use this."""
        return bool(self.written and self.wp_allowed)


class Context:
    """Everything a reading depends on besides the entry: kernel, capability, config."""

    def __init__(self, profile: Profile, decoder: Decoder, show_pfn: bool) -> None:
        self.profile = profile
        self.decoder = decoder
        self.show_pfn = show_pfn
        kv = profile.kernel
        self.bits = bits_for(kv)
        self.masks = {b.name: b.mask for b in self.bits}
        #: the record keys the flag bits feed as they are: None where this kernel lacks the bit
        self.keyed = {b.key: None for b in PM_BITS if b.key}
        self.keyed_masks = tuple((b.key, b.mask) for b in self.bits if b.key)
        self.pshift = PM_PSHIFT in fields_for(kv)
        self.known = known_mask(kv)
        self.marker_types = {t for t, st in decoder.types.items() if st.state == "marker"}
        self.has_soft_dirty = profile.has("soft_dirty")

    def key(self, value: int) -> Any:
        """What two entries must share to read the same (the PFN and swap offset aside;
        marker bits are in the offset, so they stay in the key)."""
        if value & PM_SWAP and value & PM_PFRAME_MASK:
            t, off = split_frame(value)
            return (value >> 55, t, off if t in self.marker_types else -1)
        return (value >> 55) << 1 | ((value & PM_PFRAME_MASK) != 0)

    def bit(self, value: int, name: str) -> bool | None:
        """Flag bit ``name`` of ``value``; None where this kernel has no such bit."""
        m = self.masks.get(name)
        return None if m is None else bool(value & m)


def classify(ctx: Context, value: int, vma: Vma, cats: int | None,
             vma_has_swap: Callable[[], bool | None]) -> PmReading:
    """The reading of ``value`` (any page of a run sharing ``ctx.key(value)`` and ``cats``)."""
    problems: list[str] = []
    notes: list[str] = []
    frame = value & PM_PFRAME_MASK
    # A zero frame is never a number: no user page has PFN 0 and swap slot 0 of type 0 is
    # the swap header.  So zero means "hidden" even where the capability check said
    # otherwise (a user namespace that fooled it): never a fake 0.
    visible = frame != 0
    flags = flag_names(value, ctx.bits)
    unknown = value & ~ctx.known
    for bit in range(PM_PFRAME_BITS, 64):
        if unknown >> bit & 1:
            problems.append(f"bit {bit} set: not a pagemap bit of {ctx.profile.kernel.text} "
                            "(uffdpte.pagemap.entries)")

    keyed = dict(ctx.keyed)  # uffd_wp, file_shared: None where the kernel lacks the bit
    for k, m in ctx.keyed_masks:
        keyed[k] = bool(value & m)
    uffd_wp = keyed["uffd_wp"]
    guard_bit = ctx.bit(value, "PM_GUARD_REGION")
    if ctx.pshift:  # before 4.2: bits 55-60 are the page shift, or flags
        soft_dirty = _page_shift(ctx, value, problems, notes)
    else:
        soft_dirty = ctx.bit(value, "PM_SOFT_DIRTY") if ctx.has_soft_dirty else None
    exclusive: bool | None = None
    state, subtype, swp_type, type_name = "none", None, None, None
    markers: tuple[str, ...] = ()
    payload: str | None = None
    guard = guard_bit

    if value & PM_PRESENT and value & PM_SWAP:
        state = "invalid"
        problems.append("PM_PRESENT and PM_SWAP both set: pte_to_pagemap_entry sets one or "
                        "the other")
    elif value & PM_PRESENT:
        # pte_present() covers PROT_NONE ptes; in a VMA without access every present pte
        # is one (vm_get_page_prot(VM_NONE) = PAGE_NONE).  NUMA-hinting PROT_NONE ptes in
        # accessible VMAs read as present: pagemap cannot tell them apart.
        state = "protnone" if vma.prot_none else "present"
        if state == "protnone":
            notes.append("PM_PRESENT in a PROT_NONE VMA: a PROT_NONE pte (pte_present is true "
                         "for _PAGE_PROTNONE)")
        exclusive = ctx.bit(value, "PM_MMAP_EXCLUSIVE")
        if visible:
            payload = "pfn"
        else:
            notes.append("pfn hidden: the PFN field is zero (no CAP_SYS_ADMIN)")
    elif value & PM_SWAP:
        state, subtype, swp_type, type_name, markers, payload, guard = _swapped(
            ctx, value, visible, uffd_wp, guard_bit, vma_has_swap, problems, notes)
    elif uffd_wp:
        # pagemap_hugetlb_range: a non-present hugetlb pte with uffd-wp (a marker, or a
        # swap-format entry with the bit) gets PM_UFFD_WP alone, without PM_SWAP
        state, subtype, markers = "marker", "pte_marker", ("UFFD_WP",)
        notes.append("PM_UFFD_WP without PM_SWAP: a hugetlb uffd-wp entry "
                     "(pagemap_hugetlb_range reports no PM_SWAP)")
    elif frame:
        state = "invalid"
        problems.append("frame bits set on an entry neither present nor swapped")

    # zero_page, huge, written, wp_allowed: as PAGEMAP_SCAN says (scan_ioctl.KEYED), null
    # without it
    if cats is None:
        scanned: dict[str, bool | None] = {k: None for k, _ in sc.KEYED}
        scan = None
    else:
        scanned = {k: bool(cats & m) for k, m in sc.KEYED}
        scan = sc.category_names(cats)
    if scanned["huge"]:
        notes.append("PAGE_IS_HUGE: PMD-mapped THP or hugetlb (a 1 GiB hugetlb page is "
                     "PUD-mapped and reads the same)")
    return PmReading(state=state, subtype=subtype, swp_type=swp_type, type_name=type_name,
                     markers=markers, flags=flags, soft_dirty=soft_dirty, exclusive=exclusive,
                     guard=guard, scan=scan, payload=payload, problems=tuple(problems),
                     notes=tuple(notes), **keyed, **scanned)


def _page_shift(ctx: Context, value: int, problems: list[str], notes: list[str]
                ) -> bool | None:
    """Bits 55-60 before 4.2: the page shift, or (3.11-4.1, once soft-dirty bits were
    cleared on the system) flags with soft-dirty at 55.  Returns soft_dirty."""
    field = (value & PM_PSHIFT.mask) >> PM_PSHIFT.bit
    shift = ctx.profile.page_shift
    if field == shift:
        notes.append(f"bits 55-60 = {shift}: PM_PSHIFT, the page shift (before 4.2; on "
                     "3.11-4.1 until soft-dirty bits are first cleared): no soft-dirty bit")
        return None
    if field <= 1:
        notes.append("bits 55-60 hold flags, not the page shift: the layout 3.11-4.1 switch "
                     "to once soft-dirty bits are first cleared (bit 55 soft-dirty)")
        return bool(field) if ctx.has_soft_dirty else None
    problems.append(f"bits 55-60 = {field}: neither the page shift ({shift}) nor the "
                    "3.11-4.1 flag layout (bit 55 alone)")
    return None


def _swapped(ctx: Context, value: int, visible: bool, uffd_wp: bool | None,
             guard_bit: bool | None, vma_has_swap: Callable[[], bool | None],
             problems: list[str], notes: list[str]):
    """PM_SWAP: name the type from the frame, or infer what can be inferred without it.
    The entry is "invalid" when a check made here fails (bits outside the layout, found
    before, are problems of any state)."""
    dec = ctx.decoder
    before = len(problems)

    def bad() -> bool:
        return len(problems) > before

    if visible:
        t, off = split_frame(value)
        if t < dec.max_swapfiles:
            if guard_bit:
                problems.append("PM_GUARD_REGION on a real swap entry")
            return "invalid" if bad() else "swap", None, t, None, (), "swap", guard_bit
        st = dec.types.get(t)
        if st is None:
            problems.append(f"swap type {t} is no special type of this profile "
                            f"(MAX_SWAPFILES {dec.max_swapfiles})")
            return "invalid", None, t, None, (), "swap", guard_bit
        if st.state != "marker":
            if guard_bit:
                problems.append(f"PM_GUARD_REGION on a {st.name} entry")
            return ("invalid" if bad() else st.state, st.subtype, t, st.name, (),
                    "pfn_swap" if st.has_pfn else "swap", guard_bit)
        markers, wrong = dec.pte_marker_get(off)
        problems.extend(wrong)
        if "UFFD_WP" in markers and uffd_wp is False:
            problems.append("PTE_MARKER_UFFD_WP without PM_UFFD_WP (the kernel sets both)")
        if "GUARD" in markers and guard_bit is False:
            problems.append("PTE_MARKER_GUARD without PM_GUARD_REGION (the kernel sets both)")
        state = "invalid" if bad() else "marker"
        guard = "GUARD" in markers
        return state, st.subtype, t, st.name, markers, "swap", guard

    # The frame is zeroed: the type is unknown.  Only what the flag bits prove is said.
    if guard_bit:
        notes.append("swap type hidden (no CAP_SYS_ADMIN); PM_GUARD_REGION is set only for "
                     "guard markers")
        return "marker", "pte_marker", None, None, ("GUARD",), None, True
    if uffd_wp:
        has_swap = vma_has_swap()
        if has_swap is False:
            notes.append("swap type hidden (no CAP_SYS_ADMIN); PM_SWAP + PM_UFFD_WP in a VMA "
                         "with no swapped-out pages (smaps Swap: 0 kB) is a uffd-wp marker "
                         "(a migration entry in flight would read the same)")
            return "marker", "pte_marker", None, None, ("UFFD_WP",), None, guard_bit
        notes.append("swap type hidden (no CAP_SYS_ADMIN): a uffd-wp marker, or a swapped-out "
                     "or migrating page with uffd-wp")
        return SWAPPED_UNKNOWN, None, None, None, (), None, guard_bit
    notes.append("swap type hidden (no CAP_SYS_ADMIN): a swap, migration, device or hwpoison "
                 "entry, or a poison marker")
    return SWAPPED_UNKNOWN, None, None, None, (), None, guard_bit


def _numbers(ctx: Context, r: PmReading, value: int) -> tuple[int | None, int | None,
                                                                str | None]:
    """(pfn, swp_offset, swp_entry) of one entry; None where the reading has no number."""
    if r.payload == "pfn":
        return value & PM_PFRAME_MASK, None, None
    if r.payload in ("swap", "pfn_swap"):
        off = split_frame(value)[1]
        entry = "0x%016x" % ctx.decoder.swp_entry(r.swp_type, off)  # type: ignore[arg-type]
        return (off if r.payload == "pfn_swap" else None), off, entry
    return None, None, None


def record(ctx: Context, r: PmReading, value: int, addr: int, pages: int, vma: Vma,
           pid: int) -> dict[str, Any]:
    """The JSON record of a page (pages == 1) or a range (value, pfn, swap offset are its
    first page's)."""
    pfn, swp_offset, swp_entry = _numbers(ctx, r, value)
    page = 1 << ctx.profile.page_shift
    d = contract(ctx.profile, r.level, r, input="0x%x" % addr, value="0x%016x" % value,
                 pfn=pfn, swp_offset=swp_offset, swp_entry=swp_entry, alternatives=[])
    d.update({  # pagemap additions
        "pid": pid,
        "address": "0x%x" % addr,
        "end": "0x%x" % (addr + pages * page),
        "pages": pages,
        "vma": vma.to_dict(),
        "file_shared": r.file_shared,
        "guard": r.guard,
        "zero_page": r.zero_page,
        "huge": r.huge,
        "written": r.written,
        "wp_allowed": r.wp_allowed,
        "scan": None if r.scan is None else list(r.scan),
        "type_name": r.type_name,
        "notes": list(r.notes),
        "config": ctx.profile.config_label,
    })
    return d


def page_records(ctx: Context, r: PmReading, values: Sequence[int], addr: int, vma: Vma,
                 pid: int) -> Iterator[dict[str, Any]]:
    """record() for each page of a run: the shared keys are built once per run and only
    the per-page ones (address, value, PFN / swap offset) change."""
    if not len(values):
        return
    page = 1 << ctx.profile.page_shift
    template = record(ctx, r, values[0], addr, 1, vma, pid)
    numbered = r.payload is not None
    for i, value in enumerate(values):
        a = addr + i * page
        d = dict(template)
        d["input"] = d["address"] = "0x%x" % a
        d["end"] = "0x%x" % (a + page)
        d["value"] = "0x%016x" % value
        if numbered:
            d["pfn"], d["swp_offset"], d["swp_entry"] = _numbers(ctx, r, value)
        yield d


__all__ = ["PmReading", "page_records", "Context", "classify", "record", "PAGEMAP_KEYS",
           "SWAPPED_UNKNOWN"]
