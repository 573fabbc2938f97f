"""The vocabulary of the layout tables: eras, bit rows, swap types, marker bits.

Every row carries the kernel source it was read from and the releases it holds for (an
:class:`Era`).  A profile selects the rows whose era contains its kernel and whose gate its
config enables; everything else in uffdpte (classify, encode, the field map, ``layout``,
``schemes``) reads the selected rows.  A new kernel era is a new row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._record import record

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..kver import KernelVersion, Version


class BitRange:
    """Bits ``hi..lo`` of an entry: shared by the table rows and the field map's spans."""

    __slots__ = ()
    lo: int
    hi: int

    @property
    def width(self) -> int:
        return self.hi - self.lo + 1

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lo

    def bits_label(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.hi}:{self.lo}"


def gate_holds(gate: str | None, has: "Callable[[str], bool]") -> bool:
    """A row's gate: None (always), a capability name, or "!name" for its absence."""
    if gate is None:
        return True
    neg = gate.startswith("!")
    return has(gate[1:] if neg else gate) != neg


def v(text: str) -> "Version":
    """``"6.10"`` -> ``(6, 10, 0)``: release numbers in the tables stay readable."""
    parts = [int(p) for p in text.split(".")]
    return tuple((parts + [0, 0])[:3])  # type: ignore[return-value]


@record
class Backport:
    """A change that reached kernels older than its mainline release.

    Either a stable series (``series=(4, 14), first_patch=63``: 4.14.63 and later) or a
    distro build (``distro="rhel", distro_release=8``: every el8 kernel).
    """

    source: str
    series: tuple[int, int] | None = None
    first_patch: int = 0
    distro: str | None = None
    distro_release: int | None = None
    first_build: tuple[int, ...] = ()

    def covers(self, kv: "KernelVersion") -> bool | None:
        """True/False, or None when the kernel string does not say (unknown stable level)."""
        if self.series is not None and kv.series != self.series:
            return False
        if self.distro is not None:
            if kv.distro != self.distro:
                return False
            if self.distro_release is not None and kv.distro_release != self.distro_release:
                return False
            return tuple(kv.build) >= self.first_build
        if self.series is not None:
            return None if kv.patch is None else kv.patch >= self.first_patch
        return False


@record
class Era:
    """The releases a fact holds for: ``since`` inclusive, ``until`` exclusive (mainline)."""

    since: "Version | None" = None
    until: "Version | None" = None
    source: str = ""
    #: False when the release boundary was estimated from patch dates, not read in a
    #: tagged tree (kernel-facts.md says "release not verified").
    verified: bool = True
    backports: tuple[Backport, ...] = ()
    #: eras that replace this one where they hold (a backported layout ends an old one
    #: early on the stable and distro kernels that took it)
    unless: "tuple[Era, ...]" = ()

    def contains(self, kv: "KernelVersion") -> bool:
        for u in self.unless:  # (plain loops: this runs for every row of every profile)
            if u.contains(kv):
                return False
        key = (kv.major, kv.minor, kv.patch or 0)
        if self.until is not None and key >= self.until:
            return False
        if self.since is None or key >= self.since:
            return True
        for b in self.backports:
            if b.covers(kv):
                return True
        return False

    def backport_unknown(self, kv: "KernelVersion") -> str | None:
        """Why a backport of this row to ``kv``'s stable series is assumed absent, if it is."""
        if self.since is not None and kv.key < self.since:
            for b in self.backports:
                if b.covers(kv) is None:
                    return (f"{kv.text}: stable level unknown; {b.source} reached "
                            f"{b.series[0]}.{b.series[1]}.{b.first_patch}; assumed absent")
        return None

    def boundary_estimated(self, kv: "KernelVersion") -> bool:
        """``kv`` is in the release that starts this row, and that release is estimated.

        ("verified" is about the release that starts the era; where it ends is the start of
        the next era, whose own row says whether that one is verified.)"""
        return not self.verified and self.since is not None and kv.series == self.since[:2]

    def label(self) -> str:
        def t(x: "Version | None") -> str:
            return "" if x is None else (f"{x[0]}.{x[1]}" + (f".{x[2]}" if x[2] else ""))
        s, u = t(self.since), t(self.until)
        if not s and not u:
            return "all"
        if not u:
            return f"{s}+"
        if not s:
            return f"<{u}"
        return f"{s}–<{u}"


ALWAYS = Era(source="all versions the tables cover")
#: ``since`` of a layout no mainline release shipped (it lives only in backports)
NEVER = (999, 0, 0)

#: Roles a bit row plays in the entry (one row per bit or field, like ptdump's prot_bits).
#: MBZ rows name a bit that must be 0 in this form and say what a set bit would mean.
FLAG, FIELD, PFN, TYPE, OFFSET, IGNORED, MBZ = ("flag", "field", "pfn", "type", "offset",
                                              "ignored", "mbz")

#: Forms of a non-empty entry: how the kernel reads the rest of the bits.  ``present`` is a
#: leaf (a PTE page, a huge PMD/PUD, an arm64 block); ``table`` points to the next level.
PRESENT, PROTNONE, SWAP, TABLE = "present", "protnone", "swap", "table"

#: Page-table levels, top down (the kernel's names; arm64's L0-L3 map onto them).
LEVEL_NAMES = ("pgd", "p4d", "pud", "pmd", "pte")
PTE_ONLY = frozenset({"pte"})
LEAF_LEVELS = frozenset({"pte", "pmd", "pud"})
HUGE_LEVELS = frozenset({"pmd", "pud"})
UPPER_LEVELS = frozenset({"pgd", "p4d", "pud", "pmd"})
ALL_LEVELS = frozenset(LEVEL_NAMES)


@record
class Bits(BitRange):
    """One row of a layout table: a bit or a field, in the forms where it means this."""

    lo: int
    hi: int  # inclusive
    name: str  # kernel vocabulary without the prefix: RW, SWP_EXCLUSIVE, ATTRINDX
    macro: str  # the kernel's own macro: _PAGE_RW, PTE_SWP_EXCLUSIVE
    meaning: str
    forms: frozenset[str]
    era: Era = ALWAYS
    #: capability the profile must have for this row (see profile.py), "!cap" for absence
    gate: str | None = None
    role: str = FLAG
    short: str = ""  # a 2–4 letter label for the terminal bit map
    #: FIELD: names of values; PFN: physical-address bit of ``lo``; OFFSET: stored inverted
    values: tuple[tuple[int, str], ...] = ()
    pa_lo: int | None = None
    inverted: bool = False
    #: lo given as "PAGE_SHIFT" (arm64 PFN fields start at the page shift)
    lo_is_page_shift: bool = False
    #: lo given as the level's leaf shift (PMD_SHIFT, PUD_SHIFT): huge-leaf address fields
    lo_is_level_shift: bool = False
    #: the page-table levels the row applies to
    levels: frozenset[str] = PTE_ONLY


@record
class Presence:
    """How the arch tells none / valid / present-but-invalid / swap apart (pte_none etc.)."""

    era: Era
    #: pte_none ignores these bits (x86: A and D, which a KNL erratum may set)
    none_ignores: int
    #: pte_valid / _PAGE_PRESENT
    valid: int
    #: a non-valid entry with this bit is still pte_present (x86 _PAGE_PROTNONE,
    #: arm64 PTE_PROT_NONE before 6.10, PTE_PRESENT_INVALID after)
    present_invalid: int
    #: pte_protnone, tested only on present-invalid entries: (value & mask) == want
    protnone_mask: int
    protnone_want: int
    #: x86 L1TF: PROT_NONE entries store the PFN inverted (pgtable-invert.h)
    invert_pfn: bool
    source: str
    #: capability this rule needs ("!cap" for its absence), like a bit row's gate
    gate: str | None = None
    #: the bits a valid page entry always has (x86 _PAGE_PRESENT; arm64 PTE_TYPE_PAGE = 0b11)
    page: int = 0
    #: the levels this rule reads
    levels: frozenset[str] = PTE_ONLY
    #: a valid entry is a table when (value & mask) == want; None: never (the PTE level)
    table: tuple[int, int] | None = None
    #: valid non-table entries (leaves) exist at these levels only if this capability holds;
    #: "never" for levels that have no leaves
    leaf_gate: str | None = None
    #: non-present, non-empty entries are swap entries here (PTEs; PMDs for THP migration)
    swap: bool = True
    #: bits a valid table entry always has (arm64 PMD_TYPE_TABLE = 0b11, x86 _PAGE_PRESENT)
    table_bits: int = 0
    #: why a valid entry without all of ``page`` is wrong (arm64: bits[1:0] = 01 at level 3)
    not_page: str = ""
    #: who makes a present, invalid, not PROT_NONE entry at this level ("" : nobody)
    invalidated_by: str = ""


@record
class SwapType:
    """A special swap type of include/linux/swap.h, counted down from 31 in table order."""

    name: str  # SWP_MIGRATION_WRITE
    state: str  # migration
    subtype: str  # migration_write
    gate: str | None  # capability (config) that makes the kernel reserve it
    era: Era
    #: the offset holds a PFN (is_pfn_swap_entry / softleaf_has_pfn)
    has_pfn: bool = True
    writable: bool | None = None


@record
class MarkerBit:
    bit: int
    name: str  # UFFD_WP
    macro: str  # PTE_MARKER_UFFD_WP
    meaning: str
    era: Era
    #: False for PTE_MARKER_SOFTLEAF_NONE: an in-memory value never stored in page tables
    in_page_tables: bool = True


@record
class Capability:
    """A feature a profile has when its config enables it and its kernel/arch support it."""

    name: str  # uffd_wp
    requires: tuple[str, ...]  # config symbols, all needed
    era: Era
    meaning: str = ""


@record
class Derived:
    """A predicate the kernel computes from several bits (pte_dirty, pte_write, ...).

    ``any_of`` is a disjunction of conjunctions of flag names ("!NAME" = flag clear): the
    shape of the kernel's own expression, e.g. arm64 pte_dirty = DIRTY || (WRITE && !RDONLY).
    """

    name: str  # key in the result: write, dirty, young, uffd_wp, soft_dirty, special
    kernel: str  # the kernel function it mirrors: pte_dirty
    any_of: tuple[tuple[str, ...], ...]
    source: str
    gate: str | None = None  # None in the result when the profile lacks the capability


@record
class Layout:
    """Everything one architecture's tables say, before a profile selects from it."""

    arch: str
    presence: tuple[Presence, ...]
    bits: tuple[Bits, ...]
    capabilities: tuple[Capability, ...]
    #: (era, page-table levels (x86) or None, MAX_PHYSMEM_BITS or None = the profile's PA bits)
    physmem: tuple[tuple[Era, int | None, int | None], ...]
    derived: tuple[Derived, ...] = ()
    #: contiguous-hint spans: ((level, page size), entries)
    cont_spans: tuple[tuple[tuple[str, int], int], ...] = ()
    oldest: "Version" = (0, 0, 0)
    oldest_why: str = ""
